"""The first-error prompt in a real terminal: every answer does what it says, and nothing else.

Each test runs a user's program on a real pseudo-terminal (pexpect), environment detected as
``cli`` (stdin and stdout are a TTY, no CI variables), with reports going through the real
sentry-sdk transport to the local Sentry-protocol server.
"""

from __future__ import annotations

import json
import re

import pexpect
import pytest

from tests.conftest import read_config
from tests.consent.pty_session import (
    CTRL_C,
    CTRL_D,
    CTRL_U,
    EMAIL,
    ENTER,
    HEADER,
    SYNC_SCRIPT,
    choose,
    finish,
    screen_text,
    spawn,
)

SECRETS = (b"secret-host", b"SECRET123", b"private?token")


def stored(home):
    path = home / ".crawl4ai" / "config.json"
    return read_config(home).get("telemetry", {}) if path.exists() else {}


def outbox_files(home):
    outbox = home / ".crawl4ai" / "telemetry" / "outbox"
    return sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []


def in_app(exception):
    return [f for f in exception["stacktrace"]["frames"] if f.get("in_app")]


def assert_nothing_sent(server, home):
    assert server.requests == []
    assert outbox_files(home) == []


def test_always_with_email_sends_this_and_later_errors_and_stores_the_choice(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, "2", CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact(HEADER)
    child.expect_exact("Help improve Crawl4AI by sending anonymous crash reports?")
    choose(child, 2)
    child.expect_exact(EMAIL)
    child.send("me@example.org" + ENTER)
    child.expect_exact("crash reports are on")
    out = finish(child)
    assert "CAUGHT 1" in out and "FLUSHED True" in out
    assert out.count(HEADER) == 1
    events = sentry_server.wait_for_events(1)
    # The second error is the same bug: counted into the one report (held while the person chose).
    assert [e["contexts"]["telemetry"]["occurrences"] for e in events] == [2]
    assert all(e["user"] == {"email": "me@example.org"} for e in events)
    assert all(e["environment"] == "cli" for e in events)
    assert stored(home) == {"consent": "always", "email": "me@example.org",
                            "destination": "sentry:127.0.0.1"}
    raw = b"".join(sentry_server.raw_bodies())
    assert not any(secret in raw for secret in SECRETS)


def test_this_error_only_sends_exactly_one_report_and_asks_once_per_process(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, "3", CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)  # no email
    child.expect_exact("this report will be sent")
    out = finish(child)
    assert "CAUGHT 2" in out and "FLUSHED True" in out
    assert out.count(HEADER) == 1  # the 2nd and 3rd errors were not asked about
    events = sentry_server.wait_for_events(1)
    assert len(events) == 1 and "user" not in events[0]
    # "this error only" never leaves a once/always behind: the next run asks again.
    assert stored(home).get("consent", "not_set") == "not_set"
    assert len([n for n in outbox_files(home) if n.endswith(".meta.json")]) == 1


def test_dont_send_stores_denied_and_sends_nothing(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, "2", CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 3)
    child.expect_exact("No crash reports will be sent")
    out = finish(child)
    assert EMAIL not in out  # no email question after "don't send"
    assert out.count(HEADER) == 1 and "FLUSHED True" in out
    assert stored(home) == {"consent": "denied"}
    assert_nothing_sent(sentry_server, home)


def test_the_report_shown_before_choosing_is_the_one_sent_and_has_no_secrets(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 4)
    child.expect_exact("Removed before sending")
    choose(child, 1)  # the question comes back after the report
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    shown_text = out.split("The exact report that would be sent", 1)[1]
    shown_text = shown_text.split("---\n", 1)[1].split("--- Removed before sending", 1)[0]
    shown = json.loads(shown_text)
    assert not any(secret.decode() in shown_text for secret in SECRETS)
    [sent] = sentry_server.wait_for_events(1)
    shown_exc, sent_exc = shown["exception"]["values"][-1], sent["exception"]["values"][-1]
    for key in ("type", "value", "mechanism"):
        assert shown_exc[key] == sent_exc[key]
    # The worker builds the sent report a moment later, when the exception may have propagated
    # through more of the caller's frames; those are the user's, reduced to placeholders. The
    # library frames must be the same.
    assert in_app(shown_exc) == in_app(sent_exc)
    assert shown["fingerprint"] == sent["fingerprint"]
    assert shown["contexts"] == sent["contexts"]
    assert re.search(r"Removed before sending: .*url: 1", out)


def test_an_invalid_email_is_refused_until_corrected(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 2)
    child.expect_exact(EMAIL)
    child.send("not-an-email@" + ENTER)
    child.expect_exact("not a valid email address")
    child.send(CTRL_U + "fixed@example.org" + ENTER)
    child.expect_exact("crash reports are on")
    finish(child)
    [event] = sentry_server.wait_for_events(1)
    assert event["user"] == {"email": "fixed@example.org"}
    assert stored(home) == {"consent": "always", "email": "fixed@example.org",
                            "destination": "sentry:127.0.0.1"}


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D], ids=["ctrl-c", "ctrl-d"])
def test_interrupting_the_question_sends_and_stores_nothing(home, sentry_server, key):
    child = spawn(SYNC_SCRIPT, home, "2", CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("Use shortcuts")
    child.send(key)
    child.expect_exact("Nothing was sent and nothing was saved")
    out = finish(child)
    assert child.exitstatus == 0  # the program went on and ended normally
    assert "CAUGHT 1" in out and "FLUSHED True" in out and "Traceback" not in out
    assert out.count(HEADER) == 1  # not asked again in this process
    assert stored(home) == {}
    assert_nothing_sent(sentry_server, home)


def test_interrupting_the_email_question_sends_nothing(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 2)
    child.expect_exact(EMAIL)
    child.send("half@" + CTRL_C)
    child.expect_exact("Nothing was sent and nothing was saved")
    out = finish(child)
    assert child.exitstatus == 0 and "DONE" in out
    assert stored(home) == {}
    assert_nothing_sent(sentry_server, home)


ASYNC_SCRIPT = """
    import asyncio
    from crawl4ai import telemetry
    from crawl4ai.telemetry import prompts

    @telemetry.telemetry_decorator
    async def fail(kind, delay):
        await asyncio.sleep(delay)
        raise kind("boom")

    async def ticker():
        i = 0
        while True:
            print(f"tick {i} {prompts.state()}", flush=True)
            i += 1
            await asyncio.sleep(0.05)

    async def main():
        ticks = asyncio.create_task(ticker())
        results = await asyncio.gather(
            fail(ValueError, 0), fail(KeyError, 0.2), fail(TypeError, 0.4), return_exceptions=True)
        print("FAILURES", len(results), prompts.state(), flush=True)
        for _ in range(600):  # a real program would go on crawling; bounded here
            if prompts.state() != "open":
                break
            await asyncio.sleep(0.05)
        ticks.cancel()
        print("STATE", prompts.state(), flush=True)

    asyncio.run(main())
    print("FLUSHED", telemetry.flush(10), flush=True)
"""


def test_in_an_event_loop_other_tasks_keep_running_and_waiting_errors_follow_the_answer(
        home, sentry_server):
    child = spawn(ASYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    # While the question is open: the other failing tasks finished, the ticker keeps ticking.
    child.expect_exact("FAILURES 3 open")
    ticks = []
    for _ in range(3):
        child.expect(r"tick (\d+) open")
        ticks.append(int(child.match.group(1)))
    assert ticks == sorted(ticks) and ticks[-1] >= ticks[0] + 2
    choose(child, 2)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    child.expect_exact("STATE answered")
    out = finish(child)
    assert "FLUSHED True" in out and out.count(HEADER) == 1
    events = sentry_server.wait_for_events(3)
    kinds = sorted(e["exception"]["values"][-1]["type"] for e in events)
    assert kinds == ["KeyError", "TypeError", "ValueError"]
    assert stored(home)["consent"] == "always"


EXIT_SCRIPT = """
    import asyncio
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    async def crawl():
        raise ValueError("boom")

    async def main():
        await crawl()

    asyncio.run(main())
"""


def test_a_program_that_ends_before_the_answer_is_asked_at_exit_and_still_delivers(
        home, sentry_server):
    child = spawn(EXIT_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("ValueError: boom")  # the program's own traceback comes first
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    finish(child)
    assert child.exitstatus == 1  # the program's own failure, unchanged
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"


THREADS_SCRIPT = """
    import signal
    import sys
    import threading
    import time
    from crawl4ai import telemetry
    from crawl4ai.telemetry import prompts

    @telemetry.telemetry_decorator
    def fail(kind):
        raise kind("boom")

    go = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: go.set())  # the test's signal: the question is open

    def worker():
        go.wait(60)  # parked: it cannot be reading the terminal
        for kind in (KeyError, TypeError):
            try:
                fail(kind)
            except kind:
                pass
        print("WORKER DONE", prompts.state(), flush=True)

    t = threading.Thread(target=worker)
    t.start()
    for _ in range(3000):  # bounded: the error comes once the worker is parked, not while it starts
        frame = sys._current_frames().get(t.ident)
        if frame is not None and frame.f_code is threading.Condition.wait.__code__:
            break
        time.sleep(0.01)
    try:
        fail(ValueError)  # asks (the main thread owns the terminal), and waits for the answer
    except ValueError:
        print("MAIN GOES ON", flush=True)
    t.join()
    print("FLUSHED", telemetry.flush(10), flush=True)
"""


def test_other_threads_are_not_blocked_and_their_errors_wait_for_the_answer(home, sentry_server):
    import os
    import signal

    child = spawn(THREADS_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("Use shortcuts")
    os.kill(child.pid, signal.SIGUSR1)
    # The worker failed twice while the question was open, and was not blocked by it.
    child.expect_exact("WORKER DONE open")
    child.send("2")
    child.send(ENTER)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    child.expect_exact("MAIN GOES ON")
    out = finish(child)
    assert "FLUSHED True" in out and out.count(HEADER) == 1
    events = sentry_server.wait_for_events(3)
    kinds = sorted(e["exception"]["values"][-1]["type"] for e in events)
    assert kinds == ["KeyError", "TypeError", "ValueError"]


BUSY_THREAD_SCRIPT = """
    import threading, time
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    def fail():
        raise ValueError("boom")

    done = []
    def busy():  # at work (sleeping, downloading, or in input(): nothing tells them apart)
        while not done:
            time.sleep(0.01)

    t = threading.Thread(target=busy)
    t.start()
    try:
        fail()
    except ValueError:
        print("MAIN GOES ON", flush=True)
    done.append(True)
    t.join()
    print("PROGRAM DONE", flush=True)
"""


def test_an_error_while_another_thread_is_at_work_is_asked_about_at_exit(home, sentry_server):
    """The conservative rule: a thread at work may be reading the terminal, so the question
    waits for the program's end; the error is not lost."""
    child = spawn(BUSY_THREAD_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("PROGRAM DONE")
    assert HEADER not in child.before
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert child.exitstatus == 0 and out.count(HEADER) == 1
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"


# -- a terminal that never answers cursor-position requests (no PROMPT_TOOLKIT_NO_CPR) ----------

# The reported case: a real crawl4ai crawl hits crawl4ai's own bug inside `asyncio.run`, the
# question opens as a task, and the program ends before anyone answers.
CRAWL_SCRIPT = """
    import asyncio
    from crawl4ai import AsyncWebCrawler, BrowserConfig, CacheMode, CrawlerRunConfig, HTTPCrawlerConfig
    from crawl4ai.async_crawler_strategy import AsyncHTTPCrawlerStrategy
    from tests.crawl4ai.crawling import Site

    async def main(url):
        strategy = AsyncHTTPCrawlerStrategy(browser_config=HTTPCrawlerConfig())
        async with AsyncWebCrawler(config=BrowserConfig(verbose=False),
                                   crawler_strategy=strategy) as crawler:
            result = await crawler.arun(url, config=CrawlerRunConfig(
                cache_mode=CacheMode.BYPASS, verbose=False))
            print("CRAWLED", result.success, flush=True)

    site = Site()
    asyncio.run(main(site.url("/image")))
    site.close()
    print("PROGRAM DONE", flush=True)
"""
CURSOR_POSITION_REQUEST = "\x1b[6n"


def raw_output(child):
    return "".join(child.transcript)


def spawn_crawl(home, sentry_server):
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return spawn(CRAWL_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, PYTHONPATH=root,
                 timeout=60)


def test_the_prompt_never_asks_the_terminal_where_the_cursor_is(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    choose(child, 3)
    out = finish(child)
    assert "DONE" in out
    assert CURSOR_POSITION_REQUEST not in raw_output(child)
    assert "cursor position requests" not in out  # prompt_toolkit's warning after waiting


def test_an_unanswered_question_at_exit_closes_within_its_bound_and_sends_nothing(
        home, sentry_server):
    import time

    from crawl4ai.telemetry.prompts.terminal import UNANSWERED_SECONDS

    child = spawn_crawl(home, sentry_server)
    child.expect_exact("PROGRAM DONE")
    child.expect_exact(f"closes in {UNANSWERED_SECONDS:.0f} s")
    asked = time.monotonic()
    child.expect_exact("Use shortcuts")
    # Nobody answers. The bound is documented; the slack only absorbs a loaded machine.
    child.expect(pexpect.EOF, timeout=UNANSWERED_SECONDS + 30)
    waited = time.monotonic() - asked
    child.close()
    out = screen_text(child)
    assert UNANSWERED_SECONDS - 1 <= waited
    assert "No answer within" in out and "Nothing was sent and nothing was saved" in out
    assert child.exitstatus == 0
    assert CURSOR_POSITION_REQUEST not in raw_output(child)
    assert_nothing_sent(sentry_server, home)
    assert stored(home) == {}


@pytest.mark.parametrize("how", ["key", "signal"])
def test_ctrl_c_at_the_exit_question_ends_the_program_at_once_and_sends_nothing(
        home, sentry_server, how):
    import signal
    import time

    child = spawn_crawl(home, sentry_server)
    child.expect_exact("PROGRAM DONE")
    child.expect_exact("Use shortcuts")
    pressed = time.monotonic()
    if how == "key":
        child.send(CTRL_C)
    else:
        child.kill(signal.SIGINT)
    child.expect(pexpect.EOF, timeout=15)
    assert time.monotonic() - pressed < 15
    child.close()
    assert "Nothing was sent and nothing was saved" in screen_text(child)
    assert_nothing_sent(sentry_server, home)
    assert stored(home) == {}


def test_with_no_destination_the_prompt_offers_to_keep_not_to_send(home):
    child = spawn(SYNC_SCRIPT, home)  # no DSN: nothing can leave this machine
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert "Keep this error's report" in out
    assert "kept on this machine" in out
    for promise in ("will be sent", "Send this error", "Always send"):
        assert promise not in out
    metas = [n for n in outbox_files(home) if n.endswith(".meta.json")]
    assert len(metas) == 1
    meta = json.loads((home / ".crawl4ai" / "telemetry" / "outbox" / metas[0]).read_text())
    assert meta["state"] == "local"
