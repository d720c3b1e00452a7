"""Signals and values: cancellation is never a crash, a misspelled opt-out is an opt-out, and a
thread's traceback stays what Python prints."""

from __future__ import annotations

import asyncio
import sys

import pytest

from crawl4ai.telemetry.consent import ALWAYS, ConsentStore, binding
from crawl4ai.telemetry.pipeline import Pipeline, set_pipeline
from crawl4ai.telemetry.providers.memory import MemoryProvider
from tests.hardening.watchdog import hung, run_guarded

GROUPS = pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are 3.11+")


class StopCrawl(asyncio.CancelledError):
    """A library's own cancellation, under another name."""


class Halted(StopCrawl):
    pass


def _reported(*errors: BaseException) -> list[dict]:
    provider = MemoryProvider()
    # A "yes" is bound to its receiver: agree to this very provider.
    ConsentStore().update(**binding(ALWAYS, provider))
    pipeline = Pipeline(provider=provider)
    set_pipeline(pipeline)
    for error in errors:
        try:
            raise error
        except BaseException as exc:  # noqa: BLE001 - cancellations are what is tested
            pipeline.capture(exc)
    assert pipeline.flush(10)
    return provider.events


def test_cancellation_under_any_name_is_never_reported():
    assert _reported(StopCrawl(), Halted(), asyncio.CancelledError()) == []


@GROUPS
def test_a_group_of_only_cancellations_is_never_reported():
    nested = BaseExceptionGroup("outer", [  # noqa: F821 - builtin on 3.11+
        asyncio.CancelledError(), BaseExceptionGroup("inner", [StopCrawl(), Halted()]),  # noqa: F821
    ])
    assert _reported(nested) == []


@GROUPS
def test_a_group_with_a_real_error_among_cancellations_is_reported():
    mixed = BaseExceptionGroup("tasks", [asyncio.CancelledError(), ValueError("real")])  # noqa: F821
    assert len(_reported(mixed)) == 1


def test_a_cancelled_task_is_not_reported_through_the_decorator():
    from crawl4ai import telemetry

    @telemetry.async_telemetry_decorator
    async def crawl() -> None:
        raise Halted()

    async def main() -> None:
        with pytest.raises(Halted):
            await crawl()

    events = _reported()
    asyncio.run(main())
    assert telemetry.flush(5)
    assert events == []


THREAD_CRASH = """
import sys, threading
if sys.argv[1] == "ours":
    from crawl4ai.telemetry.integrations.crawl4ai import install_process_handlers
    assert install_process_handlers(), "Sentry's integrations were not installed"
    from sentry_sdk.integrations.threading import ThreadingIntegration
    import sentry_sdk
    assert sentry_sdk.get_client().get_integration(ThreadingIntegration) is not None

def target():
    raise ValueError("thread failed")

thread = threading.Thread(target=target)
thread.start()
thread.join()
"""


def test_a_threads_traceback_is_byte_for_byte_what_python_prints(home):
    plain = run_guarded(THREAD_CRASH, home, args=("plain",))
    ours = run_guarded(THREAD_CRASH, home, args=("ours",), CRAWL4AI_DOCKER="true")
    assert not hung(ours), ours.stderr
    assert "Traceback" in plain.stderr and "ValueError: thread failed" in plain.stderr
    assert "sentry_sdk" not in ours.stderr
    assert ours.stderr == plain.stderr


@pytest.mark.parametrize("value", ["disable", "never", "none", "maybe", "0ff"])
def test_a_misspelled_opt_out_in_our_docker_image_means_off(home, value):
    result = run_guarded(
        """
        from crawl4ai import telemetry
        try:
            raise RuntimeError("would be reported by default in the image")
        except RuntimeError as exc:
            telemetry.capture_exception(exc)
        telemetry.flush(5)
        print(telemetry.status()["enabled"])
        from crawl4ai.telemetry.cli import main
        import sys
        sys.argv = ["crwl", "status"]
        main()
        """, home, CRAWL4AI_DOCKER="true", CRAWL4AI_TELEMETRY=value)
    assert result.stdout.splitlines()[0] == "False", result.stdout + result.stderr
    assert value in result.stdout.split("\n", 1)[1]
    assert not (home / ".crawl4ai" / "telemetry" / "outbox").exists() or not list(
        (home / ".crawl4ai" / "telemetry" / "outbox").glob("*.json"))
