"""Screens over the tabs: one report in full, the help, and a yes/no confirmation."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Label, Static

from crawl4ai.telemetry import reports

from .text import home_as_tilde, report_text, safe

HELP = """\
Crawl4AI telemetry dashboard: everything here works with the keyboard.

Tabs      1 Status  2 Reports  3 Sample  4 Playground  5 Counters
          (or Tab / Shift+Tab between controls, arrows inside them)
Status    choose Always send / Next error only / Local only / Off
          with the arrows and Enter. Local only: reports are kept
          here, and one leaves only when you press s on it.
          Type an email and press Enter to save it.
Reports   Enter opens a report: the exact bytes kept (and sent), what
          the scrubber removed (counts only) and its delivery history
          s send it now   p send every pending report   d delete it
          x delete all    e export it as a GitHub issue (a Markdown
          file, also copied where the terminal allows)
Sample    a made-up crash, raw beside the report made of it
Playground  paste any text: see what a report would keep of it
Anywhere  ? this help   Esc back (or out of a text box)   q quit

The same operations for scripts: crwl telemetry reports | show ID |
send [ID|--pending] | delete ID|--all | preview   (each with --json)
"""


def export_issue(app: Any, event_id: str) -> str:
    """Save the report as a GitHub issue, copy it (OSC 52) and say where it went."""
    path = reports.export_issue(event_id)
    app.copy_to_clipboard(reports.issue_markdown(event_id))
    return (f"Saved as a GitHub issue: {home_as_tilde(path)} (also copied, where the terminal "
            "allows). File it at https://github.com/unclecode/crawl4ai/issues/new")


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text(HELP), id="help-text")
        yield Footer()


class ConfirmScreen(ModalScreen[bool]):
    """A question answered with y / n (or the buttons)."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Grid(id="confirm-box"):
            yield Label(safe(self._question), id="confirm-question")
            yield Button("Yes (y)", variant="error", id="yes")
            yield Button("No (n)", variant="primary", id="no")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ReportScreen(Screen[None]):
    """One report: its exact bytes (placeholders highlighted), removed counts, history."""

    COMPONENT_CLASSES = {"placeholder"}
    BINDINGS = [
        Binding("escape", "dismiss", "Back"),
        Binding("s", "send", "Send now"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export issue"),
    ]

    def __init__(self, event_id: str) -> None:
        super().__init__()
        self.event_id = event_id

    def compose(self) -> ComposeResult:
        with Vertical(id="report-facts"):
            yield Static(id="report-summary")
            yield Static(id="report-removed")
            yield Static(id="report-history")
        with VerticalScroll(id="report-bytes"):
            yield Static(id="report-json")
        yield Static(id="report-message")
        yield Footer()

    def on_mount(self) -> None:
        self.show_report()
        self.query_one("#report-bytes").focus()

    def show_report(self) -> None:
        detail = reports.get(self.event_id)
        row = detail.row
        self.query_one("#report-summary", Static).update(safe(
            f"{row.exception_type or '?'} in {row.where or 'no Crawl4AI frame'} · Crawl4AI "
            f"{row.crawl4ai_version or '?'} · {row.state_label} · {row.size} bytes · id {row.event_id}"
            + (f"\nOccurrences: {row.times_sentence}" if row.times else "")))
        removed = ", ".join(f"{n} {k}" for k, n in sorted(detail.removed.items())) or "nothing"
        self.query_one("#report-removed", Static).update(safe(f"Removed by the scrubber: {removed}"))
        history = "; ".join(f"{time.strftime('%m-%d %H:%M', time.localtime(t))} "
                            f"{reports.STATE_LABELS.get(s, s)}" + (f" ({d})" if d else "")
                            for t, s, d in detail.history[-3:])
        self.query_one("#report-history", Static).update(
            safe(f"History: {history}"))
        box = self.query_one("#report-bytes", VerticalScroll)
        box.border_title = "The exact report bytes (pretty-printed)"
        self.query_one("#report-json", Static).update(report_text(self, detail.pretty()))

    def _say(self, message: str) -> None:
        self.query_one("#report-message", Static).update(safe(message))

    def action_send(self) -> None:
        self._say("Sending…")
        self.run_worker(self._send, thread=True, exclusive=True)

    def _send(self) -> None:
        outcome = reports.send(self.event_id)
        self.app.call_from_thread(self._sent, outcome)

    def _sent(self, outcome: reports.SendOutcome) -> None:
        self.show_report()
        self._say("Sent." if outcome.sent else f"Not sent: {outcome.reason}.")

    def action_delete(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                reports.delete(self.event_id)
                self.dismiss()

        self.app.push_screen(ConfirmScreen(f"Delete report {self.event_id[:12]}?"), answered)

    def action_export(self) -> None:
        self._say(export_issue(self.app, self.event_id))
