"""The conformance suite every evaluator passes (one parametrised module, like the encodings').

Each test is one bullet of the contract in ``evokit.runtime.executors.base.Evaluator``. Cases
come from ``tests/runtime/evaluator_cases/*.py``: each file defines ``CASES = {name: (make,
survives, pickles)}``: ``make()`` is a context manager that yields the evaluator and owns what
it needs (a pool, a cluster), ``survives`` the fault kinds of ``tests/_faults.py`` it can meet,
``pickles`` whether it pickles. Adding an evaluator means adding one such file.

Which faults an evaluator can meet (the candidates are real networks with a ``Fault`` layer):

* ``nan``, ``crash``, ``build``: raised inside the training, which catches them: every evaluator.
* ``die`` ends the process that trains the candidate: only an evaluator that owns its worker
  processes (Process, Dask) survives it. SerialEvaluator and builtin ``map`` train in the
  search's own process, which would die too; ``multiprocessing.Pool.map`` would wait forever
  for the result.
* ``hang`` needs a timeout, which only Process and Dask have (a plain map has none, and a
  thread of this process cannot be stopped).

``die`` and ``hang`` cost worker restarts (seconds of importing TensorFlow each) and are marked
slow. One evaluator per case serves the whole module (pools and clusters take seconds to
start); each test starts it with the settings it needs (an unchanged start keeps the workers).
"""
import pickle
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from evokit.evaluation import FAILURE_REASONS, TrainingConfig
from evokit.runtime.executors import Job, SerialEvaluator

sys.path.insert(0, str(Path(__file__).parents[1]))
from _cases import load_cases  # noqa: E402
from _faults import FaultEncoding  # noqa: E402

CASES = load_cases(Path(__file__).parent / "evaluator_cases")

NAMES = sorted(CASES)
CONFIG = TrainingConfig(epochs=1)
REASONS = {"nan": "nan_loss", "crash": "exception", "build": "build_error", "die": "worker_died", "hang": "timeout"}
SIZES = (8, 64, 16, 32)  # hidden units: a pool starts the largest first, so jobs finish out of order


def job(data, kind="ok", units=8, seed=0):
    """One tiny network (Flatten -> Dense(units) -> Fault(kind) -> Dense head)."""
    return Job(FaultEncoding().decode([kind, units], data.input_shape, data.n_outputs).canonical(), seed=seed)


class Reports:
    """An ``on_result`` that records its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, i, evaluation):
        self.calls.append((i, evaluation))

    def assert_once_each(self, results):
        assert sorted(i for i, _ in self.calls) == list(range(len(results)))
        assert all(evaluation is results[i] for i, evaluation in self.calls)


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    make, survives, pickles = CASES[request.param]
    with make() as evaluator:
        yield SimpleNamespace(name=request.param, evaluator=evaluator, survives=survives, pickles=pickles)


@pytest.fixture(scope="module")
def sized_jobs(small_digits):
    return [job(small_digits, units=units, seed=j) for j, units in enumerate(SIZES)]


@pytest.fixture(scope="module")
def serial_results(small_digits, sized_jobs):
    return SerialEvaluator().start(small_digits, CONFIG).train(sized_jobs)


@pytest.fixture(scope="module")
def trained(case, small_digits, sized_jobs):
    """The sized jobs trained once by the case's evaluator, with its ``on_result`` calls."""
    reports = Reports()
    results = case.evaluator.start(small_digits, CONFIG).train(sized_jobs, on_result=reports)
    return results, reports


def test_results_come_back_in_the_order_of_the_jobs(trained, sized_jobs, serial_results):
    results, _ = trained
    assert [r.spec for r in results] == [j.spec for j in sized_jobs]
    assert all(r.status == "ok" for r in results)
    # exact: each network trains under its own seed with seeded initializers, wherever it runs
    assert [r.metrics for r in results] == [r.metrics for r in serial_results]


def test_on_result_is_called_exactly_once_per_job(trained):
    results, reports = trained
    reports.assert_once_each(results)


def _assert_each_fault_fails_alone(case, data, kinds):
    jobs = [job(data, kind, seed=j) for j, kind in enumerate(kinds)]
    reports = Reports()
    results = case.evaluator.start(data, CONFIG).train(jobs, on_result=reports)  # raises nothing
    reports.assert_once_each(results)
    assert [r.reason for r in results] == [REASONS.get(kind) for kind in kinds], case.name
    for result, kind in zip(results, kinds):
        if kind == "ok":
            assert result.status == "ok" and result.metrics["val_accuracy"] > 0
        else:
            assert result.failed and result.reason in FAILURE_REASONS and result.message, (kind, result)
    again = case.evaluator.train(jobs[:1])[0]  # and it goes on training
    assert again.metrics == results[0].metrics


def test_a_failing_candidate_comes_back_as_its_failure_never_as_an_exception(case, small_digits):
    _assert_each_fault_fails_alone(case, small_digits, ["ok", "nan", "crash", "build", "ok"])


@pytest.mark.slow
def test_a_dying_or_hanging_candidate_fails_alone(case, small_digits):
    kinds = [kind for kind in ("die", "hang") if kind in case.survives]
    if not kinds:
        pytest.skip(f"{case.name} cannot survive a candidate that kills its process or hangs")
    _assert_each_fault_fails_alone(case, small_digits, ["ok", *kinds, "nan", "ok"])


def test_pickling_keeps_only_the_configuration_and_the_copy_works(case, small_digits):
    evaluator = case.evaluator.start(small_digits, CONFIG)
    first = evaluator.train([job(small_digits)])[0]  # live now: its pool, client or cluster is up
    if not case.pickles:
        with pytest.raises((NotImplementedError, TypeError, pickle.PicklingError)):
            pickle.dumps(evaluator)
        return
    blob = pickle.dumps(evaluator)
    assert len(blob) < 10_000  # no data (the training images alone are ~60 KB)
    copy = pickle.loads(blob)
    assert repr(copy) == repr(evaluator) and copy.__getstate__() == evaluator.__getstate__()
    with pytest.raises(RuntimeError, match="not started"):
        copy.train([job(small_digits)])
    try:
        again = copy.start(small_digits, CONFIG).train([job(small_digits)])[0]
    finally:
        copy.close()
    assert again.metrics == first.metrics


def test_start_and_close_may_be_called_repeatedly(case, small_digits):
    evaluator = case.evaluator.start(small_digits, CONFIG)
    evaluator.train([job(small_digits)])  # its workers (if any) are up, holding these settings
    evaluator.start(small_digits, TrainingConfig(epochs=2))  # started again with new settings: they count
    assert len(evaluator.train([job(small_digits)])[0].history["loss"]) == 2
    evaluator.close()
    evaluator.close()
    evaluator.start(small_digits, CONFIG)
    evaluator.start(small_digits, CONFIG)
    again = evaluator.train([job(small_digits)])[0]  # started again after close
    assert again.status == "ok" and len(again.history["loss"]) == 1
