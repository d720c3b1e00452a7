"""The Textual dashboard behind ``crwl telemetry``: see exactly what leaves, and decide.

This folder is installed as ``crawl4ai.telemetry.tui`` (mapped at build time in the wheel; the
activation hook maps it for an editable install), never as a top-level ``tui``. It imports
Textual, so nothing imports it until the dashboard opens: ``import crawl4ai.telemetry`` stays
free of it.

Layout: :mod:`.app` (the App and its tabs), :mod:`.panes` (one widget per tab),
:mod:`.screens` (report detail, help, confirmation), ``dashboard.tcss`` (all the styles).
Every operation goes through :mod:`crawl4ai.telemetry.reports` and :mod:`crawl4ai.telemetry.api`,
the same functions the command-line verbs call.
"""

from __future__ import annotations

if __name__ != "crawl4ai.telemetry.tui":  # e.g. `import tui` from a checkout on sys.path
    raise ImportError(f"the dashboard is crawl4ai.telemetry.tui, not {__name__!r}")


def run_dashboard() -> None:
    """Open the dashboard in this terminal and return when the person quits."""
    from .app import TelemetryDashboard

    TelemetryDashboard().run()
