"""The consent question never races with the host's own use of the terminal, and never holds a
program nobody is watching for ever.

An error in a background thread while the main thread reads the terminal (``input()``, a REPL)
must not open a question beside it: both would read the same keys, the person's typing would
answer a question they never saw, and Ctrl-C (a key in the prompt's raw mode) would reach
neither. That error waits, and the question is asked when the program ends (bounded, see
``UNANSWERED_SECONDS``). Real PTY that answers no cursor-position request, no helpful
variables.
"""

from __future__ import annotations

import os
from pathlib import Path

import pexpect
import pytest

from tests.consent.pty_session import (
    CTRL_C,
    EMAIL,
    ENTER,
    HEADER,
    SYNC_SCRIPT,
    choose,
    finish,
    spawn,
    spawn_shell,
)

HOST_READS_THE_TERMINAL = """
    import threading
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator(operation="background crawl")
    def crawl():
        raise ValueError("failed in the background")

    def background():
        try:
            crawl()
        except ValueError:
            print("BACKGROUND WENT ON", flush=True)

    worker = threading.Thread(target=background)
    worker.start()
    worker.join()
    name = input("Your name: ")
    print("HOST GOT", repr(name), flush=True)
"""


def test_a_background_error_never_opens_a_question_beside_the_hosts_input(home, sentry_server):
    child = spawn(HOST_READS_THE_TERMINAL, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    # The background thread was not held by a question, and the host's input is its own.
    child.expect_exact("BACKGROUND WENT ON")
    child.expect_exact("Your name: ")
    child.send("12" + ENTER)
    child.expect_exact("HOST GOT '12'")
    # The error is not lost: the question comes once the program has ended, and is answered.
    child.expect_exact(HEADER)
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert child.exitstatus == 0, out
    assert out.index("HOST GOT") < out.index(HEADER) and out.count(HEADER) == 1
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"


def test_ctrl_c_at_the_deferred_question_ends_the_program_at_once(home, sentry_server):
    child = spawn(HOST_READS_THE_TERMINAL, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("Your name: ")
    child.send("ada" + ENTER)
    child.expect_exact("Use shortcuts")
    child.send(CTRL_C)
    child.expect(pexpect.EOF, timeout=15)
    child.close()
    assert sentry_server.requests == []


def test_an_unattended_script_stopped_at_its_first_error_goes_on_after_the_bound(
        home, sentry_server):
    import time

    from crawl4ai.telemetry.prompts.terminal import UNANSWERED_SECONDS

    # A long crawl left running in a terminal nobody watches (tmux, `docker run -it`).
    child = spawn(SYNC_SCRIPT, home, "2", CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact(f"closes in {UNANSWERED_SECONDS:.0f} s")
    child.expect_exact("Use shortcuts")
    asked = time.monotonic()
    child.expect_exact("CAUGHT 0", timeout=UNANSWERED_SECONDS + 60)  # the program went on
    assert time.monotonic() - asked >= UNANSWERED_SECONDS - 1
    out = finish(child)
    assert child.exitstatus == 0 and "DONE" in out and out.count(HEADER) == 1
    assert "No answer within" in out and "Nothing was sent and nothing was saved" in out
    assert sentry_server.requests == []
    assert not (home / ".crawl4ai" / "config.json").exists() or "telemetry" not in (
        home / ".crawl4ai" / "config.json").read_text()


def test_a_background_job_is_never_stopped_by_the_question(home, sentry_server):
    import sys
    import textwrap

    # `python crawl.py &` in an interactive shell: the terminal belongs to the shell, and the
    # kernel stops a background job that sets it up for a question (SIGTTOU) until `fg`.
    script = home / "program.py"
    script.write_text(textwrap.dedent(SYNC_SCRIPT))
    child = spawn_shell(f"set -m; {sys.executable} {script} & wait $!; echo WAITED $?", home,
                        CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    out = finish(child)
    assert "WAITED 0" in out and "Stopped" not in out, out
    assert "DONE" in out and HEADER not in out
    assert sentry_server.requests == []


def _signal_once_a_thread_reads_the_terminal(child: pexpect.spawn) -> None:
    """SIGUSR1 to the program once the kernel shows one of its threads blocked reading its
    terminal (fd 0): the error it then raises comes while the host really is reading."""
    import os
    import signal
    import time

    reads = {str(n) for n in _READ_CALLS[os.uname().machine]}
    for _ in range(1200):
        for task in Path(f"/proc/{child.pid}/task").iterdir():
            try:
                fields = (task / "syscall").read_text().split()
            except OSError:
                continue
            if fields[:1] and fields[0] in reads and int(fields[1], 16) == 0:
                os.kill(child.pid, signal.SIGUSR1)
                return
        time.sleep(0.05)
    raise AssertionError("no thread of the program ever read the terminal")


# Linux's read system calls (read, pread64, readv) by machine: what the test watches for. The
# product never guesses from system calls: any thread at work counts as a possible reader.
_READ_CALLS = {"x86_64": {0, 17, 19}, "aarch64": {63, 65, 67}}
LINUX_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir() or os.uname().machine not in
                                ("x86_64", "aarch64"), reason="watches threads through Linux's /proc")


HOST_AWAITS_INPUT_IN_AN_EXECUTOR = """
    import asyncio, signal
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    async def crawl():
        raise ValueError("failed while the host reads the terminal")

    async def main():
        loop = asyncio.get_running_loop()
        go = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR1, go.set)
        asking = loop.run_in_executor(None, input, "Your name: ")  # the usual async input()
        await go.wait()
        try:
            await crawl()
        except ValueError:
            print("CRAWL WENT ON", flush=True)
        name = await asking
        print("HOST GOT", repr(name), flush=True)

    asyncio.run(main())
"""


@LINUX_PROC
def test_an_error_in_a_loop_never_opens_a_question_while_an_executor_reads_the_terminal(
        home, sentry_server):
    """``await loop.run_in_executor(None, input)`` reads the terminal on a pool thread while the
    loop runs: a question opened as a task of that loop would read the same keys."""
    child = spawn(HOST_AWAITS_INPUT_IN_AN_EXECUTOR, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    _signal_once_a_thread_reads_the_terminal(child)
    child.expect_exact("CRAWL WENT ON")  # the terminal keeps the line until input() reads it
    child.send("12" + ENTER)
    child.expect_exact("HOST GOT '12'")
    assert HEADER not in child.before
    # Asked once the program has ended instead, and answered.
    child.expect_exact(HEADER)
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert child.exitstatus == 0, out
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"


HOST_WATCHES_THE_TERMINAL_IN_ITS_LOOP = """
    import asyncio, sys
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    async def crawl():
        raise ValueError("failed while the host reads the terminal")

    async def main():
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print("Your name: ", end="", flush=True)
        try:
            await crawl()
        except ValueError:
            print("CRAWL WENT ON", flush=True)
        name = (await reader.readline()).decode().strip()
        print("HOST GOT", repr(name), flush=True)

    asyncio.run(main())
"""


def test_an_error_in_a_loop_that_reads_the_terminal_itself_waits_for_exit(home, sentry_server):
    """aioconsole and friends read stdin through the loop (``connect_read_pipe``)."""
    child = spawn(HOST_WATCHES_THE_TERMINAL_IN_ITS_LOOP, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact("CRAWL WENT ON")
    child.send("12" + ENTER)
    child.expect_exact("HOST GOT '12'")
    assert HEADER not in child.before
    child.expect_exact(HEADER)
    choose(child, 3)
    out = finish(child)
    assert child.exitstatus == 0, out
    assert sentry_server.requests == []


HOST_READS_ON_A_THREAD = """
    import signal, threading
    from crawl4ai import telemetry

    go = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: go.set())
    got = []
    reader = threading.Thread(target=lambda: got.append(input("Your name: ")))
    reader.start()  # the host's own reader, while the main thread goes on working
    go.wait(60)

    @telemetry.telemetry_decorator
    def crawl():
        raise ValueError("failed while a thread reads the terminal")

    try:
        crawl()
    except ValueError:
        print("CRAWL WENT ON", flush=True)
    reader.join()
    print("HOST GOT", repr(got[0]), flush=True)
"""


@LINUX_PROC
def test_an_error_on_the_main_thread_never_opens_a_question_while_a_thread_reads(home, sentry_server):
    child = spawn(HOST_READS_ON_A_THREAD, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    _signal_once_a_thread_reads_the_terminal(child)
    child.expect_exact("CRAWL WENT ON")  # not stopped by a question: it waits for the end
    child.send("12" + ENTER)
    child.expect_exact("HOST GOT '12'")
    assert HEADER not in child.before
    child.expect_exact(HEADER)
    choose(child, 3)
    out = finish(child)
    assert child.exitstatus == 0, out
    assert sentry_server.requests == []
