"""Jobs as processes: each job is ``evokit run --safe`` (or ``evokit resume``) over its own run
directory, at most ``max_jobs`` at a time, the rest queued in the order they came.

The service and its jobs live and die together: a job process is told (``EVOKIT_PARENT_PID``,
read by the ``evokit`` command) to die with the service, however the service ends. The job
table remembers what was running; a service started again on the same root queues those jobs
first, to continue from their checkpoints (``evokit resume``), so an interrupted job finishes as
an uninterrupted one would and no network is trained twice (the run's fitness cache holds what
was trained after the last checkpoint). Stop is Ctrl-C's rule: SIGINT, the job stops after the
current generation with its checkpoint written.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from evokit.errors import ConfigError
from evokit.runtime.run.checkpoint import SEARCH
from evokit.service.progress import RunProgress
from evokit.service.store import ACTIVE, ENDED, Job, JobStore

log = logging.getLogger("evokit.service")

TOKEN_VARIABLE = "EVOKIT_TOKEN"
"""Never passed on to a job (nor to anything the service starts)."""
PARENT_VARIABLE = "EVOKIT_PARENT_PID"
"""Set in a job's environment to the service's pid: the job dies with the service."""
LOG = "log.txt"
RUN = "run"
CONFIG = "config.json"


class JobManager:
    """The job table under ``root`` and the processes of its running jobs."""

    def __init__(self, root: str | os.PathLike, max_jobs: int = 1, python: str = sys.executable):
        if not isinstance(max_jobs, int) or max_jobs < 1:
            raise ValueError(f"max_jobs={max_jobs!r} is invalid: expected a positive integer")
        self.root = Path(root)
        (self.root / "jobs").mkdir(parents=True, exist_ok=True)
        self.store = JobStore(self.root / "jobs.sqlite")
        self.max_jobs = max_jobs
        self.python = python
        self._root_lock = _lock_root(self.root)
        self.processes: dict[str, subprocess.Popen] = {}
        self._progress: dict[str, tuple[float, RunProgress]] = {}
        self._progress_lock = threading.Lock()
        self._attempts: dict[str, tuple[float, int]] = {}  # job -> (its process's start, log size then)
        self._recovered: set[str] = set()

    def directory(self, job_id: str) -> Path:
        return self.root / "jobs" / job_id

    def run_dir(self, job_id: str) -> Path:
        return self.directory(job_id) / RUN

    # -- the life of the service ---------------------------------------------------------------

    def recover(self) -> list[Job]:
        """Queue again, first in line, the jobs that were running when the service last ended."""
        recovered = []
        for job in self.store.all(ACTIVE):
            if job.state == "stopping":  # a job asked to stop stays stopped
                changes = {"state": "stopped", "ended": time.time()}
            else:
                changes = {"state": "queued"}
                self._recovered.add(job.id)
            recovered.append(self.store.update(job.id, resume=self._resumable(job.id), pid=None, **changes))
            log.info("job %s was %s when the service ended: now %s", job.id, job.state, changes["state"])
        return [job for job in recovered if job is not None]

    def shutdown(self) -> None:
        """End every job process now (their rows stay ``running``: the next service resumes them)."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
        for process in self.processes.values():
            process.wait()
        self.processes.clear()
        self.store.close()
        os.close(self._root_lock)

    def tick(self) -> None:
        """Reap the jobs that ended, then start queued jobs while slots are free."""
        for job_id, process in list(self.processes.items()):
            if process.poll() is not None:
                del self.processes[job_id]
                try:
                    self._ended(job_id, process.returncode)
                except Exception as exc:  # noqa: BLE001 - the job must not stay "running" without a process
                    log.exception("job %s: reading how it ended failed", job_id)
                    self.store.update(job_id, state="failed", exit_code=process.returncode, ended=time.time(),
                                      pid=None, error=f"the service could not read how the job ended: {exc}")
        running = len(self.processes)
        queued = self.store.all(("queued",))
        queued.sort(key=lambda j: j.id not in self._recovered)  # interrupted by the service's death: first
        for job in queued:
            if running >= self.max_jobs:
                break
            try:
                self._start(job)
            except OSError as exc:  # no such directory (deleted meanwhile), no memory to fork ...
                self.store.update(job.id, state="failed", error=f"the job could not start: {exc}", ended=time.time())
                continue
            running += 1

    def _start(self, job: Job) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("jobs start in the service's main thread only: a job dies with the thread that "
                               "started it (PR_SET_PDEATHSIG)")
        self._recovered.discard(job.id)
        run_dir = self.run_dir(job.id)
        if job.resume and self._resumable(job.id):
            command = [self.python, "-m", "evokit", "resume", str(run_dir), "-q"]
        else:
            command = [self.python, "-m", "evokit", "run", "--safe", str(self.directory(job.id) / CONFIG),
                       "--run-dir", str(run_dir), "-q"] + (["--overwrite"] if run_dir.exists() else [])
        env = child_environment() | {"PYTHONUNBUFFERED": "1"}
        with open(self.directory(job.id) / LOG, "ab") as out:
            out.write(f"\n$ {' '.join(command[1:])}\n".encode())
            out.flush()
            self._attempts[job.id] = (time.time(), out.tell())
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, start_new_session=True, cwd=self.directory(job.id))
        self.processes[job.id] = process
        with self._progress_lock:
            self._progress.pop(job.id, None)  # a resume may cut the run's files back to its checkpoint
        self.store.update(job.id, state="running", pid=process.pid, started=job.started or time.time(), ended=None,
                          exit_code=None, error=None)
        log.info("job %s started: pid %s", job.id, process.pid)

    def _ended(self, job_id: str, code: int) -> None:
        job = self.store.get(job_id)
        if job is None:
            return
        text = self.log_tail(job_id, since=self._attempts.get(job_id, (0.0, 0))[1])  # this process's output only
        if code == 0:
            state, error = "finished", None
        elif "interrupted: continue with" in text or "evokit: stopped;" in text:
            state, error = "stopped", None
        else:
            state, error = "failed", _error_line(text) or f"the job's process ended with code {code}"
        self.store.update(job_id, state=state, exit_code=code, error=error, ended=time.time(), pid=None,
                          resume=self._resumable(job_id))
        log.info("job %s %s (exit code %s)", job_id, state, code)

    # -- what a client asks --------------------------------------------------------------------

    def stop(self, job_id: str) -> Job | None:
        """Ask a running job to stop after its current generation; a queued one stops at once."""
        job = self.store.get(job_id)
        if job is None or job.state in ENDED or job.state == "stopping":
            return job
        process = self.processes.get(job_id)
        if job.state == "queued" or process is None or process.poll() is not None:
            return self.store.update(job_id, state="stopped", ended=time.time(), resume=self._resumable(job_id))
        process.send_signal(signal.SIGINT)
        return self.store.update(job_id, state="stopping")

    def resume(self, job_id: str) -> Job | None:
        """Queue a stopped or failed job again: it continues from its checkpoint when it has one."""
        job = self.store.get(job_id)
        if job is None or job.state not in ("stopped", "failed"):
            return job
        return self.store.update(job_id, state="queued", resume=self._resumable(job_id), error=None, exit_code=None)

    def delete(self, job_id: str) -> bool:
        """End the job's process if it runs, remove its files and its row."""
        if self.store.get(job_id) is None:
            return False
        process = self.processes.pop(job_id, None)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.store.delete(job_id)
        with self._progress_lock:
            self._progress.pop(job_id, None)
        shutil.rmtree(self.directory(job_id), ignore_errors=True)
        return True

    def progress(self, job_id: str, fresh: float = 0.5) -> RunProgress:
        """The job's shared progress reader, polled at most every ``fresh`` seconds (from any thread)."""
        with self._progress_lock:
            last, progress = self._progress.get(job_id, (0.0, None))
            if progress is None:
                progress = RunProgress(self.run_dir(job_id))
            now = time.monotonic()
            if now - last >= fresh:
                progress.poll()
                last = now
            self._progress[job_id] = (last, progress)
            return progress

    def attempt_started(self, job_id: str) -> float | None:
        """When the job's current (or last) process started, in this service's life."""
        return self._attempts.get(job_id, (None, 0))[0]

    def _resumable(self, job_id: str) -> bool:
        return (self.run_dir(job_id) / SEARCH).is_file()

    def log_tail(self, job_id: str, size: int = 8192, since: int = 0) -> str:
        """The last ``size`` bytes of the job's output, from byte ``since`` on."""
        try:
            with open(self.directory(job_id) / LOG, "rb") as f:
                f.seek(max(f.seek(0, 2) - size, since))
                return f.read().decode(errors="replace")
        except OSError:
            return ""


