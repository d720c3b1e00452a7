"""Labelled crawls across crawl4ai's subsystems (HTTP strategy): in each, a crawl4ai bug (one line
of crawl4ai's real function recompiled under its own file and line) is reported once, with its
type and crawl4ai frames; an operational failure and a user's mistake are seen and not reported.

Every test labels itself (:func:`labelled`); the session prints recall, false positives and
duplicates per subsystem (tests/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.crawl4ai.crawling import bug_in, new_crawler, run_config
from tests.crawl4ai.labels import expect_one_bug, expect_quiet

# -- a failing site, whatever the subsystem: seen as the site's failure, never reported ------------


def failing_site_configs():
    from crawl4ai.chunking_strategy import RegexChunking
    from crawl4ai.content_filter_strategy import BM25ContentFilter
    from crawl4ai.extraction_strategy import JsonCssExtractionStrategy
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    from crawl4ai import CacheMode

    return {
        "markdown": {"markdown_generator": DefaultMarkdownGenerator(options={"citations": True})},
        "content filter": {"markdown_generator": DefaultMarkdownGenerator(content_filter=BM25ContentFilter())},
        "chunking": {"extraction_strategy": regex_extraction(), "chunking_strategy": RegexChunking()},
        "extraction": {"extraction_strategy": JsonCssExtractionStrategy(SCHEMA)},
        "cache": {"cache_mode": CacheMode.ENABLED},
        "scraper": {"css_selector": "main"},
    }


@pytest.mark.parametrize("path", ["/500", "/404"])
@pytest.mark.parametrize("subsystem", ["markdown", "content filter", "chunking", "extraction", "cache", "scraper"])
async def test_a_failing_site_is_quiet_whatever_the_subsystem(site, reports, labelled, subsystem, path):
    labelled(subsystem, "operational")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url(path), config=run_config(**failing_site_configs()[subsystem]))
    assert not result.success
    expect_quiet(reports, "site_failure")


# -- markdown -----------------------------------------------------------------------------------


async def test_markdown_bug_hidden_in_the_references_string_is_reported(site, reports, integration, labelled):
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    labelled("markdown", "bug")
    with bug_in(integration, DefaultMarkdownGenerator, "convert_links_to_citations",
                "num = link_map[url][0]", "num = link_map[url][0] + title"):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config())
    assert result.success
    assert result.markdown.references_markdown.startswith("Error generating citations")
    expect_one_bug(reports, "TypeError", "markdown", handled=True, frame=(
        "crawl4ai.markdown_generation_strategy:DefaultMarkdownGenerator.convert_links_to_citations"))


async def test_markdown_options_of_the_wrong_type_are_the_users(site, reports, labelled):
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    labelled("markdown", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            markdown_generator=DefaultMarkdownGenerator(options=[("body_width", 0)])))
    assert result.success
    expect_quiet(reports)


# -- content filters ----------------------------------------------------------------------------


async def test_content_filter_bug_hidden_in_fit_markdown_is_reported(site, reports, integration, labelled):
    from crawl4ai.content_filter_strategy import PruningContentFilter
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    labelled("content filter", "bug")
    with bug_in(integration, PruningContentFilter, "filter_content",
                'body = soup.find("body")', 'body = soup.find("body").parent.name.body'):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                markdown_generator=DefaultMarkdownGenerator(content_filter=PruningContentFilter())))
    assert result.success
    assert result.markdown.fit_markdown.startswith("Error generating fit markdown")
    expect_one_bug(reports, "AttributeError", "content_filter", handled=True,
                   frame="crawl4ai.content_filter_strategy:PruningContentFilter.filter_content")


async def test_content_filter_threshold_of_the_wrong_type_is_the_users(site, reports, labelled):
    from crawl4ai.content_filter_strategy import PruningContentFilter
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    labelled("content filter", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            markdown_generator=DefaultMarkdownGenerator(
                content_filter=PruningContentFilter(threshold="high"))))
    assert result.success and result.markdown.fit_markdown.startswith("Error generating fit markdown")
    expect_quiet(reports, "usage_error")


# -- chunking -----------------------------------------------------------------------------------


def regex_extraction():
    from crawl4ai.extraction_strategy import RegexExtractionStrategy

    return RegexExtractionStrategy(pattern=RegexExtractionStrategy.Email, input_format="markdown")


async def test_chunking_bug_is_reported(site, reports, integration, labelled):
    from crawl4ai.chunking_strategy import RegexChunking

    labelled("chunking", "bug")
    with bug_in(integration, RegexChunking, "chunk",
                "paragraphs = new_paragraphs", "paragraphs = new_paragraphs[None]"):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                extraction_strategy=regex_extraction(), chunking_strategy=RegexChunking()))
    assert not result.success
    expect_one_bug(reports, "TypeError", "chunking", handled=True,
                   frame="crawl4ai.chunking_strategy:RegexChunking.chunk")


async def test_chunking_with_an_invalid_user_regex_is_the_users(site, reports, labelled):
    from crawl4ai.chunking_strategy import RegexChunking

    labelled("chunking", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=regex_extraction(), chunking_strategy=RegexChunking(patterns=[r"(\n"])))
    assert not result.success
    expect_quiet(reports, "usage_error")


async def test_a_users_chunker_returning_the_wrong_type_is_the_users(site, reports, labelled):
    from crawl4ai.chunking_strategy import ChunkingStrategy

    class Paragraphs(ChunkingStrategy):
        def chunk(self, text):
            return None if text else []

    labelled("chunking", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=regex_extraction(), chunking_strategy=Paragraphs()))
    assert not result.success
    expect_quiet(reports, "usage_error")


# -- extraction (CSS schema) --------------------------------------------------------------------

SCHEMA = {"name": "paragraphs", "baseSelector": "body",
          "fields": [{"name": "text", "selector": "p", "type": "list",
                      "fields": [{"name": "t", "type": "text"}]}]}


async def test_css_extraction_bug_hidden_in_a_default_value_is_reported(site, reports, integration, labelled):
    from crawl4ai.extraction_strategy import JsonCssExtractionStrategy

    labelled("extraction", "bug")
    with bug_in(integration, JsonCssExtractionStrategy, "_get_elements",
                "return element.select(selector)", "return element.select(selector)[selector]"):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                extraction_strategy=JsonCssExtractionStrategy(SCHEMA)))
    assert result.success  # the field silently falls back to its default
    expect_one_bug(reports, "TypeError", "extraction", handled=True,
                   frame="crawl4ai.extraction_strategy:JsonCssExtractionStrategy._get_elements")


@pytest.mark.parametrize("selector", ["p[", ["p", "a"]], ids=["invalid", "a list"])
async def test_css_extraction_with_a_bad_selector_is_the_users(site, reports, labelled, selector):
    from crawl4ai.extraction_strategy import JsonCssExtractionStrategy

    labelled("extraction", "user")
    schema = {**SCHEMA, "fields": [{**SCHEMA["fields"][0], "selector": selector}]}
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=JsonCssExtractionStrategy(schema)))
    assert result.success
    expect_quiet(reports)


# -- deep crawl ---------------------------------------------------------------------------------


async def test_deep_crawl_bug_is_reported(site, reports, integration, labelled):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    labelled("deep crawl", "bug")
    with bug_in(integration, BFSDeepCrawlStrategy, "link_discovery",
                "next_depth = current_depth + 1", "next_depth = current_depth + str(1)"):
        async with new_crawler() as crawler:
            with pytest.raises(TypeError):
                await crawler.arun(site.url("/ok"), config=run_config(
                    deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))
    expect_one_bug(reports, "TypeError", "deep_crawl", handled=False,
                   frame="crawl4ai.deep_crawling.bfs_strategy:BFSDeepCrawlStrategy.link_discovery")


async def test_deep_crawl_of_a_refused_site_is_quiet(reports, refused_url, labelled):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    labelled("deep crawl", "operational")
    async with new_crawler() as crawler:
        results = await crawler.arun(refused_url, config=run_config(
            deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))
    assert [r.success for r in results] == [False]
    expect_quiet(reports, "site_failure")


async def test_deep_crawl_depth_given_as_text_is_the_users(site, reports, labelled):
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    labelled("deep crawl", "user")
    async with new_crawler() as crawler:
        with pytest.raises(TypeError):
            await crawler.arun(site.url("/ok"), config=run_config(
                deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth="2")))
    expect_quiet(reports, "usage_error")


# -- dispatchers --------------------------------------------------------------------------------


async def test_rate_limiter_bug_turned_into_a_failed_result_is_reported(site, reports, integration, labelled):
    from crawl4ai.async_dispatcher import RateLimiter

    labelled("dispatcher", "bug")
    with bug_in(integration, RateLimiter, "update_delay",
                "state = self.domains[domain]", "state = self.domains[domain] + 1"):
        async with new_crawler() as crawler:
            results = await crawler.arun_many([site.url("/ok")],
                                              config=run_config(mean_delay=0, max_range=0))
    assert [r.success for r in results] == [False]
    expect_one_bug(reports, "TypeError", "dispatcher", handled=True,
                   frame="crawl4ai.async_dispatcher:RateLimiter.update_delay")


async def test_semaphore_dispatcher_bug_is_reported_with_its_real_cause(site, reports, integration, labelled):
    from crawl4ai.async_dispatcher import SemaphoreDispatcher

    labelled("dispatcher", "bug")
    with bug_in(integration, SemaphoreDispatcher, "crawl_url",
                "start_time = time.time()", "start_time = time.time() + url"):
        async with new_crawler() as crawler:
            # crawl4ai gathers with return_exceptions=True; only a secondary AttributeError
            # ("... has no attribute 'result'") reaches the caller.
            with pytest.raises(AttributeError):
                await crawler.arun_many([site.url("/ok")], config=run_config(),
                                        dispatcher=SemaphoreDispatcher(semaphore_count=2))
    expect_one_bug(reports, "TypeError", "dispatcher", handled=True,
                   frame="crawl4ai.async_dispatcher:SemaphoreDispatcher.crawl_url")


async def test_dispatcher_permits_given_as_text_are_the_users(site, reports, labelled):
    from crawl4ai.async_dispatcher import SemaphoreDispatcher

    labelled("dispatcher", "user")
    async with new_crawler() as crawler:
        with pytest.raises(TypeError):
            await crawler.arun_many([site.url("/ok")], config=run_config(),
                                    dispatcher=SemaphoreDispatcher(semaphore_count="2"))
    expect_quiet(reports, "usage_error")


async def test_dispatcher_with_failing_sites_is_quiet(site, reports, refused_url, labelled):
    labelled("dispatcher", "operational")
    async with new_crawler() as crawler:
        results = await crawler.arun_many([site.url("/500"), refused_url],
                                          config=run_config(mean_delay=0, max_range=0))
    assert [r.success for r in results] == [False, False]
    expect_quiet(reports, "site_failure")


# -- the HTTP crawler strategy and the crawler's lifecycle ----------------------------------------


async def test_http_strategy_start_up_bug_outside_arun_is_reported(reports, integration, labelled):
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

    labelled("lifecycle", "bug")
    with bug_in(integration, AsyncHTTPCrawlerStrategy, "start",
                "if not self._session:", "if not self._session.closed:"):
        with pytest.raises(AttributeError):
            async with new_crawler():
                pass
    expect_one_bug(reports, "AttributeError", "lifecycle", handled=False,
                   frame="crawl4ai.async_crawler_strategy:AsyncHTTPCrawlerStrategy.start")


async def test_a_hook_with_the_wrong_signature_is_the_users(site, reports, labelled):
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

    from crawl4ai import HTTPCrawlerConfig

    labelled("http strategy", "user")
    strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
    strategy.set_hook("before_request", lambda: None)
    async with new_crawler(strategy) as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    assert not result.success
    expect_quiet(reports, "user_code")


# -- the scraping strategy ----------------------------------------------------------------------


async def test_scraper_given_a_list_as_css_selector_is_the_users(site, reports, labelled):
    labelled("scraper", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(css_selector=["p", "a"]))
    expect_quiet(reports)
    assert result is not None


# -- extraction with an LLM (an OpenAI-compatible provider on 127.0.0.1) ---------------------------


def llm_extraction(base_url: str):
    from crawl4ai.extraction_strategy import LLMExtractionStrategy

    from crawl4ai import LLMConfig

    return LLMExtractionStrategy(
        llm_config=LLMConfig(provider="openai/gpt-4o-mini", api_token="sk-test-LLM-KEY-0000",
                             base_url=base_url, backoff_max_attempts=1),
        instruction="List the paragraphs.", input_format="markdown")


async def test_llm_extraction_bug_hidden_in_an_error_block_is_reported(site, reports, integration, labelled):
    import crawl4ai.utils as utils

    labelled("llm extraction", "bug")
    with bug_in(integration, utils, "aperform_completion_with_backoff",
                "if json_response:", "if json_response.lower():"):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                extraction_strategy=llm_extraction(site.url("/v1"))))
    assert result.success and '"error": true' in result.extracted_content
    expect_one_bug(reports, "AttributeError", "llm", handled=True,
                   frame="crawl4ai.utils:aperform_completion_with_backoff")


async def test_llm_provider_out_of_reach_is_quiet(site, reports, refused_url, labelled):
    labelled("llm extraction", "operational")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=llm_extraction(refused_url + "v1")))
    assert result.success and '"error": true' in result.extracted_content
    expect_quiet(reports, "site_failure")


async def test_llm_provider_refusing_the_users_key_is_quiet(site, reports, labelled):
    labelled("llm extraction", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=llm_extraction(site.url("/v1"))))
    assert result.success and '"error": true' in result.extracted_content
    expect_quiet(reports, "site_failure")


# -- the cache ----------------------------------------------------------------------------------


async def test_cache_reader_bug_crawl4ai_logs_and_swallows_is_reported(site, reports, integration, labelled):
    # crawl4ai's real retry path (nothing patched): three tries with 1 s and 2 s back-off, three
    # exception objects of the one bug, then the log line; one report that says 3.
    from crawl4ai.async_database import AsyncDatabaseManager, async_db_manager

    from crawl4ai import CacheMode

    labelled("cache", "bug")
    assert async_db_manager.max_retries == 3
    url = site.url("/ok?cache-bug")
    async with new_crawler() as crawler:
        assert (await crawler.arun(url, config=run_config(cache_mode=CacheMode.ENABLED))).success
        with bug_in(integration, AsyncDatabaseManager, "aget_cached_url",
                    "row_dict = dict(zip(columns, row))", "row_dict = dict(zip(columns, row), **row)"):
            result = await crawler.arun(url, config=run_config(cache_mode=CacheMode.ENABLED))
    assert result.success  # the cache miss is silent: crawled again
    expect_one_bug(reports, "TypeError", "logged", handled=True, times=3,
                   frame="crawl4ai.async_database:AsyncDatabaseManager.aget_cached_url.<locals>._get")


async def test_cache_mode_given_as_text_is_the_users(site, reports, labelled):
    labelled("cache", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(cache_mode="enabled"))
    assert result is not None
    expect_quiet(reports)
