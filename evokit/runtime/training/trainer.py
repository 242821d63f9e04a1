"""Train one NetSpec on a dataset and return its Evaluation (one model per candidate, or, with
``TrainingConfig(trace_once=True)`` and a maskable network, a graph shared by every candidate of
its structural signature: see :mod:`evokit.runtime.training.traced`).

Each candidate is built and trained under a seed of its own, derived from the run seed and the
network's canonical hash: the same network trains to the same weights whatever genotype produced
it, in whatever order, in whatever process. Validation is one direct forward pass (no
``model.evaluate``, which traces another function per model), scored by the data's task. A NaN
or infinite loss, or any exception, fails this candidate only.

The training room's modules import one way, each only from those above it in this list:

* :mod:`~evokit.runtime.training.seeds` (a candidate's seed), :mod:`~evokit.runtime.training.compiling`
  (the optimizer and the task's loss), :mod:`~evokit.runtime.training.forward` (the forward pass,
  a split scored by the task), :mod:`~evokit.runtime.training.allocator`,
  :mod:`~evokit.runtime.training.steps` (one traced training step);
* :mod:`~evokit.runtime.training.loop`: the batch loop;
* :mod:`~evokit.runtime.training.traced`: trace-once graphs;
* this module: train one NetSpec either way, and what a process keeps between candidates. It is
  the room's face: ``candidate_seed`` and ``score_test_split`` are importable from here.

A candidate that carries its weights and is only scored (``fit=False``, no probes) is scored with
the NumPy forward pass of :mod:`evokit.netspec.inference` where that supports the network (see
:data:`SCORE_IN_NUMPY`): no Keras model is built, and a process that scores only such candidates
never imports Keras.
"""
from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from typing import Any, Iterator, Sequence

import numpy as np

from evokit import tasks
from evokit.evaluation import Evaluation, TrainingConfig, exception_failure
from evokit.fitness.probes import Probe
from evokit.netspec import NetSpec, inference
from evokit.runtime.training import forward
from evokit.runtime.training.allocator import keep_tensors_on_heap
from evokit.runtime.training.compiling import compile_model
from evokit.runtime.training.forward import score_test_split
from evokit.runtime.training.loop import train_and_score
from evokit.runtime.training.seeds import candidate_seed, seed_candidate
from evokit.runtime.training.steps import train_step

__all__ = ["train", "candidate_seed", "score_test_split", "forget_models", "released_custom_gradients",
           "lean_graphs", "cores_in_use", "resident_memory_gb"]


def train(spec: NetSpec, data: Any, config: TrainingConfig, seed: int, keep_weights: bool = True,
          probes: Sequence[Probe] = (), weights: list[Any] | None = None, fit: bool = True) -> Evaluation:
    """Build ``spec`` with ``seed``, train it on ``data.x_train``, score it on ``data.x_val``, and
    run the objectives' probes (energy around the work, latency or user functions after it).

    Python's and NumPy's global generators are left as they were: the search's own random
    stream (DEAP's operators draw from it) must not depend on which candidates were trained
    here and which came from the cache or another process.

    ``weights`` (in ``build(spec).get_weights()`` order) replace the seeded initial weights;
    with ``fit=False`` the candidate is scored with them as they are, without training (in NumPy,
    without Keras, where :data:`SCORE_IN_NUMPY` allows and no probe needs a model).

    A ``spec`` that carries training settings of its own (``spec.training``: hyper-parameter
    genes) is trained with them in place of ``config``'s (``config.for_network(spec)``), whoever
    calls this: a search's candidates in any process, the final retraining, an export.
    """
    config = config.for_network(spec)
    keep_tensors_on_heap()
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        if SCORE_IN_NUMPY and not fit and weights is not None and not probes and inference.supports(spec):
            return _score_in_numpy(spec, data, config, seed, keep_weights, weights)
        with lean_graphs(), released_custom_gradients():
            return _train(spec, data, config, seed, keep_weights, probes, weights, fit)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


SCORE_IN_NUMPY = True
"""Score candidates that carry their weights and are not trained (``fit=False``, no probes) with
:func:`evokit.netspec.inference.predict` where it supports the network, rather than building a
Keras model per candidate: the same metrics up to float32 rounding, for a fraction of the time
(``benchmarks/weight_scoring.py``). Set it False to score them with Keras (the tests compare)."""


