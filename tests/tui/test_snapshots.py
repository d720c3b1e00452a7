"""What each screen of the dashboard looks like at 80x24, kept as SVG snapshots in the repository.

Update them after a deliberate change of the layout with ``pytest tests/tui --snapshot-update``
and look at the SVG files before committing them.
"""

from __future__ import annotations

import pytest
from crawl4ai.telemetry.tui.app import TelemetryDashboard

from tests.tui.conftest import plant_fixed_reports

SIZE = (80, 24)
pytestmark = pytest.mark.usefixtures("utc")


@pytest.mark.parametrize("tab", ["status", "sample", "playground", "counters"])
def test_each_tab_at_80x24(home, snap_compare, tab):
    plant_fixed_reports(home)
    assert snap_compare(TelemetryDashboard(initial_tab=tab), terminal_size=SIZE)


def test_reports_tab_at_80x24(home, snap_compare):
    plant_fixed_reports(home)
    assert snap_compare(TelemetryDashboard(initial_tab="reports"), terminal_size=SIZE)


def test_one_report_at_80x24(home, snap_compare):
    plant_fixed_reports(home)
    assert snap_compare(TelemetryDashboard(initial_tab="reports"), press=["down", "enter"],
                        terminal_size=SIZE)


def test_help_at_80x24(home, snap_compare):
    assert snap_compare(TelemetryDashboard(), press=["question_mark"], terminal_size=SIZE)


def test_no_color_at_80x24(home, monkeypatch, snap_compare):
    monkeypatch.setenv("NO_COLOR", "1")
    plant_fixed_reports(home)
    app = TelemetryDashboard(initial_tab="reports")
    assert app.no_color
    assert snap_compare(app, terminal_size=SIZE)


def test_status_local_only_at_80x24(home, monkeypatch, snap_compare):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    plant_fixed_reports(home)
    (home / ".crawl4ai" / "config.json").write_text('{"telemetry": {"consent": "local_only"}}')
    assert snap_compare(TelemetryDashboard(initial_tab="status"), terminal_size=SIZE)
