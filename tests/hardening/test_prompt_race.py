"""The consent question never races with the host's own use of the terminal.

An error in a background thread while the main thread reads the terminal (``input()``, a REPL)
must not open a question beside it: both would read the same keys, the person's typing would
answer a question they never saw, and Ctrl-C (a key in the prompt's raw mode) would reach
neither. That error waits, and the question is asked when the program ends (bounded, see
``EXIT_QUESTION_SECONDS``). Real PTY that answers no cursor-position request, no helpful
variables.
"""

from __future__ import annotations

import pexpect

from tests.consent.pty_session import CTRL_C, EMAIL, ENTER, HEADER, choose, finish, spawn

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
