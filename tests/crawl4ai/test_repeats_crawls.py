"""Labelled real crawls for "one report per bug, with its count", the misses of attribute access
on results, and values of the wrong type returned by the user's code (HTTP strategy)."""

from __future__ import annotations

import pytest

from tests.crawl4ai.crawling import bug_in, new_crawler, run_config
from tests.crawl4ai.labels import expect_one_bug, expect_quiet


@pytest.mark.parametrize("returned", [None, 7])
async def test_a_users_extraction_strategy_returning_the_wrong_type_is_the_users(site, reports, labelled, returned):
    """crawl4ai runs ``extract`` on a thread pool of its own and fails in its own ``run``
    (``extend(None)``): the value was the user's, so is the failure."""
    from crawl4ai.extraction_strategy import ExtractionStrategy

    labelled("extraction", "user")

    class Nothing(ExtractionStrategy):
        def extract(self, url, html, *args, **kwargs):
            return returned

    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config(
            extraction_strategy=Nothing(input_format="html")))
    assert not result.success and "not iterable" in result.error_message
    expect_quiet(reports, "usage_error")


# -- errors leaving the result objects' attribute access -----------------------------------------


async def test_a_bug_answering_for_the_markdown_result_is_reported(site, reports, integration, labelled):
    from crawl4ai.models import StringCompatibleMarkdown

    labelled("results", "bug")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    with bug_in(integration, StringCompatibleMarkdown, "__getattr__",
                "return getattr(self._markdown_result, name)",
                "return getattr(self._markdown_result, 'raw_' + name)"):
        with pytest.raises(AttributeError):
            result.markdown.fit_markdown  # noqa: B018 - a real field, asked through crawl4ai
    expect_one_bug(reports, "AttributeError", "result", handled=False,
                   frame="crawl4ai.models:StringCompatibleMarkdown.__getattr__")


async def test_a_bug_answering_for_the_result_container_is_reported(site, reports, integration, labelled):
    from crawl4ai.models import CrawlResultContainer

    labelled("results", "bug")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    with bug_in(integration, CrawlResultContainer, "__getattr__",
                "return getattr(self._results[0], attr)", "return getattr(self._results, attr)"):
        with pytest.raises(AttributeError):
            result.success  # noqa: B018
    expect_one_bug(reports, "AttributeError", "result", handled=False,
                   frame="crawl4ai.models:CrawlResultContainer.__getattr__")


async def test_asking_for_renamed_or_missing_fields_is_the_users(site, reports, labelled):
    labelled("results", "user")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    assert not hasattr(result, "no_such_field")
    assert not hasattr(result.markdown, "no_such_part")
    with pytest.raises(AttributeError):
        result.fit_markdown  # noqa: B018 - deprecated on purpose by crawl4ai
    for name in ("markdown_v2", "fit_markdown", "no_such_field"):
        with pytest.raises(AttributeError):
            getattr(result, name)
        with pytest.raises(AttributeError):
            getattr(result[0], name)
    with pytest.raises(AttributeError):
        result.markdown.no_such_part  # noqa: B018
    expect_quiet(reports)


# -- one report per bug, with its count -----------------------------------------------------------


async def test_a_bug_in_every_extracted_field_is_one_report_with_its_count(site, reports, integration, labelled):
    from crawl4ai.extraction_strategy import JsonCssExtractionStrategy

    labelled("extraction", "bug")
    schema = {"name": "page", "baseSelector": "body", "fields": [
        {"name": "title", "selector": "title", "type": "text"},
        {"name": "first", "selector": "p", "type": "text"},
        {"name": "link", "selector": "a", "type": "attribute", "attribute": "href"}]}
    with bug_in(integration, JsonCssExtractionStrategy, "_get_elements",
                "return element.select(selector)", "return element.select(selector)[selector]"):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                extraction_strategy=JsonCssExtractionStrategy(schema)))
    assert result.success
    expect_one_bug(reports, "TypeError", "extraction", handled=True, times=3,
                   frame="crawl4ai.extraction_strategy:JsonCssExtractionStrategy._get_elements")


@pytest.mark.parametrize("times", [1, 50])
async def test_a_result_model_bug_outside_arun_is_one_report_that_says_how_often(
        site, reports, integration, labelled, times):
    from crawl4ai.models import CrawlResultContainer

    labelled("results", "bug")
    async with new_crawler() as crawler:
        result = await crawler.arun(site.url("/ok"), config=run_config())
    with bug_in(integration, CrawlResultContainer, "__getattr__",
                "return getattr(self._results[0], attr)", "return getattr(self._results[1], attr)"):
        for _ in range(times):
            with pytest.raises(IndexError):
                result.markdown  # noqa: B018
    expect_one_bug(reports, "IndexError", "result", handled=False, times=times,
                   frame="crawl4ai.models:CrawlResultContainer.__getattr__")
    counts = reports.counts("IndexError")
    assert (counts["reported"], counts["repeated"]) == (1, times - 1)


async def test_the_same_bug_for_every_url_of_arun_many_is_one_report(site, reports, integration, labelled):
    from crawl4ai.async_dispatcher import RateLimiter

    labelled("dispatcher", "bug")
    urls = [site.url(f"/ok?page={i}") for i in range(4)]
    with bug_in(integration, RateLimiter, "update_delay",
                "state = self.domains[domain]", "state = self.domains[domain] + 1"):
        async with new_crawler() as crawler:
            results = await crawler.arun_many(urls, config=run_config(mean_delay=0, max_range=0))
    assert [r.success for r in results] == [False] * 4
    print(reports.verdicts(), [r.error_message for r in results])
    expect_one_bug(reports, "TypeError", "dispatcher", handled=True, times=4,
                   frame="crawl4ai.async_dispatcher:RateLimiter.update_delay")
