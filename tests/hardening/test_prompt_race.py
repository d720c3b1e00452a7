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

import pexpect

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
