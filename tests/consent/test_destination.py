"""Consent is bound to where reports go, and nothing promises a send that cannot happen.

A "yes" is stored beside the destination it was given for. When the destination in use changes
(a DSN appears, another host, another provider, one set at runtime), the old "yes" does not carry
over: reports are kept on this machine and the person is asked again where someone can answer.
A provider that cannot deliver keeps reports locally, never "pending" forever, and ``status``
says why in words.
"""

from __future__ import annotations

import json

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import cli, consent, environment
from crawl4ai.telemetry.pipeline import Pipeline, get_pipeline, set_pipeline
from crawl4ai.telemetry.providers.memory import MemoryProvider
from tests.conftest import read_config


@pytest.fixture(autouse=True)
def library(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")


def fail_once() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        telemetry.capture_exception(exc)


def outbox_states() -> list[str]:
    assert telemetry.flush(10)
    return [e.state for e in get_pipeline().outbox.entries()]


def test_a_yes_is_stored_with_the_destination_it_was_given_for(home, sentry_server, monkeypatch):
    telemetry.enable()
    assert read_config(home)["telemetry"]["destination"] == "local"
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable(once=True)
    assert read_config(home)["telemetry"]["destination"] == "sentry:127.0.0.1"


@pytest.mark.parametrize("stored_destination", ["local", None, "sentry:other-host.example"],
                         ids=["given-before-a-dsn-existed", "given-before-binding", "another-host"])
def test_an_always_does_not_carry_over_to_a_new_destination(home, sentry_server, monkeypatch,
                                                           stored_destination):
    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir(parents=True)
    section = {"consent": "always", "email": None}
    if stored_destination:
        section["destination"] = stored_destination
    path.write_text(json.dumps({"telemetry": section}))
    # The destination changes: a DSN is configured (as a release shipping one would).
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    fail_once()
    assert outbox_states() == ["local"]  # kept on this machine, not lost...
    assert sentry_server.requests == []  # ...and not sent
    status = telemetry.status()
    assert status["enabled"] is False and status["asks_again"] is True
    assert "until you agree again" in status["reason"]
    # Agreeing again, for this destination, sends.
    telemetry.enable()
    fail_once()
    assert len(sentry_server.wait_for_events(1)) == 1


def test_a_new_destination_is_asked_about_again_where_someone_can_answer(home, sentry_server,
                                                                        monkeypatch):
    telemetry.enable()  # given while reports stayed local
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "jupyter")
    environment.reset()
    decision = consent.decide(get_pipeline().store)
    assert decision.ask is True and decision.send is False and decision.keep_locally is True


def test_the_same_host_keeps_the_consent(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable()
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn.rstrip("0123456789") + "99")
    assert telemetry.status()["enabled"] is True


def test_a_provider_set_at_runtime_is_a_new_destination(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable()
    provider = MemoryProvider()
    set_pipeline(Pipeline(provider=provider))
    fail_once()
    assert outbox_states() == ["local"] and provider.events == []
    assert telemetry.status()["sources"]["destination"] == "runtime"


def test_with_no_destination_nothing_promises_a_send(home, capsys):
    code = cli.run(["enable"])
    out = capsys.readouterr().out
    assert code == 0
    assert "will be reported" not in out and "will be sent" not in out
    assert "kept on this machine" in out and "nothing is sent" in out
    cli.run(["status"])
    first_line = capsys.readouterr().out.splitlines()[0]
    assert "kept on this machine" in first_line and "nothing is sent" in first_line
    fail_once()
    assert outbox_states() == ["local"]


@pytest.mark.parametrize(("env", "problem"), [
    ({"CRAWL4AI_TELEMETRY_PROVIDER": "nonexistent"}, "no telemetry provider named 'nonexistent'"),
    ({"CRAWL4AI_TELEMETRY_PROVIDER": "sentry"}, "the sentry provider has no DSN"),
    ({"CRAWL4AI_SENTRY_DSN": "not a dsn"}, "CRAWL4AI_SENTRY_DSN='not a dsn' is not recognised"),
], ids=["unknown-provider", "sentry-without-dsn", "malformed-dsn"])
def test_a_provider_that_cannot_deliver_keeps_reports_locally_and_says_why(
        home, monkeypatch, capsys, env, problem):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    telemetry.enable()
    fail_once()
    assert outbox_states() == ["local"]  # never lost, never "pending" forever
    status = telemetry.status()
    assert any(problem in p for p in status["problems"]), status["problems"]
    assert status["sends"] is False
    cli.run(["status"])
    out = capsys.readouterr().out
    assert problem in out and "local outbox only" in out