def child_environment() -> dict[str, str]:
    """The environment of a process the service starts (a job, a report, an export): it dies with
    the service (``EVOKIT_PARENT_PID``) and never sees the token."""
    env = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    return env | {PARENT_VARIABLE: str(os.getpid())}


def _lock_root(root: Path) -> int:
    """An exclusive flock on ``root/service.lock`` for the service's life: a second service on the
    same root would resume the first one's running jobs."""
    fd = os.open(root / "service.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise ConfigError(f"--root={str(root)!r} is invalid: another evokit serve (pid {holder}) uses it") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _error_line(text: str) -> str | None:
    """The ``evokit: error: ...`` / ``evokit: the run failed: ...`` line of a job's output."""
    for line in reversed(text.splitlines()):
        if line.startswith("evokit: "):
            return line.removeprefix("evokit: ")
    return None


def describe(job: Job, manager: JobManager) -> dict[str, Any]:
    """The job as the API shows it: its row, with progress read from its run directory."""
    progress = manager.progress(job.id)
    summary = progress.summary() if job.state in ENDED else None
    best = progress.best
    return {
        "id": job.id, "name": job.name, "state": job.state,
        "created": _iso(job.created), "started": _iso(job.started), "finished": _iso(job.ended),
        **{k: job.about.get(k) for k in ("dataset", "encoding", "search", "objectives")},
        "headline": progress.headline,
        "generation": progress.generation, "generations": progress.budget().get("generations"),
        "evaluations": progress.evaluations, "evaluations_budget": progress.budget().get("evaluations"),
        "elapsed_s": progress.rows[-1].get("elapsed_s") if progress.rows else None,
        "eta_s": progress.eta(since_start=manager.attempt_started(job.id)) if job.state in ACTIVE else None,
        "best": None if best is None else {"values": best.get("fitness"), "params": best.get("params"),
                                           "network": best.get("network"), "description": best.get("description"),
                                           progress.headline: best.get(progress.headline)},
        "test_scores": (summary or {}).get("test_scores"),
        "exit_code": job.exit_code, "error": job.error,
    }


def _iso(moment: float | None) -> str | None:
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
