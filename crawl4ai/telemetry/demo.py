"""``python -m crawl4ai.telemetry.demo``: watch a real crawl4ai bug being captured, redacted, shown.

It runs anywhere: no browser (crawl4ai's HTTP strategy), no network (the pages are served on
127.0.0.1), no DSN (the report stays in a local outbox, nothing leaves the machine). It works in
a throw-away folder — ``CRAWL4_AI_BASE_DIRECTORY`` and ``HOME`` point at it, in a child process
started before crawl4ai could read them — so your own settings are never read or written; the
consent the demo gives lives in that folder and disappears with it.

The crawl script itself has no line of telemetry code: the installed hook does the work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SANDBOXED = "--in-sandbox"
_SESSION_TOKEN = "demo-session-9f8e7d6c5b4a"
# The CLI through this very interpreter: printed advice that works without an activated venv.
_COMMAND = f"{sys.executable} -m crawl4ai.telemetry"
_TEXT = "<p>Order #4711 for Jane Doe, 12 Example Street. Card ending 4242.</p>" * 20


def _page(extra: str = "") -> bytes:
    return f"<html><head><title>Shop</title></head><body>{_TEXT}{extra}</body></html>".encode()


_PAGES = {
    "/docs": (200, "text/html", _page()),
    "/gone": (404, "text/html", _page()),
    # "²".isdigit() is True, int("²") is not: crawl4ai 0.9.5's scraper fails on this image with
    # a ValueError, logs it, drops the image and still calls the crawl a success (its bug).
    "/shop": (200, "text/html", _page('<img src="/cart.png" width="\u00b2" alt="cart">')),
}


def _serve() -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            status, content_type, body = _PAGES.get(self.path.split("?")[0], _PAGES["/gone"])
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def _crawl(urls: list[str]) -> list[tuple[str, Any, dict[str, int]]]:
    # Plain crawl4ai, exactly as a user writes it.
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

    from crawl4ai import (
        AsyncWebCrawler,
        BrowserConfig,
        CacheMode,
        CrawlerRunConfig,
        HTTPCrawlerConfig,
    )

    from .integrations.crawl4ai import verdicts

    out = []
    strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
    async with AsyncWebCrawler(config=BrowserConfig(verbose=False), crawler_strategy=strategy) as crawler:
        for url in urls:
            before = dict(verdicts)
            result = await crawler.arun(url, config=CrawlerRunConfig(cache_mode=CacheMode.BYPASS,
                                                                     verbose=False))
            seen = {k: v - before.get(k, 0) for k, v in verdicts.items() if v != before.get(k, 0)}
            out.append((url, result, seen))
    return out


_MEANING = {
    "crawl4ai_bug": "a bug in crawl4ai's own code -> reported",
    "site_failure": "the site failed (HTTP error) -> not reported",
}


def _demo() -> int:
    import asyncio

    from . import enable, flush, telemetry_context  # noqa: F401 - the package, as a user has it
    from .integrations import crawl4ai as integration
    from .pipeline import get_pipeline

    print("Crawl4AI telemetry demo: a real crawl4ai crawl, no browser, no network, no DSN.")
    print(f"Working in a throw-away folder: {os.environ['CRAWL4_AI_BASE_DIRECTORY']}\n")
    if not integration.is_installed():
        print("(the activation hook is not active here; installing the integration explicitly)")
        integration.install()
    enable()  # consent inside the throw-away folder only

    server = _serve()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/docs", f"{base}/gone", f"{base}/shop?session={_SESSION_TOKEN}"]
    print("1. Crawling three local pages with plain crawl4ai:")
    for url, result, seen in asyncio.run(_crawl(urls)):
        outcome = ("success=True" if result.success else
                   "success=False: " + (result.error_message or "").split("\n")[1][:60])
        print(f"   {url}\n      {outcome}")
        for verdict in seen:
            print(f"      telemetry saw it: {_MEANING.get(verdict, verdict)}")
    server.shutdown()

    flush(10)
    outbox = get_pipeline().outbox
    entries = outbox.entries()
    print(f"\n2. The local outbox ({outbox.directory}) holds {len(entries)} report(s).")
    for entry in entries:
        report = json.loads(outbox.read(entry.event_id))
        print(f"   State: {entry.state} (no DSN is configured, so it stays on this machine).")
        if entry.removed:
            removed = ", ".join(f"{n} {kind}" for kind, n in sorted(entry.removed.items()))
            print(f"   The scrubber removed: {removed}.")
        print("\n   The exact bytes that would be sent, pretty-printed:\n")
        print("   " + json.dumps(report, indent=2, ensure_ascii=False).replace("\n", "\n   "))
    print(f"""
3. What this shows
   - crawl4ai's scraper crashed on an image (a ValueError), logged it and still returned
     `success=True`; the add-on saw the error inside the crawl anyway, without a line of
     telemetry code in the crawl, and kept one report. The page's own text in the message
     ('²') became <str>.
   - The 404 is the site's failure, not crawl4ai's: seen, not reported.
   - Not in the report: the URL (nor its session token {_SESSION_TOKEN!r}), the page, its
     headers, host names, IP addresses, your paths or user name, local variables, source lines.
     In it: the exception type, crawl4ai's frames, versions, OS and environment type.
   - For real, in this environment (it works as printed, no activated venv needed):
       {_COMMAND} status
       {_COMMAND} enable        (or: enable --once, or: disable)
     With the environment activated, `crwl telemetry status` is the same. Reports go to the DSN
     in CRAWL4AI_SENTRY_DSN, if any; with none (the default) they are only kept, in
     ~/.crawl4ai/telemetry/outbox/, for you to read.""")
    return 0 if len(entries) == 1 else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _SANDBOXED in argv:
        return _demo()
    # crawl4ai reads CRAWL4_AI_BASE_DIRECTORY when it is imported (and this module's parent
    # package imports it), so the demo itself runs in a child that starts inside the sandbox.
    with tempfile.TemporaryDirectory(prefix="crawl4ai-telemetry-demo-") as sandbox:
        # None of the caller's telemetry settings may change what the demo shows (nothing is
        # sent); debug output is still welcome.
        from .settings import SETTINGS

        caller = {s.name for s in SETTINGS} - {"CRAWL4AI_TELEMETRY_DEBUG"}
        env = {k: v for k, v in os.environ.items() if k not in caller}
        env.update(HOME=sandbox, CRAWL4_AI_BASE_DIRECTORY=sandbox, PYTHONUNBUFFERED="1",
                   LITELLM_LOCAL_MODEL_COST_MAP="True", CRAWL4AI_NO_CLOUD_NOTICE="1")
        return subprocess.run([sys.executable, "-m", "crawl4ai.telemetry.demo", _SANDBOXED],
                              env=env, cwd=sandbox, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
