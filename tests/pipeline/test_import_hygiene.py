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


# What the caller's thread may import on the first capture: the filters, the Capture value, the
# consent decision and the queue. Delivery, the providers' contract, the outbox, the report
# builder and the scrubber load on the worker. A change that makes the caller import more must
# change this list, on purpose.
CALLER_MAY_IMPORT = {
    "crawl4ai.telemetry.pipeline", "crawl4ai.telemetry.pipeline.filters",
    "crawl4ai.telemetry.pipeline.capture", "crawl4ai.telemetry.pipeline.counters",
    "crawl4ai.telemetry.pipeline.worker", "crawl4ai.telemetry.consent",
    "crawl4ai.telemetry.environment", "crawl4ai.telemetry._debug",
    "crawl4ai.telemetry._record",  # the Decision's frozen-value base (loaded with crawl4ai's patching)
}
# With a consent stored in the settings file: reading it (a byte-order mark, comments and
# trailing commas are allowed), and naming where reports would go.
WITH_STORED_CONSENT = {"crawl4ai.telemetry._files", "crawl4ai.telemetry._jsonc",
                       "encodings.utf_8_sig", "crawl4ai.telemetry.providers",
                       "crawl4ai.telemetry.providers.destinations"}

FIRST_CAPTURE = r"""
import json, os, sys, threading
import crawl4ai
from crawl4ai import telemetry
PRELUDE

class Recorder:
    # First on sys.meta_path: sees every module imported from now on, and by which thread.
    def __init__(self):
        self.by_thread = {}
    def find_spec(self, name, path=None, target=None):
        self.by_thread.setdefault(threading.current_thread().name, []).append(name)
        return None

recorder = Recorder()
sys.meta_path.insert(0, recorder)
try:
    raise ValueError("the first error of this process")
except ValueError as exc:
    telemetry.capture_exception(exc)
caller = sorted(recorder.by_thread.get("MainThread", []))
assert telemetry.flush(30)
workers = sorted(set(recorder.by_thread) - {"MainThread"})
print(json.dumps({"caller": caller, "workers": workers,
                  "worker_imports": sorted(m for t in workers for m in recorder.by_thread[t]),
                  "reported": telemetry.status()["pipeline"].get("reported", 0)}))
"""


def _first_capture(home, prelude="", **env):
    script = FIRST_CAPTURE.replace("PRELUDE", prelude)
    result = run_python(script, home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# What importing crawl4ai may load of the add-on: the activation hook, the integration's patching
# side (its capture table, installer, wrappers, where they report, and their process state), and
# the pipeline's caller side, so that no first capture pays for it (and the chain walk, which wrappers use to
# read a traceback safely). The classifier and code ownership wait for a crawler to be made:
# `crwl --help` and scripts that never crawl pay nothing for them.
IMPORT_CRAWL4AI_MAY_LOAD = {
    "crawl4ai.telemetry", "crawl4ai.telemetry._version", "crawl4ai.telemetry.settings",
    "crawl4ai.telemetry._debug", "crawl4ai.telemetry._record", "crawl4ai.telemetry.api",
    "crawl4ai.telemetry.integrations", "crawl4ai.telemetry.integrations.crawl4ai",
    "crawl4ai.telemetry.integrations.crawl4ai.points",
    "crawl4ai.telemetry.integrations.crawl4ai.installer",
    "crawl4ai.telemetry.integrations.crawl4ai.wrappers",
    "crawl4ai.telemetry.integrations.crawl4ai.seen",
    "crawl4ai.telemetry.integrations.crawl4ai.provenance",
    "crawl4ai.telemetry.integrations.crawl4ai.state", "crawl4ai.telemetry.chain",
    "crawl4ai.telemetry._fork",  # its locks renewed in a forked child
} | CALLER_MAY_IMPORT | WITH_STORED_CONSENT


def test_importing_crawl4ai_loads_the_patching_side_and_the_callers_path_not_the_classifier(home):
    script = ("import sys, json, crawl4ai\n"
              "from crawl4ai.telemetry.integrations import crawl4ai as integration\n"
              "print(json.dumps([integration.is_installed(), "
              "sorted(m for m in sys.modules if m.startswith('crawl4ai.telemetry'))]))")
    result = run_python(script, home, CRAWL4AI_TELEMETRY="1")
    assert result.returncode == 0, result.stderr
    installed, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert installed
    assert set(loaded) <= IMPORT_CRAWL4AI_MAY_LOAD, set(loaded) - IMPORT_CRAWL4AI_MAY_LOAD


def test_with_crawl4ai_patched_the_first_capture_imports_nothing_on_the_callers_thread(home):
    # The integration loaded the caller's side while crawl4ai itself was imported.
    seen = _first_capture(home, CRAWL4AI_TELEMETRY="1")
    assert seen["caller"] == []
    assert seen["reported"] == 1


def test_once_a_crawler_is_made_a_capture_points_first_error_imports_nothing(home):
    # Through a capture point: the wrapper's classifier (with code ownership and the chain walk)
    # loaded when the crawler was made, beside a construction of tens of milliseconds.
    prelude = (
        "crawler = crawl4ai.AsyncWebCrawler()\n"
        "from crawl4ai.telemetry.integrations.crawl4ai import wrappers\n"
        "seen_by_wrapper = wrappers.seen\n"
    )
    script = FIRST_CAPTURE.replace("PRELUDE", prelude).replace(
        "    telemetry.capture_exception(exc)", "    seen_by_wrapper(exc, 'arun', handled=True)")
    result = run_python(script, home, CRAWL4AI_TELEMETRY="1",
                        CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["caller"] == []


def test_the_first_capture_imports_only_the_callers_path_the_worker_loads_delivery(home):
    # With the activation hook off, nothing loaded the pipeline before the first capture.
    seen = _first_capture(home, CRAWL4AI_TELEMETRY="1", CRAWL4AI_TELEMETRY_HOOK="0")
    assert set(seen["caller"]) <= CALLER_MAY_IMPORT, set(seen["caller"]) - CALLER_MAY_IMPORT
    assert "crawl4ai.telemetry.pipeline.worker" in seen["caller"]  # it really was the first
    # ... and it was reported: the worker, not the caller, loaded what that took.
    assert seen["reported"] == 1 and seen["workers"] == ["crawl4ai-telemetry"]
    assert {"crawl4ai.telemetry.pipeline.delivery", "crawl4ai.telemetry.providers.base",
            "crawl4ai.telemetry.outbox", "crawl4ai.telemetry.report_builder"} <= set(seen["worker_imports"])


def test_the_first_capture_with_a_stored_consent_imports_only_the_callers_path(home):
    from crawl4ai.telemetry import consent

    consent.ConsentStore().update(**consent.binding(consent.ALWAYS))
    seen = _first_capture(home, CRAWL4AI_TELEMETRY_HOOK="0")
    allowed = CALLER_MAY_IMPORT | WITH_STORED_CONSENT
    assert set(seen["caller"]) <= allowed, set(seen["caller"]) - allowed
    assert seen["reported"] == 1
