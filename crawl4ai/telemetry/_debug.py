"""Telemetry's own failures: swallowed, and printed only when asked for.

Telemetry must never raise into the host. Every guarded block calls :func:`internal_error`, which
stays silent unless ``CRAWL4AI_TELEMETRY_DEBUG`` is set, so a maintainer can still see why a
report did not go out.
"""

from __future__ import annotations

import sys

from .settings import debug_enabled


def internal_error(where: str) -> None:
    """Report the exception being handled, only in debug mode. Never raises."""
    if not debug_enabled():
        return
    try:
        import traceback

        sys.stderr.write(f"[crawl4ai.telemetry] internal error in {where}:\n")
        traceback.print_exc(file=sys.stderr)
    except Exception:
        pass


def show_report(event_id: str, state: str, payload: bytes) -> None:
    """In debug mode, print a report as it was just kept (redacted, the exact stored bytes), like
    ``NEXT_TELEMETRY_DEBUG``: a person sees every report the moment it is captured."""
    if not debug_enabled():
        return
    try:
        from ._text import printable

        text = printable(payload.decode("utf-8", "replace"), multiline=True)
        sys.stderr.write(f"[crawl4ai.telemetry] report {event_id} ({state}):\n{text}\n")
    except Exception:
        pass

