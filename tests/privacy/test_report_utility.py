"""A scrubbed report still tells a maintainer where the bug is: exception type, crawl4ai's frames
(module, function, line, package-relative file), the static text of the message, versions and
environment survive, and one bug seen on different sites groups as one issue."""

from __future__ import annotations

import platform
import sys
import traceback
from importlib.metadata import version

import pytest
from crawl4ai.async_configs import ProxyConfig

from crawl4ai import telemetry
from crawl4ai.telemetry import __version__ as telemetry_version
from crawl4ai.telemetry.providers.sentry import SentryProvider
from crawl4ai.telemetry.report_builder import build_report
from crawl4ai.telemetry.scrub import scrub_event


def _proxy_failure(proxy: str) -> ValueError:
    """A real crawl4ai failure: crawl4ai's own parser rejects a proxy string."""
    with pytest.raises(ValueError) as info:
        ProxyConfig.from_string(proxy)
    return info.value


def _parse_failure(url: str) -> Exception:
    """A real library failure that names the URL it was given (requests, on crawl4ai's stack)."""
    import requests

    with pytest.raises(requests.exceptions.InvalidSchema) as info:
        requests.Session().get_adapter(url)
    return info.value


def test_a_real_crawl4ai_failure_keeps_its_frames():
    exc = _proxy_failure("proxy-a.example.com")
    raised_at = traceback.extract_tb(exc.__traceback__)[-1]
    event = build_report(exc, environment="library").event
    value = event["exception"]["values"][-1]
    assert value["type"] == "ValueError"
    assert value["value"] == "Invalid proxy string format: <host>"
    frame = value["stacktrace"]["frames"][-1]
    assert frame == {
        "filename": "crawl4ai/async_configs.py",
        "module": "crawl4ai.async_configs",
        "function": "ProxyConfig.from_string",
        "lineno": raised_at.lineno,
        "in_app": True,
    }
    assert "crawl4ai.async_configs:ProxyConfig.from_string" in event["fingerprint"]
    assert event["fingerprint"][0] == "ValueError"


def test_one_bug_on_different_sites_groups_as_one_issue():
    reports = [build_report(_proxy_failure(p), environment="library").event
               for p in ("proxy-a.example.com", "socks.other-site.org", "corp-proxy.internal.example.net")]
    assert len({tuple(r["fingerprint"]) for r in reports}) == 1
    assert len({r["exception"]["values"][-1]["value"] for r in reports}) == 1

    urls = ["ftp://shop.example.com/cart?id=7", "gopher://user:pw@blog.example.org:8080/post/12#c",
            "x-news://www.news.example.co.uk/a/b", "ftp://bücher.de/x"]
    parsed = [build_report(_parse_failure(u), environment="library").event for u in urls]
    assert len({tuple(r["fingerprint"]) for r in parsed}) == 1
    assert {r["exception"]["values"][-1]["value"] for r in parsed} == {
        "No connection adapters were found for '<url>'"}


def test_python_names_are_not_mistaken_for_host_names():
    exc = ImportError("cannot import name 'AsyncWebCrawler' from 'crawl4ai.async_webcrawler'")
    value = build_report(exc, environment="library").event["exception"]["values"][-1]["value"]
    assert value == "cannot import name '<user code>' from 'crawl4ai.async_webcrawler'"  # no proof of the name
    with pytest.raises(ImportError) as info:
        from crawl4ai.async_webcrawler import NoSuchThing  # noqa: F401
    value = build_report(info.value, environment="library").event["exception"]["values"][-1]["value"]
    assert value.startswith("cannot import name '<user code>' from 'crawl4ai.async_webcrawler'")


def test_user_frames_and_user_exception_classes_keep_only_that_they_are_user_code():
    class CrawlPipelineError(ValueError):
        pass

    def user_step() -> None:
        raise CrawlPipelineError("step failed")

    with pytest.raises(CrawlPipelineError) as info:
        user_step()
    event = build_report(info.value, environment="library").event
    value = event["exception"]["values"][-1]
    assert value["type"] == "<user code>(ValueError)" and "module" not in value
    assert value["stacktrace"]["frames"] == [{"filename": "<user code>", "in_app": False}] * 2
    assert event["fingerprint"][0] == "<user code>(ValueError)"
    assert scrub_event(event) == event


