"""The FastAPI application of ``evokit serve``: the REST API under ``/api`` (OpenAPI at
``/api/openapi.json``, Swagger UI at ``/api/docs``), server-sent events per job, and the web page
(``/``, ``/static/``; Plotly.js served from the installed ``plotly`` package, nothing from the
network).

Every ``/api`` route but ``/api/health`` and ``/api/options`` checks the token when the service
has one (``Authorization: Bearer TOKEN`` or ``?token=TOKEN``, compared in constant time). Job ids
are the server's (12 hex digits, checked before any file is touched); request bodies over the
upload limit are cut off with 413 before they are parsed.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import json
import re
import secrets
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

import evokit
from evokit.service import submit
from evokit.service.jobs import CONFIG, JobManager, child_environment, describe
from evokit.service.progress import RunProgress
from evokit.service.store import ENDED, Job, new_id

JOB_ID = re.compile(r"[0-9a-f]{12}")
STATIC = Path(__file__).parent / "static"
FORM_OVERHEAD = 1 << 20
"""Bytes a request may carry beyond the upload limit (the other form fields, the config text)."""
HEARTBEAT_SECONDS = 15.0
STATE_SECONDS = 5.0
MAX_QUEUED = 100
"""Queued jobs the service accepts; more get 429."""


def create_app(root: str | Path, token: str | None = None, max_jobs: int = 1,
               max_upload_bytes: int = 100 * 2**20, tick_seconds: float = 0.5) -> FastAPI:
    """The service over the job table in ``root``: it resumes interrupted jobs when it starts,
    runs ``max_jobs`` at a time and ends them when it stops."""
    manager = JobManager(root, max_jobs=max_jobs)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager.recover()
        ticker = asyncio.create_task(_tick(manager, tick_seconds))
        try:
            yield
        finally:
            ticker.cancel()
            manager.shutdown()

    app = FastAPI(title="evokit", version=evokit.__version__, lifespan=lifespan, docs_url="/api/docs",
                  redoc_url=None, openapi_url="/api/openapi.json",
                  description="Submit neural architecture searches, follow them live, stop, resume, download "
                              "their models. See docs/guide/service.md.")
    app.state.manager = manager
    app.add_middleware(BodyLimit, limit=max_upload_bytes + FORM_OVERHEAD)
    app.include_router(_public(max_upload_bytes, token is not None))
    app.add_middleware(HostGuard, loopback_only=token is None)
    for router in (_jobs(manager, max_upload_bytes), _control(manager)):
        app.include_router(router, dependencies=[Depends(_token_check(token))])
    for router in (_streams(manager), _files(manager)):
        app.include_router(router, dependencies=[Depends(_token_check(token, in_query=True))])
    _page(app)
    return app


async def _tick(manager: JobManager, seconds: float) -> None:
    while True:
        try:
            manager.tick()  # in the event loop's thread: jobs are children of the thread that lives longest
        except Exception:  # noqa: BLE001 - one bad tick must not end the scheduler
            import logging

            logging.getLogger("evokit.service").exception("scheduling failed")
        await asyncio.sleep(seconds)


# --- security ------------------------------------------------------------------------------

def _token_check(token: str | None, in_query: bool = False) -> Any:
    """A dependency that checks the token: in the Authorization header, or (``in_query``: the
    event stream and downloads, which a browser opens without headers) as ``?token=``."""
    def check(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if given.lower().startswith("bearer "):
            given = given[7:]
        else:
            given = request.query_params.get("token", "") if in_query else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "token is missing or wrong: send Authorization: Bearer TOKEN (or ?token=TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
    return check


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


class HostGuard:
    """ASGI middleware against requests a browser makes for another site:

    * without a token (loopback only), a ``Host`` that is not a loopback name is refused (a DNS
      rebinding page reaches 127.0.0.1 under its own name);
    * a request that changes something (not GET/HEAD/OPTIONS) whose ``Origin`` names another
      host than the one asked (``Host``, or ``X-Forwarded-Host`` behind a proxy) is refused (a
      cross-site form post).
    """

    def __init__(self, app: Any, loopback_only: bool):
        self.app, self.loopback_only = app, loopback_only

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
            refusal = self.refusal(scope["method"], headers)
            if refusal:
                return await JSONResponse({"detail": refusal}, status_code=403)(scope, receive, send)
        await self.app(scope, receive, send)

    def refusal(self, method: str, headers: dict[str, str]) -> str | None:
        host = headers.get("host", "")
        if self.loopback_only and _hostname(host) not in LOOPBACK_NAMES:
            return (f"Host={host[:80]!r} is not allowed: this service answers on loopback only (start it with a "
                    "token to serve other names)")
        origin = headers.get("origin")
        if method not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
            asked = {host, headers.get("x-forwarded-host", host)}
            if origin.split("://", 1)[-1].rstrip("/") not in asked:
                return f"Origin={origin[:80]!r} is not allowed: a page of another site may not change jobs here"
        return None


def _hostname(host: str) -> str:
    """``host`` without its port (``[::1]:8000`` -> ``[::1]``)."""
    if host.startswith("["):
        return host[:host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes gets 413 (by its Content-Length before
    anything is read, else as soon as the streamed body passes the limit)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await _too_large(self.limit)(scope, receive, send)
        seen, started = 0, False

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def watched(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(self.limit)(scope, receive, send)


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"data is too large: the request is over {limit:,} bytes (this server's upload "
                                   "limit, evokit serve --max-upload-mb)"}, status_code=413)


# --- routes --------------------------------------------------------------------------------

def _public(max_upload_bytes: int, token_required: bool) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["service"])

    @api.get("/health")
    def health() -> dict[str, str]:
        """Whether the service answers (no token needed)."""
        return {"status": "ok", "version": evokit.__version__}

    @api.get("/options")
    def options() -> dict[str, Any]:
        """What a job may be made of: datasets, encodings, searches, objectives, defaults, the
        upload limit, and whether a token is required (no token needed)."""
        return submit.options(max_upload_bytes, token_required)

    return api


JOB_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "properties": {
    "name": {"type": "string"}, "dataset": {"type": "string", "description": "a built-in dataset"},
    "data": {"type": "string", "format": "binary", "description": "a CSV or NPZ file (instead of dataset)"},
    "config": {"type": "string", "description": "a TOML or JSON config (docs/config.md); no run_dir, no data.path"},
    **{k: {"type": "string"} for k in ("encoding", "search", "objectives", "generations", "population", "epochs",
                                       "evaluations", "seconds", "seed", "final_epochs", "hyperparameters")}}}},
    "application/json": {"schema": {"type": "object", "description": "the same fields (no data file)"}}}}}


def _jobs(manager: JobManager, max_upload_bytes: int) -> APIRouter:
    api = APIRouter(prefix="/api/jobs", tags=["jobs"])

    @api.post("", status_code=201, openapi_extra=JOB_FORM)
    async def create(request: Request) -> dict[str, Any]:
        """Submit a search: a config (TOML/JSON text) or form fields, with a built-in dataset or an
        uploaded CSV/NPZ file. 422 names the field that is wrong; nothing is kept then."""
        if len(manager.store.all(("queued",))) >= MAX_QUEUED:
            raise HTTPException(429, f"too many jobs are waiting ({MAX_QUEUED}): try again when some have run")
        submission = await _submission(request)
        job_id = new_id()
        try:
            prepared = await asyncio.to_thread(submit.prepare, submission, manager.directory(job_id), max_upload_bytes)
        except submit.Refused as exc:
            raise HTTPException(exc.status, str(exc)) from None
        job = manager.store.add(prepared.name, prepared.about, job_id=job_id)
        manager.tick()
        return describe(manager.store.get(job.id) or job, manager)

    @api.get("")
    def jobs() -> dict[str, Any]:
        """Every job, newest first."""
        return {"jobs": [describe(job, manager) for job in reversed(manager.store.all())]}

    @api.get("/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        """A job's state: queued / running / stopping / stopped / finished / failed, generation,
        evaluations, best so far, ETA."""
        return describe(_job(manager, job_id), manager)

    return api


def _control(manager: JobManager) -> APIRouter:
    api = APIRouter(prefix="/api/jobs", tags=["jobs"])

    @api.post("/{job_id}/stop", status_code=202)
    async def stop(job_id: str) -> dict[str, Any]:
        """Stop after the current generation (checkpoint written); a queued job stops at once."""
        _job(manager, job_id)
        return describe(manager.stop(job_id), manager)  # type: ignore[arg-type]

    @api.post("/{job_id}/resume", status_code=202)
    async def resume(job_id: str) -> dict[str, Any]:
        """Queue a stopped or failed job again; it continues from its checkpoint."""
        job = _job(manager, job_id)
        if job.state not in ("stopped", "failed"):
            raise HTTPException(409, f"job {job_id} is {job.state}: only a stopped or failed job resumes")
        job = manager.resume(job_id)
        manager.tick()
        return describe(manager.store.get(job_id) or job, manager)  # type: ignore[arg-type]

    @api.delete("/{job_id}", status_code=204)
    async def delete(job_id: str) -> Response:
        """End the job if it runs and delete it with its files."""
        _job(manager, job_id)
        manager.delete(job_id)
        return Response(status_code=204)

    return api


def _streams(manager: JobManager) -> APIRouter:
    api = APIRouter(prefix="/api/jobs", tags=["progress"])

    @api.get("/{job_id}/events")
    async def events(job_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: ``state`` (the job, at every change), ``generation`` (a row of
        generations.csv), ``candidate`` (each evaluated candidate), ``end`` (the job stopped,
        finished or failed; the stream closes). Replays everything so far on connect."""
        _job(manager, job_id)
        return StreamingResponse(_stream(manager, job_id, request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.get("/{job_id}/candidates")
    def candidates(job_id: str) -> dict[str, Any]:
        """Every candidate evaluated so far (as the event stream sends them)."""
        _job(manager, job_id)
        return {"candidates": RunProgress(manager.run_dir(job_id)).poll()[0]}

    @api.get("/{job_id}/generations")
    def generations(job_id: str) -> dict[str, Any]:
        """The per-generation statistics so far."""
        _job(manager, job_id)
        return {"generations": RunProgress(manager.run_dir(job_id)).poll()[1]}

    return api


def _files(manager: JobManager) -> APIRouter:
    api = APIRouter(prefix="/api/jobs/{job_id}", tags=["files"])
    reports: dict[str, asyncio.Lock] = {}

    @api.get("/config")
    def config(job_id: str) -> JSONResponse:
        """The job's config, as the server wrote it."""
        _job(manager, job_id)
        return JSONResponse(json.loads((manager.directory(job_id) / CONFIG).read_text()))

    @api.get("/log", response_class=PlainTextResponse)
    def log(job_id: str) -> str:
        """The end of the job's output (its errors)."""
        _job(manager, job_id)
        return manager.log_tail(job_id, 65536)

    @api.get("/report", response_class=HTMLResponse)
    async def report(job_id: str) -> HTMLResponse:
        """The run's self-contained HTML report (made again when the run has moved on)."""
        _job(manager, job_id)
        run_dir = manager.run_dir(job_id)
        if not (run_dir / "generations.csv").is_file():
            raise HTTPException(404, f"job {job_id} has no report yet: it has not finished a generation")
        async with reports.setdefault(job_id, asyncio.Lock()):
            if _stale(run_dir / "report.html", run_dir / "generations.csv", run_dir / "summary.json"):
                await _evokit("report", str(run_dir), "-q")
        return HTMLResponse((run_dir / "report.html").read_text())

    @api.get("/pareto")
    def pareto(job_id: str) -> dict[str, Any]:
        """The Pareto front of the candidates so far (one entry per distinct network)."""
        _job(manager, job_id)
        return front(manager.run_dir(job_id))

    @api.get("/models/best.keras")
    def best(job_id: str) -> FileResponse:
        """The best model (written when the job finishes)."""
        _job(manager, job_id)
        path = manager.run_dir(job_id) / "best.keras"
        if not path.is_file():
            raise HTTPException(404, f"job {job_id} has no best model yet: it is written when the job finishes")
        return FileResponse(path, filename=f"{job_id}-best.keras", media_type="application/octet-stream")

    @api.get("/models/pareto.zip")
    async def pareto_models(job_id: str) -> FileResponse:
        """The Pareto front's models (.keras files, retrained as in the search) in one zip."""
        job = _job(manager, job_id)
        run_dir, out = manager.run_dir(job_id), manager.directory(job_id) / "pareto.zip"
        if job.state not in ENDED or not (run_dir / "summary.json").is_file():
            raise HTTPException(404, f"job {job_id} has no Pareto models yet: they are made once the job has ended")
        async with reports.setdefault(job_id, asyncio.Lock()):
            if _stale(out, run_dir / "summary.json"):
                await _evokit("export", str(run_dir), "--pareto", "--out", str(manager.directory(job_id) / "export"),
                              "-q")
                _zip(manager.directory(job_id) / "export", out)
        return FileResponse(out, filename=f"{job_id}-pareto.zip", media_type="application/zip")

    return api


def _page(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        try:
            path = importlib.resources.files("plotly") / "package_data" / "plotly.min.js"
        except ModuleNotFoundError:
            raise HTTPException(404, "plotly is not installed: pip install 'evokit[serve]'") from None
        return FileResponse(str(path), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


# --- helpers -------------------------------------------------------------------------------

def _job(manager: JobManager, job_id: str) -> Job:
    job = manager.store.get(job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise HTTPException(404, f"job_id={job_id[:40]!r} is invalid: no such job")
    return job


async def _submission(request: Request) -> submit.Submission:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError as exc:
            raise HTTPException(422, f"body is invalid: not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise HTTPException(422, "body is invalid: expected a JSON object of fields")
        config = body.get("config")
        fields = {k: (json.dumps(v) if k == "config" and isinstance(v, dict) else str(v))
                  for k, v in body.items() if v is not None}
        if isinstance(config, dict):
            fields["config"] = json.dumps(config)
        return submit.Submission(fields=fields)
    try:
        form = await request.form(max_files=1, max_fields=40)
    except _TooLarge:
        raise
    except Exception as exc:  # noqa: BLE001 - the multipart parser's errors vary
        raise HTTPException(422, f"body is invalid: expected multipart/form-data with at most one file (field "
                                 f"data) and 40 fields, or JSON ({exc})") from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    for key, value in form.items():
        if not isinstance(value, str) and key != "data":
            raise HTTPException(422, f"{key} is invalid: only the data field may be a file; send {key} as text "
                                     f"(curl: -F '{key}=<file', not -F '{key}=@file')")
    upload = form.get("data")
    file = None if upload is None or isinstance(upload, str) else submit.Upload(upload.filename or "", upload.file)
    return submit.Submission(fields=fields, upload=file)


async def _stream(manager: JobManager, job_id: str, request: Request) -> AsyncIterator[str]:
    """The events of one job; a client that reconnects with ``Last-Event-ID`` (the index of the
    last candidate it has) gets the candidates after it only."""
    progress, shown, beat = RunProgress(manager.run_dir(job_id)), None, time.monotonic()
    seen = request.headers.get("last-event-id", "")
    skip = int(seen) if seen.isdigit() else -1
    while True:
        job = manager.store.get(job_id)
        ended = job is None or job.state in ENDED
        candidates, rows = await asyncio.to_thread(progress.poll)
        for row in rows:
            yield _event("generation", row)
        for record in candidates:
            if record["index"] > skip:
                yield _event("candidate", record, record["index"])
        if job is None:
            yield _event("end", {"id": job_id, "state": "deleted"})
            return
        state = describe(job, manager)
        now = (state["state"], state["generation"], state["evaluations"], int(time.monotonic() / STATE_SECONDS))
        if now != shown:  # at every change, and every few seconds for the elapsed time and ETA
            shown = now
            yield _event("state", state)
        if ended:
            yield _event("end", state)
            return
        if time.monotonic() - beat > HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": heartbeat\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.5)


def _event(kind: str, data: Any, event_id: Any = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, default=str, allow_nan=False)}\n\n"


def front(run_dir: Path) -> dict[str, Any]:
    """The nondominated candidates of a run so far, one per network hash."""
    from evokit.pareto import nondominated

    progress = RunProgress(run_dir)
    records = [r for r in progress.poll()[0] if r.get("status") == "ok"]
    names, weights = progress.names, progress.weights
    distinct: dict[Any, dict[str, Any]] = {}
    for record in records:
        values = [(record.get("fitness") or {}).get(n) for n in names]
        if all(isinstance(v, (int, float)) for v in values):
            distinct.setdefault(record.get("hash") or record["index"], record)
    kept = list(distinct.values())
    values = [[r["fitness"][n] for n in names] for r in kept]
    members = [kept[i] for i in nondominated(values, weights)] if kept else []
    members.sort(key=lambda r: -r["fitness"][names[0]] * weights[0])
    return {"objectives": names, "weights": weights, "front": members}


def _stale(target: Path, *sources: Path) -> bool:
    if not target.is_file():
        return True
    newest = max((s.stat().st_mtime for s in sources if s.is_file()), default=0.0)
    return target.stat().st_mtime < newest


_TOOLS = asyncio.Semaphore(1)
"""One ``evokit report`` / ``evokit export`` at a time (an export retrains the Pareto front)."""


async def _evokit(*args: str) -> None:
    """Run ``evokit ARGS`` (report, export) to its end; like a job it dies with the service (the
    thread that starts it waits for it) and never sees the token."""
    async with _TOOLS:
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "evokit", *args], capture_output=True,
                                       text=True, timeout=3600, env=child_environment())
    if done.returncode != 0:
        raise HTTPException(500, f"evokit {args[0]} failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _zip(folder: Path, out: Path) -> None:
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for file in sorted(folder.glob("*")):
            if file.is_file():
                z.write(file, file.name)
    tmp.replace(out)
