"""Assertions for labelled crawls: a crawl4ai bug gives exactly one report, checked by content;
an operational failure or a user's mistake gives none. ``labelled`` (conftest) records each
test's label and outcome for the recall / false-positive / duplicate table."""

from __future__ import annotations

from typing import Any

from tests.crawl4ai.crawling import Reports, crawl4ai_frames, last_exception


def expect_one_bug(reports: Reports, exc_type: str, mechanism: str, *, handled: bool,
                   frame: str, times: int = 1) -> dict[str, Any]:
    """One report: the original exception's type, the capture point that saw it first, and the
    crawl4ai frame where the bug is (the innermost crawl4ai frame); a bug hit ``times`` times
    is still one report, that says how many (``contexts.telemetry.occurrences``)."""
    [event] = reports.events()
    exc = last_exception(event)
    assert exc["type"] == exc_type
    assert (exc["mechanism"]["type"], exc["mechanism"]["handled"]) == (mechanism, handled)
    assert crawl4ai_frames(event)[-1] == frame, crawl4ai_frames(event)
    assert event["contexts"].get("telemetry", {}).get("occurrences", 1) == times
    assert reports.verdicts()["crawl4ai_bug"] == times
    return event


def expect_quiet(reports: Reports, *verdicts: str) -> None:
    """No report; what was seen (if anything) got one of ``verdicts``, never "crawl4ai_bug"."""
    assert reports.events() == []
    seen = reports.verdicts()
    assert "crawl4ai_bug" not in seen, seen
    if verdicts:
        assert set(seen) <= set(verdicts) and seen, seen
