"""The dashboard's first paint: an outbox of 2,000 reports beside one of 5.

Budget (issue "Users' surroundings"): the dashboard paints at once whatever the outbox holds:
first paint with 2,000 reports at most 0.3 s over the 5-report figure. Measured with Textual's
headless pilot (the app composed, mounted and laid out: what a person sees first), the two
outboxes taking turns in one process, best of several rounds each.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # the repository: tests.support
from common import main, row  # noqa: E402


def _home_with(count: int) -> str:
    from crawl4ai.telemetry import pipeline
    from tests.support.many_reports import fill_outbox

    home = tempfile.mkdtemp(prefix=f"dashboard-{count}-")
    _use(home)
    fill_outbox(count)
    pipeline.get_pipeline().flush(5)
    return home


def _use(home: str) -> None:
    from crawl4ai.telemetry import pipeline

    os.environ["CRAWL4_AI_BASE_DIRECTORY"] = home
    pipeline.set_pipeline(None)


async def _paint_times(tab: str) -> tuple[float, float]:
    """(the first frame drawn, everything the tab shows read and drawn), in seconds from start."""
    from crawl4ai.telemetry.tui import app

    first: list[float] = []

    class Timed(app.TelemetryDashboard):
        CSS_PATH = os.path.join(os.path.dirname(app.__file__), app.TelemetryDashboard.CSS_PATH)

        def _display(self, screen, renderable):  # every frame passes here, headless too
            if renderable is not None and not first and self.query("Pane"):
                first.append(time.perf_counter())
            super()._display(screen, renderable)

    started = time.perf_counter()
    async with Timed(initial_tab=tab).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        done = time.perf_counter()
    return first[0] - started, done - started


def bench_first_paint() -> None:
    os.environ["CRAWL4AI_TELEMETRY_ENVIRONMENT"] = "library"
    few, many = _home_with(5), _home_with(2000)
    for tab in ("status", "reports"):
        best = {(home, kind): float("inf") for home in (few, many) for kind in (0, 1)}
        for _ in range(5):
            for home in (few, many):
                _use(home)
                for kind, seconds in enumerate(asyncio.run(_paint_times(tab))):
                    best[home, kind] = min(best[home, kind], seconds)
        row(f"dashboard first paint on {tab}, 2,000 vs 5", best[many, 0], best[few, 0], "s",
            "<= 0.3 s over 5")
        print(f"{'  difference':<44} {best[many, 0] - best[few, 0]:>10.3f} s")
        row(f"  {tab} filled in, 2,000 vs 5", best[many, 1], best[few, 1], "s", "(no budget)")


if __name__ == "__main__":
    sys.exit(main({"first_paint": bench_first_paint}))
