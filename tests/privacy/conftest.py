"""The privacy suite's fixture: telemetry switched on in the test's home, reporting through the
real pipeline and the real sentry-sdk transport to the local Sentry-protocol server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawl4ai import telemetry
from tests.privacy.canary import outbox_blobs, server_blobs
from tests.support.sentry_server import SentryServer


@dataclass
class Sent:
    events: list[dict[str, Any]]
    blobs: dict[str, bytes]

    def event_with(self, exception_type: str) -> dict[str, Any]:
        for event in self.events:
            if any(v.get("type") == exception_type for v in event["exception"]["values"]):
                return event
        raise AssertionError(f"no report of {exception_type}: {[self.types(e) for e in self.events]}")

    @staticmethod
    def types(event: dict[str, Any]) -> list[str]:
        return [v.get("type") for v in event["exception"]["values"]]


@dataclass
class Reporting:
    server: SentryServer
    home: Path

    def collect(self, expected: int) -> Sent:
        """Wait for ``expected`` reports; they must have arrived, in the server and the outbox."""
        assert telemetry.flush(15), "reports still pending"
        events = self.server.wait_for_events(expected, timeout=15)
        assert len(events) == expected, f"expected {expected} reports, the server got {len(events)}"
        blobs = {**server_blobs(self.server), **outbox_blobs(self.home)}
        reports = [b for name, b in blobs.items() if name.startswith("outbox:") and name.endswith(".json") and not name.endswith(".meta.json")]
        assert len(reports) == expected, f"expected {expected} reports in the outbox, found {len(reports)}"
        for report in reports:
            json.loads(report)
        return Sent(events, blobs)


@pytest.fixture
def reporting(home: Path, sentry_server: SentryServer, monkeypatch: pytest.MonkeyPatch) -> Reporting:
    """Consent given, a library environment, reports going to the local Sentry server."""
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    return Reporting(sentry_server, home)
