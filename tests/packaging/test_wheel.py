"""The wheel is an add-on: its files land inside the real crawl4ai package, plus one .pth line
and its bootstrap module, and never a generic top-level name. The repository's top-level tui/
folder is the dashboard, ``crawl4ai.telemetry.tui``, in the wheel and in the editable install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import run_python

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_installs_only_inside_crawl4ai(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=180,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("crawl4ai_telemetry-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"crawl4ai", "crawl4ai_telemetry.pth", "_crawl4ai_telemetry_hook.py"}
    assert "crawl4ai/__init__.py" not in names  # the real crawl4ai owns its package
    assert all(n.startswith("crawl4ai/telemetry/") for n in names if n.startswith("crawl4ai/"))
    assert "crawl4ai/telemetry/__init__.py" in names
    assert "crawl4ai/telemetry/providers/sentry.py" in names
    dashboard = {n.removeprefix("crawl4ai/telemetry/tui/") for n in names if "/tui/" in n}
    assert {"__init__.py", "app.py", "panes.py", "screens.py", "dashboard.tcss"} <= dashboard
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[crawl4ai.telemetry.providers]" in text


def test_editable_install_maps_the_dashboard_into_crawl4ai_telemetry(home):
    result = run_python("""
        import crawl4ai.telemetry.tui as dashboard
        from crawl4ai.telemetry.tui.app import TelemetryDashboard
        print(dashboard.__file__)
        print(TelemetryDashboard.__module__)
        try:
            import tui
        except ImportError as e:
            print("no top-level tui:", e)
    """, home)
    assert result.returncode == 0, result.stderr
    where, module, refused = result.stdout.splitlines()
    assert Path(where) == ROOT / "tui" / "__init__.py"
    assert module == "crawl4ai.telemetry.tui.app"
    assert refused.startswith("no top-level tui:")
