"""Start a real ``evokit serve`` (uvicorn) on a free loopback port for the service tests.

``Server`` runs ``python -m evokit serve --root ROOT --port PORT`` as a child process, waits for
``/api/health``, and stops it (SIGTERM, or SIGKILL with ``kill()``); ``request`` calls the API
with the token when one is set. Also usable by hand:  python tests/service/server.py ROOT
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[2]

# A job small enough for tests: a few seconds of training after TensorFlow's import.
TINY_TOML = """
seed = 0
final_training = 1
[data]
name = "digits"
n_train = 200
n_val = 100
[encoding]
type = "deepga"
max_conv_blocks = 1
max_dense = 1
filters = [4, 8]
units = [8, 16]
[[objectives]]
type = "accuracy"
epochs = 1
[algorithm]
type = "ga"
population = 4
generations = {generations}
"""


def tiny_config(generations: int = 2) -> str:
    """A small DeepGA search on 200 digits (population 4, 1 epoch): a few seconds of training."""
    return TINY_TOML.format(generations=generations)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One ``evokit serve`` process over ``root`` (a directory), started by ``start()``."""

    def __init__(self, root: Path, token: str | None = None, args: Sequence[str] = (), env: dict | None = None):
        self.root = Path(root)
        self.token = token
        self.args = list(args)
        self.env = env or {}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = self.root.parent / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "Server":
        cmd = [sys.executable, "-m", "evokit", "serve", "--root", str(self.root), "--port", str(self.port), *self.args]
        if self.token:
            cmd += ["--token", self.token]
        env = {**os.environ, "PYTHONPATH": str(REPO), **self.env}
        self.process = subprocess.Popen(cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"evokit serve exited with {self.process.returncode}: "
                                   f"{self.log.read_text()[-3000:]}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"evokit serve did not answer in {timeout} s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL the server process (not its jobs: they see their parent die)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                token: str | None = "default", timeout: float = 30.0) -> tuple[int, Any, dict]:
        """(status, parsed JSON or raw bytes, headers) of one request."""
        headers = dict(headers or {})
        token = self.token if token == "default" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw, h = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, raw, h = e.code, e.read(), dict(e.headers)
        if h.get("content-type", h.get("Content-Type", "")).startswith("application/json"):
            return status, json.loads(raw or b"null"), h
        return status, raw, h

    def post_json(self, path: str, data: Any, **kwargs: Any) -> tuple[int, Any, dict]:
        return self.request("POST", path, json.dumps(data).encode(), {"Content-Type": "application/json"}, **kwargs)

    def wait_for(self, job_id: str, states: Sequence[str], timeout: float = 120.0) -> dict:
        """The job's state once it is one of ``states`` (AssertionError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        job: Any = None
        while time.monotonic() < deadline:
            status, job, _ = self.request("GET", f"/api/jobs/{job_id}")
            if status == 200 and job["state"] in states:
                return job
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} not in {states} after {timeout} s: {job}; "
                             f"log: {self.log.read_text()[-2000:]}")


if __name__ == "__main__":
    with Server(Path(sys.argv[1])) as server:
        print(server.url, flush=True)
        server.process.wait()
