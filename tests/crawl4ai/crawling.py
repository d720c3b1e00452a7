"""Helpers for crawls with the real crawl4ai against a local site on 127.0.0.1.

No browser can be downloaded here, so crawls use ``AsyncHTTPCrawlerStrategy`` (aiohttp) — the
same ``arun``/``aprocess_html``/dispatcher code paths as a browser crawl, ~0.1 s each. The site
serves ordinary pages, failing pages (404, 500, slow), and responses crafted to trigger real
crawl4ai bugs without editing crawl4ai (an unknown charset, an image width of ``²``).
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import threading
import time
import types
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PARAGRAPHS = "".join(
    f"<p>Paragraph {i}: plain words about crawling, enough text that crawl4ai keeps the page.</p>"
    for i in range(30)
)
# Planted in page bodies; must never appear in a report.
CONTENT_SECRET = "CONTENT-SECRET-7f3a9c"
# The charset a site names ends up in codecs' "unknown encoding: ..." message.
CHARSET_SECRET = "x-charset-secret-5e1d"


def page(body: str = "", title: str = "Local page") -> bytes:
    return (f"<html><head><title>{title}</title></head><body>{PARAGRAPHS}{body}"
            f"<p>{CONTENT_SECRET}</p></body></html>").encode()


ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/ok": (200, "text/html", page("<a href='/ok/a'>a</a> <a href='/ok/b'>b</a>")),
    "/ok/a": (200, "text/html", page("<a href='/ok'>home</a>")),
    "/ok/b": (200, "text/html", page("<a href='/ok'>home</a>")),
    # Fits one screen: crawl4ai's screenshot takes its simple path.
    "/short": (200, "text/html", ("<html><head><title>Short</title></head><body>" + "".join(
        f"<p>Short page {i}: a few plain words about crawling.</p>" for i in range(8))
        + "</body></html>").encode()),
    "/404": (404, "text/html", page(title="Not found")),
    "/500": (500, "text/html", page(title="Server error")),
    # crawl4ai decodes with whatever charset the server names: an unknown one is a LookupError
    # inside AsyncHTTPCrawlerStrategy._handle_http (a crawl4ai bug, turned into success=False).
    "/charset": (200, f"text/html; charset={CHARSET_SECRET}", page()),
    # "²".isdigit() is True but int("²") fails: the scraper logs the ValueError and drops the
    # image, and the page still comes back with success=True.
    "/image": (200, "text/html", page("<div><img src='/pic.jpg' width='\u00b2' alt='a picture'></div>")),
}


class Site:
    """A tiny threaded HTTP server; ``/slow`` answers after two seconds."""

    def __init__(self) -> None:
        routes = ROUTES

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/slow":
                    time.sleep(2)
                    path = "/ok"
                status, content_type, body = routes.get(path, (404, "text/html", page(title="?")))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - an LLM provider that refuses the key
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"error": {"message": "Incorrect API key provided",
                                             "type": "invalid_request_error",
                                             "code": "invalid_api_key"}}).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A client that gave up (the timeout test) makes the late answer fail: not an error here.
        self.httpd.handle_error = lambda request, client_address: None
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Reports:
    """Consent given in this test's home; reads what reached the local outbox and what the
    capture points decided (``verdicts``: this test's share of the process counter)."""

    def __init__(self, integration: types.ModuleType) -> None:
        from crawl4ai import telemetry

        telemetry.enable()
        self._integration = integration
        self._start = Counter(integration.verdicts)

    def verdicts(self) -> Counter[str]:
        now = Counter(self._integration.verdicts)
        now.subtract(self._start)
        return +now

    def events(self) -> list[dict[str, Any]]:
        from crawl4ai import telemetry
        from crawl4ai.telemetry.pipeline import get_pipeline

        assert telemetry.flush(10)
        outbox = get_pipeline().outbox
        return [json.loads(outbox.read(e.event_id)) for e in outbox.entries()]


    def counts(self, kind: str) -> dict[str, int]:
        """This run's counts for one exception type (``telemetry.counters()``), after a flush."""
        from crawl4ai import telemetry

        assert telemetry.flush(10)
        return telemetry.counters()["this_run"][kind]


def last_exception(event: dict[str, Any]) -> dict[str, Any]:
    return event["exception"]["values"][-1]


def crawl4ai_frames(event: dict[str, Any]) -> list[str]:
    return [f"{f['module']}:{f['function']}" for f in last_exception(event)["stacktrace"]["frames"]
            if f.get("in_app")]


def new_crawler(strategy: Any = None) -> Any:
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy

    from crawl4ai import AsyncWebCrawler, BrowserConfig, HTTPCrawlerConfig

    return AsyncWebCrawler(
        config=BrowserConfig(verbose=False),
        crawler_strategy=strategy or AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig()),
    )


def run_config(**kwargs: Any) -> Any:
    from crawl4ai import CacheMode, CrawlerRunConfig

    return CrawlerRunConfig(**{"cache_mode": CacheMode.BYPASS, "verbose": False, **kwargs})


def crawl4ai_helper(module: types.ModuleType, source: str, name: str) -> Any:
    """A function compiled under ``module``'s own file name and module name, so its frames are
    crawl4ai's as far as anyone can tell: a stand-in for a crawl4ai bug in a deep helper."""
    namespace: dict[str, Any] = {"__name__": module.__name__, "__builtins__": __builtins__}
    exec(compile(source, module.__file__, "exec"), namespace)  # noqa: S102
    return namespace[name]


def recompiled(func: Any, old: str, new: str) -> Any:
    """``func`` with the one line holding ``old`` changed to hold ``new``, compiled under its own
    file name, line numbers and module globals: as far as any traceback can tell, crawl4ai's
    real function with a bug in that line."""
    lines, first = inspect.getsourcelines(func)
    source = textwrap.dedent("".join(lines))
    assert source.count(old) == 1, f"{old!r} is not one place in {func.__qualname__}"
    source = source.replace(old, new)
    owner = func.__qualname__.rpartition(".")[0]
    if owner:  # a method: compiled in a class of the same name, so every qualified name matches
        source = f"class {owner}:\n" + textwrap.indent(source, "    ")
        first -= 1
    tree = ast.parse(source)
    ast.increment_lineno(tree, first - 1)
    namespace: dict[str, Any] = {}
    exec(compile(tree, func.__code__.co_filename, "exec"), func.__globals__, namespace)  # noqa: S102
    return vars(namespace[owner])[func.__name__] if owner else namespace[func.__name__]


@contextmanager
def bug_in(integration: types.ModuleType, owner: Any, name: str, old: str, new: str) -> Iterator[None]:
    """A one-line bug in ``owner.name`` (a method or a module function) for the duration; the
    capture table is re-installed around it, so the broken function is what gets wrapped."""
    integration.uninstall()
    original = owner.__dict__[name]
    setattr(owner, name, recompiled(original, old, new))
    integration.install()
    try:
        yield
    finally:
        integration.uninstall()
        setattr(owner, name, original)
        integration.install()
