"""The local provider: reports stay in the outbox on this machine, nothing leaves it.

Used when no DSN is configured or sentry-sdk is not installed; the user can read every report
(``crwl telemetry status``, the dashboard) and decide later.
"""

from __future__ import annotations

from typing import Any

from .base import TelemetryProvider
from .destinations import configured_dsn, sentry_available


class LocalProvider(TelemetryProvider):
    name = "local"
    keeps_locally = True  # the outbox entry is the delivery

    def send_event(self, event: dict[str, Any]) -> bool:
        return True

    def destination(self) -> str:
        if configured_dsn() and not sentry_available():
            return ("local outbox only (sentry-sdk is not installed: "
                    "pip install crawl4ai-telemetry[sentry])")
        return "local outbox only (no DSN configured)"

    def problem(self) -> str | None:
        if configured_dsn() and not sentry_available():
            return ("CRAWL4AI_SENTRY_DSN is set but sentry-sdk is not installed (pip install "
                    "'crawl4ai-telemetry[sentry]'): reports are kept locally")
        return None
