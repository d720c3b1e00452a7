"""The wheel is an add-on: its files land inside the real crawl4ai package, plus one .pth line
and its bootstrap module, and never a generic top-level name."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

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
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[crawl4ai.telemetry.providers]" in text
