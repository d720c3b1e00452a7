"""The dashboard, driven through Textual's pilot against a real outbox in a temporary home."""

from __future__ import annotations

import json
import re

from crawl4ai.telemetry.tui.app import TelemetryDashboard
from crawl4ai.telemetry.tui.screens import ReportScreen
from textual.widgets import DataTable, Static, TextArea

from crawl4ai.telemetry import outbox as _outbox
from crawl4ai.telemetry import reports
from tests.conftest import run_python
from tests.tui.conftest import SECRET_TOKEN, SECRET_URL, capture_reports, config_file

SIZE = (80, 24)


def shown(app: TelemetryDashboard, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def test_changing_the_choice_writes_config_json_and_keeps_other_keys(home):
    path = config_file(home)
    path.parent.mkdir()
    path.write_text(json.dumps({"browser": {"headless": True}}))
    app = TelemetryDashboard()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the state is read after the first frame: a person sees it first
        await pilot.click("#choice-always")
        assert json.loads(path.read_text())["telemetry"]["consent"] == "always"
        await pilot.click("#email")
        await pilot.press(*"dev@example.com", "enter")
        await pilot.click("#choice-denied")
        assert "is OFF" in shown(app, "#headline")
    stored = json.loads(path.read_text())
    assert stored["browser"] == {"headless": True}
    assert stored["telemetry"]["consent"] == "denied"
    assert stored["telemetry"]["email"] == "dev@example.com"


async def test_choosing_local_only_keeps_reports_here_with_a_destination_configured(
        home, monkeypatch, sentry_server):
    """The dashboard's "local only" is the CLI's `enable --local-only`: config.json says so
    (other keys intact), waiting reports become "kept locally", and nothing reaches the server
    until one is sent from the Reports tab."""
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    sentry_server.mode = "error"
    [event_id] = capture_reports(1)  # consent "always": the server refused, so it is pending
    attempts = len(sentry_server.raw_bodies())
    sentry_server.mode = "ok"
    path = config_file(home)
    stored = json.loads(path.read_text())
    path.write_text(json.dumps({**stored, "browser": {"headless": True}}))
    app = TelemetryDashboard()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the state is read after the first frame: a person sees it first
        await pilot.click("#choice-local_only")
        assert "LOCAL ONLY" in shown(app, "#headline")
        assert "you chose local only" in shown(app, "#where-reports-go")
        assert json.loads(path.read_text())["telemetry"]["consent"] == "local_only"
        await pilot.press("2")
        table = app.query_one("#reports-table", DataTable)
        assert table.get_row_at(0)[1] == "kept locally"
        assert len(sentry_server.raw_bodies()) == attempts  # nothing sent on its own
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Sent 1 of 1" in shown(app, "#reports-message")
    assert sentry_server.wait_for_events(attempts + 1)[-1]["event_id"] == event_id
    assert json.loads(path.read_text())["browser"] == {"headless": True}
    assert all(SECRET_TOKEN.encode() not in raw for raw in sentry_server.raw_bodies())


async def test_the_choice_cursor_starts_on_the_stored_choice_so_enter_changes_nothing(home):
    path = config_file(home)
    path.parent.mkdir()
    path.write_text(json.dumps({"telemetry": {"consent": "local_only"}, "other": [1]}))
    before = path.read_text()
    app = TelemetryDashboard()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert path.read_text() == before
        await pilot.press("down", "enter")
        await pilot.pause()
        assert "Saved: Don't send." in shown(app, "#status-message")
    assert json.loads(path.read_text()) == {"telemetry": {"consent": "denied"}, "other": [1]}


async def test_an_invalid_email_is_refused_and_nothing_is_written(home):
    app = TelemetryDashboard()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#choice-once")
        before = config_file(home).read_text()
        await pilot.click("#email")
        await pilot.press(*"not-an-email", "enter")
        assert "not a valid email" in shown(app, "#status-message")
    assert config_file(home).read_text() == before


async def test_opening_a_report_shows_its_exact_bytes(home):
    [event_id] = capture_reports(1)
    kept = _outbox.LocalOutbox().read(event_id)
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, ReportScreen)
        text = shown(app, "#report-json")
        assert json.loads(text) == json.loads(kept)
        assert "<url>" in text and SECRET_URL not in text and SECRET_TOKEN not in text
        assert "Removed by the scrubber: " in shown(app, "#report-removed")
        assert "url" in shown(app, "#report-removed")
        await pilot.press("escape")
        assert not isinstance(app.screen, ReportScreen)


async def test_deleting_a_report_shrinks_the_outbox(home):
    capture_reports(2)
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d", "y")
        await pilot.pause()
        assert len(_outbox.LocalOutbox().entries()) == 1
        assert app.query_one("#reports-table", DataTable).row_count == 1
        await pilot.press("x", "n")
        assert len(_outbox.LocalOutbox().entries()) == 1
        await pilot.press("x", "y")
        await pilot.pause()
    assert _outbox.LocalOutbox().entries() == []


async def test_export_saves_a_github_issue_and_copies_it(home):
    [event_id] = capture_reports(1)
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        assert "Saved as a GitHub issue: ~/.crawl4ai/telemetry/exports/" in shown(app, "#reports-message")
        copied = app.clipboard
    [saved] = (home / ".crawl4ai" / "telemetry" / "exports").glob("*.md")
    assert saved.read_text() == copied == reports.issue_markdown(event_id)
    assert event_id in copied and SECRET_TOKEN not in copied and SECRET_URL not in copied


