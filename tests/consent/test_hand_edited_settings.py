"""``~/.crawl4ai/config.json`` as a person edits it: comments and trailing commas are read; a file
that truly cannot be read never loses a report the person may have agreed to (kept, unsent,
until the file reads "yes" for this destination), and ``status`` says where the file is wrong.
Real files, real sentry-sdk transport to the local Sentry-protocol server."""

from __future__ import annotations

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import api
from crawl4ai.telemetry.pipeline import get_pipeline
from crawl4ai.telemetry.status_rows import rows as status_rows
from tests.conftest import read_config

HAND_EDITED = """{
  // Crawl4AI's own settings, edited by hand
  "browser": {"headless": false, "viewport": [1280, 720,],},
  # reports: yes, to our Sentry
  "telemetry": {
    "consent": "always",   /* decided 2024-05 */
    "destination": "sentry:127.0.0.1",
    "email": "me@example.org",
  },
}
"""

# A typo a person makes: the quote before consent is missing (line 3, column 5).
TYPO = """{
  "telemetry": {
    consent": "always",
    "destination": "sentry:127.0.0.1"
  }
}
"""


@pytest.fixture
def sending(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    (home / ".crawl4ai").mkdir()
    return home / ".crawl4ai" / "config.json"


def _fail() -> None:
    try:
        raise ValueError("a crawl failed")
    except ValueError as exc:
        telemetry.capture_exception(exc)


def test_comments_and_trailing_commas_are_read_as_the_person_meant(sending, sentry_server):
    sending.write_text(HAND_EDITED)
    status = telemetry.status()
    assert (status["consent"], status["email"], status["sends"]) == ("always", "me@example.org", True)
    assert status["problems"] == [] and status["config_problem"] is None
    _fail()
    assert telemetry.flush(10)
    [event] = sentry_server.wait_for_events(1)
    assert event["user"] == {"email": "me@example.org"}
    # A write keeps every other key the person wrote.
    telemetry.enable(email="other@example.org")
    written = read_config(sending.parent.parent)
    assert written["browser"] == {"headless": False, "viewport": [1280, 720]}
    assert written["telemetry"]["email"] == "other@example.org"


def test_an_unreadable_file_keeps_the_report_unsent_and_says_where(sending, sentry_server):
    sending.write_text(TYPO)
    status = telemetry.status()
    assert status["consent"] == "unreadable" and not status["sends"] and not status["will_ask"]
    shown = "\n".join(f"{label}: {value}" for label, value in status_rows(api.status()))
    assert "line 3, column 5" in shown and "kept on this machine" in shown, shown
    _fail()
    assert telemetry.flush(10)
    assert sentry_server.requests == []  # it may say "no": nothing leaves
    [entry] = get_pipeline().outbox.entries()
    assert entry.state == "pending"
    assert sending.read_text() == TYPO  # reading never touches it
    # The person fixes the typo: the file says "always" for this destination; with the next
    # report, the one kept goes too.
    sending.write_text(TYPO.replace(' consent"', ' "consent"'))
    _fail()
    assert telemetry.flush(10)
    events = sentry_server.wait_for_events(2)
    assert entry.event_id in {event["event_id"] for event in events}
    assert get_pipeline().outbox.get(entry.event_id).state == "sent"


@pytest.mark.parametrize("fixed", ['"denied"', '"always", "destination": "sentry:elsewhere.example"'])
def test_a_report_kept_for_an_unreadable_file_is_never_sent_without_a_yes_for_here(
        sending, sentry_server, fixed):
    sending.write_text('{"telemetry": {"consent": "always",, }}')
    _fail()
    assert telemetry.flush(10)
    [entry] = get_pipeline().outbox.entries()
    sending.write_text('{"telemetry": {"consent": ' + fixed + "}}")
    get_pipeline().deliver_pending()
    _fail()  # a later error under the readable choice
    assert telemetry.flush(10)
    assert sentry_server.requests == []
    assert get_pipeline().outbox.get(entry.event_id).state == "pending"


def test_a_choice_made_over_an_unreadable_file_keeps_the_bad_file_aside(sending):
    sending.write_text(TYPO)
    telemetry.enable()
    [kept] = sending.parent.glob("config.json.corrupt-*")
    assert kept.read_text() == TYPO
    assert read_config(sending.parent.parent)["telemetry"]["consent"] == "always"


def test_comment_marks_and_commas_inside_strings_are_text(sending):
    sending.write_text('{"proxy": "http://user@host:8080/#frag", "note": "a, ] // not a comment",\n'
                       ' "telemetry": {"consent": "denied",}, // the person said no\n}')
    assert telemetry.status()["consent"] == "denied"
    telemetry.enable()
    written = read_config(sending.parent.parent)
    assert written["proxy"] == "http://user@host:8080/#frag"
    assert written["note"] == "a, ] // not a comment"
