"""Labelled crawls with the real crawl4ai: its own bugs are reported, once each; failures of the
sites being crawled, bad input and errors in the user's own code are seen and not reported."""

from __future__ import annotations

import inspect

import pytest

from tests.crawl4ai.crawling import (
    crawl4ai_frames,
    crawl4ai_helper,
    last_exception,
    new_crawler,
    run_config,
)

SITE_FAILURES = {
    "http 404": ("/404", {}),
    "http 500": ("/500", {}),
    "timeout": ("/slow", {"page_timeout": 300}),
}


@pytest.mark.parametrize("label", list(SITE_FAILURES))
async def test_site_failures_are_seen_and_not_reported(site, reports, label):
    path, options = SITE_FAILURES[label]
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url(path), config=run_config(**options))
    assert not result.success
    assert reports.verdicts() == {"site_failure": 1}
    assert reports.events() == []


async def test_refused_connection_is_not_reported(reports, refused_url, labelled):
    labelled("http strategy", "operational")
    async with new_crawler() as crawler:
        result = await crawler.arun(refused_url, config=run_config())
    assert not result.success and "Connection failed" in result.error_message
    assert reports.verdicts() == {"site_failure": 1}
    assert reports.events() == []


async def test_unresolvable_host_is_not_reported(reports):
    async with new_crawler() as crawler:
        result = await crawler.arun("http://no-such-host.invalid/page", config=run_config())
    assert not result.success
    assert reports.verdicts() == {"site_failure": 1}
    assert reports.events() == []


async def test_a_good_page_sees_nothing(site, reports):
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    assert result.success
    assert reports.verdicts() == {}
    assert reports.events() == []