async def test_send_pending_delivers_to_a_real_sentry_server(home, monkeypatch, sentry_server):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    sentry_server.mode = "error"  # the first attempt fails: the report stays pending
    [event_id] = capture_reports(1)
    assert _outbox.LocalOutbox().get(event_id).state == _outbox.PENDING
    sentry_server.mode = "ok"
    failed_attempts = len(sentry_server.events())
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Sent 1 of 1" in shown(app, "#reports-message")
    events = sentry_server.wait_for_events(failed_attempts + 1)
    assert events[-1]["event_id"] == event_id
    assert _outbox.LocalOutbox().get(event_id).state == _outbox.SENT
    assert all(SECRET_TOKEN.encode() not in raw for raw in sentry_server.raw_bodies())
    states = [state for _, state, _ in reports.get(event_id).history]
    assert states[0] == _outbox.PENDING and states[-1] == _outbox.SENT


async def test_the_playground_shows_a_planted_secret_as_a_placeholder(home):
    app = TelemetryDashboard(initial_tab="playground")
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(TextArea).text = f"boom at {SECRET_URL} with token={SECRET_TOKEN}"
        await pilot.pause()
        result = shown(app, "#playground-result")
    assert "<url>" in result and "<secret>" in result
    assert SECRET_TOKEN not in result and "PLANTED" not in result


async def test_the_playground_says_why_each_piece_stays(home):
    app = TelemetryDashboard(initial_tab="playground")
    async with app.run_test(size=SIZE) as pilot:
        app.query_one(TextArea).text = f"Invalid proxy string format: {SECRET_URL}"
        await pilot.pause()
        result = shown(app, "#playground-result")
        why = shown(app, "#playground-why")
    assert result == "Invalid proxy string format: <url>"
    assert re.search(r"kept  'Invalid proxy string format: '  ← crawl4ai/\S+\.py:\d+", why), why
    assert re.search(r"placeholder  '<url>'  ← hole of crawl4ai/\S+\.py:\d+", why), why
    assert "PLANTED" not in why


async def test_outside_text_is_never_markup_nor_control_characters(home):
    capture_reports(1)
    [meta] = (home / ".crawl4ai" / "telemetry" / "outbox").glob("*.meta.json")
    record = json.loads(meta.read_text())  # a record changed on disk by someone else
    record["exception_type"] = "[bold red]Forged\x1b[2J\x1b]52;c;aGk=\x07"
    meta.write_text(json.dumps(record))
    app = TelemetryDashboard(initial_tab="reports")
    async with app.run_test(size=SIZE):
        cell = app.query_one("#reports-table", DataTable).get_row_at(0)[2]
    assert str(cell) == "[bold red]Forged\\x1b[2J\\x1b]52;c;aGk=\\x07"


async def test_help_screen_opens_and_closes_with_the_keyboard(home):
    app = TelemetryDashboard()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"
        await pilot.press("4", "escape", "2")
        assert app.query_one("TabbedContent").active == "reports"


async def test_counters_show_errors_of_past_runs_per_kind(home):
    past_run = run_python("""
        from crawl4ai import telemetry
        telemetry.enable()
        for n in range(4):
            try:
                raise KeyError(n)
            except KeyError as exc:
                telemetry.capture_exception(exc)
                telemetry.capture_exception(exc)  # the same error again: deduplicated
        telemetry.flush(10)
    """, home)
    assert past_run.returncode == 0, past_run.stderr
    app = TelemetryDashboard(initial_tab="counters")
    async with app.run_test(size=SIZE):
        table = app.query_one("#counters-table", DataTable)
        rows = {str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)[1:]]
                for i in range(table.row_count)}
        assert "in 2 run(s)" in shown(app, "#counters-since")  # that run and this one
    seen, reported, repeated, deduplicated, dropped, not_consented = map(int, rows["KeyError"])
    assert (seen, deduplicated, not_consented, dropped) == (8, 4, 0, 0)
    assert (reported, repeated) == (1, 3)  # one bug, one report: the other three counted into it


async def test_two_thousand_reports_paint_at_once_and_list_a_page_at_a_time(home):
    """The Reports pane reads nothing until its tab is shown; then the count of all, and rows a
    page at a time as the cursor moves down. A real outbox of 2,000 reports, Textual's pilot."""
    import time

    from tests.support.many_reports import fill_outbox

    ids = fill_outbox(2000)
    started = time.monotonic()
    app = TelemetryDashboard(initial_tab="status")
    async with app.run_test(size=SIZE) as pilot:
        assert time.monotonic() - started < 30  # generous: the figure is in `just bench`
        table = app.query_one("#reports-table", DataTable)
        assert table.row_count == 0  # not read while another tab is shown
        await pilot.press("2")
        await pilot.pause()
        assert "2,000 report(s) in the local outbox" in shown(app, "#reports-count")
        page = app.query_one("ReportsPane").PAGE
        assert table.row_count == page
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == ids[0]
        await pilot.press(*["pagedown"] * 8)
        await pilot.pause()
        assert table.row_count == 2 * page
        assert table.coordinate_to_cell_key((page, 0)).row_key.value == ids[page]
        await pilot.press("enter")
        assert isinstance(app.screen, ReportScreen)
