"""Crawl4AI bugs met during real crawls carry site data in their messages (URLs, page content);
none of it reaches the server. Secrets are planted in the URL (credentials, query), in the page,
in a response header (the charset), and in the exception message itself, and the exact bytes the Sentry-protocol server received
are searched for them."""

from __future__ import annotations

from crawl4ai import telemetry
from tests.crawl4ai.crawling import (
    CHARSET_SECRET,
    CONTENT_SECRET,
    crawl4ai_helper,
    new_crawler,
    run_config,
)

URL_SECRETS = ("alice-user", "PASSWORD-9d2f", "TOKEN-SECRET-41b7", "SESSION-SECRET-c0ffee")


async def test_no_url_or_page_content_reaches_the_server(site, reports, sentry_server, monkeypatch, home):
    import crawl4ai.async_webcrawler as webcrawler
    import crawl4ai.utils as utils

    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable()  # consent is bound to where reports go: agree to this server
    # A helper bug whose message quotes the page it was given, URL and content included.
    monkeypatch.setattr(webcrawler, "preprocess_html_for_schema", crawl4ai_helper(utils, (
        "def preprocess_html_for_schema(html_content, text_threshold=100, max_size=300000):\n"
        "    return {}[html_content[-400:]]\n"), "preprocess_html_for_schema"))
    secret_query = "?token=TOKEN-SECRET-41b7&session=SESSION-SECRET-c0ffee"
    base = site.url("").replace("http://", "http://alice-user:PASSWORD-9d2f@")
    async with new_crawler() as crawler:
        for path in ("/charset", "/image"):  # /image: the scraper bug, then the helper's
            page = base + path + secret_query + f"&p={CONTENT_SECRET}"
            result = await crawler.arun(page, config=run_config())
            assert result is not None
    assert len(reports.events()) == 3  # flushed: every report was delivered
    events = sentry_server.wait_for_events(3)
    assert sorted(e["exception"]["values"][-1]["type"] for e in events) == [
        "KeyError", "LookupError", "ValueError"]
    raw = b"".join(sentry_server.raw_bodies())
    for secret in (*URL_SECRETS, CONTENT_SECRET, CHARSET_SECRET, "127.0.0.1", str(site.port), str(home)):
        assert secret.encode() not in raw, secret
    assert reports.verdicts() == {"crawl4ai_bug": 3}


async def test_swallowed_bugs_carry_no_key_prompt_or_page_to_the_server(site, reports, sentry_server, monkeypatch, integration):
    """The new capture points (an LLM call, a content filter) see exceptions whose messages quote
    the API key, the prompt and the page; the server gets none of it."""
    import crawl4ai.utils as utils
    from crawl4ai.content_filter_strategy import PruningContentFilter
    from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator

    from tests.crawl4ai.crawling import bug_in
    from tests.crawl4ai.test_subsystems import llm_extraction

    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable()  # consent is bound to where reports go: agree to this server
    with bug_in(integration, utils, "aperform_completion_with_backoff", "if json_response:",
                "if json_response or {}[api_token + prompt_with_variables[-3000:]]:"), \
         bug_in(integration, PruningContentFilter, "filter_content", 'body = soup.find("body")',
                'body = {}[str(soup)[-2000:]]'):
        async with new_crawler() as crawler:
            result = await crawler.arun(site.url("/ok"), config=run_config(
                extraction_strategy=llm_extraction(site.url("/v1")),
                markdown_generator=DefaultMarkdownGenerator(content_filter=PruningContentFilter())))
    assert result.success
    assert len(reports.events()) == 2
    events = sentry_server.wait_for_events(2)
    assert {e["exception"]["values"][-1]["mechanism"]["type"] for e in events} == {"llm", "content_filter"}
    raw = b"".join(sentry_server.raw_bodies())
    for secret in ("sk-test-LLM-KEY-0000", CONTENT_SECRET, "List the paragraphs", "127.0.0.1", str(site.port)):
        assert secret.encode() not in raw, secret
