"""The report shows the error as it was when it was seen: what a person is shown before choosing
is what is sent, however far the exception travels before the worker builds the report."""

from __future__ import annotations

import threading

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.pipeline import Pipeline, set_pipeline
from crawl4ai.telemetry.providers.memory import MemoryProvider


def test_frames_added_after_capture_are_not_in_the_report(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    provider = MemoryProvider()
    pipeline = Pipeline(provider=provider)
    set_pipeline(pipeline)
    # Keep the worker busy, so the report is built only after the exception propagated.
    release = threading.Event()
    pipeline.worker.submit(lambda _: release.wait(10))

    shown = []

    def inner():
        try:
            raise ValueError("deep")
        except ValueError as exc:
            telemetry.capture_exception(exc)
            shown.append(telemetry.build_report(exc).event["exception"]["values"][-1])
            raise

    def outer():
        inner()

    with pytest.raises(ValueError) as info:
        outer()
    assert len(list(_walk(info.value.__traceback__))) == 3  # the test, outer, inner
    release.set()
    assert telemetry.flush(10)
    [sent] = provider.events
    assert len(sent["exception"]["values"][-1]["stacktrace"]["frames"]) == 1
    [sent_value] = sent["exception"]["values"]
    assert sent_value["stacktrace"] == shown[0]["stacktrace"]
    assert sent_value["value"] == shown[0]["value"]


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next
