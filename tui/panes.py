"""One widget per tab of the dashboard.

Each pane reads through :mod:`crawl4ai.telemetry.reports` / :mod:`crawl4ai.telemetry.api`, the
same calls as the command-line verbs, and shows outside text only as plain ``Text`` (never as
markup) after :func:`reports.printable` made its control characters visible.
"""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
    TabbedContent,
    TextArea,
)

from crawl4ai.telemetry import api, consent, reports, wording
from crawl4ai.telemetry.status_rows import headline
from crawl4ai.telemetry.status_rows import rows as status_rows

from .screens import ConfirmScreen, ReportScreen, export_issue
from .text import home_as_tilde, report_text, safe

# The dashboard's choices, as (stored consent, label): the prompts' words, and the same call as
# `crwl telemetry enable [--once | --local-only] | disable` (api.choose).
CHOICES = tuple((choice, wording.CHOICE_LABELS[choice]) for choice in consent.CHOICES)
PLAYGROUND_EXAMPLE = (
    "Failed on navigating ACS-GOTO:\nPage.goto: net::ERR_NAME_NOT_RESOLVED at "
    "https://bob:s3cret@intranet.example.com/page?api_key=sk-1234567890abcdef"
)


def _when(timestamp: float) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(timestamp))


def _short_where(where: str) -> str:
    return where.removeprefix("crawl4ai.") or "-"


def _removed_line(removed: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(removed.items())) or "nothing"


def _tab_shown(pane: Pane) -> bool:
    """The dashboard opens on ``pane``'s tab (a pane that reads much reads only when shown)."""
    tabs = pane.app.query(TabbedContent)
    return bool(tabs) and tabs.first().active == getattr(pane.parent, "id", None)


