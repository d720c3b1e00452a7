"""Crawl4AI's real API server, in its image's environment as shipped (no telemetry variable, no
code change; an operator's DSN where a test needs to see what is sent): a genuine crawl4ai bug
is reported once with its occurrences counted, what a client sends is never reported, the kill
switches keep nothing, SIGTERM ends within the exit bound keeping pending reports for the next
start, and 50 concurrent failing requests leave the server up.

The server starts once for the module where the cases allow it (a start is ~5-10 s)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from crawl4ai.telemetry.settings import EXIT_TIMEOUT as EXIT_BOUND
from tests.conftest import child_env
from tests.server.crawl4ai_server import (
    API_TOKEN,
    REDIS_PASSWORD,
    Redis,
    Server,
    outbox,
    outbox_entries,
    requirements,
    start,
)
from tests.server.image import IMAGE_ENV
from tests.support.sentry_server import SentryServer

pytestmark = [
    pytest.mark.skipif(requirements() is not None, reason=requirements() or ""),
    pytest.mark.xdist_group("crawl4ai_server"),
    pytest.mark.timeout(600),
]

SECRETS = ("SECRET-PATH-1a", "SECRET-QUERY-2b", "SECRET-COOKIE-4d", "SECRET-HEADER-5e",
           "SECRET-BODY-6f", "secret-host.example", "SECRET-AGENT-7g", API_TOKEN, REDIS_PASSWORD)

# crawl4ai 0.9.x's scraper breaks on an <img> whose width is not ASCII digits (int("²")), logs
# it and carries on: a genuine crawl4ai bug, reached through the server's /crawl.
BUG_PAGE = ('raw:<html><body><p>SECRET-BODY-6f at https://secret-host.example/a?k=SECRET-QUERY-2b'
            '</p><img src="https://secret-host.example/i.png" width="\u00b2"></body></html>')
BUG_REQUEST = {"urls": [BUG_PAGE]}
SECRET_HEADERS = {"Cookie": "session=SECRET-COOKIE-4d", "X-Api-Key": "SECRET-HEADER-5e",
                  "User-Agent": "SECRET-AGENT-7g"}

_PAGE = "raw:<html><body><p>hello</p></body></html>"
# What clients get wrong: each reaches the server's handlers (or its request validation).
BAD_INPUTS = {
    "params not an object": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": "SECRET-BODY-6f"}}),
    "unknown config type": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "SECRET-BODY-6f", "params": {}}}),
    "unknown enum value": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"cache_mode": {"type": "CacheMode",
                                                              "params": "SECRET-BODY-6f"}}}}),
    "bad browser params": ("/crawl", {"urls": [_PAGE], "browser_config": {
        "type": "BrowserConfig", "params": ["SECRET-BODY-6f"]}}),
    "bad css selector": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"css_selector": "[[[SECRET-BODY-6f"}}}),
    "wrong value type": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"word_count_threshold": "SECRET-BODY-6f"}}}),
    "bad selector in an extraction schema": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"extraction_strategy": {
            "type": "JsonCssExtractionStrategy", "params": {"schema": {
                "name": "x", "baseSelector": "[[[SECRET-BODY-6f", "fields": []}}}}}}),
    "bad XPath in an extraction schema": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"extraction_strategy": {
            "type": "JsonXPathExtractionStrategy", "params": {"schema": {
                "name": "x", "baseSelector": "//[[SECRET-BODY-6f", "fields": []}}}}}}),
    "bad wait_for selector": ("/crawl", {"urls": [_PAGE], "crawler_config": {
        "type": "CrawlerRunConfig", "params": {"wait_for": "css:[[[SECRET-BODY-6f"}}}),
    "request validation": ("/crawl", {"urls": "SECRET-BODY-6f"}),
    "config dump of unknown type": ("/config/dump", {"type": "SECRET-BODY-6f", "params": {}}),
    "unknown markdown filter": ("/md", {"url": "https://secret-host.example/", "f": "SECRET-BODY-6f"}),
}


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = Redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def collector() -> Iterator[SentryServer]:
    with SentryServer() as server:
        yield server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis: Redis,
           collector: SentryServer) -> Iterator[Server]:
    """The image as shipped; the operator gave a DSN (the image sets none)."""
    server = start(tmp_path_factory.mktemp("served"), redis, CRAWL4AI_SENTRY_DSN=collector.dsn)
    yield server
    server.stop()


def crawl_bug(server: Server, path: str = "/crawl?token=SECRET-QUERY-2b&p=SECRET-PATH-1a") -> int:
    status, body = server.request("POST", path, BUG_REQUEST, SECRET_HEADERS)
    assert status == 200, body[:300]  # crawl4ai logs its bug and the crawl goes on
    return status


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_bad_request_input_is_never_reported(served, collector):
    statuses: dict[str, int] = {}
    for name, (path, body) in BAD_INPUTS.items():
        status, _ = served.request("POST", path, body, SECRET_HEADERS)
        statuses[name] = status
        assert served.get("/health")[0] == 200, name
    # Most are refused (4xx) or fail (500); a crawl with a bad selector still answers 200.
    assert sum(400 <= status < 600 for status in statuses.values()) >= 9, statuses
    time.sleep(3)  # the worker thread has had ample time to send anything it was given
    assert collector.events() == []
    assert outbox(served.home) == []


def test_a_crawl4ai_bug_is_sent_once_naming_crawl4ai_and_nothing_of_the_request(served, collector):
    crawl_bug(served)
    event = collector.wait_for_events(1, timeout=30)[0]
    value = event["exception"]["values"][-1]
    assert value["type"] == "ValueError"
    assert value["stacktrace"]["frames"][-1]["module"] == "crawl4ai.content_scraping_strategy"
    assert event["environment"] == "api_server"
    assert event["level"] == "error"
    assert "request" not in event and "user" not in event
    wait_for(lambda: [k["state"] for k in outbox(served.home)] == ["sent"])  # marked after sending
    assert outbox(served.home)[0]["event"]["event_id"] == event["event_id"]
    raw = b"".join(collector.raw_bodies())
    for secret in (*SECRETS, "127.0.0.1", str(served.port), str(served.home)):
        assert secret.encode() not in raw, secret


def test_fifty_concurrent_failing_requests_leave_the_server_up_and_make_one_report_with_its_count(
        tmp_path, redis):
    # A server of its own: the module's server has sent this bug already (later errors of a sent
    # bug are counted for its next report, after the repeat window).
    bugs = 25
    requests = [("/crawl", BUG_REQUEST)] * bugs + (list(BAD_INPUTS.values()) * 3)[:50 - bugs]

    with SentryServer() as collector:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=collector.dsn)
        try:
            def send(item):
                path, body = item
                return server.request("POST", path, body, SECRET_HEADERS)[0]

            with ThreadPoolExecutor(max_workers=50) as pool:
                statuses = list(pool.map(send, requests))
            assert len(statuses) == 50 and all(status > 0 for status in statuses)
            assert server.get("/health")[0] == 200
            # A running server sends the bug's report once its repeats are gathered (2 s): wait
            # for it here, since a stop's short exit bound may leave it pending for the next start.
            collector.wait_for_events(1, timeout=60)
        finally:
            server.stop()
        events = collector.events()
    # One report (level error) for the one crawl4ai bug; never a client's input.
    assert [e["exception"]["values"][-1]["type"] for e in events] == ["ValueError"]
    assert events[0]["level"] == "error"
    [kept] = outbox_entries(server.home)
    sent = events[0]["contexts"]["telemetry"]["occurrences"]
    assert 1 < sent <= bugs
    # Every occurrence is counted: in the report's bytes, or beside it for the bug's next report.
    assert kept.occurrences + kept.carried == bugs, (kept.occurrences, kept.carried)


def docker_exec(server: Server, *args: str, **env: str) -> str:
    """``docker exec <container> crwl telemetry ARGS``: the image's environment (with what
    ``docker run -e`` added), the container user's home, the WORKDIR /app; no terminal."""
    environment = {**child_env(server.home), **IMAGE_ENV, **server.run_env, **env}
    crwl = str(Path(sys.executable).with_name("crwl"))
    out = subprocess.run([crwl, "telemetry", *args], cwd=server.app_dir, env=environment,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_docker_exec_status_and_reports_show_the_servers_reports(served, collector):
    crawl_bug(served)
    wait_for(lambda: outbox(served.home) != [])
    status = docker_exec(served, "status")
    assert "Environment:   docker" in status
    assert "on by default in Crawl4AI's docker" in status
    assert "127.0.0.1" in status  # the operator's DSN: its host, never its key
    listed = docker_exec(served, "reports")
    ids = {entry["event"]["event_id"][:12] for entry in outbox(served.home)}
    assert ids and all(short in listed for short in ids)


def test_a_choice_stored_with_docker_exec_is_followed_by_the_running_server(tmp_path, redis):
    with SentryServer() as collector:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=collector.dsn)
        try:
            docker_exec(server, "disable")
            crawl_bug(server)
            time.sleep(3)
        finally:
            server.stop()
        assert collector.events() == []
    assert outbox(server.home) == []


