"""The real ``crwl`` console script: ``crwl telemetry`` verbs are mounted on it, and in the crwl
process (ours) uncaught errors — main thread, threads, asyncio tasks — are watched too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawl4ai import telemetry
from crawl4ai.telemetry.outbox import LocalOutbox
from tests.conftest import child_env, read_config, run_python

CRWL = Path(sys.executable).with_name("crwl")
ENV = {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library", "CRAWL4AI_NO_CLOUD_NOTICE": "1"}


def crwl(home, *args, timeout=120, **env):
    return subprocess.run([str(CRWL), *args], env=child_env(home, **ENV, **env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def outbox_events(home):
    outbox = LocalOutbox(str(home / ".crawl4ai" / "telemetry" / "outbox"))
    return [json.loads(outbox.read(e.event_id)) for e in outbox.entries()]


def test_crwl_telemetry_enable_and_status(home):
    assert CRWL.exists()
    enabled = crwl(home, "telemetry", "enable", "--email", "dev@example.com")
    assert enabled.returncode == 0, enabled.stderr
    assert read_config(home)["telemetry"] == {"consent": "always", "email": "dev@example.com",
                                              "destination": "local"}
    status = crwl(home, "telemetry", "status")
    assert status.returncode == 0, status.stderr
    assert "ON" in status.stdout and "dev@example.com" in status.stdout
    assert str(home / ".crawl4ai" / "config.json") in status.stdout


def test_crwl_telemetry_status_still_answers_when_telemetry_is_off_by_env(home):
    # The verb is mounted even then (it changes no crawl), or `crwl telemetry status` would be
    # taken for a URL to crawl; it says why telemetry is off.
    status = crwl(home, "telemetry", "status", CRAWL4AI_TELEMETRY="0")
    assert status.returncode == 0, status.stderr
    assert "OFF" in status.stdout and "CRAWL4AI_TELEMETRY=0" in status.stdout


def test_uncaught_crawl4ai_bug_in_crwl_is_reported(home):
    # Crafted input: a settings file holding a YAML list. `crwl config list` calls .get() on it
    # and dies with an uncaught AttributeError inside crawl4ai.cli.
    (home / ".crawl4ai").mkdir(exist_ok=True)
    (home / ".crawl4ai" / "global.yml").write_text("- just\n- a list\n")
    telemetry.enable()
    proc = crwl(home, "config", "list")
    assert proc.returncode == 1
    assert "AttributeError: 'list' object has no attribute 'get'" in proc.stderr
    assert "/telemetry/" not in proc.stderr  # the traceback the user sees is crwl's own
    [event] = outbox_events(home)
    exc = event["exception"]["values"][-1]
    assert exc["type"] == "AttributeError"
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("excepthook", False)
    assert exc["stacktrace"]["frames"][-1]["function"] == "config_list_cmd"
    assert event["level"] == "fatal"


def test_threads_and_asyncio_tasks_of_the_crwl_process_are_watched(home):
    telemetry.enable()
    proc = run_python('''
import asyncio, threading
import crawl4ai.utils as utils
from crawl4ai import AsyncWebCrawler, BrowserConfig, CrawlerRunConfig, HTTPCrawlerConfig
from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy
from crawl4ai.telemetry.integrations import crawl4ai as integration

# Two crawl4ai helpers with bugs, compiled under crawl4ai/utils.py.
ns = {"__name__": utils.__name__}
exec(compile("def sync_bug():\\n    return {}['missing']\\n"
             "async def async_bug():\\n    return [][1]\\n", utils.__file__, "exec"), ns)

print("owned:", integration.install_process_handlers())   # what crwl's main() does first
thread = threading.Thread(target=ns["sync_bug"])
thread.start(); thread.join()

async def main():
    strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
    async with AsyncWebCrawler(config=BrowserConfig(verbose=False), crawler_strategy=strategy) as c:
        # crwl's loops start after main(): the first crawl step in a loop enables the integration
        await c.arun("raw:<html><body><p>hello</p></body></html>", config=CrawlerRunConfig(verbose=False))
    try:
        await asyncio.create_task(ns["async_bug"]())
    except IndexError:
        print("task error handled by the caller")

asyncio.run(main())
''', home, **ENV)
    assert proc.returncode == 0, proc.stderr
    assert "owned: True" in proc.stdout and "task error handled by the caller" in proc.stdout
    assert "KeyError: 'missing'" in proc.stderr  # threading's own report still printed
    kinds = sorted((e["exception"]["values"][-1]["type"],
                    e["exception"]["values"][-1]["mechanism"]["type"]) for e in outbox_events(home))
    assert kinds == [("IndexError", "asyncio"), ("KeyError", "threading")]
