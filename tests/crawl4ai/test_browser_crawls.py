"""Labelled crawls through crawl4ai's browser strategy, against a real Chromium started by the
test (over CDP, as crawl4ai connects to a browser it did not launch): a crawl4ai bug crawl4ai
swallows and logs (the screenshot), one raised outside ``arun`` (browser start-up, sessions),
navigation failures and a user's broken script. All browser tests share one Chromium (one xdist
group)."""

from __future__ import annotations

import pytest

from tests.crawl4ai.crawling import bug_in, run_config
from tests.crawl4ai.labels import expect_one_bug, expect_quiet

pytestmark = pytest.mark.xdist_group("chromium")


def browser_crawler(cdp_url: str):
    from crawl4ai import AsyncWebCrawler, BrowserConfig

    return AsyncWebCrawler(config=BrowserConfig(cdp_url=cdp_url, verbose=False))


async def test_screenshot_bug_crawl4ai_logs_and_swallows_is_reported(chromium, site, reports, integration, labelled):
    from crawl4ai.async_crawler_strategy import AsyncPlaywrightCrawlerStrategy

    labelled("browser", "bug")
    with bug_in(integration, AsyncPlaywrightCrawlerStrategy, "take_screenshot_naive",
                'return base64.b64encode(screenshot).decode("utf-8")',
                'return base64.b64encode(screenshot).decode("utf-8").decoded'):
        async with browser_crawler(chromium.cdp_url) as crawler:
            result = await crawler.arun(site.url("/short"), config=run_config(screenshot=True))
    assert result.success and result.screenshot  # crawl4ai draws an error image instead
    expect_one_bug(reports, "AttributeError", "logged", handled=True, frame=(
        "crawl4ai.async_crawler_strategy:AsyncPlaywrightCrawlerStrategy.take_screenshot_naive"))


async def test_browser_navigation_to_a_refused_site_is_quiet(chromium, reports, refused_url, labelled):
    labelled("browser", "operational")
    async with browser_crawler(chromium.cdp_url) as crawler:
        result = await crawler.arun(refused_url, config=run_config())
    assert not result.success and "ERR_CONNECTION_REFUSED" in result.error_message
    expect_quiet(reports, "site_failure")


async def test_browser_navigation_to_an_unresolvable_host_is_quiet(chromium, reports, labelled):
    # Chromium's own net::ERR_NAME_NOT_RESOLVED (a .invalid name never resolves), wrapped by
    # crawl4ai's navigation step the way a user's crawl of a mistyped host meets it.
    labelled("browser", "operational")
    async with browser_crawler(chromium.cdp_url) as crawler:
        result = await crawler.arun("http://no-such-host.invalid/page", config=run_config())
    assert not result.success and "net::ERR_NAME_NOT_RESOLVED" in result.error_message
    expect_quiet(reports, "site_failure")


async def test_a_users_broken_script_is_quiet(chromium, site, reports, labelled):
    labelled("browser", "user")
    async with browser_crawler(chromium.cdp_url) as crawler:
        result = await crawler.arun(site.url("/short"), config=run_config(
            js_code="this is not javascript(("))
    assert result.success
    expect_quiet(reports)


async def test_browser_start_up_bug_outside_arun_is_reported(chromium, reports, integration, labelled):
    from crawl4ai.browser_manager import BrowserManager

    labelled("lifecycle", "bug")
    with bug_in(integration, BrowserManager, "_start_impl",
                "self._using_cached_cdp = False", "self._using_cached_cdp = self.cached_cdp"):
        with pytest.raises(AttributeError):
            async with browser_crawler(chromium.cdp_url):
                pass
    expect_one_bug(reports, "AttributeError", "browser", handled=False,
                   frame="crawl4ai.browser_manager:BrowserManager._start_impl")


async def test_a_browser_that_is_not_there_is_quiet(reports, refused_url, labelled):
    labelled("lifecycle", "operational")
    with pytest.raises(Exception):  # noqa: B017 - whatever Playwright raises for a refused CDP
        async with browser_crawler(refused_url):
            pass
    expect_quiet(reports, "usage_error")  # crawl4ai: "CDP endpoint ... is not ready"


async def test_kill_session_bug_outside_arun_is_reported(chromium, site, reports, integration, labelled):
    from crawl4ai.browser_manager import BrowserManager

    labelled("sessions", "bug")
    with bug_in(integration, BrowserManager, "kill_session",
                "context, page, _ = self.sessions[session_id]",
                "context, page = self.sessions[session_id]"):
        async with browser_crawler(chromium.cdp_url) as crawler:
            result = await crawler.arun(site.url("/short"), config=run_config(session_id="s1"))
            assert result.success
            with pytest.raises(ValueError):
                await crawler.crawler_strategy.kill_session("s1")
    expect_one_bug(reports, "ValueError", "session", handled=False,
                   frame="crawl4ai.browser_manager:BrowserManager.kill_session")


async def test_session_pages_and_a_refused_site_are_quiet(chromium, site, reports, refused_url, labelled):
    labelled("sessions", "operational")
    async with browser_crawler(chromium.cdp_url) as crawler:
        first = await crawler.arun(site.url("/short"), config=run_config(session_id="s2"))
        second = await crawler.arun(refused_url, config=run_config(session_id="s2"))
        await crawler.crawler_strategy.kill_session("s2")
    assert first.success and not second.success
    expect_quiet(reports, "site_failure")