def test_local_keeps_the_report_in_the_container_and_sends_nothing(tmp_path, redis):
    with SentryServer() as collector:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=collector.dsn, CRAWL4AI_TELEMETRY="local")
        try:
            crawl_bug(server)
            wait_for(lambda: outbox(server.home) != [])
            time.sleep(2)
        finally:
            server.stop()
        assert collector.events() == []
    assert [entry["state"] for entry in outbox(server.home)] == ["local"]


@pytest.mark.parametrize("switch", [{"CRAWL4AI_TELEMETRY": "0"}, {"DO_NOT_TRACK": "1"}])
def test_the_kill_switches_keep_nothing(tmp_path, redis, switch):
    with SentryServer() as collector:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=collector.dsn, **switch)
        try:
            crawl_bug(server)
            crawl_bug(server)
            time.sleep(2)
        finally:
            server.stop()
        assert collector.events() == []
    assert outbox(server.home) == []
    assert not (server.home / ".crawl4ai" / "telemetry").exists()


def test_sigterm_keeps_a_pending_report_and_the_next_start_delivers_it(tmp_path: Path, redis):
    with SentryServer(mode="hang") as hung:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=hung.dsn)
        try:
            crawl_bug(server)
            wait_for(lambda: len(outbox(server.home)) == 1)
            seconds = server.terminate()
        finally:
            server.stop()
    [kept] = outbox(server.home)
    assert kept["state"] == "pending"
    # Telemetry waits at most its exit bound (1 s) for the hung collector; the rest is the
    # server's own shutdown (browsers, queue), far below supervisord's graceful timeout of 30 s.
    assert seconds < EXIT_BOUND + 10, server.output()
    assert "Traceback" not in server.output().split("Shutting down")[-1]

    with SentryServer() as collector:
        server = start(tmp_path, redis, CRAWL4AI_SENTRY_DSN=collector.dsn)
        try:
            event = collector.wait_for_events(1, timeout=30)[0]  # no new error needed
        finally:
            server.stop()
    assert event["event_id"] == kept["event"]["event_id"]
    assert json.loads(json.dumps(event["exception"])) == kept["event"]["exception"]
