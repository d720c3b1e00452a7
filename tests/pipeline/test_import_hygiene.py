"""Importing telemetry is free: no I/O, no hook, nothing heavy, no crawl4ai at start-up."""

from __future__ import annotations

import json

from tests.conftest import run_python

HEAVY = ["sentry_sdk", "IPython", "textual", "questionary", "typer", "prompt_toolkit", "ipywidgets"]

IMPORT = r"""
import json, os, sys, threading
import crawl4ai
home = os.environ["CRAWL4_AI_BASE_DIRECTORY"]
def snapshot():
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(home) for f in fs + ["."])
before_modules, before_files = set(sys.modules), snapshot()
hooks = (sys.excepthook, threading.excepthook, len(sys.meta_path))
import crawl4ai.telemetry
from crawl4ai.telemetry import capture_exception, telemetry_decorator, telemetry_context
new = set(sys.modules) - before_modules
print(json.dumps({
    "new_heavy": sorted(m for m in new if m.split(".")[0] in HEAVY),
    "files_changed": snapshot() != before_files,
    "hooks_changed": hooks != (sys.excepthook, threading.excepthook, len(sys.meta_path)),
    "threads": threading.active_count(),
}))
"""


def test_import_does_no_io_installs_no_hook_imports_nothing_heavy(home):
    result = run_python(IMPORT.replace("HEAVY", repr(HEAVY)), home)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"new_heavy": [], "files_changed": False, "hooks_changed": False,
                      "threads": report["threads"]}


def test_interpreter_start_does_not_import_crawl4ai(home):
    result = run_python("import sys; print(sorted(m for m in sys.modules if m.startswith('crawl4ai')))", home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
