"""The dashboard App: five tabs, keyboard first, every binding in the footer.

Status (the effective state, and the choice), Reports (the local outbox), Sample (a synthetic
crash raw beside its report), Playground (the scrubber on any text) and Counters. The digits
switch tabs, ``?`` opens the help, ``q`` quits. Styles live in ``dashboard.tcss``; ``NO_COLOR``
is honoured by Textual itself (the whole screen turns monochrome).
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, TabbedContent, TabPane

from .panes import CountersPane, PlaygroundPane, ReportsPane, SamplePane, StatusPane
from .screens import HelpScreen

TABS = (
    ("status", "Status", StatusPane),
    ("reports", "Reports", ReportsPane),
    ("sample", "Sample", SamplePane),
    ("playground", "Playground", PlaygroundPane),
    ("counters", "Counters", CountersPane),
)


class TelemetryDashboard(App[None]):
    """``crwl telemetry``: status and consent, the reports, the sample and the playground."""

    TITLE = "Crawl4AI telemetry"
    CSS_PATH = "dashboard.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("escape", "leave_field", "Leave field", show=False),
        *(Binding(str(n), f"show_tab('{tab_id}')", title, show=False)
          for n, (tab_id, title, _) in enumerate(TABS, start=1)),
    ]

    def __init__(self, initial_tab: str = "status") -> None:
        super().__init__()
        self._initial_tab = initial_tab

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self._initial_tab):
            for n, (tab_id, title, pane) in enumerate(TABS, start=1):
                with TabPane(f"{n} {title}", id=tab_id):
                    yield pane(id=f"{tab_id}-pane")
        yield Footer()

    def action_show_tab(self, tab_id: str) -> None:
        self.query_one(TabbedContent).active = tab_id

    def action_leave_field(self) -> None:
        """Esc in a text box gives the keys back to the dashboard (digits, ?, q)."""
        self.query_one(TabbedContent).query_one("Tabs").focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.children[0] if event.pane.children else None
        refresh = getattr(pane, "refresh_data", None)
        if refresh is not None:
            refresh()
        if pane is not None:
            pane.focus_first()