def _score_in_numpy(spec: NetSpec, data: Any, config: TrainingConfig, seed: int, keep_weights: bool,
                    weights: list[Any]) -> Evaluation:
    """What the Keras path gives a candidate scored without training, computed in NumPy: its
    Evaluation from :func:`train_and_score` with the task's validation metrics (a ``nan_loss``
    failure when one is not finite), a ``build_error`` when ``spec`` or ``weights`` do not fit
    (where Keras's ``build`` or ``set_weights`` would raise), and the same ``extra`` fields."""
    start = time.perf_counter()
    try:
        network = inference.Forward(spec, weights)
    except Exception as exc:  # noqa: BLE001 - a candidate that cannot be built fails alone
        evaluation = exception_failure(spec, exc, "build_error", time.perf_counter() - start)
    else:
        try:
            evaluation = train_and_score(spec, None, data, config, seed, start, network, train=False)
        except Exception as exc:  # noqa: BLE001 - one candidate's crash never ends the run
            evaluation = exception_failure(spec, exc, "exception", time.perf_counter() - start)
        if not evaluation.failed:
            evaluation.weights = network.weights if keep_weights else None
    keras = sys.modules.get("keras")
    cores = cores_in_use(keras) if keras is not None else os.cpu_count() or 1
    evaluation.extra.update(cores=cores, memory_gb=resident_memory_gb(), pid=os.getpid())
    return evaluation


CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


@contextlib.contextmanager
def released_custom_gradients() -> Iterator[None]:
    """Unregister the custom gradients that tracing a candidate's functions registered, once
    the candidate is done.

    Keras's TensorFlow optimizer sums the gradients through ``tf.distribute``'s ``all_reduce``,
    which is a ``tf.custom_gradient``. Traced, each one registers its gradient function in
    TensorFlow's process-wide gradient registry under a new name, and that function holds the
    whole traced train step (its graph) for as long as the process lives: this was the ~8 MB a
    process kept per model, which neither ``clear_session`` nor ``gc.collect`` gave back. The
    name is only looked up while the step is traced; a step traced again registers a new one.
    Other backends: nothing to do.
    """
    import keras

    registry = None
    if keras.config.backend() == "tensorflow":
        from tensorflow.python.framework import ops

        registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):  # another backend, or a TensorFlow without this registry
        yield
        return
    before = {name for name in registry if name.startswith(CUSTOM_GRADIENT_PREFIX)}
    try:
        yield
    finally:
        for name in [n for n in registry if n.startswith(CUSTOM_GRADIENT_PREFIX) and n not in before]:
            registry.pop(name, None)


GRAPH_OPTIMIZER_ENV = "EVOKIT_GRAPH_OPTIMIZER"
"""Set to ``1`` to keep TensorFlow's graph optimizer (Grappler) on while evokit trains."""


@contextlib.contextmanager
def lean_graphs() -> Iterator[None]:
    """Train with TensorFlow's graph optimizer (Grappler) off, then restore the user's setting.

    Grappler rewrites every new function graph before its first run. For the small networks a
    search trains on a CPU that costs more than it saves: measured here on 12 DeepGA networks
    (digits, 2 epochs), the first ``fit`` took 0.58 s instead of 0.74 s and a second ``fit`` of
    the same model 0.16 s instead of 0.24 s, at the same accuracy. Set the environment variable
    ``EVOKIT_GRAPH_OPTIMIZER=1`` to keep it (large networks, GPUs). Other backends: no change.
    """
    import keras

    if keras.config.backend() != "tensorflow" or os.environ.get(GRAPH_OPTIMIZER_ENV) == "1":
        yield
        return
    import tensorflow as tf

    before = bool(tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False))
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before})


def _train(spec: NetSpec, data: Any, config: TrainingConfig, seed: int, keep_weights: bool,
           probes: Sequence[Probe], weights: list[Any] | None, fit: bool) -> Evaluation:
    import keras

    begun: list[Probe] = []
    model = graph = None
    generative = tasks.get(data.task).generative
    traced_plan = _traced_plan(spec, data, config) if config.trace_once and not generative else None
    start = time.perf_counter()
    try:
        for probe in probes:
            probe.begin()
            begun.append(probe)
        start = time.perf_counter()  # the candidate's time excludes the probes' own start-up
        if traced_plan is not None:
            from evokit.runtime.training import traced

            evaluation, graph = traced.fit(traced_plan, data, config, seed, start, weights, fit)
        elif generative:  # a generator and its discriminator, trained against each other
            from evokit.runtime.training import adversarial

            evaluation, model = adversarial.fit(spec, data, config, seed, start, weights, fit)
        else:
            evaluation, model = _build_and_fit(spec, data, config, seed, start, weights, fit)
    except Exception as exc:  # noqa: BLE001 - one candidate's crash never ends the run
        evaluation = exception_failure(spec, exc, "exception", time.perf_counter() - start)
    finally:
        ended: dict[str, float] = {}
        for probe in reversed(begun):
            ended.update(probe.end())
    evaluation.metrics.update(ended)
    if not evaluation.failed:
        try:
            if graph is not None:  # trained in a shared padded graph: hand back the true-shape network
                true_weights = graph.true_weights(traced_plan)
                if probes:
                    from evokit.builder import build

                    model = build(spec, seed=seed)
                    model.set_weights(true_weights)
                evaluation.weights = true_weights if keep_weights else None
            else:
                evaluation.weights = model.get_weights() if keep_weights else None
                evaluation.companion_weights = evaluation.companion_weights if keep_weights else None
            for probe in probes:
                evaluation.metrics.update(probe.measure(model, data))
        except Exception as exc:  # noqa: BLE001 - a failing probe fails this candidate only
            evaluation = exception_failure(spec, exc, "exception", evaluation.wall_time, prefix="probe failed: ")
    evaluation.extra.update(cores=cores_in_use(keras), memory_gb=resident_memory_gb(), pid=os.getpid())
    if traced_plan is None:  # a traced graph stays cached for the next candidate of its signature
        forget_models()
    return evaluation


