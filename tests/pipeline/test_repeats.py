"""One report per bug, with its count: repeats are counted into the report of their bug (while it
waits in the outbox) or carried by the bug's next report, never sent as reports of their own; a
bug another process on this machine sent within the repeat window is counted, not sent again.
Real sentry-sdk transport to the suite's real Sentry-protocol server; real child processes."""

from __future__ import annotations

import json
import threading
import time

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import outbox as outbox_mod
from crawl4ai.telemetry.pipeline import get_pipeline
from tests.conftest import run_python


def same_bug() -> None:
    raise ValueError("the same bug")


def hit(times: int, bug=same_bug) -> None:
    for _ in range(times):
        try:
            bug()
        except ValueError as exc:
            telemetry.capture_exception(exc)


def occurrences(event: dict) -> int:
    return event["contexts"].get("telemetry", {}).get("occurrences", 1)


@pytest.fixture
def sending(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    return sentry_server


def test_a_bug_hit_fifty_times_is_one_report_that_says_fifty(sending):
    hit(50)
    assert telemetry.flush(10)
    [event] = sending.wait_for_events(1)
    assert occurrences(event) == 50
    box = get_pipeline().outbox
    [entry] = box.entries()
    assert (entry.state, entry.occurrences, entry.carried) == ("sent", 50, 0)
    # The outbox keeps the exact bytes that went out, count included.
    assert json.loads(box.read(entry.event_id)) == event
    counts = telemetry.counters()["this_run"]["ValueError"]
    assert (counts["seen"], counts["reported"], counts["repeated"]) == (50, 1, 49)


def test_a_new_report_waits_for_its_repeats_then_leaves_without_a_flush(sending):
    hit(1)
    time.sleep(0.3)
    hit(4)  # still gathering: counted into the waiting report's bytes
    [event] = sending.wait_for_events(1, timeout=20)
    assert occurrences(event) == 5
    time.sleep(0.5)
    assert len(sending.events()) == 1


def test_repeats_after_the_report_left_are_carried_never_sent_as_new_reports(sending):
    hit(3)
    assert telemetry.flush(10)
    hit(7)
    assert telemetry.flush(10)
    time.sleep(0.3)
    [event] = sending.events()
    assert occurrences(event) == 3
    [entry] = get_pipeline().outbox.entries()
    assert (entry.state, entry.occurrences, entry.carried) == ("sent", 3, 7)
    counts = telemetry.counters()["this_run"]["ValueError"]
    assert (counts["seen"], counts["reported"], counts["repeated"]) == (10, 1, 9)


def test_the_same_bug_reached_by_two_paths_is_one_report(sending):
    def path_a():
        same_bug()

    def path_b():
        same_bug()

    hit(2, path_a)
    hit(3, path_b)
    assert telemetry.flush(10)
    [event] = sending.wait_for_events(1)
    assert occurrences(event) == 5


def test_a_storm_on_many_threads_is_counted_exactly(sending):
    def storm():
        hit(400)

    threads = [threading.Thread(target=storm) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert telemetry.flush(10)
    [event] = sending.wait_for_events(1)
    assert occurrences(event) == 2400


def test_distinct_bugs_are_reported_each_with_its_own_count(sending):
    def other_bug():  # the user's frames are not the bug's: a bug is its type and crawl4ai frames
        raise LookupError("another bug")

    hit(4)
    for _ in range(2):
        try:
            other_bug()
        except LookupError as exc:
            telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    events = sending.wait_for_events(2)
    assert sorted(occurrences(e) for e in events) == [2, 4]


CHILD = """
from crawl4ai import telemetry

def same_bug():
    raise ValueError("the same bug")

for _ in range({times}):
    try:
        same_bug()
    except ValueError as exc:
        telemetry.capture_exception(exc)
telemetry.flush(10)  # a script that wants its report out before it exits
"""


def run_child(home, server, times: int, **env: str):
    result = run_python(CHILD.format(times=times), home, CRAWL4AI_TELEMETRY="1",
                        CRAWL4AI_SENTRY_DSN=server.dsn, CRAWL4AI_TELEMETRY_ENVIRONMENT="library",
                        **env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_two_processes_within_the_window_send_one_report(home, sentry_server):
    run_child(home, sentry_server, 3)
    [event] = sentry_server.wait_for_events(1)
    assert occurrences(event) == 3
    run_child(home, sentry_server, 4)
    time.sleep(0.3)
    assert len(sentry_server.events()) == 1  # counted, not resent
    [entry] = outbox_mod.LocalOutbox().entries()
    assert (entry.state, entry.occurrences, entry.carried) == ("sent", 3, 4)


def test_after_the_window_the_next_report_carries_what_was_counted(home, sentry_server):
    run_child(home, sentry_server, 2)
    run_child(home, sentry_server, 5)  # within the window: carried
    run_child(home, sentry_server, 1, CRAWL4AI_TELEMETRY_REPEAT_WINDOW="0")
    events = sentry_server.wait_for_events(2)
    assert [occurrences(e) for e in events] == [2, 6]
    entries = outbox_mod.LocalOutbox().entries()
    assert sorted((e.occurrences, e.carried) for e in entries) == [(2, 0), (6, 0)]


def test_a_report_kept_locally_does_not_stand_for_one_that_is_to_be_sent(home, sentry_server):
    run_python(CHILD.format(times=2), home, CRAWL4AI_TELEMETRY="1",
               CRAWL4AI_TELEMETRY_ENVIRONMENT="library")  # no destination: kept here
    [local] = outbox_mod.LocalOutbox().entries()
    assert (local.state, local.occurrences) == ("local", 2)
    run_child(home, sentry_server, 1)
    [event] = sentry_server.wait_for_events(1)
    assert occurrences(event) == 1


def test_without_a_destination_repeats_are_counted_into_the_kept_report(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    hit(3)
    assert telemetry.flush(10)
    hit(2)
    assert telemetry.flush(10)
    box = get_pipeline().outbox
    [entry] = box.entries()
    assert (entry.state, entry.occurrences) == ("local", 5)
    assert occurrences(json.loads(box.read(entry.event_id))) == 5


def test_repeats_without_consent_are_counted_as_not_consented(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.disable()
    hit(6)
    pipeline = get_pipeline()
    pipeline.flush(5)
    pipeline._at_exit()
    counts = telemetry.counters()["this_run"]["ValueError"]
    assert (counts["seen"], counts["not_consented"], counts["reported"]) == (6, 6, 0)


def test_the_repeat_window_setting_reads_durations():
    from crawl4ai.telemetry.settings import _duration

    assert _duration("24") == (86400.0, True)
    assert _duration("90m") == (5400.0, True)
    assert _duration("1d") == (86400.0, True)
    assert _duration("30s") == (30.0, True)
    assert _duration("soon") == (None, False)
    assert _duration("-1h") == (None, False)
    assert _duration("1000d")[0] == 30 * 86400.0


@pytest.mark.parametrize("value", ["17", 17.0, True, 0, -3, 10**12, [17], {"n": 17},
                                   "17 https://user:pw@secret.example.org/"])
def test_the_count_is_the_only_thing_that_rides_on_occurrences(value):
    """``contexts.telemetry.occurrences`` is a small positive integer or nothing: no text, no
    float, no big number (a timestamp, an id) and no structure gets out through it."""
    from crawl4ai.telemetry.scrub import scrub_event

    raw = {"event_id": "0" * 32, "contexts": {"telemetry": {"occurrences": value}}}
    scrubbed = scrub_event(raw)
    assert "occurrences" not in scrubbed.get("contexts", {}).get("telemetry", {})
    assert "secret" not in json.dumps(scrubbed)
    assert scrub_event({"contexts": {"telemetry": {"occurrences": 17}}})["contexts"] == {
        "telemetry": {"occurrences": 17}}


def test_counting_into_a_kept_report_changes_its_count_and_nothing_else(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()
    hit(1)
    assert telemetry.flush(10)
    box = get_pipeline().outbox
    [entry] = box.entries()
    before = json.loads(box.read(entry.event_id))
    hit(4)
    assert telemetry.flush(10)
    raw = box.read(entry.event_id)
    after = json.loads(raw)
    assert after["contexts"]["telemetry"].pop("occurrences") == 5
    before["contexts"].setdefault("telemetry", {})
    assert after == before
    assert box.get(entry.event_id).size == len(raw)


async def test_the_count_shows_in_reports_show_the_dashboard_and_counters(sending, capsys):
    from crawl4ai.telemetry.tui.app import TelemetryDashboard
    from textual.widgets import DataTable

    from crawl4ai.telemetry.cli import run

    hit(3)
    assert telemetry.flush(10)
    hit(2)  # after it was sent: carried
    assert telemetry.flush(10)
    [entry] = get_pipeline().outbox.entries()
    capsys.readouterr()
    assert run(["reports"]) == 0
    assert "ValueError ×3 +2" in capsys.readouterr().out
    assert run(["show", entry.event_id]) == 0
    assert ("Occurrences: 3 times in this report; 2 more since it was sent"
            in capsys.readouterr().out)
    assert run(["reports", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["occurrences"], row["carried"]) == (3, 2)
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.query_one("#reports-table", DataTable)
        assert any("ValueError ×3 +2" in str(cell) for cell in table.get_row_at(0))
    assert telemetry.counters()["this_run"]["ValueError"]["repeated"] == 4
