"""The Sentry provider: a private ``sentry_sdk.Client``, locked down, never the host's.

Our captures go through our own client and no scope at all, so a host application's Sentry
client, its scope data, its events and its ``before_send`` are never touched, and we never
receive the host's events. sentry-sdk is imported on telemetry's worker thread when the first
report is really about to be sent, never at import.

Collection is minimised at the source (no integrations, no PII, no locals, no source context,
no breadcrumbs, empty server name) and :func:`scrub_event` runs again as ``before_send``, so what
Sentry serialises is exactly the scrubbed report. A transport subclass tells the pipeline whether
the server accepted each report, which keeps the outbox's delivery state true.

:func:`install_global_integrations` is for processes we own (``crwl``, the API server): Sentry's
Excepthook, Threading and Asyncio integrations, whose events are routed into our pipeline (gate,
dedupe, outbox) instead of being sent by the global client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .. import settings
from .._fork import renew_after_fork
from .._logs import our_work, ours_for_good
from ..chain import set_traceback
from ..raw_event import crawl4ai_version
from ..scrub import scrub_event
from .base import DeliveryResult, TelemetryProvider
from .destinations import configured_dsn, sentry_available, sentry_destination_id

#: Options that keep sentry-sdk from collecting anything beyond the event we hand it. None that
#: sentry-sdk deprecates: its DeprecationWarning reached hosts showing warnings (``-X dev``) and
#: was an exception where warnings are errors (``-W error``), so no report was ever delivered.
#: (``send_default_pii`` is off by default; the event is ours and scrubbed anyway.)
LOCKED_DOWN_OPTIONS: dict[str, Any] = {
    "default_integrations": False,
    "auto_enabling_integrations": False,
    "include_local_variables": False,
    "include_source_context": False,
    "max_breadcrumbs": 0,
    "server_name": "",
    "attach_stacktrace": False,
    "send_client_reports": False,
    "enable_backpressure_handling": False,
    "max_request_body_size": "never",
    "spotlight": False,
    "debug": False,
    "sample_rate": 1.0,
}


def dsn_host(dsn: str) -> str:
    """The host a DSN points at, for display: never the key."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "?"


class SentryProvider(TelemetryProvider):
    name = "sentry"

    def __init__(self, dsn: str | None = None, *,
                 delivery_timeout: float = settings.DELIVERY_TIMEOUT) -> None:
        self.dsn = dsn if dsn is not None else configured_dsn()
        # Without a DSN (or sentry-sdk) nothing can be delivered: the outbox entry is all there
        # is, kept locally, never "pending" forever.
        self.keeps_locally = not (self.dsn and sentry_available())
        self.delivery_timeout = delivery_timeout
        self._client: Any = None
        self._lock = threading.Lock()
        renew_after_fork(self, "_lock")
        self._waiters: dict[str, list[Any]] = {}

    def destination(self) -> str:
        return f"Sentry at {dsn_host(self.dsn)}" if self.dsn else "local outbox only (no DSN configured)"

    def destination_id(self) -> str:
        return sentry_destination_id(self.dsn)

    def problem(self) -> str | None:
        if not self.dsn:
            return ("the sentry provider has no DSN (set CRAWL4AI_SENTRY_DSN): reports are kept "
                    "locally")
        return None

    # The transport calls this from sentry's worker thread.
    def _on_result(self, envelope: Any, ok: bool, detail: str) -> None:
        event_id = (getattr(envelope, "headers", None) or {}).get("event_id")
        with self._lock:
            waiter = self._waiters.get(event_id) if event_id else None
        if waiter is None or waiter[0].is_set():
            return
        payload = None
        for item in getattr(envelope, "items", ()):
            if getattr(item, "type", None) == "event":
                payload = item.get_bytes()
        waiter[1] = (ok, detail, payload)
        waiter[0].set()

    def _get_client(self) -> Any:
        if self._client is None:
            import sentry_sdk

            with our_work():  # its "Setting up integrations" lines are not the host's Sentry's
                self._client = self._new_client(sentry_sdk)
        return self._client

    def _new_client(self, sentry_sdk: Any) -> Any:
        return sentry_sdk.Client(
            dsn=self.dsn,
            release=f"crawl4ai@{crawl4ai_version()}",
            integrations=[],
            before_send=lambda event, hint: scrub_event(event),
            transport=_reporting_transport(self._on_result),
            **LOCKED_DOWN_OPTIONS,
        )

    def prepare(self) -> None:
        self._get_client()  # imports sentry_sdk and its transport

    def send_event(self, event: dict[str, Any]) -> bool:
        return self.deliver(event).accepted

    def deliver(self, event: dict[str, Any]) -> DeliveryResult:
        """Send through our private client; the result carries the exact bytes that went out."""
        if not self.dsn:
            return DeliveryResult(False, "no DSN configured")
        client = self._get_client()
        event_id = event.get("event_id")
        waiter: list[Any] = [threading.Event(), None]
        with self._lock:
            self._waiters[event_id] = waiter
        try:
            # scope=None: no scope, ours or the host's, adds anything to the report.
            if client.capture_event(dict(event), scope=None) is None:
                return DeliveryResult(False, "dropped by the client")
            if not waiter[0].wait(self.delivery_timeout):
                return DeliveryResult(False, "no answer in time")
            ok, detail, payload = waiter[1]
            return DeliveryResult(bool(ok), detail, payload if ok else None)
        finally:
            with self._lock:
                self._waiters.pop(event_id, None)

    def flush(self, timeout: float) -> None:
        if self._client is not None:
            with our_work():
                self._client.flush(timeout=timeout, callback=lambda *a: None)

    def close(self, timeout: float) -> None:
        if self._client is not None:
            with our_work():
                self._client.close(timeout=timeout, callback=lambda *a: None)
            self._client = None