def _traced_plan(spec: NetSpec, data: Any, config: TrainingConfig) -> Any:
    """The trace-once plan of ``spec``, or None to train it standalone: a network with its own
    learning rate (shared graphs are kept per learning rate, and continuous ones would each
    trace a graph of their own), or one the plan refuses (it fails there, with its reason)."""
    if "learning_rate" in spec.training:
        return None
    from evokit.runtime.training import traced

    try:
        return traced.plan(spec, samples=len(data.x_train) * config.epochs)
    except Exception:  # noqa: BLE001 - an invalid spec fails in the standalone path, with its reason
        return None


SESSION_CLEAR_EVERY = 20
"""Models built between two ``keras.backend.clear_session`` calls. Clearing drops Keras's global
state, but also empties TensorFlow's kernel cache, so that the next model instantiates every
eager kernel again. Measured over 100 DeepGA networks (digits, 2 epochs), before
``released_custom_gradients`` cut what a process keeps per model from ~8 MB to ~1.2 MB:
clearing after every model made each ~10% slower (0.256 s vs 0.228-0.243 s) than never
clearing, which grew the process by ~0.8 MB more per model (8.4-8.8 vs 7.6 MB); clearing every
20 was as fast as never."""

_built_since_clear = [0]


def forget_models() -> None:
    """Let Keras forget the models built so far, once every ``SESSION_CLEAR_EVERY`` calls."""
    _built_since_clear[0] += 1
    if _built_since_clear[0] >= SESSION_CLEAR_EVERY:
        import keras

        keras.backend.clear_session(free_memory=False)
        _built_since_clear[0] = 0


def _build_and_fit(spec: NetSpec, data: Any, config: TrainingConfig, seed: int, start: float,
                   weights: list[Any] | None = None, fit: bool = True) -> tuple[Evaluation, Any]:
    from evokit.builder import build

    try:
        seed_candidate(seed)
        built = time.perf_counter()
        model = build(spec, seed=seed)
        if weights is not None:
            model.set_weights(weights)
    except Exception as exc:  # noqa: BLE001 - a candidate that cannot be built fails alone
        return exception_failure(spec, exc, "build_error", time.perf_counter() - start), None
    compiled = time.perf_counter()
    if fit:  # the optimizer's slots are made with the step (train_batches reuses it), before its trace
        compile_model(model, config, tasks.get(data.task), build_optimizer=False)
        train_step(model)
    phases = {"build": compiled - built, "compile": time.perf_counter() - compiled}
    evaluation = train_and_score(spec, model, data, config, seed, start, lambda x: forward.predict(model, x),
                                 train=fit, phases=phases)
    return evaluation, (None if evaluation.failed else model)


def cores_in_use(keras: Any) -> int:
    """CPU cores this process computes with: TensorFlow's intra-op threads if set, else all."""
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        threads = tf.config.threading.get_intra_op_parallelism_threads()
        if threads > 0:
            return threads
    return os.cpu_count() or 1


def resident_memory_gb() -> float:
    """This process's resident memory now, in GB.

    Not ``ru_maxrss``: Linux carries a process's peak across ``exec``, so a worker spawned by a
    big parent would report the parent's peak as its own.
    """
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3
    except (OSError, ValueError, IndexError):  # no /proc (macOS): the peak is what there is
        try:
            import resource
        except ImportError:  # Windows: unknown
            return 0.0
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KB elsewhere
        return peak / (1024**3 if sys.platform == "darwin" else 1024**2)

