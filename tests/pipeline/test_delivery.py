"""A report goes through the real sentry-sdk transport to a real local Sentry-protocol server."""

from __future__ import annotations

import json

from crawl4ai import telemetry
from crawl4ai.telemetry import pipeline as pipeline_mod


def crash() -> None:
    raise ValueError("parse failed for https://secret.example.com/a?token=zzz")


def test_enabled_report_reaches_server_scrubbed(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    try:
        crash()
    except ValueError as exc:
        telemetry.capture_exception(exc, {"operation": "parse", "url": "https://secret.example.com"})
    assert telemetry.flush(10)
    events = sentry_server.wait_for_events(1)
    assert len(events) == 1
    raw = b"".join(sentry_server.raw_bodies())
    assert b"secret.example.com" not in raw and b"zzz" not in raw
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["contexts"]["telemetry"] == {"operation": "parse"}
    outbox = pipeline_mod.get_pipeline().outbox
    [entry] = outbox.entries()
    assert entry.state == "sent"
    assert json.loads(outbox.read(entry.event_id))["event_id"] == event["event_id"]
