"""The provider interface: where a scrubbed report goes.

A provider receives reports that already passed :func:`crawl4ai.telemetry.scrub.scrub_event`;
it never sees an exception object or anything unscrubbed. The interface is one method,
:meth:`TelemetryProvider.send_event`. :meth:`TelemetryProvider.send_exception` (the documented
entry point) builds and scrubs a report through the same code the pipeline uses, then sends it.

Third parties add a provider without touching this package, through the entry-point group
``crawl4ai.telemetry.providers`` (see :mod:`crawl4ai.telemetry.providers`).
"""

from __future__ import annotations

from typing import Any


class TelemetryProvider:
    """Deliver scrubbed reports somewhere. Subclass and implement :meth:`send_event`."""

    #: Short name shown by ``status`` and used to pick the provider.
    name: str = "custom"

    def send_event(self, event: dict[str, Any]) -> bool:
        """Deliver one scrubbed report; True once the backend accepted it.

        Called on telemetry's worker thread, never on the caller's. May block for a bounded
        time. Returning False (or raising) leaves the report in the local outbox for a retry.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement send_event()")

    def send_exception(self, exc: BaseException, context: dict[str, Any] | None = None) -> bool:
        """Build a scrubbed report of ``exc`` (no consent check) and :meth:`send_event` it."""
        from .report import build_report

        return bool(self.send_event(build_report(exc, context).event))

    def destination(self) -> str:
        """Where reports go, for ``status`` (a host name, never a key)."""
        return self.name

    def flush(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for reports in flight."""

    def close(self, timeout: float) -> None:
        """Release resources; wait at most ``timeout`` seconds."""
        self.flush(timeout)
