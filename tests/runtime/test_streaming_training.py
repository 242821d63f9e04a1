"""Training on a streaming Dataset (x arrays on disk, read batch by batch) gives exactly what
training on the same data in memory gives, in this process and in worker processes, and the
data reach the workers as file paths."""
import os
import pickle

import numpy as np
import pytest

import evokit as ek
from evokit.diskarray import DiskArray
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.evaluation import TrainingConfig
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors.base import JobSettings
from evokit.runtime.training.trainer import score_test_split, train


@pytest.fixture(scope="module")
def pair(small_digits, tmp_path_factory):
    """The small digits in memory, and the same data streaming from disk."""
    return small_digits, ek.datasets.to_disk(small_digits, tmp_path_factory.mktemp("streaming"))


def _spec(data):
    g = ek.netspec.Graph(data.input_shape)
    x = g.add(ek.netspec.Conv2D(4, 3), g.input)
    x = g.add(ek.netspec.Flatten(), x)
    return g.finish(g.add(ek.netspec.Dense(data.n_outputs, "softmax"), x))


@pytest.mark.parametrize("config", [TrainingConfig(epochs=2, batch_size=32, early_stopping=1),
                                    TrainingConfig(epochs=1, batch_size=50, trace_once=True)],
                         ids=["standalone-early-stopping", "trace-once"])
def test_streaming_trains_the_same_network_as_in_memory(pair, config):
    memory, streaming = pair
    a, b = (train(_spec(d), d, config, seed=11) for d in (memory, streaming))
    assert a.status == b.status == "ok"
    assert a.metrics == b.metrics and a.history == b.history
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    model = a.model()
    assert score_test_split(model, memory) == score_test_split(model, streaming)


def test_a_streaming_dataset_reaches_workers_as_paths(tmp_path):
    x = np.random.default_rng(0).random((3000, 16, 16, 1), dtype=np.float32)  # 3 MB of samples
    data = ek.datasets.from_arrays(x, np.arange(3000) % 3, scale=False)
    streaming = ek.datasets.to_disk(data, tmp_path)
    settings = JobSettings(streaming, TrainingConfig(epochs=1))
    blob = pickle.dumps(settings)
    assert streaming.x_train.nbytes > 1_500_000 and len(blob) < 100_000
    assert isinstance(pickle.loads(blob).data.x_train, DiskArray)
    from distributed.protocol import pickle as dask_pickle  # how a DaskEvaluator ships its job

    assert len(dask_pickle.dumps(settings)) < 100_000


def _genome(filters):
    return DeepGAGenome([ConvBlock(filters, 3, "max", 2, "relu")], [DenseBlock(8, "relu", 0.0)], [])


@pytest.mark.slow
def test_a_search_streams_in_two_worker_processes(pair, tiny_encoding):
    memory, streaming = pair
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, memory)
    procs = CandidateEvaluator(tiny_encoding, objective, streaming, evaluator=ek.runtime.ProcessEvaluator(workers=2))
    try:
        genomes = [_genome(4), _genome(8), _genome(6)]
        streamed = procs.evaluate_all(genomes)
        assert all(o.evaluation.status == "ok" for o in streamed)
        assert os.getpid() not in {o.evaluation.extra["pid"] for o in streamed}  # workers read the files
        assert [o.values for o in streamed] == [o.values for o in serial.evaluate_all(genomes)]
    finally:
        procs.close()


def test_a_run_whose_streamed_files_are_gone_fails_at_once_on_resume(tmp_path, tiny_encoding):
    x = np.random.default_rng(0).random((60, 8, 8, 1), dtype=np.float32)
    streaming = ek.datasets.to_disk(ek.datasets.from_arrays(x, np.arange(60) % 3, scale=False), tmp_path / "data")
    search = ek.Search(encoding=tiny_encoding, objectives=ek.fitness.ParameterCount(), data=streaming,
                       algorithm=ek.algorithms.GA(population=2), budget=ek.Budget(generations=1),
                       run_dir=tmp_path / "run", seed=0, progress=False)
    search.run()
    evaluated = len(ek.runtime.read_candidates(tmp_path / "run"))
    (tmp_path / "data" / "x_val.npy").unlink()  # a reboot cleaned /tmp
    with pytest.raises(ek.errors.DataError, match=r"x_val\.npy> is invalid: .*it is gone.*load it again"):
        ek.resume(tmp_path / "run", budget=ek.Budget(generations=2))
    with pytest.raises(ek.errors.DataError, match=r"x_val\.npy> is invalid"):
        search.run(resume=True)
    assert len(ek.runtime.read_candidates(tmp_path / "run")) == evaluated  # no candidate was tried with the data gone