def test_versions_environment_and_email_survive_the_real_transport(reporting, monkeypatch):
    telemetry.enable(email="maintainer-friend@example.com")
    exc = _proxy_failure("proxy-b.example.com")
    telemetry.capture_exception(exc, {"operation": "crawl", "component": "ProxyConfig"})
    event = reporting.collect(1).events[0]
    assert event["release"] == f"crawl4ai@{version('crawl4ai')}"
    assert event["environment"] == "library"
    assert event["tags"] == {"crawl4ai_version": version("crawl4ai"), "telemetry_version": telemetry_version,
                             "python_version": platform.python_version(), "environment": "library"}
    assert event["contexts"]["crawl4ai"] == {"version": version("crawl4ai"),
                                             "telemetry_version": telemetry_version, "environment": "library"}
    assert event["contexts"]["runtime"] == {"name": platform.python_implementation(),
                                            "version": platform.python_version()}
    # The kernel's release keeps its version number (and labels of known builds, see schema).
    assert event["contexts"]["os"]["name"] == platform.system()
    assert platform.release().startswith(event["contexts"]["os"]["release"].split("-")[0])
    assert event["contexts"]["telemetry"] == {"operation": "crawl", "component": "ProxyConfig"}
    assert event["user"] == {"email": "maintainer-friend@example.com"}
    assert event["exception"]["values"][-1]["value"] == "Invalid proxy string format: <host>"
    assert event["exception"]["values"][-1]["stacktrace"]["frames"][-1]["module"] == "crawl4ai.async_configs"


def test_no_email_unless_one_was_given(reporting):
    telemetry.capture_exception(_proxy_failure("proxy-a.example.com"))
    assert "user" not in reporting.collect(1).events[0]


def test_what_sentry_sends_is_exactly_the_scrubbed_report(sentry_server):
    """The scrubber runs again as Sentry's before_send: on a scrubbed report it changes nothing."""
    report = build_report(_parse_failure("ftp://a.example.com/x?token=1"), {"operation": "parse"},
                          environment="library", email="me@example.com")
    provider = SentryProvider(sentry_server.dsn)
    try:
        assert provider.send_event(report.event)
    finally:
        provider.close(2)
    [received] = sentry_server.wait_for_events(1)
    assert received == report.event


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are 3.11+")
def test_a_group_of_many_failures_keeps_pythons_own_words_for_it():
    """Over-redaction check: an exception group says how many it holds in CPython's words."""
    members = [_parse_failure(f"ftp://site-{i}.example.com/") for i in range(40)]
    group = ExceptionGroup("crawl batch", members)  # noqa: F821 - a builtin from 3.11
    values = build_report(group, environment="library").event["exception"]["values"]
    assert values[-1]["value"] == "<str> (<number> sub-exceptions)"
    assert values[0]["value"] == "No connection adapters were found for '<url>'"


@telemetry.telemetry_decorator(operation="proxy")
def _decorated_proxy(proxy: str) -> None:
    ProxyConfig.from_string(proxy)


@telemetry.telemetry_decorator(operation="proxy")
async def _decorated_async_proxy(proxy: str) -> None:
    ProxyConfig.from_string(proxy)


@pytest.mark.parametrize("call", ["plain", "coroutine"])
def test_our_own_wrapper_frames_never_appear_in_a_report(reporting, call):
    """The decorator's ``wrapper`` is plumbing around the error: noise for the reader and for
    grouping. Through the real decorator and transport, none of our frames is sent."""
    import asyncio

    with pytest.raises(ValueError):
        if call == "plain":
            _decorated_proxy("proxy-c.example.com")
        else:
            asyncio.run(_decorated_async_proxy("proxy-c.example.com"))
    [event] = reporting.collect(1).events
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert frames[-1]["module"] == "crawl4ai.async_configs"
    ours = [f for f in frames if "telemetry" in f.get("module", "") + f.get("filename", "")]
    assert ours == [], ours
    assert not any("telemetry" in part for part in event["fingerprint"]), event["fingerprint"]
    assert "crawl4ai.async_configs:ProxyConfig.from_string" in event["fingerprint"]
