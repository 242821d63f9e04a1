"""DaskEvaluator on a real LocalCluster (2 worker processes, real Keras training in them).

One cluster serves the module (starting one and importing TensorFlow in its workers costs
seconds); it is made as a user would, with ``allowed-failures`` 0 so that a candidate that kills
its worker fails at the first death (a cluster the evaluator starts itself is set up so).
"""
import os
import signal
import sys
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

import evokit as ek
from evokit.encodings.deepga import ConvBlock, DeepGAGenome, DenseBlock
from evokit.runtime.candidates import CandidateEvaluator
from evokit.runtime.dask import DaskEvaluator
from evokit.runtime.evaluators import Task, make_evaluator
from evokit.runtime.map_evaluator import MapEvaluator

sys.path.insert(0, str(Path(__file__).parents[1]))
from _faults import FaultEncoding  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def _genomes():
    return [DeepGAGenome([ConvBlock(f, 3, "max", 2, "relu")], [DenseBlock(u, "relu", 0.0)], [])
            for f, u in ((4, 8), (8, 8), (4, 16))]


def test_same_fitnesses_as_serial_and_the_users_client_stays_open(client, small_digits, tiny_encoding):
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3).evaluate_all(_genomes())
    dask_ce = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3, evaluator=DaskEvaluator(client=client))
    try:
        distributed = dask_ce.evaluate_all(_genomes())
    finally:
        dask_ce.close()
    # exact: each network is built and trained under its own seed with seeded initializers
    assert [o.values for o in distributed] == [o.values for o in serial]
    assert [o.evaluation.metrics for o in distributed] == [o.evaluation.metrics for o in serial]
    assert all(o.evaluation.status == "ok" and o.evaluation.extra["cores"] == 1 for o in distributed)
    assert client.status == "running" and client.submit(sum, [1, 2]).result() == 3  # the user's client is open
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which freezes glibc's mmap
    # threshold: the workers that trained raised it (see evokit.runtime.allocator)
    trained_in = {o.evaluation.extra["pid"] for o in distributed}
    raised = {pid: done for pid, done in client.run(_allocator_raised).values()}
    assert trained_in <= set(raised) and all(raised[pid] for pid in trained_in)


def _allocator_raised() -> tuple[int, bool]:
    from evokit.runtime.allocator import keep_tensors_on_heap

    called = keep_tensors_on_heap.cache_info().currsize == 1  # once trainer.train has run here
    return os.getpid(), called and keep_tensors_on_heap()


def test_client_map_through_map_evaluator_matches_serial(client, small_digits, tiny_encoding):
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits).evaluate_all(_genomes()[:2])
    mapped = CandidateEvaluator(tiny_encoding, objective, small_digits,
                                evaluator=MapEvaluator(client.map, threads_per_worker=1)).evaluate_all(_genomes()[:2])
    assert [o.values for o in mapped] == [o.values for o in serial]


def test_faults_fail_one_candidate_each_and_the_rest_complete(client, small_digits):
    kinds = ["ok", "nan", "crash", "die", "hang", "ok"]
    encoding = FaultEncoding()
    tasks = [Task(encoding.decode([kind, 8 + j], small_digits.input_shape, small_digits.n_outputs).canonical(), seed=j)
             for j, kind in enumerate(kinds)]
    evaluator = DaskEvaluator(client=client, timeout=8).start(small_digits, ek.TrainingConfig(epochs=1))
    seen = []
    try:
        results = evaluator.train(tasks, on_result=lambda i, ev: seen.append(i))
        after = evaluator.train(tasks[:1])  # the cluster still trains after its workers were replaced
    finally:
        evaluator.close()
    assert sorted(seen) == list(range(len(kinds)))
    reasons = [r.reason for r in results]
    assert reasons == [None, "nan_loss", "exception", "worker_died", "timeout", None]
    assert all(r.message for r in results if r.failed)
    assert "injected crash" in results[2].message and "died" in results[3].message
    assert results[0].metrics["val_accuracy"] > 0 and results[5].metrics["val_accuracy"] > 0
    assert after[0].metrics == results[0].metrics
    client.wait_for_workers(2, timeout=60)  # the killed workers are replaced


def test_its_own_cluster_survives_ctrl_c_recycles_workers_and_is_closed_by_close(small_digits):
    g = ek.netspec.Graph(small_digits.input_shape)
    spec = g.finish(g.add(ek.netspec.Dense(10, "softmax"), g.add(ek.netspec.Flatten(), g.input)))
    evaluator = DaskEvaluator(n_workers=1, max_tasks_per_worker=2).start(small_digits, ek.TrainingConfig(epochs=1))
    client = evaluator.connect()
    cluster = evaluator._cluster
    try:
        assert client.dashboard_link.startswith("http")
        first = evaluator.train([Task(spec, seed=1)])[0]
        pids = client.run(os.getpid)
        for pid in pids.values():
            os.kill(pid, signal.SIGINT)  # what Ctrl-C in a terminal sends the whole process group
        time.sleep(0.5)
        assert client.run(os.getpid) == pids  # the same worker process: it ignored the interrupt
        again = evaluator.train([Task(spec, seed=1)])[0]  # its 2nd candidate: the worker is then replaced
        assert first.status == "ok" and again.metrics == first.metrics
        client.wait_for_workers(1, timeout=60)
        assert set(client.run(os.getpid).values()).isdisjoint(pids.values())
    finally:
        evaluator.close()
    assert client.status == "closed" and cluster.status.name == "closed"
    assert evaluator._client is None  # started again, it would start a new cluster


def test_make_evaluator_accepts_dask_client_address_and_name(client):
    assert make_evaluator(client).client is client
    assert make_evaluator("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    local = make_evaluator("dask")
    assert isinstance(local, DaskEvaluator) and local.client is None and local.address is None
    assert local._client is None  # nothing starts until the first candidate


@pytest.mark.parametrize("kwargs, field", [({"n_workers": 0}, "n_workers"), ({"timeout": 0}, "timeout"),
                                            ({"threads_per_worker": 1.5}, "threads_per_worker"),
                                            ({"address": "localhost"}, "address"), ({"client": "tcp://x:1"}, "client"),
                                            ({"cluster_kwargs": [1]}, "cluster_kwargs")])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        DaskEvaluator(**kwargs)


def test_pickles_without_its_cluster(client):
    import pickle

    copy = pickle.loads(pickle.dumps(DaskEvaluator(client=client, timeout=3)))
    assert copy.client is None and copy.timeout == 3 and copy._client is None
