"""Reports in a real outbox (captured through the real pipeline) for the dashboard tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import outbox as _outbox

# Planted in every captured report: none of it may reach a screen or the server.
SECRET_TOKEN = "sk-live-PLANTED0123456789abcdef"
SECRET_URL = "https://carol:PLANTEDpass@private.example.org/orders?id=991"


#: One bug per report (a bug is one report, however often it happens): the first is a ValueError.
BUGS = (ValueError, LookupError, ArithmeticError)


def crash(n: int = 0) -> None:
    raise BUGS[n](f"Failed on navigating ACS-GOTO: {SECRET_URL} token={SECRET_TOKEN} #{n}")


def capture_reports(count: int) -> list[str]:
    """Capture ``count`` (at most 3) distinct bugs with consent given; their outbox ids, newest
    first."""
    telemetry.enable()
    for n in range(count):
        try:
            crash(n)
        except BUGS as exc:
            telemetry.capture_exception(exc)
        assert telemetry.flush(10)
    return [entry.event_id for entry in _outbox.LocalOutbox().entries()]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch):
    """Times on screen in UTC, so that snapshots read the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def config_file(home: Path) -> Path:
    return home / ".crawl4ai" / "config.json"


FIXED_TIME = 1_780_000_000.0  # 2026-05-28 20:26 UTC
DETAILS = {_outbox.SENT: "", _outbox.PENDING: "not delivered; will retry",
           _outbox.LOCAL: "no destination: kept on this machine"}


def plant_fixed_reports(home: Path) -> list[str]:
    """Three outbox reports with fixed ids, times and bytes, for snapshots that must read the
    same on every machine and after any change of the scrubber (``fixed_report.json`` is the
    sample crash's report as the scrubber once made it). Written through the outbox itself."""
    import json

    fixed = json.loads((Path(__file__).with_name("fixed_report.json")).read_text())
    box = _outbox.LocalOutbox()
    ids = []
    for n, state in enumerate((_outbox.SENT, _outbox.PENDING, _outbox.LOCAL)):
        event_id = f"{n + 1}" * 8 + fixed["report"]["event_id"][8:]
        payload = json.dumps({**fixed["report"], "event_id": event_id}, separators=(",", ":"))
        box.add(event_id, payload.encode(), state=state, provider="sentry",
                exception_type="RuntimeError", removed=fixed["removed"])
        meta = home / ".crawl4ai" / "telemetry" / "outbox" / f"{event_id}.meta.json"
        record = json.loads(meta.read_text())
        when = FIXED_TIME + 3600 * n
        record.update(created=when, updated=when, claimed_by=0, claimed_at=0.0,
                      history=[[when, _outbox.PENDING, "kept in the outbox"],
                               [when + 60, state, DETAILS[state]]])
        meta.write_text(json.dumps(record))
        ids.append(event_id)
    return ids
