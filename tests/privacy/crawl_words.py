"""The code of a crawl: what a message raised during a crawl may be aligned to.

A message keeps text only where a template of its report's code puts it (see
``crawl4ai.telemetry.scrub.align``). Example tables and properties about messages use the code of
an ordinary crawl (the crawler, its HTTP strategy, crawl4ai's utilities, aiohttp), plus, where a
test says so, the template the example's own raising line would have written (``template_of``):
the constant text of that template stays, and every hole becomes a typed placeholder.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from typing import Any

from crawl4ai.telemetry import scrub
from crawl4ai.telemetry.scrub import code
from crawl4ai.telemetry.scrub.align import Aligner, Pool
from crawl4ai.telemetry.scrub.message import base_pool

CRAWL_MODULES = ("crawl4ai.async_webcrawler", "crawl4ai.async_crawler_strategy", "crawl4ai.utils",
                 "aiohttp.client", "aiohttp.client_exceptions", "asyncio.tasks")
for _name in CRAWL_MODULES:
    importlib.import_module(_name)
CRAWL_POOLS = (base_pool(), *(Pool((t, f"{m}:{line}") for t, line in code.module_templates(m))
                              for m in CRAWL_MODULES))
_PLACEHOLDER = re.compile(r"<user code>|<(?:" + "|".join(sorted(scrub.PLACEHOLDERS)) + r")>")


def template_of(expected: str) -> tuple:
    """The template a raising line writing ``expected`` had: its placeholders as holes."""
    pieces: list[Any] = []
    position = 0
    for match in _PLACEHOLDER.finditer(expected):
        if match.start() > position:
            pieces.append(expected[position:match.start()])
        if not pieces or pieces[-1] is not None:
            pieces.append(None)
        position = match.end()
    if position < len(expected):
        pieces.append(expected[position:])
    return tuple(pieces)


def crawl_aligner(*templates: tuple) -> Aligner:
    return Aligner((*CRAWL_POOLS, Pool((t, "test template") for t in templates)))


def redact_text(text: Any, removed: Counter[str] | None = None, local: scrub.LocalNames | None = None,
                template: tuple | None = None, templates: tuple[tuple, ...] = ()) -> str:
    """:func:`crawl4ai.telemetry.scrub.redact_text` with a crawl's code (and ``template``s)."""
    return scrub.redact_text(text, removed, local, crawl_aligner(*templates, *([template] if template else [])))
