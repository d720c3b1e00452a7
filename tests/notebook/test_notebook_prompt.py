"""The first-error prompt in Jupyter and Colab, in a real kernel.

Cells run in a real ipykernel (nbclient); the widget's buttons are clicked inside the kernel from
a later cell, as a person's click would run them; reports go through the real sentry-sdk
transport to the local Sentry-protocol server.
"""

from __future__ import annotations

import textwrap

from tests.conftest import read_config
from tests.notebook.kernel import run_cells, shows_markdown, shows_widget, text_of

SECRETS = (b"secret-host", b"SECRET123", b"private?token")

FAIL = """
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator(operation="parse")
    def parse(url):
        raise ValueError(f"cannot parse {url}")

    parse("https://secret-host.example/private?token=SECRET123")
"""
FAIL_AGAIN = """
    @telemetry.telemetry_decorator
    def index():
        raise KeyError("second failure")

    index()
"""
PROMPT = """
    from crawl4ai.telemetry import environment
    from crawl4ai.telemetry.prompts import notebook
    prompt = notebook.current_prompt()
    print("ENV", environment.detect())
"""


def with_prompt(body: str) -> str:
    """A cell that finds the prompt the kernel shows, then runs ``body``."""
    return textwrap.dedent(PROMPT) + textwrap.dedent(body)


def markdown_of(nb, index):
    return "".join(out.get("data", {}).get("text/markdown", "") for out in nb.cells[index].outputs)


def stored(home):
    path = home / ".crawl4ai" / "config.json"
    return read_config(home)["telemetry"] if path.exists() else {}


def outbox_files(home):
    outbox = home / ".crawl4ai" / "telemetry" / "outbox"
    return sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []


def test_widget_always_with_email_sends_the_held_errors_after_a_late_click(home, sentry_server):
    nb = run_cells([FAIL, FAIL_AGAIN, with_prompt("""
        prompt.buttons["show"].click()
        print("REPORT", prompt.report.value)
        prompt.email.value = "me@example.org"
        prompt.buttons["always"].click()
        print("MESSAGE", prompt.message.value)
        print("FLUSHED", telemetry.flush(10))
    """)], home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    assert shows_widget(nb, 0) and "ValueError" in text_of(nb, 0)  # prompt, then the error
    assert not shows_widget(nb, 1)  # the second error waited for the same answer
    out = text_of(nb, 2)
    assert "ENV jupyter" in out and "FLUSHED True" in out
    assert "crash reports are on" in out
    report = out.split("REPORT", 1)[1].split("MESSAGE", 1)[0]
    assert "ValueError" in report and "Removed before sending" in report
    assert not any(secret.decode() in report for secret in SECRETS)
    events = sentry_server.wait_for_events(2)
    assert sorted(e["exception"]["values"][-1]["type"] for e in events) == ["KeyError", "ValueError"]
    assert all(e["environment"] == "jupyter" and e["user"] == {"email": "me@example.org"}
               for e in events)
    assert not any(secret in raw for raw in sentry_server.raw_bodies() for secret in SECRETS)
    assert stored(home) == {"consent": "always", "email": "me@example.org",
                            "destination": "sentry:127.0.0.1"}


def test_colab_is_detected_an_invalid_email_is_refused_and_this_error_only_sends_one(
        home, sentry_server):
    nb = run_cells([FAIL, with_prompt("""
        prompt.email.value = "not-an-email@"
        prompt.buttons["once"].click()
        print("REFUSED", prompt.message.value, prompt.request.answer)
        prompt.email.value = ""
        prompt.buttons["once"].click()
        print("FLUSHED", telemetry.flush(10))
    """), FAIL_AGAIN, "print('FLUSHED', telemetry.flush(10))"],
        home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, COLAB_RELEASE_TAG="release-colab-test")
    assert shows_widget(nb, 0)
    out = text_of(nb, 1)
    assert "ENV colab" in out
    assert "REFUSED" in out and "not a valid email address" in out and "None" in out
    assert not shows_widget(nb, 2) and "KeyError" in text_of(nb, 2)  # one prompt per kernel
    [event] = sentry_server.wait_for_events(1)
    assert event["environment"] == "colab" and "user" not in event
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert stored(home).get("consent", "not_set") == "not_set"


def test_widget_dont_send_stores_denied_and_nothing_leaves(home, sentry_server):
    nb = run_cells([FAIL, with_prompt("""
        prompt.buttons["deny"].click()
        print("MESSAGE", prompt.message.value)
    """), FAIL_AGAIN, "print('FLUSHED', telemetry.flush(10))"],
        home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    assert "No crash reports will be sent" in text_of(nb, 1)
    assert not shows_widget(nb, 2)
    assert "FLUSHED True" in text_of(nb, 3)
    assert stored(home) == {"consent": "denied"}
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_without_ipywidgets_a_markdown_snippet_and_the_call_it_names_sends_the_held_error(
        home, sentry_server):
    nb = run_cells([
        "import sys; sys.modules['ipywidgets'] = None  # as if ipywidgets were not installed",
        FAIL,
        "print('FLUSHED', telemetry.flush(5))",
        "import crawl4ai.telemetry\ncrawl4ai.telemetry.enable(once=True)",
        "print('FLUSHED', telemetry.flush(10))",
    ], home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    assert shows_markdown(nb, 1) and not shows_widget(nb, 1)
    snippet = markdown_of(nb, 1)
    assert "Crawl4AI Error Detection" in snippet
    for call in ("crawl4ai.telemetry.enable(once=True)", "crawl4ai.telemetry.enable()",
                 "crawl4ai.telemetry.disable()"):
        assert call in snippet
    assert not any(secret.decode() in snippet for secret in SECRETS)
    assert "FLUSHED True" in text_of(nb, 4)
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert stored(home)["consent"] == "not_set"  # "once" was used by the held error


def test_a_notebook_run_in_ci_shows_no_prompt_and_sends_nothing(home, sentry_server):
    nb = run_cells([FAIL, "print('ENV', telemetry.status()['environment'], telemetry.flush(5))"],
                   home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CI="true")
    assert not shows_widget(nb, 0) and not shows_markdown(nb, 0)
    assert "ValueError" in text_of(nb, 0)
    assert "ENV jupyter True" in text_of(nb, 1)
    assert sentry_server.requests == [] and outbox_files(home) == []