def _reporting_transport(on_result: Callable[[Any, bool, str], None]) -> type:
    """sentry-sdk's own HTTP transport, telling us whether the server accepted each envelope."""
    from sentry_sdk.transport import HttpTransport

    class ReportingTransport(HttpTransport):
        def _handle_response(self, response: Any, envelope: Any) -> None:
            super()._handle_response(response=response, envelope=envelope)
            if envelope is not None:
                on_result(envelope, 200 <= response.status < 300, f"HTTP {response.status}")

        def _send_envelope(self, envelope: Any) -> None:
            ours_for_good()  # our client's sender: its "background worker …" lines too
            try:
                with our_work():  # urllib3's "Retrying … /api/1/envelope/" is not the host's
                    super()._send_envelope(envelope)
            finally:
                # Rate-limited, refused or network error: only the first result counts.
                on_result(envelope, False, "not delivered")

    return ReportingTransport


def install_global_integrations(
    capture: Callable[[BaseException, str], None],
) -> bool:
    """In a process we own, install Sentry's Excepthook, Threading and Asyncio integrations.

    Their events are handed to ``capture(exc, mechanism)`` (our pipeline) and never sent by the
    global client. Returns False, changing nothing, when the host already runs Sentry.
    """
    import sentry_sdk
    from sentry_sdk.integrations.asyncio import AsyncioIntegration
    from sentry_sdk.integrations.excepthook import ExcepthookIntegration
    from sentry_sdk.integrations.threading import ThreadingIntegration

    if sentry_sdk.get_client().is_active():
        return False

    def route(event: dict[str, Any], hint: dict[str, Any]) -> None:
        exc_info = hint.get("exc_info") if isinstance(hint, dict) else None
        if exc_info and isinstance(exc_info[1], BaseException):
            mechanism = "generic"
            try:
                mechanism = event["exception"]["values"][-1]["mechanism"]["type"]
            except (KeyError, IndexError, TypeError):
                pass
            capture(exc_info[1], mechanism)
        return None  # the global client itself never sends

    options = dict(LOCKED_DOWN_OPTIONS)
    sentry_sdk.init(
        dsn=None,
        before_send=route,
        integrations=[
            ExcepthookIntegration(always_run=True),
            ThreadingIntegration(propagate_scope=False),
            AsyncioIntegration(),
        ],
        **options,
    )
    _keep_thread_tracebacks_plain()
    return True


def _keep_thread_tracebacks_plain() -> None:
    """Sentry's threading integration wraps ``Thread.run``, so an uncaught error's traceback would
    show four sentry_sdk frames plain Python never prints. The host's output must stay byte for
    byte its own: the threading excepthook is handed the traceback without them."""
    previous = threading.excepthook

    def excepthook(args: Any) -> None:
        exc, original = args.exc_value, args.exc_traceback
        tb = _without_sentry_frames(original)
        # Python prints the exception's own traceback: show it the plain one while printing.
        if isinstance(exc, BaseException):
            set_traceback(exc, tb)
        try:
            previous(threading.ExceptHookArgs([args.exc_type, exc, tb, args.thread]))
        finally:
            if isinstance(exc, BaseException):
                set_traceback(exc, original)

    threading.excepthook = excepthook


def _without_sentry_frames(tb: TracebackType | None) -> TracebackType | None:
    kept = []
    while tb is not None:
        if not str(tb.tb_frame.f_globals.get("__name__") or "").startswith("sentry_sdk"):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for entry in reversed(kept):  # new objects: the exception's own traceback stays untouched
        rebuilt = TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def enable_asyncio_in_running_loop() -> None:
    """Sentry's AsyncioIntegration patches only the loop running when it is set up; a process
    that starts its loops later (``crwl``: ``asyncio.run`` per command) calls this inside each
    loop, after :func:`install_global_integrations` returned True."""
    from sentry_sdk.integrations.asyncio import enable_asyncio_integration

    enable_asyncio_integration()
