"""kill -9 of ``evokit serve`` while a job runs: the job dies with it; a service started again on
the same root resumes it from its checkpoint, keeps the queued job queued behind it, and the
interrupted job ends identical to the same search run without interruption (a plain ``evokit
run --safe`` of the same config, started beside it), no network trained twice."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _processes import alive  # noqa: E402
from server import REPO, Server, tiny_config  # noqa: E402
from test_api import post_form  # noqa: E402


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "candidates.jsonl").read_text().splitlines()]


def pid_of(root: Path, job_id: str) -> int | None:
    with sqlite3.connect(root / "jobs.sqlite") as db:
        return db.execute("SELECT pid FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]


def test_kill_9_mid_job_then_restart_finishes_identical(tmp_path):
    root = tmp_path / "root"
    first = Server(root, args=["--jobs", "1"]).start()
    try:
        job = post_form(first, {"config": tiny_config(3)})[1]
        queued = post_form(first, {"config": tiny_config(3)})[1]
        config = root / "jobs" / job["id"] / "config.json"
        reference = subprocess.Popen([sys.executable, "-m", "evokit", "run", "--safe", str(config), "--run-dir",
                                      str(tmp_path / "reference"), "-q"], env={**os.environ, "PYTHONPATH": str(REPO)},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while (first.request("GET", f"/api/jobs/{job['id']}")[1]["generation"] or 0) < 1:
            assert time.monotonic() < deadline, first.log.read_text()[-2000:]
            time.sleep(0.2)
        worker = pid_of(root, job["id"])
        assert worker and alive(worker)
    finally:
        first.kill()
    deadline = time.monotonic() + 10
    while alive(worker):  # the job dies with its service
        assert time.monotonic() < deadline, "the job outlived the killed service"
        time.sleep(0.1)

    with Server(root, args=["--jobs", "1"]) as second:
        assert second.request("GET", f"/api/jobs/{job['id']}")[1]["state"] in ("queued", "running")
        assert second.request("GET", f"/api/jobs/{queued['id']}")[1]["state"] == "queued"  # behind the resumed job
        resumed = second.wait_for(job["id"], ("finished", "failed"), timeout=120)
        assert resumed["state"] == "finished", second.request("GET", f"/api/jobs/{job['id']}/log")[1]
        assert second.request("DELETE", f"/api/jobs/{queued['id']}")[0] == 204
        log = (root / "jobs" / job["id"] / "log.txt").read_text()
        assert "-m evokit resume" in log  # it continued from its checkpoint, not from the start
    assert reference.wait(timeout=120) == 0, reference.stderr.read()

    interrupted, clean = records(root / "jobs" / job["id"] / "run"), records(tmp_path / "reference")
    key = lambda r: (r["generation"], r["hash"], r["status"], r["fitness"])  # noqa: E731
    assert [key(r) for r in interrupted] == [key(r) for r in clean]
    trained = [r["hash"] for r in interrupted if not r["cached"]]
    assert len(trained) == len(set(trained))  # no network trained twice
    summary = json.loads((root / "jobs" / job["id"] / "run" / "summary.json").read_text())
    assert summary["best"] == json.loads((tmp_path / "reference" / "summary.json").read_text())["best"]