class Pane(Vertical):
    """A tab's content: it reloads its data when its tab is shown."""

    COMPONENT_CLASSES = {"placeholder"}

    def refresh_data(self) -> None:
        """Reload what the pane shows (called when its tab is activated)."""

    def focus_first(self) -> None:
        focusable = [w for w in self.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()


class StatusPane(Pane):
    """The effective state and why, and the person's choice (with the email)."""

    _shown: str | None = None  # the stored consent the choice buttons show

    def compose(self) -> ComposeResult:
        # The state and the choice first: at 80x24 they show without scrolling, and so does the
        # line that confirms a change; the details follow.
        yield Static(id="headline")
        yield Static(id="where-reports-go")
        with Horizontal(id="choice-row"):
            yield Label("Your choice:", classes="field-label")
            with RadioSet(id="choice"):
                for choice_id, label in CHOICES:
                    yield RadioButton(label, id=f"choice-{choice_id}")
        with Horizontal(id="email-row"):
            yield Label("Email:", classes="field-label")
            yield Input(placeholder="optional, for follow-up questions", id="email")
            yield Button("Save", id="save-email")
            yield Button("Remove", id="remove-email")
        yield Static(id="status-message")
        yield Static(id="status-rows")
        yield Static(Text(wording.WHAT), id="what-a-report-holds", classes="intro")

    def on_mount(self) -> None:
        # After the first frame (reading the state reads the whole outbox); whichever tab is
        # shown, for the header's state line.
        self.call_after_refresh(self.refresh_data)

    def refresh_data(self, result: api.Status | None = None) -> None:
        result = result or api.status()
        self.query_one("#headline", Static).update(
            Text(f"Crawl4AI telemetry is {headline(result)}", style="bold"))
        self.query_one("#where-reports-go", Static).update(safe(wording.where_reports_go(
            result.destination, result.keeps_locally, result.local_only)))
        rows = Table.grid(padding=(0, 1))
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column(ratio=1)
        for label, value in status_rows(result):
            rows.add_row(f"{label}:", safe(home_as_tilde(str(value))))
        self.query_one("#status-rows", Static).update(rows)
        self._show_choice(result.consent)
        self.app.sub_title = headline(result)

    def _show_choice(self, stored: str | None) -> None:
        """Turn on the stored choice's button through the set itself, so that its cursor moves
        there too (Enter on a freshly opened dashboard changes nothing); the Changed message
        this posts is recognised as no choice of the person's (see :meth:`_choose`)."""
        self._shown = stored
        if stored in dict(CHOICES):
            button = self.query_one(f"#choice-{stored}", RadioButton)
            if not button.value:
                button.value = True  # the set turns the others off
            return
        with self.prevent(RadioSet.Changed, RadioButton.Changed):  # nobody chose: none is on
            for button in self.query(RadioButton):
                button.value = False

    @on(RadioSet.Changed, "#choice")
    def _choose(self, event: RadioSet.Changed) -> None:
        choice = (event.pressed.id or "").removeprefix("choice-")
        if choice == self._shown:
            return  # the stored choice being shown, not a change
        self._done(api.choose(choice), f"Saved: {dict(CHOICES)[choice]}.")

    @on(Button.Pressed, "#save-email")
    @on(Input.Submitted, "#email")
    def _save_email(self) -> None:
        field = self.query_one("#email", Input)
        try:
            stored = api.status()
            result = (api.choose(stored.consent, email=field.value)
                      if stored.consent in (consent.ALWAYS, consent.ONCE, consent.LOCAL_ONLY)
                      else None)
        except ValueError as e:
            return self._say(str(e))
        if result is None:
            return self._say("Choose to make reports first: the email goes with them.")
        field.value = ""
        self._done(result, "Email saved.")

    @on(Button.Pressed, "#remove-email")
    def _remove_email(self) -> None:
        self._done(api.clear_email(), "The stored email was removed.")

    def _done(self, result: api.Status, message: str) -> None:
        self.refresh_data(result)
        self._say(result.warning or message)

    def _say(self, message: str) -> None:
        self.query_one("#status-message", Static).update(safe(message))


class ReportsPane(Pane):
    """The local outbox as a table; Enter opens a report.

    Nothing is read until the tab is shown (the dashboard paints at once, whatever the outbox
    holds); then the count, and rows a page at a time, the next page as the cursor nears the
    end of those shown."""

    PAGE = 100

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("s", "send_this", "Send"),
        Binding("p", "send_pending", "Send pending"),
        Binding("d", "delete", "Delete"),
        Binding("x", "clear", "Clear all"),
        Binding("e", "export", "Export issue"),
    ]

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(id="reports-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Time", "State", "Exception", "Version", "Where in crawl4ai.")
        yield Static(id="reports-count")
        yield table
        yield Static(id="reports-message")

    _ids: list[str] = []  # every report's id, newest first
    _shown = 0  # how many of them have their row in the table

    def on_mount(self) -> None:
        if _tab_shown(self):
            self.call_after_refresh(self.refresh_data)

    def refresh_data(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self._ids, self._shown = reports.report_ids(), 0
        self._next_page()
        if not self._ids:
            self._say("The local outbox is empty: no error has been captured on this machine.")

    def _next_page(self) -> None:
        table = self.query_one(DataTable)
        page = self._ids[self._shown:self._shown + self.PAGE]
        self._shown += len(page)
        for row in reports.rows(page):
            table.add_row(_when(row.created), row.state_label,
                          safe(" ".join(filter(None, (row.exception_type or "?", row.times)))),
                          safe(row.crawl4ai_version or "?"),
                          safe(_short_where(row.where)), key=row.event_id)
        count = f"{len(self._ids):,} report(s) in the local outbox"
        if self._shown < len(self._ids):
            count += f"; the newest {self._shown:,} listed, more as you move down"
        self.query_one("#reports-count", Static).update(count)

    @on(DataTable.RowHighlighted, "#reports-table")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(DataTable)
        if event.cursor_row >= table.row_count - 10 and self._shown < len(self._ids):
            self._next_page()

    def focus_first(self) -> None:
        self.query_one(DataTable).focus()

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _say(self, message: str) -> None:
        self.query_one("#reports-message", Static).update(safe(message))

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        event_id = self._selected()
        if event_id:
            self.app.push_screen(ReportScreen(event_id), lambda _: self.refresh_data())

    def action_send_this(self) -> None:
        event_id = self._selected()
        if event_id:
            self._say("Sending…")
            self._send([event_id])

    def action_send_pending(self) -> None:
        self._say("Sending every pending report…")
        self._send(None)

    @work(thread=True, exclusive=True, group="send")
    def _send(self, event_ids: list[str] | None) -> None:
        outcomes = ([reports.send(i) for i in event_ids] if event_ids is not None
                    else reports.send_pending())
        self.app.call_from_thread(self._sent, outcomes)

    def _sent(self, outcomes: list[reports.SendOutcome]) -> None:
        self.refresh_data()
        if not outcomes:
            return self._say("No report is pending.")
        sent = sum(o.sent for o in outcomes)
        reasons = sorted({o.reason for o in outcomes if not o.sent})
        self._say(f"Sent {sent} of {len(outcomes)}." + (f" {'; '.join(reasons)}." if reasons else ""))

    def action_delete(self) -> None:
        event_id = self._selected()
        if event_id:
            self.app.push_screen(ConfirmScreen(f"Delete report {event_id[:12]}?"),
                                 lambda yes: yes and self._deleted(reports.delete(event_id)))

    def _deleted(self, event_id: str) -> None:
        self.refresh_data()
        self._say(f"Deleted {event_id[:12]}.")

    def action_clear(self) -> None:
        self.app.push_screen(ConfirmScreen("Delete every report in the local outbox?"),
                             lambda yes: yes and self._cleared(reports.clear()))

    def _cleared(self, count: int) -> None:
        self.refresh_data()
        self._say(f"Deleted {count} report(s).")

    def action_export(self) -> None:
        event_id = self._selected()
        if event_id:
            self._say(export_issue(self.app, event_id))


class SamplePane(Pane):
    """A synthetic Crawl4AI crash as Python prints it, beside the report made of it."""

    def compose(self) -> ComposeResult:
        yield Static("A made-up crash (fake URL, token, paths, names): raw on the left, the "
                     "report on the right. Nothing here is sent.", classes="intro")
        with Horizontal(id="sample-columns"):
            with VerticalScroll(id="sample-raw", classes="column"):
                yield Static(id="sample-raw-text")
            with VerticalScroll(id="sample-report", classes="column"):
                yield Static(id="sample-report-text")

    def on_mount(self) -> None:
        sample = reports.sample()
        self.query_one("#sample-raw-text", Static).update(Text(sample.raw))
        self.query_one("#sample-report-text", Static).update(report_text(self, sample.pretty()))
        self.query_one("#sample-report", VerticalScroll).border_subtitle = (
            "removed: " + _removed_line(sample.removed))

    def focus_first(self) -> None:
        self.query_one("#sample-raw", VerticalScroll).focus()


class PlaygroundPane(Pane):
    """Paste any error message or traceback; see live what a report would keep of it."""

    def compose(self) -> ComposeResult:
        yield Static("Paste an error message or a traceback: below is what a report would keep.",
                     classes="intro")
        yield TextArea(PLAYGROUND_EXAMPLE, id="playground-input", soft_wrap=True)
        with VerticalScroll(id="playground-output"):
            yield Static(id="playground-result")
            yield Static(id="playground-why")

    def on_mount(self) -> None:
        self._redact(PLAYGROUND_EXAMPLE)

    @on(TextArea.Changed, "#playground-input")
    def _changed(self, event: TextArea.Changed) -> None:
        self._redact(event.text_area.text)

    def _redact(self, text: str) -> None:
        result = reports.redact(text)
        self.query_one("#playground-result", Static).update(report_text(self, result.text))
        # Why each piece is there: the template that kept it (file:line) or the rule that made it.
        why = Text("\nWhy:")
        for piece, kept, reason in result.why:
            why.append(f"\n{'kept' if kept else 'placeholder'}  {piece!r}  ← {reason}")
        self.query_one("#playground-why", Static).update(why)
        self.query_one("#playground-output", VerticalScroll).border_subtitle = (
            "removed: " + _removed_line(result.removed))


class CountersPane(Pane):
    """Errors seen, reported, counted into an earlier report of their bug, deduplicated and
    dropped per kind, in this and past runs."""

    COLUMNS = ("Kind", "Seen", "Reported", "Repeated", "Dedup.", "Dropped", "Not consented")

    def compose(self) -> ComposeResult:
        yield Static(id="counters-since", classes="intro")
        yield DataTable(id="counters-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        runs = api.counters()["all_runs"]
        since = f" since {str(runs['since'])[:10]}" if runs.get("since") else ""
        self.query_one("#counters-since", Static).update(safe(
            f"Errors telemetry saw in {runs['runs']} run(s){since}, this one included."))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*self.COLUMNS)
        for kind, c in sorted(runs["kinds"].items(), key=lambda item: -item[1].get("seen", 0)):
            table.add_row(safe(kind), *(str(n) for n in (
                c.get("seen", 0), c.get("reported", 0), c.get("repeated", 0), c.get("deduplicated", 0),
                c.get("queue_full", 0) + c.get("lost_at_exit", 0), c.get("not_consented", 0))))
        if not table.row_count:
            table.add_row("no error seen yet", "0", "0", "0", "0", "0", "0")


__all__ = ["CountersPane", "PlaygroundPane", "ReportsPane", "SamplePane", "StatusPane"]
