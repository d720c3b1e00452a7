"""The capture table is the one list of capture points: the installer wraps exactly its rows
(every row that names something in this crawl4ai is in place, and only those), and the docs'
capture table says the same as the code's."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from crawl4ai.telemetry.integrations.crawl4ai import CAPTURE_POINTS, installer
from crawl4ai.telemetry.integrations.crawl4ai.wrappers import is_wrapped

DOCS = Path(__file__).resolve().parents[2] / "docs" / "md_v2" / "core" / "telemetry.md"


def docs_rows() -> set[tuple[str, str, bool, str, bool]]:
    text = DOCS.read_text()
    table = text.split("<!-- capture-table:start -->", 1)[1].split("<!-- capture-table:end -->", 1)[0]
    rows = set()
    for line in table.splitlines():
        match = re.fullmatch(r"\| `([\w.]+)` \| `([\w.]+)`( and subclasses)? \| `(\w+)` \| (yes|no) \|", line)
        if match:
            module, target, subclasses, mechanism, handled = match.groups()
            rows.add((module, target, bool(subclasses), mechanism, handled == "yes"))
    return rows


def test_the_docs_capture_table_is_the_codes():
    code = {(p.module.removeprefix("crawl4ai."), p.target, p.subclasses, p.mechanism, p.handled)
            for p in CAPTURE_POINTS}
    assert docs_rows() == code


def test_every_row_is_installed_on_real_crawl4ai(integration):
    import crawl4ai.cli  # noqa: F401 - the crwl row: main is wrapped when the CLI is imported

    for point in CAPTURE_POINTS:
        if point.per_instance:
            continue
        module = sys.modules[point.module]
        owner = module if point.owner is None else getattr(module, point.owner)
        if point.subclasses:
            owners = [c for c in installer._subclasses(owner)
                      if c.__module__.startswith("crawl4ai.") and point.method in c.__dict__
                      and not getattr(c.__dict__[point.method], "__isabstractmethod__", False)]
            assert owners, point
        else:
            owners = [owner]
        for target in owners:
            assert is_wrapped(vars(target)[point.method]), (point, target)


async def test_arun_is_wrapped_per_crawler(integration):
    from tests.crawl4ai.crawling import new_crawler

    crawler = new_crawler()
    assert is_wrapped(vars(crawler)["arun"])
