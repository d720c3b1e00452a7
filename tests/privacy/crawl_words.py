"""The vocabulary of a crawl: what a message raised during a crawl may keep.

A report's vocabulary comes from the modules on its stack (see
``crawl4ai.telemetry.scrub.vocabulary``). Example tables and properties about messages use the
stack of an ordinary crawl (the crawler, its HTTP strategy, crawl4ai's utilities, aiohttp), so
that words such as "fetch", "page" or "timeout" are known as they are in a real report.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

from crawl4ai.telemetry import scrub

CRAWL_MODULES = ("crawl4ai.async_webcrawler", "crawl4ai.async_crawler_strategy", "crawl4ai.utils",
                 "aiohttp.client", "aiohttp.client_exceptions", "asyncio.tasks")
for _name in CRAWL_MODULES:
    importlib.import_module(_name)
CRAWL_VOCABULARY = scrub.vocabulary_for(CRAWL_MODULES)


def redact_text(text: Any, removed: Counter[str] | None = None, local: scrub.LocalNames | None = None) -> str:
    """:func:`crawl4ai.telemetry.scrub.redact_text` with a crawl's vocabulary."""
    return scrub.redact_text(text, removed, local, CRAWL_VOCABULARY)
