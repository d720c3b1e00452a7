"""The prompt in the terminals people really have: a dumb one (Emacs ``M-x shell``, IDE consoles,
CI log viewers), one that says nothing of itself, 80 columns, and an asyncio program that ends
before the answer. Real PTY, no helpful variables beyond what such a terminal sets."""

from __future__ import annotations

import pyte
import pytest

from crawl4ai.telemetry import wording
from tests.conftest import read_config
from tests.consent.pty_session import EMAIL, ENTER, HEADER, SYNC_SCRIPT, choose, finish, spawn

ESC = "\x1b"
# A terminal that cannot draw a menu: no COLUMNS/LINES either (the PTY has its size).
DUMB = {"TERM": "dumb", "COLUMNS": None, "LINES": None}
NO_TERM = {"TERM": None, "COLUMNS": None, "LINES": None}


def raw(child) -> str:
    return "".join(child.transcript)


def test_a_dumb_terminal_gets_a_numbered_question_without_one_escape_code(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, "2", CRAWL4AI_SENTRY_DSN=sentry_server.dsn, **DUMB)
    child.expect_exact(HEADER)
    child.expect_exact("1) " + wording.CHOICE_ONCE)
    child.expect_exact("Type 1-4 and Enter: ")
    child.send("2" + ENTER)
    child.expect_exact(EMAIL)
    child.send("me@example.org" + ENTER)
    child.expect_exact("crash reports are on")
    out = finish(child)
    assert child.exitstatus == 0 and "DONE" in out and out.count(HEADER) == 1
    assert ESC not in raw(child)
    events = sentry_server.wait_for_events(1)  # the same bug twice: one report, with its count
    assert events and all(e["user"] == {"email": "me@example.org"} for e in events)
    assert read_config(home)["telemetry"]["consent"] == "always"


def test_with_no_term_at_all_the_report_can_be_read_and_refused_in_plain_lines(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, **NO_TERM)
    child.expect_exact("Type 1-4 and Enter: ")
    child.send("seven" + ENTER)  # not a choice: asked again
    child.expect_exact("Type 1-4 and Enter: ")
    child.send("4" + ENTER)
    child.expect_exact('"exception"')  # the exact report, as text
    child.expect_exact("Type 1-4 and Enter: ")
    child.send("3" + ENTER)
    out = finish(child)
    assert child.exitstatus == 0 and "DONE" in out
    assert ESC not in raw(child)
    assert sentry_server.requests == []
    assert read_config(home)["telemetry"]["consent"] == "denied"


DUMB_ASYNC_SCRIPT = """
    import asyncio
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    async def crawl():
        raise ValueError("boom")

    async def main():
        try:
            await crawl()
        except ValueError:
            print("CRAWL WENT ON", flush=True)

    asyncio.run(main())
    print("PROGRAM DONE", flush=True)
"""


def test_a_dumb_terminal_in_an_event_loop_is_asked_in_lines_when_the_program_ends(
        home, sentry_server):
    child = spawn(DUMB_ASYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, **DUMB)
    child.expect_exact("PROGRAM DONE")  # the loop was never held by a question
    assert HEADER not in child.before
    child.expect_exact("Type 1-4 and Enter: ")
    child.send("1" + ENTER)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert child.exitstatus == 0 and out.count(HEADER) == 1
    assert ESC not in raw(child)
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"


def screen_rows(child, columns: int) -> list[str]:
    """What a real terminal of ``columns`` columns shows after the program's output."""
    screen = pyte.Screen(columns, 400)
    pyte.Stream(screen).feed(raw(child).replace("\n", "\r\n").replace("\r\r\n", "\r\n"))
    return [row.rstrip() for row in screen.display]


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_at_80_columns_the_question_breaks_between_words_only(home, term):
    child = spawn(SYNC_SCRIPT, home, columns=80, TERM=term, COLUMNS=None, LINES=None)
    if term == "dumb":
        child.expect_exact("Type 1-4 and Enter: ")
        child.send("3" + ENTER)
    else:
        choose(child, 3)
    finish(child)
    rows = screen_rows(child, 80)
    words = {word for row in rows for word in row.split()}
    for text in (wording.QUESTION_LOCAL, wording.WHAT, "nothing is sent and the program goes on."):
        broken = [word for word in text.split() if word not in words]
        assert broken == [], (broken, rows)


EXIT_AFTER_SHOWING_SCRIPT = """
    import asyncio
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator
    async def crawl():
        raise ValueError("boom")

    async def main():
        try:
            await crawl()
        except ValueError:
            pass
        await asyncio.sleep(1)  # the question is on screen; the program ends before the answer

    asyncio.run(main())
"""


def test_a_question_asked_again_at_exit_says_so_in_one_line(home, sentry_server):
    child = spawn(EXIT_AFTER_SHOWING_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    child.expect_exact(HEADER)
    child.expect_exact("the question above is asked again")
    choose(child, 1)
    child.expect_exact(EMAIL)
    child.send(ENTER)
    out = finish(child)
    assert out.count(HEADER) == 1 and out.count(wording.WHAT[:40]) == 1, out
    assert out.count("the question above is asked again") == 1
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
