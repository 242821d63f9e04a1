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
from evokit.runtime.candidates.evaluator import CandidateEvaluator
from evokit.runtime.executors import DaskEvaluator, Job, MapEvaluator, make_evaluator

sys.path.insert(0, str(Path(__file__).parents[1]))
from _faults import FaultEncoding  # noqa: E402
from _processes import alive  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0")
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def _genomes():
    return [DeepGAGenome([ConvBlock(f, 3, "max", 2, "relu")], [DenseBlock(u, "relu", 0.0)], [])
            for f, u in ((4, 8), (8, 8), (4, 16))]


def test_same_fitnesses_as_serial_trained_in_the_workers_trainer_processes(client, small_digits, tiny_encoding):
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3).evaluate_all(_genomes())
    dask_ce = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3, evaluator=DaskEvaluator(client=client))
    try:
        distributed = dask_ce.evaluate_all(_genomes())
        trainers = {pid for pids in client.run(_children).values() for pid in pids}
    finally:
        dask_ce.close()
    # exact: each network is built and trained under its own seed with seeded initializers
    assert [o.values for o in distributed] == [o.values for o in serial]
    assert [o.evaluation.metrics for o in distributed] == [o.evaluation.metrics for o in serial]
    assert all(o.evaluation.status == "ok" and o.evaluation.extra["cores"] == 1 for o in distributed)
    # trained in processes the (daemonic, by Dask's default) workers started, not in the workers
    trained_in = {o.evaluation.extra["pid"] for o in distributed}
    assert trained_in <= trainers and trained_in.isdisjoint(client.run(os.getpid).values())
    assert client.status == "running" and client.submit(sum, [1, 2]).result() == 3  # the user's client is open
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in trained_in) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in trained_in)  # close() released the job and its trainer processes


def test_without_trainer_processes_the_workers_train_and_raise_the_allocator_threshold(client, small_digits,
                                                                                       tiny_encoding):
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3).evaluate_all(_genomes()[:2])
    dask_ce = CandidateEvaluator(tiny_encoding, objective, small_digits, seed=3,
                                 evaluator=DaskEvaluator(client=client, trainer_processes=False))
    try:
        distributed = dask_ce.evaluate_all(_genomes()[:2])
    finally:
        dask_ce.close()
    assert [o.values for o in distributed] == [o.values for o in serial]
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which freezes glibc's mmap
    # threshold: the workers that trained raised it (see evokit.runtime.training.allocator)
    trained_in = {o.evaluation.extra["pid"] for o in distributed}
    raised = {pid: done for pid, done in client.run(_allocator_raised).values()}
    assert trained_in <= set(raised) and all(raised[pid] for pid in trained_in)


def _allocator_raised() -> tuple[int, bool]:
    from evokit.runtime.training.allocator import keep_tensors_on_heap

    called = keep_tensors_on_heap.cache_info().currsize == 1  # once trainer.train has run here
    return os.getpid(), called and keep_tensors_on_heap()


def _children() -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process().children(recursive=True)]  # trainers fork from a fork server


def test_client_map_through_map_evaluator_matches_serial(client, small_digits, tiny_encoding):
    objective = ek.fitness.ValidationAccuracy(epochs=1)
    serial = CandidateEvaluator(tiny_encoding, objective, small_digits).evaluate_all(_genomes()[:2])
    mapped = CandidateEvaluator(tiny_encoding, objective, small_digits,
                                evaluator=MapEvaluator(client.map, threads_per_worker=1)).evaluate_all(_genomes()[:2])
    assert [o.values for o in mapped] == [o.values for o in serial]


@pytest.mark.parametrize("trainer_processes", [True, False])
def test_faults_fail_one_candidate_each_and_the_rest_complete(client, small_digits, trainer_processes):
    kinds = ["ok", "nan", "crash", "die", "hang", "ok"]
    encoding = FaultEncoding()
    jobs = [Job(encoding.decode([kind, 8 + j], small_digits.input_shape, small_digits.n_outputs).canonical(), seed=j)
            for j, kind in enumerate(kinds)]
    evaluator = DaskEvaluator(client=client, timeout=8, trainer_processes=trainer_processes).start(
        small_digits, ek.TrainingConfig(epochs=1))
    workers = client.run(os.getpid)
    seen = []
    try:
        results = evaluator.train(jobs, on_result=lambda i, ev: seen.append(i))
        after = evaluator.train(jobs[:1])  # the cluster still trains after the processes were replaced
    finally:
        evaluator.close()
    assert sorted(seen) == list(range(len(kinds)))
    reasons = [r.reason for r in results]
    assert reasons == [None, "nan_loss", "exception", "worker_died", "timeout", None]
    assert all(r.message for r in results if r.failed)
    assert "injected crash" in results[2].message and "died" in results[3].message
    assert results[0].metrics["val_accuracy"] > 0 and results[5].metrics["val_accuracy"] > 0
    assert after[0].metrics == results[0].metrics
    if trainer_processes:  # the crash and the timeout ended trainer processes only
        assert client.run(os.getpid) == workers
    client.wait_for_workers(2, timeout=60)  # the killed workers are replaced


