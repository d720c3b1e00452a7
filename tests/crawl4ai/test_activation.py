"""Activation on install: a script with no line of telemetry code gets capture through the
installed ``.pth`` hook; the hook can be switched off (``crawl4ai.telemetry`` still imports and
``install()`` still works); nothing is patched while telemetry is off by env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.outbox import LocalOutbox
from tests.conftest import run_python

# A user's script: a local page whose charset crawl4ai cannot handle, crawled with plain
# crawl4ai. Nothing here mentions telemetry.
USER_SCRIPT = '''
import asyncio, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = ("<html><body>" + "<p>Some words about crawling, enough for a page.</p>" * 30
        + "</body></html>").encode()

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=x-no-such-charset")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()

import crawl4ai
from crawl4ai import AsyncWebCrawler, BrowserConfig, CacheMode, CrawlerRunConfig, HTTPCrawlerConfig
from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

async def crawl():
    strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
    async with AsyncWebCrawler(config=BrowserConfig(verbose=False), crawler_strategy=strategy) as c:
        result = await c.arun(f"http://127.0.0.1:{server.server_address[1]}/page",
                              config=CrawlerRunConfig(cache_mode=CacheMode.BYPASS, verbose=False))
        print("success:", result.success)
'''

HOOK_SOURCE = Path(__file__).resolve().parents[2] / "crawl4ai" / "telemetry" / "_hook.py"
ENV = {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library", "CRAWL4AI_NO_CLOUD_NOTICE": "1"}


def outbox_events(home):
    outbox = LocalOutbox(str(home / ".crawl4ai" / "telemetry" / "outbox"))
    return [json.loads(outbox.read(e.event_id)) for e in outbox.entries()]


def test_a_script_with_only_import_crawl4ai_gets_capture(home):
    telemetry.enable()
    proc = run_python(USER_SCRIPT + '''
asyncio.run(crawl())
# A library process is not ours: no global handler, and no sentry-sdk without a DSN.
print("excepthook untouched:", sys.excepthook is sys.__excepthook__)
print("sentry_sdk imported:", "sentry_sdk" in sys.modules)
''', home, **ENV)
    assert proc.returncode == 0, proc.stderr
    assert "success: False" in proc.stdout
    assert "excepthook untouched: True" in proc.stdout
    assert "sentry_sdk imported: False" in proc.stdout
    [event] = outbox_events(home)
    exc = event["exception"]["values"][-1]
    assert (exc["type"], exc["mechanism"]["type"]) == ("LookupError", "crawl")
    assert event["environment"] == "library"


def test_hook_switched_off_patches_nothing_and_install_still_works(home):
    telemetry.enable()
    proc = run_python(USER_SCRIPT + '''
import crawl4ai.telemetry  # resolves (editable installs too) with the hook off
from crawl4ai.telemetry.integrations import crawl4ai as integration
print("patched:", integration.is_installed(),
      hasattr(AsyncWebCrawler.aprocess_html, "__crawl4ai_telemetry_wrapped__"))
asyncio.run(crawl())
print("install:", crawl4ai.telemetry.install())
asyncio.run(crawl())
''', home, CRAWL4AI_TELEMETRY_HOOK="0", **ENV)
    assert proc.returncode == 0, proc.stderr
    assert "patched: False False" in proc.stdout
    assert "install: True" in proc.stdout
    [event] = outbox_events(home)  # the second crawl only
    assert event["exception"]["values"][-1]["type"] == "LookupError"


@pytest.mark.parametrize("switch", [{"CRAWL4AI_TELEMETRY": "0"}, {"DO_NOT_TRACK": "1"}])
def test_telemetry_off_by_env_patches_nothing(home, switch):
    telemetry.enable()
    proc = run_python(USER_SCRIPT + '''
import crawl4ai.async_webcrawler as webcrawler
import crawl4ai.telemetry
from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy as S
from crawl4ai.telemetry.integrations import crawl4ai as integration
mark = "__crawl4ai_telemetry_wrapped__"
print("patched:", integration.is_installed(), any(hasattr(f, mark) for f in (
    AsyncWebCrawler.__init__, AsyncWebCrawler.aprocess_html, AsyncWebCrawler.arun_many,
    webcrawler.get_error_context, S.crawl)))
print("install:", crawl4ai.telemetry.install())
asyncio.run(crawl())
''', home, **switch, **ENV)
    assert proc.returncode == 0, proc.stderr
    assert "patched: False False" in proc.stdout
    assert "install: False" in proc.stdout
    assert outbox_events(home) == []


def test_start_up_loads_only_the_tiny_hook(home):
    proc = run_python('''
import sys
print("hook:", "_crawl4ai_telemetry_hook" in sys.modules)
print("finder:", any(type(f).__name__ == "_Crawl4aiFinder" for f in sys.meta_path))
print("loaded:", sorted(m for m in sys.modules if m.startswith("crawl4ai")))
print("file:", sys.modules["_crawl4ai_telemetry_hook"].__file__)
''', home)
    assert proc.returncode == 0, proc.stderr
    assert "hook: True" in proc.stdout and "finder: True" in proc.stdout
    assert "loaded: []" in proc.stdout
    # The installed copy is this checkout's hook (after editing _hook.py: pip install -e .).
    installed = proc.stdout.split("file: ", 1)[1].strip()
    assert Path(installed).read_bytes() == HOOK_SOURCE.read_bytes()
