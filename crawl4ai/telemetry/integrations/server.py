"""Crawl4AI's API server: recognised as it ships, set up with no code change.

**Crawl4AI's own server** (``deploy/docker`` of the crawl4ai repository; the Docker image copies
it into ``/app`` and starts it as ``gunicorn ... --worker-class uvicorn.workers.UvicornWorker
server:app``) needs nothing but ``pip install crawl4ai-telemetry``: the post-import hook
(``_hook.py``) calls :func:`on_import` when a module named ``server`` has run. If it is Crawl4AI's
server application (its ``app`` a Starlette/FastAPI application, its folder the server's:
:func:`..environment.is_crawl4ai_server_folder`), then

- the folder's files count as Crawl4AI's code (:func:`..ownership.adopt_folder`), so a report
  names the handler that failed (``deploy/docker/server.py``, ``crawl``) instead of
  ``<user code>``, and what its ``requirements.txt`` names (FastAPI, Starlette, …) counts as
  known libraries;
- :func:`init_server` marks the process as the API server (reports on unless someone says no)
  and adds :class:`TelemetryMiddleware` to the app.

**Your own FastAPI server**::

    from crawl4ai.telemetry.integrations.server import init_server

    app = FastAPI()
    init_server(app)

What is reported: an exception escaping a request handler that the classifier
(:mod:`.crawl4ai.classification`) calls a crawl4ai bug, as level ``error`` (the server answers
the request with a 500 and goes on serving). Not reported: what the client sent (a config
``CrawlerRunConfig.load`` cannot read, an unknown ``type`` or enum value, a selector or pattern
that does not parse, anything the server rejects with a ``raise``), the site or network failing,
the machine failing, and your own handlers' code. A client cannot make the server report at
will: the pipeline reports a bug once per window and counts its later occurrences into it.

Nothing from the request ever goes into a report: the middleware never reads the ASGI scope or
the messages (no path, query, headers, cookies, body or client address), and the exception's
message is redacted like every other report.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .._debug import internal_error
from ..chain import set_traceback, traceback_of
from ..consent import env_kill_switch

ASGIApp = Any

#: How the server application's files are shown in reports: their place in the crawl4ai
#: repository (the image copies ``deploy/docker/*`` into ``/app``).
SERVER_FILES_SHOWN_AS = "deploy/docker"


def _report(exc: BaseException) -> None:
    """Report an exception that escaped a request handler if it is a crawl4ai bug."""
    if not isinstance(exc, Exception) or env_kill_switch():
        return
    try:
        from ..pipeline import get_pipeline
        from .crawl4ai.classification import BUG, verdict_of

        verdict, original = verdict_of(exc)
        if verdict != BUG:
            return
        get_pipeline().capture(original, {"operation": "request", "component": "asgi"},
                               mechanism="asgi", handled=True)
    except Exception:
        internal_error("server middleware")


class TelemetryMiddleware:
    """Pure ASGI middleware: reports what escapes the app, then re-raises it unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:
            _report(exc)
            tb = traceback_of(exc)
            if tb is not None and tb.tb_frame.f_code is TelemetryMiddleware.__call__.__code__:
                set_traceback(exc, tb.tb_next)  # the traceback the server logs stays its own
            raise


def init_server(app: Any = None) -> bool:
    """Call once in a server process (at start-up, before the app serves). With a Starlette or
    FastAPI ``app``, also adds :class:`TelemetryMiddleware` (once). Never raises; False, doing
    nothing, while telemetry is off by env."""
    if env_kill_switch():
        return False
    try:
        from ..environment import mark_api_server
        from .crawl4ai import install

        mark_api_server()
        install(import_crawl4ai=False)
        if app is not None and not any(
                getattr(m, "cls", None) is TelemetryMiddleware for m in app.user_middleware):
            app.add_middleware(TelemetryMiddleware)
        return True
    except Exception:
        internal_error("init_server")
        return False


def on_import(module: Any) -> None:
    """The post-import hook's call after a top-level module ``server`` has run: set up Crawl4AI's
    API server if that is what it is; anybody else's ``server`` module is left alone."""
    try:
        from ..environment import is_crawl4ai_server_folder
        from ..ownership import adopt_folder, prepare, stored

        app = stored(module, "app")
        filename = stored(module, "__file__")
        if not _is_starlette_app(app) or not isinstance(filename, str):
            return
        folder = os.path.dirname(os.path.abspath(filename))
        if not is_crawl4ai_server_folder(folder):
            return
        adopt_folder(folder, SERVER_FILES_SHOWN_AS, _requirements(folder))
        if init_server(app):
            # While the server starts (~0.3 s beside a browser's start), not in the event loop at
            # the first request that fails: who owns which code.
            prepare()
    except Exception:
        internal_error("API server set-up")


def _requirements(folder: str) -> tuple[str, ...]:
    """The distribution names the server's ``requirements.txt`` lists (the image installs them:
    ``RUN pip install --no-cache-dir -r requirements.txt``)."""
    import re

    try:
        with open(os.path.join(folder, "requirements.txt"), encoding="utf-8") as f:
            lines = f.read(65536).splitlines()
    except (OSError, ValueError):
        return ()
    names = (re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0]) for line in lines)
    return tuple(match.group(1) for match in names if match)


def _is_starlette_app(app: Any) -> bool:
    # FastAPI's app is a Starlette application; starlette is loaded already if the module made one.
    applications = sys.modules.get("starlette.applications")
    starlette = getattr(applications, "Starlette", None)
    return isinstance(starlette, type) and isinstance(app, starlette)
