"""One home for consent wording: the terminal and the notebook say the same sentences, taken from
crawl4ai.telemetry.wording, and no text promises sending where nothing would leave the machine."""

from __future__ import annotations

import re

import pytest

from crawl4ai.telemetry import wording
from crawl4ai.telemetry.pipeline import Capture, Pipeline
from crawl4ai.telemetry.prompts import _request, notebook, terminal
from crawl4ai.telemetry.providers.memory import MemoryProvider


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text))


@pytest.fixture
def request_(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    _request.reset()
    try:
        raise KeyError("k")
    except KeyError as exc:
        capture = Capture(exc)
    from crawl4ai.telemetry import consent

    decision = consent.Decision(consent.ASK, consent.DEFAULT_ASK, consent.NOT_SET, None, "default")
    yield _request.ConsentRequest(Pipeline(provider=MemoryProvider()), capture, decision, "test")
    _request.reset()


def test_both_prompts_say_the_same_sentences(request_):
    shown = {"terminal": flat(terminal._header(request_) + terminal._report_text(request_)),
             "notebook": flat(notebook.snippet(request_))}
    for surface, text in shown.items():
        # A memory provider delivers nowhere: both surfaces use the "kept locally" question.
        question = wording.QUESTION_LOCAL if request_.keeps_locally else wording.QUESTION
        for sentence in (wording.TITLE, question, wording.WHAT,
                         wording.HIT.format(kind="KeyError")):
            assert flat(sentence).strip() in text.replace("`", ""), (surface, sentence)
        caption = wording.report_caption(request_.destination, request_.keeps_locally)
        assert caption in text, (surface, caption)


@pytest.mark.parametrize("keeps_locally", [False, True])
@pytest.mark.parametrize("answer", ["once", "always", "deny", "dismiss"])
def test_an_answer_reads_the_same_on_both_surfaces(answer, keeps_locally):
    on_terminal = wording.answered(answer, wording.TERMINAL_COMMANDS, keeps_locally)
    in_notebook = wording.answered(answer, wording.NOTEBOOK_COMMANDS, keeps_locally)
    assert "crwl" not in in_notebook  # a notebook names calls a cell can run
    assert set(wording.TERMINAL_COMMANDS) == set(wording.NOTEBOOK_COMMANDS)
    strip = {**{v: k for k, v in wording.TERMINAL_COMMANDS.items()},
             **{v: k for k, v in wording.NOTEBOOK_COMMANDS.items()}}
    for command, name in strip.items():
        on_terminal, in_notebook = on_terminal.replace(command, name), in_notebook.replace(command, name)
    assert on_terminal == in_notebook and on_terminal


@pytest.mark.parametrize(("destination", "keeps_locally"), [
    (None, False), ("", False), ("local outbox only (no DSN configured)", True)])
def test_no_text_says_will_be_sent_without_a_destination(destination, keeps_locally):
    assert "will be sent" not in wording.where_reports_go(destination, keeps_locally)
    assert "would be sent" not in wording.report_caption(destination, keeps_locally)
    assert "will be sent" not in wording.answered("once", wording.TERMINAL_COMMANDS,
                                                  keeps_locally=True)


def test_a_destination_is_named(request_):
    assert "Sentry at sentry.example.com" in wording.where_reports_go("Sentry at sentry.example.com",
                                                                       False)
    assert request_.sink.destination() == ("memory (this process only)", False)


def test_a_never_names_the_local_only_choice_on_both_surfaces():
    assert "`crwl telemetry enable --local-only`" in wording.answered(
        "deny", wording.TERMINAL_COMMANDS)
    assert "enable(local_only=True)" in wording.answered("deny", wording.NOTEBOOK_COMMANDS)


def test_the_notebook_html_neutralises_control_characters_like_every_surface(request_):
    """An exception name is outside text: in the notebook's HTML its control characters show
    as escapes (the shared _text table), as on the terminal and in the dashboard."""
    forged = type("Boom\x1b]52;c;aGk=\x07\u202e", (Exception,), {})
    try:
        raise forged("x")
    except Exception as exc:
        capture = Capture(exc)
    from crawl4ai.telemetry import consent

    decision = consent.Decision(consent.ASK, consent.DEFAULT_ASK, consent.NOT_SET, None, "default")
    request = _request.ConsentRequest(Pipeline(provider=MemoryProvider()), capture, decision,
                                      "test")
    ipywidgets = pytest.importorskip("ipywidgets")
    header = notebook.NotebookPrompt(request, ipywidgets).widget.children[0].value
    text = notebook.snippet(request) + header
    assert header.count("Boom\\x1b]52;c;aGk=\\x07\\u202e") == 1
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "Boom\\x1b]52;c;aGk=\\x07\\u202e" in text
