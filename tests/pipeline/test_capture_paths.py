"""Every way an error is seen ends in one pipeline: dedupe, rate limits, decorators, contexts."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.pipeline import Pipeline, Repeats, get_pipeline, set_pipeline
from crawl4ai.telemetry.providers.memory import MemoryProvider
from tests.conftest import reported_types


def test_one_exception_through_many_layers_is_reported_once(memory):
    @telemetry.telemetry_decorator
    def inner():
        raise ZeroDivisionError("x")

    @telemetry.telemetry_decorator(operation="outer")
    def outer():
        with telemetry.telemetry_context("block"):
            inner()

    with pytest.raises(ZeroDivisionError) as info:
        outer()
    telemetry.capture_exception(info.value)
    # Re-wrapping an already reported error is not a new report either.
    try:
        raise RuntimeError("wrapped") from info.value
    except RuntimeError as exc:
        telemetry.capture_exception(exc)
    assert reported_types(memory) == ["ZeroDivisionError"]
    # The innermost layer saw it first; its name is the user's own, so it is not reported.
    assert memory.events[0]["contexts"]["telemetry"]["function"] == "<user code>"
    assert get_pipeline().stats["deduplicated"] >= 3


def test_a_storm_of_one_failure_is_one_report_that_counts_it(memory):
    for _ in range(500):
        try:
            raise ValueError("same bug")
        except ValueError as exc:
            telemetry.capture_exception(exc)
    for _ in range(3):
        try:
            raise KeyError("another bug")
        except KeyError as exc:
            telemetry.capture_exception(exc)
    assert sorted(reported_types(memory)) == ["KeyError", "ValueError"]  # one per bug
    counts = {e["exception"]["values"][-1]["type"]: e["contexts"]["telemetry"]["occurrences"]
              for e in memory.events}
    assert counts == {"ValueError": 500, "KeyError": 3}  # a storm of one does not silence another
    stats = telemetry.status()
    assert stats["pipeline"]["repeated"] == 499 + 2
    assert stats["repeated_kinds"] == {"ValueError": 499, "KeyError": 2}


def test_repeats_are_counted_until_the_worker_takes_them():
    repeats = Repeats()
    assert repeats.first("k") is True
    assert repeats.first("k") is False
    assert repeats.first("k") is False
    assert repeats.take() == {"k": 2}
    assert repeats.take() == {}
    repeats.forget("k")
    assert repeats.first("k") is True


def test_repeats_memory_is_bounded():
    repeats = Repeats(max_kinds=10, max_counted=5)
    for i in range(1000):
        repeats.first(i)
    assert len(repeats._known) == 10
    for i in range(990, 1000):
        repeats.first(i)
    assert len(repeats.take()) == 5  # the rest counted as dropped by the pipeline (queue_full)


def test_decorators_preserve_signature_result_and_exceptions(memory):
    class Crawler:
        @telemetry.telemetry_decorator
        def run(self, url: str, *, depth: int = 1) -> str:
            """Run."""
            if depth < 0:
                raise ValueError("negative depth")
            return f"{url}:{depth}"

        @telemetry.async_telemetry_decorator
        async def arun(self, url: str) -> str:
            if not url:
                raise LookupError("empty")
            return url

        @telemetry.telemetry_decorator  # an async function given to the sync decorator
        async def arun2(self, url: str) -> str:
            raise TimeoutError("slow")

    c = Crawler()
    assert c.run("a", depth=2) == "a:2"
    assert Crawler.run.__doc__ == "Run." and Crawler.run.__name__ == "run"
    def reference(self, url: str, *, depth: int = 1) -> str: ...

    assert inspect.signature(Crawler.run) == inspect.signature(reference)
    with pytest.raises(ValueError, match="negative depth"):
        c.run("a", depth=-1)
    assert asyncio.run(c.arun("u")) == "u"
    with pytest.raises(LookupError):
        asyncio.run(c.arun(""))
    with pytest.raises(TimeoutError):
        asyncio.run(c.arun2("x"))
    assert inspect.iscoroutinefunction(Crawler.arun2)
    assert sorted(reported_types(memory)) == ["LookupError", "TimeoutError", "ValueError"]


async def test_async_context_reports_and_propagates(memory):
    with pytest.raises(ConnectionError):
        async with telemetry.async_telemetry_context("fetch", component="dispatcher"):
            await asyncio.sleep(0)
            raise ConnectionError("reset")
    assert reported_types(memory) == ["ConnectionError"]
    assert memory.events[0]["contexts"]["telemetry"] == {"operation": "fetch", "component": "dispatcher"}


def test_decorators_do_nothing_when_telemetry_is_off(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "0")
    provider = MemoryProvider()
    set_pipeline(Pipeline(provider=provider))

    @telemetry.telemetry_decorator
    def f():
        raise ValueError("x")

    with pytest.raises(ValueError):
        f()
    assert telemetry.flush(5)
    assert provider.events == []
    assert get_pipeline().stats == {}


def test_interrupts_and_cancellation_are_not_errors(memory):
    for exc in (KeyboardInterrupt(), SystemExit(1), asyncio.CancelledError(), GeneratorExit()):
        telemetry.capture_exception(exc)
    assert reported_types(memory) == []


class Weird(Exception):
    def __str__(self):
        raise RuntimeError("str() is broken")


class BadProvider(MemoryProvider):
    def send_event(self, event):
        raise OSError("provider exploded")


@pytest.mark.parametrize(("thing", "reported"), [
    (Weird("x"), ["<user code>(Exception)"]),  # str() fails; the user's class name never leaves
    (ValueError(), ["ValueError"]),            # no traceback
    ("not an exception", []), (None, []), (42, []),
])
def test_capture_never_raises(memory, thing, reported):
    telemetry.capture_exception(thing)  # nothing escapes, and what it did is what it should
    assert reported_types(memory) == reported


@pytest.mark.parametrize("debug", ["", "1"])
def test_a_broken_provider_never_reaches_the_caller_and_is_silent_unless_debugging(
        monkeypatch, capsys, debug):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_DEBUG", debug)
    set_pipeline(Pipeline(provider=BadProvider()))
    try:
        raise ValueError("x")
    except ValueError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(5)
    assert get_pipeline().stats["delivery_failed"] == 1
    err = capsys.readouterr().err
    if debug:
        assert "[crawl4ai.telemetry] internal error in provider memory" in err
        assert "OSError: provider exploded" in err
    else:
        assert err == ""
