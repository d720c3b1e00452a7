"""Delivery state is true: failed reports wait in the outbox and are retried once, later."""

from __future__ import annotations

import json
import os
import stat

from crawl4ai import telemetry
from crawl4ai.telemetry.outbox import LocalOutbox
from crawl4ai.telemetry.pipeline import Pipeline, get_pipeline, set_pipeline
from tests.conftest import run_python
from tests.support.sentry_server import SentryServer, parse_envelope

# A run of a program that meets one error: CRASH in the first run, OTHER in later runs.
RUN = r"""
from crawl4ai import telemetry
try:
    raise ERROR
except Exception as e:
    telemetry.capture_exception(e)
print(telemetry.flush(15))
"""
CRASH = RUN.replace("ERROR", 'LookupError("lost")')
QUIET = RUN.replace("ERROR", 'KeyError("other")')


def capture_disk_full() -> None:
    try:
        raise OSError("disk full")
    except OSError as exc:
        telemetry.capture_exception(exc)


def test_failed_delivery_is_retried_on_a_later_run_and_never_duplicated(home, monkeypatch):
    env = {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library"}
    with SentryServer(mode="error") as down:
        monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", down.dsn)
        telemetry.enable()  # bound to this host; the later server is on the same host
        r = run_python(CRASH, home, CRAWL4AI_SENTRY_DSN=down.dsn, **env)
        assert r.returncode == 0, r.stderr
        assert len(down.events()) == 1  # it was tried, and refused with a 500
    [entry] = LocalOutbox().entries()
    assert entry.state == "pending" and entry.attempts == 1
    lost_id = entry.event_id

    with SentryServer() as up:
        for _ in range(2):  # two later runs: the old report goes out once, in the first
            r = run_python(QUIET, home, CRAWL4AI_SENTRY_DSN=up.dsn, **env)
            assert r.returncode == 0, r.stderr
        ids = [e["event_id"] for e in up.wait_for_events(2)]
    assert ids.count(lost_id) == 1
    # The second later run's KeyError is the bug the first one sent within the repeat window:
    # counted into that report's entry, not sent again.
    assert len(ids) == 2
    entries = LocalOutbox().entries()
    assert {e.state for e in entries} == {"sent"}
    assert sorted((e.exception_type, e.carried) for e in entries) == [("KeyError", 1),
                                                                      ("LookupError", 0)]


def test_outbox_keeps_the_exact_bytes_that_were_sent(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    capture_disk_full()
    assert telemetry.flush(10)
    [raw] = sentry_server.raw_bodies()
    [(_, payload)] = [(h, p) for h, p in parse_envelope(raw)[1] if h.get("type") == "event"]
    [entry] = LocalOutbox().entries()
    assert LocalOutbox().read(entry.event_id) == payload
    outbox_dir = LocalOutbox().directory
    for name in os.listdir(outbox_dir):
        assert stat.S_IMODE(os.stat(os.path.join(outbox_dir, name)).st_mode) == 0o600, name


def test_without_a_dsn_reports_stay_local(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    capture_disk_full()
    assert telemetry.flush(10)
    [entry] = LocalOutbox().entries()
    assert entry.state == "local"
    assert json.loads(LocalOutbox().read(entry.event_id))["exception"]["values"][-1]["type"] == "OSError"
    assert sentry_server.requests == []
    assert telemetry.status()["provider"] == "local"


NO_SENTRY = r"""
import sys
sys.modules["sentry_sdk"] = None  # as if sentry-sdk were not installed
from crawl4ai import telemetry
telemetry.enable()
try:
    raise ValueError("x")
except ValueError as e:
    telemetry.capture_exception(e)
print(telemetry.flush(10), telemetry.status()["provider"], telemetry.status()["outbox"]["counts"]["local"])
"""


def test_without_sentry_sdk_everything_degrades_to_local(home, sentry_server):
    r = run_python(NO_SENTRY, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn,
                   CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "local", "1"]
    assert r.stderr == ""
    assert sentry_server.requests == []


def test_disable_withholds_reports_still_waiting(home, monkeypatch):
    with SentryServer(mode="error") as down:
        monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", down.dsn)
        telemetry.enable()
        r = run_python(CRASH, home, CRAWL4AI_SENTRY_DSN=down.dsn, CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
        assert r.returncode == 0, r.stderr
    telemetry.disable()
    assert [e.state for e in LocalOutbox().entries()] == ["withheld"]
    with SentryServer() as up:
        telemetry.enable()
        r = run_python(QUIET, home, CRAWL4AI_SENTRY_DSN=up.dsn, CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
        assert r.returncode == 0, r.stderr
        assert len(up.wait_for_events(1)) == 1  # only the new one


def test_a_kept_report_can_be_sent_again_as_it_is(home, monkeypatch):
    """The dashboard's "re-send": the same bytes and event id, on the worker, recorded."""
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    with SentryServer(mode="error") as down:
        monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", down.dsn)
        telemetry.enable()
        capture_disk_full()
        assert telemetry.flush(10)
    [entry] = LocalOutbox().entries()
    kept = LocalOutbox().read(entry.event_id)
    assert entry.state == "pending"
    with SentryServer() as up:
        monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", up.dsn)
        set_pipeline(Pipeline())  # a new provider, pointed at the server that is up
        assert get_pipeline().resend(entry.event_id)
        assert telemetry.flush(10)
        [event] = up.wait_for_events(1)
    assert event["event_id"] == entry.event_id
    assert LocalOutbox().get(entry.event_id).state == "sent"
    assert json.loads(LocalOutbox().read(entry.event_id)) == json.loads(kept)
    assert get_pipeline().resend("0" * 32) is False
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "0")
    assert get_pipeline().resend(entry.event_id) is False
