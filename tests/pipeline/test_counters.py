"""Counts per kind of error — seen, reported, deduplicated, dropped, not consented — for this run
and, through a small file merged at exit, for past runs; never a file for someone who never
used telemetry."""

from __future__ import annotations

import json

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.pipeline import Capture, Counters
from crawl4ai.telemetry.pipeline.counters import MAX_FILE_KINDS
from tests.conftest import run_python

RUN = r"""
from crawl4ai import telemetry
from crawl4ai.telemetry.providers.memory import MemoryProvider
telemetry.use_provider(MemoryProvider())
CONSENT
class SiteSpecificError(ValueError):  # a user's class: its name is a piece of their source
    pass
def fail(kind):
    try:
        raise kind("x")
    except Exception as e:
        telemetry.capture_exception(e)
        telemetry.capture_exception(e)  # the same object again: deduplicated
for _ in range(10):
    fail(KeyError)
fail(SiteSpecificError)
telemetry.flush(10)
"""


def run(home, consent: str = "telemetry.enable()") -> None:
    result = run_python(RUN.replace("CONSENT", consent), home,
                        CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert result.returncode == 0, result.stderr


def test_counts_per_kind_add_up_over_runs(home, monkeypatch):
    run(home)
    run(home)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    all_runs = telemetry.counters()["all_runs"]
    assert all_runs["runs"] == 3  # two finished runs and this one
    keys = all_runs["kinds"]["KeyError"]
    # Per run: 10 seen + 10 deduplicated. One bug, one report: the first run's report counts
    # its 9 repeats, and the second run's 10 errors are counted into it (kept here, in the window).
    assert keys == {"seen": 40, "deduplicated": 20, "reported": 1, "repeated": 19,
                    "queue_full": 0, "not_consented": 0, "lost_at_exit": 0}
    assert "SiteSpecificError" not in json.dumps(all_runs)
    assert all_runs["kinds"]["<user code>(ValueError)"]["reported"] == 1
    assert all_runs["kinds"]["<user code>(ValueError)"]["repeated"] == 1


def test_this_run_is_counted_and_merged_once(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    run(home)
    telemetry.disable()
    for _ in range(2):
        try:
            raise TypeError("t")
        except TypeError as e:
            telemetry.capture_exception(e)  # not consented now: counted, not sent
    telemetry.flush()  # the repeat is counted on the worker
    counts = telemetry.counters()
    assert counts["this_run"]["TypeError"]["not_consented"] == 2
    assert counts["all_runs"]["kinds"]["TypeError"]["not_consented"] == 2
    from crawl4ai.telemetry.pipeline import get_pipeline

    assert get_pipeline().counters.save() is True
    assert get_pipeline().counters.save() is False  # nothing new
    assert telemetry.counters()["all_runs"]["kinds"]["TypeError"]["not_consented"] == 2


def test_nothing_is_written_for_someone_who_never_used_telemetry(home):
    run(home, consent="")  # library, nobody asked: nothing consented
    assert not (home / ".crawl4ai" / "telemetry" / "counters.json").exists()


def counted(counters: Counters, kind=KeyError, seen: int = 20) -> Counters:
    for _ in range(seen):
        counters.of(kind).seen += 1
    return counters


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"kinds": {"A": {"seen": -5}}}',
                                     b" " * 300_000])
def test_a_bad_counters_file_counts_as_empty_and_is_replaced(home, content):
    path = home / ".crawl4ai" / "telemetry" / "counters.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert counted(Counters()).save() is True
    data = json.loads(path.read_text())
    assert data["runs"] == 1 and data["kinds"]["KeyError"]["seen"] == 20
    assert all(n >= 0 for kind in data["kinds"].values() for n in kind.values())
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_file_stays_bounded(home):
    path = home / ".crawl4ai" / "telemetry" / "counters.json"
    path.parent.mkdir(parents=True)
    many = {f"Kind{i}": {"seen": 1} for i in range(MAX_FILE_KINDS + 50)}
    path.write_text(json.dumps({"runs": 1, "kinds": many}))
    assert counted(Counters()).save() is True
    kinds = json.loads(path.read_text())["kinds"]
    assert len(kinds) == MAX_FILE_KINDS and kinds["KeyError"]["seen"] == 20  # the most seen stay


def test_a_capture_is_immutable():
    try:
        raise ValueError("v")
    except ValueError as e:
        capture = Capture(e, {"operation": "x"}, mechanism="manual")
    with pytest.raises(AttributeError):
        capture.exc = None
    assert capture.kind is ValueError and capture.traceback is not None
