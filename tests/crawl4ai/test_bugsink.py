"""End to end: a real crawl4ai bug met in a real crawl becomes an event stored by a real
Sentry-protocol server (Bugsink), holding exactly the scrubbed report, field by field."""

from __future__ import annotations

import json

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry._version import __version__
from crawl4ai.telemetry.raw_event import crawl4ai_version
from tests.crawl4ai.crawling import CONTENT_SECRET, new_crawler, run_config

pytestmark = pytest.mark.xdist_group("bugsink")


async def test_crawl4ai_bug_is_stored_by_bugsink(site, reports, bugsink, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", bugsink.dsn)
    telemetry.enable(email="dev@example.com")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url(f"/charset?token=TOKEN-SECRET-41b7&p={CONTENT_SECRET}"),
                                    config=run_config())
    assert not result.success
    [sent] = reports.events()
    [stored] = [e for e in bugsink.wait_for_events(1) if e["event_id"].replace("-", "") == sent["event_id"]]
    data = stored["data"]
    assert data == sent  # Bugsink stored exactly the report kept in the local outbox

    assert (data["platform"], data["level"], data["environment"]) == ("python", "error", "library")
    assert data["release"] == f"crawl4ai@{crawl4ai_version()}"
    assert data["sdk"] == {"name": "crawl4ai.telemetry", "version": __version__}
    [exc] = data["exception"]["values"]
    assert exc["type"] == "LookupError"
    assert exc["value"] == "unknown encoding: <str>"
    assert exc["mechanism"] == {"type": "crawl", "handled": True, "exception_id": 0}
    [frame] = exc["stacktrace"]["frames"]
    assert set(frame) == {"filename", "module", "function", "lineno", "in_app"}  # no vars, no source
    assert frame["filename"] == "crawl4ai/async_crawler_strategy.py"
    assert frame["module"] == "crawl4ai.async_crawler_strategy"
    assert frame["function"] == "AsyncHTTPCrawlerStrategy._handle_http"
    assert frame["in_app"] is True and isinstance(frame["lineno"], int)
    contexts = data["contexts"]
    assert set(contexts) == {"runtime", "os", "crawl4ai", "telemetry"}
    assert contexts["crawl4ai"] == {"version": crawl4ai_version(), "telemetry_version": __version__,
                                    "environment": "library"}
    assert contexts["telemetry"] == {"operation": "crawl", "component": "AsyncHTTPCrawlerStrategy"}
    assert set(contexts["runtime"]) == {"name", "version"} and set(contexts["os"]) == {"name", "release"}
    assert data["tags"]["crawl4ai_version"] == crawl4ai_version()
    assert data["user"] == {"email": "dev@example.com"}
    assert data["fingerprint"] == ["LookupError",
                                   "crawl4ai.async_crawler_strategy:AsyncHTTPCrawlerStrategy._handle_http"]
    for absent in ("request", "server_name", "breadcrumbs", "extra", "modules", "threads"):
        assert absent not in data
    stored_text = json.dumps(stored)
    for secret in ("TOKEN-SECRET-41b7", CONTENT_SECRET, f"127.0.0.1:{site.port}"):
        assert secret not in stored_text

    [issue] = [i for i in bugsink.issues() if i["id"] == stored["issue"]]
    assert (issue["calculated_type"], issue["calculated_value"]) == (
        "LookupError", "unknown encoding: <str>")
