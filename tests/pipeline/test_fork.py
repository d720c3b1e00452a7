"""A forked child (multiprocessing's default on Linux) reports on its own and never hangs on a
lock its parent's telemetry worker held at the moment of the fork."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.pipeline import get_pipeline


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_child_forked_while_the_worker_holds_its_lock_still_reports(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    pipeline = get_pipeline()
    pipeline.ready()
    held = threading.Event()
    release = threading.Event()

    def hold_the_lock():
        with pipeline.worker.lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert held.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: capture, flush, and tell the parent by exit code
        code = 1
        try:
            try:
                raise RuntimeError("timed out in the child")
            except RuntimeError as exc:
                telemetry.capture_exception(exc)
            code = 0 if telemetry.flush(10) else 2
        finally:
            os._exit(code)
    release.set()
    holder.join()
    deadline = time.monotonic() + 20
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on its parent's telemetry lock")
    assert os.waitstatus_to_exitcode(done[1]) == 0
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["value"] == "<str>"  # the test's own message: no template
