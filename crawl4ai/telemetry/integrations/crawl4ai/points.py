"""The capture points: every place in crawl4ai where one of its failures can still be seen.

crawl4ai turns most failures into ``CrawlResult(success=False)``, a log line or an error string
inside a result, so a wrapper around ``arun`` alone sees few of them. Each row below names one
method (or module function) that is wrapped, how, and what a failure seen there means. The
installer (:mod:`.installer`) iterates this table; nothing else decides what is wrapped, and the
docs' capture table is checked against it. Adding a capture point is adding a row.

Columns:

- ``module``     the crawl4ai module holding the target (skipped if crawl4ai has not imported it)
- ``owner``      a class name; ``None`` for a module-level function
- ``method``     the attribute wrapped (a property's getter when it is a property)
- ``mechanism``  the name a report carries (``exception.mechanism.type``)
- ``handled``    whether crawl4ai catches what escapes there (True), or it reaches the user
- ``kind``       how it is wrapped (a key of :data:`.wrappers.WRAPPERS`)
- ``subclasses`` also every crawl4ai subclass of ``owner`` (in any crawl4ai module) that
                 defines ``method`` itself; a user's subclass is never wrapped here
- ``protocol``   exception types that are the method's contract, not a failure (``__getattr__``
                 raising ``AttributeError``); never classified or reported from that point. An
                 ``AttributeError`` keeps the contract only when it is about the very name
                 asked for, missing on a crawl4ai object: anything else is classified
- ``per_instance`` crawl4ai binds the method per instance (``arun``): wrapped when a crawler is
                 adopted, not on the class
- ``adopt``      the crawler the call is made on (or passed as ``crawler=``) is adopted
- ``starts_crawl`` a crawl starts here: what users' strategies return is remembered per crawl

:data:`EXTENSION_POINTS` is the other table: base methods a user's strategy overrides. A user's
override is wrapped so that a value it returns of the wrong type (against the base method's
annotation) is known as the user's when crawl4ai trips over it (:mod:`.provenance`).
"""

from __future__ import annotations

from ..._record import Record


class CapturePoint(Record):
    __slots__ = ("module", "owner", "method", "mechanism", "handled", "kind", "subclasses",
                 "protocol", "per_instance", "adopt", "starts_crawl")
    _defaults = {"kind": "call", "subclasses": False, "protocol": (), "per_instance": False,
                 "adopt": False, "starts_crawl": False}
    module: str
    owner: str | None
    method: str
    mechanism: str
    handled: bool
    kind: str
    subclasses: bool
    protocol: tuple[str, ...]
    per_instance: bool
    adopt: bool
    starts_crawl: bool

    @property
    def target(self) -> str:
        return f"{self.owner}.{self.method}" if self.owner else self.method


def _row(module: str, owner: str | None, method: str, mechanism: str, handled: bool,
         **options: object) -> CapturePoint:
    return CapturePoint(f"crawl4ai.{module}", owner, method, mechanism, handled, **options)  # type: ignore[arg-type]