async def test_bad_input_rejected_on_purpose_is_not_a_bug(reports, labelled):
    labelled("http strategy", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun("ftp://files.example/x", config=run_config())
        assert not result.success and "Unsupported URL scheme" in result.error_message
        with pytest.raises(ValueError, match="Invalid URL"):
            await crawler.arun("", config=run_config())
    assert reports.verdicts() == {"usage_error": 2}
    assert reports.events() == []


async def test_unknown_charset_bug_in_the_http_strategy_is_reported_once(site, reports, labelled):
    labelled("http strategy", "bug")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/charset"), config=run_config())
    assert not result.success and "unknown encoding" in result.error_message
    [event] = reports.events()
    exc = last_exception(event)
    assert exc["type"] == "LookupError"
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("crawl", True)
    assert crawl4ai_frames(event) == [
        "crawl4ai.async_crawler_strategy:AsyncHTTPCrawlerStrategy._handle_http"]
    assert event["contexts"]["telemetry"] == {"operation": "crawl",
                                              "component": "AsyncHTTPCrawlerStrategy"}
    # Seen at crawl() and again in arun's catch-all: one failure, one verdict, one report.
    assert reports.verdicts() == {"crawl4ai_bug": 1}


async def test_scraper_bug_hidden_in_a_successful_result_is_reported(site, reports, labelled):
    labelled("scraper", "bug")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/image"), config=run_config())
    assert result.success  # crawl4ai logs the error and drops the image
    [event] = reports.events()
    exc = last_exception(event)
    assert exc["type"] == "ValueError"
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("scrap", True)
    assert "crawl4ai.content_scraping_strategy:LXMLWebScrapingStrategy.process_image" in crawl4ai_frames(event)
    assert reports.verdicts() == {"crawl4ai_bug": 1}


async def test_bug_in_a_helper_of_aprocess_html_is_reported_once(site, reports, monkeypatch):
    import crawl4ai.async_webcrawler as webcrawler
    import crawl4ai.utils as utils

    broken = crawl4ai_helper(utils, (
        "def preprocess_html_for_schema(html_content, text_threshold=100, max_size=300000):\n"
        "    return html_content.no_such_attribute\n"), "preprocess_html_for_schema")
    monkeypatch.setattr(webcrawler, "preprocess_html_for_schema", broken)
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    assert not result.success and "no_such_attribute" in result.error_message
    [event] = reports.events()
    exc = last_exception(event)
    assert exc["type"] == "AttributeError"
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("aprocess_html", True)
    assert crawl4ai_frames(event)[-2:] == [
        "crawl4ai.async_webcrawler:AsyncWebCrawler.aprocess_html",
        "crawl4ai.utils:preprocess_html_for_schema"]


@pytest.fixture
def broken_deep_crawl_helper(monkeypatch):
    """A bug in a helper of crawl4ai's BFS deep crawl (compiled under crawl4ai's file name)."""
    import crawl4ai.deep_crawling.bfs_strategy as bfs
    import crawl4ai.utils as utils

    broken = crawl4ai_helper(utils, (
        "def normalize_url_for_deep_crawl(href, base_url):\n"
        "    return href + len(base_url)\n"), "normalize_url_for_deep_crawl")
    monkeypatch.setattr(bfs, "normalize_url_for_deep_crawl", broken)


def assert_one_deep_crawl_bug_reported(reports) -> None:
    [event] = reports.events()
    exc = last_exception(event)
    assert exc["type"] == "TypeError"
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == ("deep_crawl", False)
    assert crawl4ai_frames(event)[-2:] == [
        "crawl4ai.deep_crawling.bfs_strategy:BFSDeepCrawlStrategy.link_discovery",
        "crawl4ai.utils:normalize_url_for_deep_crawl"]


async def test_bug_in_a_deep_crawl_helper_propagates_unchanged_and_is_reported(
        site, reports, broken_deep_crawl_helper):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    async with new_crawler() as crawler:
        with pytest.raises(TypeError, match="can only concatenate str"):
            await crawler.arun(site.url("/ok"), config=run_config(
                deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))
    assert_one_deep_crawl_bug_reported(reports)


async def test_bug_in_a_streaming_deep_crawl_is_reported_while_iterating(
        site, reports, broken_deep_crawl_helper):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    seen_urls = []
    async with new_crawler() as crawler:
        stream = await crawler.arun(site.url("/ok"), config=run_config(
            stream=True, deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))
        assert inspect.isasyncgen(stream)
        with pytest.raises(TypeError, match="can only concatenate str") as info:
            async for result in stream:
                seen_urls.append(result.url)
    assert seen_urls == [site.url("/ok")]  # the first page came through before the bug
    # The traceback the user sees starts in their own code, not in a telemetry wrapper.
    assert "crawl4ai/telemetry" not in info.value.__traceback__.tb_frame.f_code.co_filename
    assert_one_deep_crawl_bug_reported(reports)


async def test_arun_many_reports_each_bug_once_and_no_site_failure(site, reports, refused_url):
    urls = [site.url("/charset"), site.url("/image"), site.url("/404"), refused_url, site.url("/ok")]
    async with new_crawler() as crawler:
        results = await crawler.arun_many(urls, config=run_config(mean_delay=0, max_range=0))
    assert [r.success for r in results].count(True) == 2  # /image and /ok
    events = reports.events()
    assert sorted(last_exception(e)["type"] for e in events) == ["LookupError", "ValueError"]
    assert reports.verdicts() == {"crawl4ai_bug": 2, "site_failure": 2}


# -- the user's own code ------------------------------------------------------------------------


async def test_error_in_a_users_crawler_strategy_is_not_reported(reports):
    from crawl4ai.async_crawler_strategy import AsyncCrawlerStrategy

    class MyStrategy(AsyncCrawlerStrategy):
        async def crawl(self, url, **kwargs):
            return {"pages": 1}["html"]

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return None

    async with new_crawler(MyStrategy()) as crawler:
        result = await crawler.arun("http://127.0.0.1:9/x", config=run_config())
    assert not result.success and "'html'" in result.error_message
    assert reports.verdicts() == {"user_code": 1}
    assert reports.events() == []


async def test_error_in_a_users_hook_is_not_reported(site, reports):
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

    from crawl4ai import HTTPCrawlerConfig

    def after_request(response):
        raise RuntimeError("my hook failed")

    strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
    strategy.set_hook("after_request", after_request)
    async with new_crawler(strategy) as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    assert not result.success and "my hook failed" in result.error_message
    assert reports.verdicts() == {"user_code": 1}
    assert reports.events() == []


async def test_error_in_a_users_extraction_strategy_is_not_reported(site, reports, labelled):
    labelled("extraction", "user")
    from crawl4ai.extraction_strategy import ExtractionStrategy

    class MyExtraction(ExtractionStrategy):
        def extract(self, url, html, *args, **kwargs):
            return [{"n": len(html) / 0}]

    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=MyExtraction(input_format="html")))
    assert not result.success and "division by zero" in result.error_message
    assert reports.verdicts() == {"user_code": 1}
    assert reports.events() == []


async def test_error_in_a_users_url_scorer_propagates_and_is_not_reported(site, reports):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy
    from crawl4ai.deep_crawling.scorers import URLScorer

    class MyScorer(URLScorer):
        def _calculate_score(self, url):
            return {}["score"]

    async with new_crawler() as crawler:
        with pytest.raises(KeyError):
            await crawler.arun(site.url("/ok"), config=run_config(
                deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1, url_scorer=MyScorer())))
    assert reports.verdicts() == {"user_code": 1}
    assert reports.events() == []