@pytest.mark.parametrize("trainer_processes", [True, False])
def test_its_own_cluster_survives_ctrl_c_recycles_and_is_closed_by_close(small_digits, trainer_processes):
    g = ek.netspec.Graph(small_digits.input_shape)
    spec = g.finish(g.add(ek.netspec.Dense(10, "softmax"), g.add(ek.netspec.Flatten(), g.input)))
    evaluator = DaskEvaluator(n_workers=1, max_tasks_per_worker=2, trainer_processes=trainer_processes).start(
        small_digits, ek.TrainingConfig(epochs=1))
    client = evaluator.connect()
    cluster = evaluator._cluster
    try:
        assert client.dashboard_link.startswith("http")
        first = evaluator.train([Job(spec, seed=1)])[0]
        workers = client.run(os.getpid)
        for pid in [*workers.values(), first.extra["pid"]]:
            os.kill(pid, signal.SIGINT)  # what Ctrl-C in a terminal sends the whole process group
        time.sleep(0.5)
        assert client.run(os.getpid) == workers  # the same worker process: it ignored the interrupt
        again = evaluator.train([Job(spec, seed=1)])[0]  # its 2nd candidate: what trained it is then replaced
        assert first.status == "ok" and again.metrics == first.metrics
        assert again.extra["pid"] == first.extra["pid"]  # the trainer ignored the interrupt too
        third = evaluator.train([Job(spec, seed=1)])[0]
        assert third.metrics == first.metrics and third.extra["pid"] != first.extra["pid"]
        client.wait_for_workers(1, timeout=60)
        if trainer_processes:  # a new trainer process in the same worker
            assert client.run(os.getpid) == workers and not alive(first.extra["pid"])
        else:  # the nanny started a new worker
            assert set(client.run(os.getpid).values()).isdisjoint(workers.values())
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
                                            ({"cluster_kwargs": [1]}, "cluster_kwargs"),
                                            ({"memory_limit_gb": 0}, "memory_limit_gb"),
                                            ({"trainer_processes": "yes"}, "trainer_processes")])
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ek.errors.ConfigError, match=field):
        DaskEvaluator(**kwargs)


def test_pickles_without_its_cluster(client):
    import pickle

    copy = pickle.loads(pickle.dumps(DaskEvaluator(client=client, timeout=3, trainer_processes=False)))
    assert copy.client is None and copy.timeout == 3 and copy._client is None and copy.trainer_processes is False
    old = DaskEvaluator(n_workers=1)
    for name in ("memory_limit_gb", "trainer_processes"):  # pickled before these settings existed
        delattr(old, name)
    restored = pickle.loads(pickle.dumps(old))
    assert restored.trainer_processes is True and restored.memory_limit_gb == 1.5


def _listening(process) -> set:
    import psutil

    return {c.laddr for c in process.net_connections("inet") if c.status == psutil.CONN_LISTEN}


def test_its_own_cluster_and_dashboard_listen_on_loopback_only():
    """The dashboard has no authentication (worker pages, call stacks): Dask's ``":0"`` would
    bind it on every interface. Starts a real LocalCluster (no training) and reads the sockets."""
    import psutil
    from distributed.comm.utils import get_tcp_server_addresses

    this = psutil.Process()
    before = _listening(this)
    evaluator = DaskEvaluator(n_workers=1)
    try:
        client = evaluator.connect()
        dashboard = get_tcp_server_addresses(evaluator._cluster.scheduler.http_server)
        link = client.dashboard_link
        workers = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
        opened = (_listening(this) - before).union(*(_listening(worker) for worker in workers))
    finally:
        evaluator.close()
    assert dashboard and {address[0] for address in dashboard} == {"127.0.0.1"}
    assert link.startswith("http://127.0.0.1:")
    # the scheduler, the dashboard, the nanny and the worker: every socket the cluster listens on
    assert len(opened) >= 3 and {address.ip for address in opened} == {"127.0.0.1"}, opened


def test_cluster_kwargs_may_expose_the_dashboard():
    assert DaskEvaluator()._cluster_options() == {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    exposed = DaskEvaluator(cluster_kwargs={"dashboard_address": "0.0.0.0:8787", "memory_limit": "2GB"})
    assert exposed._cluster_options() == {"host": "127.0.0.1", "dashboard_address": "0.0.0.0:8787",
                                          "memory_limit": "2GB"}
    by_interface = DaskEvaluator(cluster_kwargs={"interface": "lo"})  # Dask takes a host or an interface
    assert by_interface._cluster_options() == {"dashboard_address": "127.0.0.1:0", "interface": "lo"}
