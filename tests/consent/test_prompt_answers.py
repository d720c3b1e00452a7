"""What each answer does, the same for the terminal and the notebook (the shared request).

In-process, on the real pipeline with the in-memory provider (the answers' effect on what is
sent and stored is the subject here; the prompts themselves are driven on a PTY and in a kernel
in test_terminal_prompt.py and tests/notebook/).
"""

from __future__ import annotations

import pytest

from crawl4ai.telemetry import consent, prompts
from crawl4ai.telemetry.pipeline import Capture, Pipeline, set_pipeline
from crawl4ai.telemetry.prompts import _request
from crawl4ai.telemetry.providers.memory import MemoryProvider
from tests.conftest import read_config


@pytest.fixture
def pipeline(home, monkeypatch):
    # No TTY in pytest and the environment says library: no surface would ever show a prompt, so
    # the requests below are opened by hand, as a prompt would open them.
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    prompts.reset()
    p = Pipeline(provider=MemoryProvider())
    set_pipeline(p)
    yield p
    prompts.reset()


def error(kind=ValueError, message="boom"):
    try:
        raise kind(message)
    except kind as exc:
        return exc


def ask_decision(store):
    # What the pipeline decides for its MemoryProvider: a "yes" is bound to it.
    return consent.Decision(consent.ASK, consent.DEFAULT_ASK, consent.NOT_SET, None, "default",
                            destination="memory")


def open_request(pipeline, exc=None):
    capture = Capture(exc or error(), {"operation": "t"}, mechanism="manual")
    return _request.open_request(pipeline, capture, ask_decision(pipeline.store), "test")


def sent_types(pipeline):
    assert pipeline.flush(10)
    return [e["exception"]["values"][-1]["type"] for e in pipeline.provider.events]


def stored(home):
    path = home / ".crawl4ai" / "config.json"
    return read_config(home)["telemetry"] if path.exists() else {}


def test_this_error_only_sends_the_first_error_and_stores_nothing(pipeline, home):
    request = open_request(pipeline)
    assert prompts.state() == "open"
    assert open_request(pipeline, error(KeyError)) is None  # held, not a second prompt
    assert request.resolve(prompts.ONCE, "me@example.org")
    assert sent_types(pipeline) == ["ValueError"]
    assert pipeline.provider.events[0]["user"] == {"email": "me@example.org"}
    assert stored(home) == {}
    assert consent.decide(pipeline.store).consent == consent.NOT_SET
    assert pipeline.stats["held_for_prompt"] == 1 and pipeline.stats["not_consented"] == 1


def test_always_stores_the_choice_and_sends_every_waiting_error(pipeline, home):
    request = open_request(pipeline)
    open_request(pipeline, error(KeyError))
    open_request(pipeline, error(TypeError))
    request.resolve(prompts.ALWAYS, "")
    assert sorted(sent_types(pipeline)) == ["KeyError", "TypeError", "ValueError"]
    assert stored(home) == {"consent": "always", "email": None, "destination": "memory"}


def test_dont_send_and_dismiss_send_nothing_and_only_dont_send_is_stored(pipeline, home):
    request = open_request(pipeline)
    request.resolve(prompts.DENY)
    assert stored(home) == {"consent": "denied"}
    prompts.reset()
    (home / ".crawl4ai" / "config.json").unlink()
    request = open_request(pipeline)
    request.resolve(prompts.DISMISS)
    assert stored(home) == {}
    assert sent_types(pipeline) == []


def test_one_prompt_per_process_and_later_errors_are_not_held_forever(pipeline):
    request = open_request(pipeline)
    request.resolve(prompts.DISMISS)
    assert prompts.state() == "answered"
    assert open_request(pipeline, error(KeyError)) is None
    assert pipeline.stats["prompted"] == 1


def test_the_waiting_list_is_bounded(pipeline):
    request = open_request(pipeline)
    for _ in range(_request.MAX_HELD + 5):
        open_request(pipeline, error(KeyError))
    assert pipeline.stats["held_for_prompt"] == _request.MAX_HELD
    request.resolve(prompts.ALWAYS)
    # KeyErrors share one failure kind: the rate limiter lets its burst through, no more.
    assert 1 < len(sent_types(pipeline)) <= 1 + _request.MAX_HELD


def test_an_invalid_email_is_refused_and_the_question_stays_open(pipeline, home):
    request = open_request(pipeline)
    with pytest.raises(ValueError, match="not a valid email"):
        request.resolve(prompts.ALWAYS, "nope@")
    assert request.answer is None and prompts.state() == "open"
    assert request.resolve(prompts.ALWAYS, "ok@example.org")
    assert not request.resolve(prompts.DENY)  # answered once, for good
    assert stored(home)["email"] == "ok@example.org"


def test_an_unwritable_settings_file_keeps_the_choice_for_this_process(pipeline, home):
    (home / ".crawl4ai" / "config.json").mkdir(parents=True)  # cannot be read or replaced
    request = open_request(pipeline)
    request.resolve(prompts.ALWAYS)
    assert "config.json" in request.warning and "this run only" in request.warning
    assert sent_types(pipeline) == ["ValueError"]
    assert consent.decide(pipeline.store).send  # later errors of this run are sent too


def test_a_choice_made_in_code_is_followed_by_the_waiting_errors(pipeline):
    request = open_request(pipeline)
    open_request(pipeline, error(KeyError))
    from crawl4ai import telemetry

    telemetry.enable(once=True)
    request.resolve_with(consent.decide(pipeline.store))
    assert sent_types(pipeline) == ["ValueError"]  # "once": the error that asked, only
    assert consent.decide(pipeline.store).consent == consent.NOT_SET  # and it was used up


def test_the_prompt_hook_never_raises_and_never_asks_without_a_person(pipeline, monkeypatch):
    for env in ("cli", "jupyter", "colab", "library"):
        monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", env)
        prompts.ask_for_consent(pipeline, Capture(error()), ask_decision(pipeline.store))
        prompts.ask_for_consent(None, Capture(error()), None)  # broken input
    assert prompts.state() == "idle"
    assert pipeline.stats["not_consented"] == 4
