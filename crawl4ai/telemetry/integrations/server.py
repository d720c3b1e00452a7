"""Crawl4AI's Docker/API server: one init call and an ASGI middleware.

    from fastapi import FastAPI
    from crawl4ai.telemetry.integrations.server import init_server

    app = FastAPI()
    init_server(app)    # this process is the API server; unhandled handler errors are reported

:func:`init_server` marks the process as Crawl4AI's API server (where telemetry is on unless
someone says no: ``CRAWL4AI_TELEMETRY=0`` or a stored ``denied``), activates the crawl capture
points, and adds :class:`TelemetryMiddleware`. The image can equally set
``CRAWL4AI_API_SERVER=true`` or ``CRAWL4AI_DOCKER=true``; a container without those markers is
not our server and keeps the library rules (nothing is sent until a person says yes).

The middleware reports an exception escaping a request handler and re-raises it unchanged.
Nothing from the request ever goes into a report: not the path or query, headers, cookies, body
or client address — the middleware never reads the ASGI scope or the messages — and the
exception's own message is redacted like every other report.
"""

from __future__ import annotations

from typing import Any

from .._debug import internal_error
from ..chain import set_traceback, traceback_of
from ..consent import env_kill_switch

ASGIApp = Any


def _report(exc: BaseException) -> None:
    """Report an unhandled request-handler error unless the site/network or the machine failed.
    The handlers are the server's own code, so "user code" is no reason to stay silent here."""
    if not isinstance(exc, Exception) or env_kill_switch():
        return
    try:
        from ..pipeline import get_pipeline
        from .crawl4ai import ENVIRONMENT, SITE_FAILURE, classify

        verdict, _original = classify(exc)
        if verdict in (SITE_FAILURE, ENVIRONMENT):
            return
        get_pipeline().capture(exc, {"operation": "request", "component": "asgi"},
                               mechanism="asgi", handled=False)
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
    FastAPI ``app``, also adds :class:`TelemetryMiddleware`. Never raises; False, doing nothing,
    while telemetry is off by env."""
    if env_kill_switch():
        return False
    try:
        from ..environment import mark_api_server
        from .crawl4ai import install

        mark_api_server()
        install(import_crawl4ai=False)
        if app is not None:
            app.add_middleware(TelemetryMiddleware)
        return True
    except Exception:
        internal_error("init_server")
        return False
