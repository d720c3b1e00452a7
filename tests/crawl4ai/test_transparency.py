"""The add-on changes nothing a crawl4ai user can see: the same results, the same exceptions
with the same tracebacks; and crawlers created before it was activated are covered too."""

from __future__ import annotations

import asyncio
import traceback

import pytest

from tests.crawl4ai.crawling import crawl4ai_helper, last_exception, new_crawler, run_config

FIELDS = ("url", "success", "status_code", "error_message", "html", "cleaned_html",
          "redirected_url", "links", "media", "metadata")


async def crawl_all(urls):
    out = []
    async with new_crawler() as crawler:
        for url in urls:
            result = await crawler.arun(url, config=run_config())
            seen = {f: getattr(result, f) for f in FIELDS}
            seen["markdown"] = result.markdown.raw_markdown if result.markdown else None
            out.append(seen)
    return out


async def test_results_are_the_same_with_and_without_the_add_on(site, refused_url, integration, reports):
    urls = [site.url("/ok"), site.url("/404"), refused_url, site.url("/charset"),
            site.url("/image"), "ftp://files.example/x"]
    with_add_on = await crawl_all(urls)
    assert reports.verdicts() == {"crawl4ai_bug": 2, "site_failure": 2, "usage_error": 1}
    integration.uninstall()
    without = await crawl_all(urls)
    integration.install()
    assert with_add_on == without


def frames(exc):
    return [(f.filename, f.name, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]


async def raised_by(make_call):
    # A task of its own: crawl4ai's DeepCrawlDecorator leaves its "deep crawl active" context
    # variable set when a deep crawl raises, which would turn the next deep crawl in the same
    # context into a plain crawl (a crawl4ai 0.9.5 bug, with or without the add-on).
    try:
        await asyncio.create_task(make_call())
    except Exception as exc:  # noqa: BLE001 - the test compares whatever comes out
        return exc
    raise AssertionError("nothing was raised")


@pytest.mark.parametrize("case", ["crawl4ai bug in a deep crawl", "bad input"])
async def test_exceptions_keep_type_message_and_traceback(site, integration, reports, monkeypatch, case):
    import crawl4ai.deep_crawling.bfs_strategy as bfs
    import crawl4ai.utils as utils
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    monkeypatch.setattr(bfs, "normalize_url_for_deep_crawl", crawl4ai_helper(utils, (
        "def normalize_url_for_deep_crawl(href, base_url):\n"
        "    return href + len(base_url)\n"), "normalize_url_for_deep_crawl"))

    async def call():
        async with new_crawler() as crawler:
            if case == "bad input":
                await crawler.arun("", config=run_config())
            await crawler.arun(site.url("/ok"), config=run_config(
                deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))

    with_add_on = await raised_by(call)
    integration.uninstall()
    without = await raised_by(call)
    integration.install()
    assert type(with_add_on) is type(without)
    assert str(with_add_on) == str(without)
    assert with_add_on.__cause__ is None and with_add_on.__context__ is None
    assert frames(with_add_on) == frames(without)
    assert not any("/telemetry/" in f[0] for f in frames(with_add_on))
    assert len(reports.events()) == (1 if case != "bad input" else 0)


async def test_crawlers_created_before_activation_are_covered(site, integration, reports, monkeypatch):
    import crawl4ai.deep_crawling.bfs_strategy as bfs
    import crawl4ai.utils as utils
    from crawl4ai.deep_crawling import BFSDeepCrawlStrategy

    integration.uninstall()
    crawler = new_crawler()
    await crawler.start()
    try:
        assert integration.install()
        failed = await crawler.arun(site.url("/charset"), config=run_config())
        monkeypatch.setattr(bfs, "normalize_url_for_deep_crawl", crawl4ai_helper(utils, (
            "def normalize_url_for_deep_crawl(href, base_url):\n"
            "    return href + len(base_url)\n"), "normalize_url_for_deep_crawl"))
        with pytest.raises(TypeError):
            await crawler.arun(site.url("/ok"), config=run_config(
                deep_crawl_strategy=BFSDeepCrawlStrategy(max_depth=1)))
    finally:
        await crawler.close()
    assert not failed.success
    events = reports.events()
    assert sorted((last_exception(e)["type"], last_exception(e)["mechanism"]["type"]) for e in events) == [
        ("LookupError", "crawl"), ("TypeError", "deep_crawl")]


async def test_every_subsystem_gives_the_same_result_with_and_without_the_add_on(site, integration, reports):
    """Markdown with citations, a content filter, CSS extraction and chunking run through the
    capture table's wrappers (and a user's strategy through an extension-point wrapper)."""
    from crawl4ai.chunking_strategy import ChunkingStrategy
    from crawl4ai.content_filter_strategy import PruningContentFilter
    from crawl4ai.extraction_strategy import JsonCssExtractionStrategy, RegexExtractionStrategy
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    from tests.crawl4ai.test_subsystems import SCHEMA

    class Halves(ChunkingStrategy):
        def chunk(self, text):
            return [text[: len(text) // 2], text[len(text) // 2:]]

    configs = [
        run_config(markdown_generator=DefaultMarkdownGenerator(content_filter=PruningContentFilter()),
                   extraction_strategy=JsonCssExtractionStrategy(SCHEMA)),
        run_config(extraction_strategy=RegexExtractionStrategy(
            pattern=RegexExtractionStrategy.Email, input_format="markdown"), chunking_strategy=Halves()),
    ]

    async def crawl():
        out = []
        async with new_crawler() as crawler:
            for config in configs:
                result = await crawler.arun(site.url("/ok"), config=config)
                out.append((result.success, result.extracted_content, result.markdown.raw_markdown,
                            result.markdown.references_markdown, result.markdown.fit_markdown))
        return out

    with_add_on = await crawl()
    integration.uninstall()
    without = await crawl()
    integration.install()
    assert with_add_on == without
    assert all(success for success, *_ in with_add_on)
    assert reports.verdicts() == {}
