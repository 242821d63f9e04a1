"""What a DaskEvaluator runs on its workers: the worker plugin that holds its settings (and,
by default, the worker's trainer process), and the function that trains one job there.

Imported by the workers (the scheduler sends them these functions by reference), never needs
Dask to import: the plugin class is made on first use.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import Any

from evokit.evaluation import Evaluation
from evokit.runtime.executors.base import Evaluator, Job, JobSettings
from evokit.runtime.executors.process import ProcessEvaluator
from evokit.runtime.training.workers import configure_threads, ignore_interrupts

_TRAIN_LOCK = threading.Lock()


@functools.cache
def job_plugin_class() -> type:
    """A WorkerPlugin holding one evaluator's JobSettings (made here so that evokit imports
    without Dask).

    The scheduler keeps the plugin and installs it on every worker, including workers that
    join later or restart after a crash: the data reach each worker once and are never lost
    with a worker (data scattered with ``client.scatter`` live on one worker only and are gone
    for good when it dies).
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class EvokitJob(WorkerPlugin):
        def __init__(self, settings: JobSettings, ignore_interrupts: bool, trainer: dict[str, Any] | None):
            self.settings = settings
            self.ignore_interrupts = ignore_interrupts
            self.trainer_settings = trainer  # None: train in the worker's own thread
            self._trainer: Evaluator | None = None

        def setup(self, worker: Any) -> None:
            # Ctrl-C in a terminal reaches the LocalCluster's worker processes too: the search
            # decides what it means (finish the generation, checkpoint), the workers go on.
            if self.ignore_interrupts:
                ignore_interrupts()

        def trainer(self) -> Evaluator:
            """This worker's trainer process (a one-process ProcessEvaluator), started on first use."""
            if self._trainer is None:
                settings = self.settings
                self._trainer = ProcessEvaluator(1, threads_per_worker=settings.threads or 1,
                                                 **self.trainer_settings).start(settings.data, settings.config,
                                                                                settings.keep_weights, settings.probes)
            return self._trainer

        def teardown(self, worker: Any) -> None:
            if self._trainer is not None:
                self._trainer.close()
                self._trainer = None

    return EvokitJob


def train_on_worker(plugin: str, token: int, job: Job, topic: str | None) -> Evaluation:
    """Train one job on a Dask worker with the settings its evaluator installed there: in the
    worker's trainer process, or in this thread (then announcing the start on ``topic``, which
    starts the client's timeout clock)."""
    from distributed import get_worker

    worker = get_worker()
    job_plugin = worker.plugins[plugin]
    with _TRAIN_LOCK:  # Keras's seed and session are per process: one candidate at a time
        if job_plugin.trainer_settings is not None:
            return job_plugin.trainer().train([job])[0]
        configure_threads(job_plugin.settings.threads)  # a worker's start-up, before the timeout clock
        worker.log_event(topic, {"token": token, "worker": worker.address, "pid": os.getpid()})
        return job.run(job_plugin.settings)


async def exit_process() -> None:
    """Run on a worker whose candidate timed out in the worker's own thread: a thread cannot be
    stopped, so the process ends (its nanny starts a fresh one)."""
    os._exit(70)
