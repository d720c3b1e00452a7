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
