"""The gate: consent × environment × environment variables decide, and nothing else does.

Every case sends one real failure through the real pipeline and the real sentry-sdk transport
to a local Sentry-protocol server, then counts what arrived and what the outbox holds.
"""

from __future__ import annotations

import json

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import environment
from crawl4ai.telemetry.pipeline import get_pipeline
from tests.conftest import read_config


def fail_once(tag: str = "") -> None:
    try:
        raise RuntimeError(f"boom {tag}")
    except RuntimeError as exc:
        telemetry.capture_exception(exc)


def store_consent(home, consent: str, email: str | None = None, **others) -> bytes:
    """A choice as a person's "yes" stores it: bound to where reports go now."""
    from crawl4ai.telemetry.consent import current_destination

    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"telemetry": {"consent": consent, "email": email,
                          "destination": current_destination()}, **others}
    path.write_text(json.dumps(data))
    return path.read_bytes()


def outcome(server) -> tuple[int, int]:
    assert telemetry.flush(10)
    return len(server.events()), len(get_pipeline().outbox.entries())


CASES = [
    # (stored consent, environment variables, events sent, reports kept)
    pytest.param("not_set", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library"}, 0, 0, id="not_set-library"),
    pytest.param("not_set", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "container"}, 0, 0, id="not_set-container"),
    pytest.param("not_set", {"CI": "true"}, 0, 0, id="not_set-ci"),
    pytest.param("not_set", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "cli"}, 0, 0, id="not_set-cli-without-tty"),
    pytest.param("not_set", {"CRAWL4AI_DOCKER": "true"}, 1, 1, id="not_set-our-docker-image"),
    pytest.param("not_set", {"CRAWL4AI_API_SERVER": "true"}, 1, 1, id="not_set-our-api-server"),
    pytest.param("not_set", {"CRAWL4AI_DOCKER": "true", "CRAWL4AI_TELEMETRY": "0"}, 0, 0, id="docker-opted-out"),
    pytest.param("denied", {"CRAWL4AI_DOCKER": "true"}, 0, 0, id="denied-beats-docker-default"),
    pytest.param("always", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library"}, 1, 1, id="always-library"),
    pytest.param("always", {"CI": "true"}, 1, 1, id="always-ci"),
    pytest.param("always", {"CRAWL4AI_TELEMETRY": "0"}, 0, 0, id="always-env-off"),
    pytest.param("always", {"CRAWL4AI_TELEMETRY": "false"}, 0, 0, id="always-env-false"),
    pytest.param("always", {"DO_NOT_TRACK": "1"}, 0, 0, id="always-do-not-track"),
    pytest.param("denied", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library"}, 0, 0, id="denied"),
    # A "no" stays a "no": the variable turns telemetry on only where nothing is stored.
    pytest.param("denied", {"CRAWL4AI_TELEMETRY": "1"}, 0, 0, id="denied-beats-env-on"),
    pytest.param("not_set", {"CRAWL4AI_TELEMETRY": "1"}, 1, 1, id="not_set-env-on-for-this-process"),
    # Unrecognised values read as off, never as on.
    pytest.param("always", {"CRAWL4AI_TELEMETRY": "maybe"}, 0, 0, id="always-env-unrecognised"),
    pytest.param("ALWAYS", {"CRAWL4AI_TELEMETRY_ENVIRONMENT": "library"}, 0, 0,
                 id="unrecognised-consent-in-file"),
    pytest.param("ALWAYS", {"CRAWL4AI_TELEMETRY": "1"}, 0, 0, id="unrecognised-consent-env-on"),
]


@pytest.mark.parametrize(("consent", "env", "sent", "kept"), CASES)
def test_gate(home, sentry_server, monkeypatch, consent, env, sent, kept):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    environment.reset()
    before = store_consent(home, consent, other_tool={"keep": True})
    fail_once()
    assert outcome(sentry_server) == (sent, kept)
    if consent != "once":
        # An env override never writes over the stored choice.
        assert (home / ".crawl4ai" / "config.json").read_bytes() == before


def test_nothing_is_written_when_not_consented(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    fail_once()
    assert outcome(sentry_server) == (0, 0)
    assert not (home / ".crawl4ai" / "telemetry").exists()
    assert sentry_server.requests == []


def test_once_sends_one_report_then_returns_to_not_set(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable(once=True)
    assert read_config(home)["telemetry"]["consent"] == "once"
    fail_once("first")
    assert telemetry.flush(10)
    fail_once("second")
    assert outcome(sentry_server) == (1, 1)
    assert read_config(home)["telemetry"]["consent"] == "not_set"
    assert telemetry.status()["enabled"] is False


def test_once_with_a_burst_still_sends_exactly_one(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable(once=True)
    for i in range(5):  # different kinds, queued before the worker consumes "once"
        try:
            exec(compile(f"raise KeyError({i})", f"<kind{i}>", "exec"))
        except KeyError as exc:
            telemetry.capture_exception(exc)
    assert outcome(sentry_server) == (1, 1)


def test_env_email_is_used_but_never_stored(home, sentry_server, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_EMAIL", "ops@example.org")
    before = store_consent(home, "always")
    fail_once()
    assert outcome(sentry_server) == (1, 1)
    assert sentry_server.events()[0]["user"] == {"email": "ops@example.org"}
    assert (home / ".crawl4ai" / "config.json").read_bytes() == before


def test_docker_default_is_reported_as_the_reason(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_DOCKER", "true")
    environment.reset()
    status = telemetry.status()
    assert status["enabled"] is True and status["environment"] == "docker"
    assert "CRAWL4AI_TELEMETRY=0" in status["reason"]
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "0")
    status = telemetry.status()
    assert status["enabled"] is False and status["overrides"]


def test_a_plain_container_is_not_our_server(home, monkeypatch, tmp_path):
    """/.dockerenv (present on these very machines) only fills the report field."""
    environment.reset()
    env = environment.detect()
    assert env == ("container" if environment.in_container() else "library")
    assert env not in environment.OPT_OUT_ENVIRONMENTS
    assert telemetry.status()["enabled"] is False


@pytest.mark.parametrize("env", ["jupyter", "colab", "cli"])
def test_nobody_is_asked_in_ci(home, monkeypatch, env):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", env)
    monkeypatch.setenv("CI", "true")
    status = telemetry.status()
    assert status["will_ask"] is False and status["enabled"] is False
