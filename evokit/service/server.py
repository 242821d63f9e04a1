"""``serve()``: the job service under uvicorn, on loopback unless a token guards it."""
from __future__ import annotations

import ipaddress
import logging
import os
import re
import sys
from pathlib import Path

from evokit.errors import ConfigError
from evokit.service.jobs import TOKEN_VARIABLE

log = logging.getLogger("evokit.service")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(host: str, port: int, token: str | None, max_jobs: int, max_upload_mb: float) -> str | None:
    """The token to use (the argument, else ``$EVOKIT_TOKEN``); ConfigError naming the option that is
    wrong, or the missing token when binding to anything but loopback."""
    token = token or os.environ.get(TOKEN_VARIABLE) or None
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port={port!r} is invalid: expected 0 to 65535")
    if not isinstance(max_jobs, int) or max_jobs < 1:
        raise ConfigError(f"--jobs={max_jobs!r} is invalid: expected a positive integer")
    if not (isinstance(max_upload_mb, (int, float)) and 0 < max_upload_mb <= 1e6):
        raise ConfigError(f"--max-upload-mb={max_upload_mb!r} is invalid: expected a positive number of megabytes "
                          "(at most 1,000,000)")
    if token is not None and len(token) < 16:
        raise ConfigError("--token is invalid: use at least 16 characters (e.g. openssl rand -hex 16)")
    if not is_loopback(host) and token is None:
        raise ConfigError(f"--host={host!r} is not loopback: other machines could reach the service, so a token is "
                          f"required (--token or ${TOKEN_VARIABLE}); or bind to 127.0.0.1 behind a reverse proxy")
    return token


def serve(host: str = "127.0.0.1", port: int = 8000, root: str | Path = "evokit-service", token: str | None = None,
          max_jobs: int = 1, max_upload_mb: float = 100.0, quiet: bool = False) -> int:
    """Run the service until it is stopped (Ctrl-C or SIGTERM); returns the exit code."""
    try:
        import uvicorn

        from evokit.service.app import create_app
    except ImportError as exc:
        raise ConfigError(f"evokit serve needs the serve extra: pip install 'evokit[serve]' ({exc})") from None
    token = check(host, port, token, max_jobs, max_upload_mb)
    app = create_app(root, token=token, max_jobs=max_jobs, max_upload_bytes=int(max_upload_mb * 2**20))
    shown = f"[{host}]" if ":" in host else host
    print(f"evokit serve: http://{shown}:{port}/  (API http://{shown}:{port}/api/docs; jobs in {Path(root).resolve()}"
          f"{'; token required' if token else ''})", file=sys.stderr, flush=True)
    logging.getLogger("uvicorn.access").addFilter(RedactToken())
    # an open event stream must not hold the service up: jobs end with it, and resume when it starts again
    uvicorn.run(app, host=host, port=port, log_level="warning" if quiet else "info", access_log=not quiet,
                timeout_graceful_shutdown=3)
    return 0


class RedactToken(logging.Filter):
    """Blanks ``token=...`` in uvicorn's access log lines (links and event streams carry it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(re.sub(r"(token=)[^&\s]*", r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        return True
