"""The README's demo: a real crawl whose crawl4ai-internal failure is captured, redacted and shown,
on a machine with no browser, no network and no DSN, without touching the caller's settings."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import child_env


def test_demo_shows_one_redacted_report_and_touches_nothing(home, sentry_server):
    # Whatever the caller has set, the demo sends nothing and works in its own folder.
    env = child_env(home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CRAWL4AI_TELEMETRY="0")
    proc = subprocess.run([sys.executable, "-m", "crawl4ai.telemetry.demo"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "holds 1 report(s)" in out and "State: local" in out
    report = json.loads(out[out.index("\n   {"):out.index("\n   }") + 5])
    exc = report["exception"]["values"][-1]
    assert (exc["type"], exc["mechanism"]["type"]) == ("ValueError", "scrap")
    assert exc["value"] == "invalid literal for int() with base 10: <str>"
    assert "demo-session-9f8e7d6c5b4a" not in json.dumps(report)
    assert "127.0.0.1" not in json.dumps(report)
    assert not (home / ".crawl4ai" / "config.json").exists()
    assert not (home / ".crawl4ai" / "telemetry").exists()
    assert sentry_server.requests == []
    # The printed advice works as printed (no "command not found" without an activated venv).
    advice = [line.strip() for line in out.splitlines() if line.strip().endswith(" status")]
    assert advice and advice[0].startswith(sys.executable)
    done = subprocess.run(advice[0].split(), env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("Crawl4AI telemetry:"), done.stderr