CAPTURE_POINTS: tuple[CapturePoint, ...] = (
    # -- the crawler and its lifecycle (browser start-up in ``async with``, close)
    _row("async_webcrawler", "AsyncWebCrawler", "__init__", "lifecycle", False, kind="init"),
    _row("async_webcrawler", "AsyncWebCrawler", "start", "lifecycle", False),
    _row("async_webcrawler", "AsyncWebCrawler", "close", "lifecycle", False),
    _row("async_webcrawler", "AsyncWebCrawler", "arun", "arun", False, per_instance=True,
         starts_crawl=True),
    _row("async_webcrawler", None, "get_error_context", "arun", True, kind="while_handling"),
    _row("async_webcrawler", "AsyncWebCrawler", "aprocess_html", "aprocess_html", True, adopt=True),
    _row("async_webcrawler", "AsyncWebCrawler", "arun_many", "arun_many", False, adopt=True),
    # -- crawler strategies (HTTP and the browser) and the browser behind them
    _row("async_crawler_strategy", "AsyncCrawlerStrategy", "crawl", "crawl", True, subclasses=True),
    _row("async_crawler_strategy", "AsyncCrawlerStrategy", "kill_session", "session", False,
         subclasses=True),
    _row("browser_manager", "BrowserManager", "start", "browser", False),
    _row("browser_manager", "BrowserManager", "get_page", "browser", True),
    _row("browser_manager", "BrowserManager", "kill_session", "session", False),
    _row("browser_manager", "BrowserManager", "close", "browser", False),
    _row("browser_manager", "ManagedBrowser", "start", "browser", False),
    # -- errors crawl4ai catches and logs (screenshots, the JS executor, the cache, the scraper)
    _row("async_logger", "AsyncLogger", "error", "logged", True, kind="while_handling"),
    _row("async_logger", "AsyncLogger", "error_status", "logged", True, kind="while_handling"),
    _row("async_logger", "AsyncLogger", "warning", "logged", True, kind="while_handling"),
    _row("async_logger", "AsyncLogger", "critical", "logged", True, kind="while_handling"),
    _row("async_logger", "AsyncFileLogger", "error", "logged", True, kind="while_handling"),
    _row("async_logger", "AsyncFileLogger", "warning", "logged", True, kind="while_handling"),
    _row("content_scraping_strategy", "ContentScrapingStrategy", "_log", "scrap", True,
         kind="log_level", subclasses=True),
    # -- steps whose errors crawl4ai turns into a string inside the result
    _row("html2text", "HTML2Text", "handle", "markdown", True),
    _row("markdown_generation_strategy", "DefaultMarkdownGenerator", "convert_links_to_citations",
         "markdown", True),
    _row("content_filter_strategy", "RelevantContentFilter", "filter_content", "content_filter",
         True, subclasses=True),
    _row("extraction_strategy", "ExtractionStrategy", "extract", "extraction", True, subclasses=True),
    _row("extraction_strategy", "ExtractionStrategy", "run", "extraction", True, subclasses=True),
    _row("extraction_strategy", "JsonElementExtractionStrategy", "_extract_single_field",
         "extraction", True, subclasses=True),
    _row("extraction_strategy", "JsonElementExtractionStrategy", "_get_elements", "extraction",
         True, subclasses=True),
    # the LLM call (failures of the provider are operational; crawl4ai's own code is not)
    _row("utils", None, "perform_completion_with_backoff", "llm", True),
    _row("utils", None, "aperform_completion_with_backoff", "llm", True),
    _row("extraction_strategy", None, "perform_completion_with_backoff", "llm", True),
    _row("table_extraction", None, "perform_completion_with_backoff", "llm", True),
    _row("chunking_strategy", "ChunkingStrategy", "chunk", "chunking", True, subclasses=True),
    # -- dispatchers: their own code, whose failures become failed results
    _row("async_dispatcher", "RateLimiter", "wait_if_needed", "dispatcher", True),
    _row("async_dispatcher", "RateLimiter", "update_delay", "dispatcher", True),
    _row("async_dispatcher", "BaseDispatcher", "select_config", "dispatcher", True, subclasses=True),
    _row("async_dispatcher", "BaseDispatcher", "crawl_url", "dispatcher", True, subclasses=True),
    _row("async_dispatcher", "MemoryAdaptiveDispatcher", "_memory_monitor_task", "dispatcher", True),
    _row("async_dispatcher", "BaseDispatcher", "run_urls", "dispatcher", False, subclasses=True),
    _row("async_dispatcher", "BaseDispatcher", "run_urls_stream", "dispatcher", False,
         subclasses=True),
    # -- deep crawls
    _row("deep_crawling", "DeepCrawlStrategy", "arun", "deep_crawl", False, subclasses=True,
         adopt=True),
    # -- results, read after the crawl (``result.markdown.fit_markdown``, ``model_dump()``)
    _row("models", "CrawlResultContainer", "__getattr__", "result", False,
         protocol=("AttributeError",)),
    _row("models", "StringCompatibleMarkdown", "__getattr__", "result", False,
         protocol=("AttributeError",)),
    _row("models", "CrawlResult", "markdown", "result", False),
    _row("models", "CrawlResult", "model_dump", "result", False),
    # properties that refuse on purpose (renamed fields): asking for them is the user's
    _row("models", "CrawlResult", "markdown_v2", "result", False, protocol=("AttributeError",)),
    _row("models", "CrawlResult", "fit_markdown", "result", False, protocol=("AttributeError",)),
    # -- crwl, a process we own
    _row("cli", None, "main", "excepthook", False, kind="crwl_main"),
)


class ExtensionPoint(Record):
    """A base method users override in their own strategies."""

    __slots__ = ("module", "owner", "method")
    module: str
    owner: str
    method: str


EXTENSION_POINTS: tuple[ExtensionPoint, ...] = tuple(
    ExtensionPoint(f"crawl4ai.{module}", owner, method)
    for module, owner, method in (
        ("async_crawler_strategy", "AsyncCrawlerStrategy", "crawl"),
        ("content_scraping_strategy", "ContentScrapingStrategy", "scrap"),
        ("markdown_generation_strategy", "MarkdownGenerationStrategy", "generate_markdown"),
        ("content_filter_strategy", "RelevantContentFilter", "filter_content"),
        ("extraction_strategy", "ExtractionStrategy", "extract"),
        ("extraction_strategy", "ExtractionStrategy", "run"),
        ("chunking_strategy", "ChunkingStrategy", "chunk"),
        ("deep_crawling.scorers", "URLScorer", "_calculate_score"),
        ("deep_crawling.filters", "URLFilter", "apply"),
    )
)

#: Mechanisms of process-wide handlers (crwl only), not rows: they are not wrappers.
PROCESS_MECHANISMS = ("excepthook", "threading", "asyncio")
