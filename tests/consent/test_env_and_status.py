"""A "no" stays a "no", unrecognised values read as off and are shown, and ``status`` says where
each value came from."""

from __future__ import annotations

import json

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import cli


@pytest.fixture(autouse=True)
def library(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")


def write_section(home, **section):
    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"telemetry": section}))


def test_env_on_never_overrides_a_stored_no(home, monkeypatch, capsys):
    telemetry.disable()
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    status = telemetry.status()
    assert status["enabled"] is False
    assert any("CRAWL4AI_TELEMETRY=1 is ignored" in o for o in status["overrides"])
    cli.run(["status"])
    assert capsys.readouterr().out.startswith("Crawl4AI telemetry: OFF")


def test_env_on_applies_where_nothing_is_stored(home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "yes")
    status = telemetry.status()
    assert status["enabled"] is True and status["sources"]["consent"] == "environment"


@pytest.mark.parametrize(("env", "section", "problem"), [
    ({"CRAWL4AI_TELEMETRY": "maybe"}, {"consent": "always", "destination": "local"},
     "CRAWL4AI_TELEMETRY='maybe' is not recognised"),
    ({}, {"consent": "ALWAYS"}, "consent 'ALWAYS' is not recognised"),
    ({"CRAWL4AI_TELEMETRY": "1"}, {"consent": "ALWAYS"}, "consent 'ALWAYS' is not recognised"),
    ({"CRAWL4AI_TELEMETRY_EMAIL": "a..b@x.com"}, {"consent": "always", "destination": "local"},
     "CRAWL4AI_TELEMETRY_EMAIL='a..b@x.com' is not recognised"),
    ({}, {"consent": "always", "destination": "local", "email": ".a@x.com"},
     "email '.a@x.com' is not a valid address"),
], ids=["env-maybe", "file-ALWAYS", "file-ALWAYS-env-on", "env-bad-email", "file-bad-email"])
def test_unrecognised_values_read_as_off_and_show_as_problems(home, monkeypatch, capsys, env,
                                                             section, problem):
    write_section(home, **section)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = telemetry.status()
    assert any(problem in p for p in status["problems"]), status["problems"]
    if "mail" in problem.lower():
        assert status["email"] is None  # an invalid address is never attached
    else:
        assert status["enabled"] is False
    cli.run(["status"])
    assert problem in capsys.readouterr().out


def test_status_labels_each_value_with_its_real_source(home, monkeypatch, sentry_server, capsys):
    status = telemetry.status()
    assert status["sources"] == {"consent": "default", "email": "default", "destination": "default"}
    telemetry.enable(email="file@example.org")
    assert telemetry.status()["sources"] == {"consent": "file", "email": "file",
                                            "destination": "default"}
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_EMAIL", "env@example.org")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    status = telemetry.status()
    assert status["email"] == "env@example.org"
    assert status["sources"]["email"] == "environment"
    assert status["sources"]["destination"] == "environment"
    cli.run(["status"])
    out = capsys.readouterr().out
    assert "env@example.org (environment)" in out and "(file)" in out


@pytest.mark.parametrize("address", ["用户@例子.广告", "jörg@bücher.de", "o'brien@example.io",
                                     "me+tag@example.org"])
def test_internationalised_email_addresses_are_accepted(home, address):
    assert telemetry.enable(email=address)["email"] == address


@pytest.mark.parametrize("address", ["a..b@x.com", ".a@x.com", "a@-x-.com", "a.@x.com",
                                     "a@b", "not-an-email@", "a b@x.com", "a@x..com"])
def test_malformed_email_addresses_are_refused(home, address):
    with pytest.raises(ValueError):
        telemetry.enable(email=address)


DEBUG_PROGRAM = """
from crawl4ai import telemetry
telemetry.enable()
try:
    raise ValueError("cannot open https://secret-host.example/a?token=SECRET-9f3e")
except ValueError as exc:
    telemetry.capture_exception(exc)
print(telemetry.flush(10))
"""


def test_the_debug_variable_prints_each_report_redacted_as_stored(home):
    import json as _json

    from crawl4ai.telemetry.outbox import LocalOutbox
    from tests.conftest import run_python

    quiet = run_python(DEBUG_PROGRAM, home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert quiet.returncode == 0 and quiet.stderr == ""
    shown = run_python(DEBUG_PROGRAM, home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library",
                       CRAWL4AI_TELEMETRY_DEBUG="1")
    assert shown.returncode == 0, shown.stderr
    assert "secret-host" not in shown.stderr and "SECRET-9f3e" not in shown.stderr
    outbox = LocalOutbox(str(home / ".crawl4ai" / "telemetry" / "outbox"))
    [newest] = [e for e in outbox.entries()
                if f"report {e.event_id} (local):" in shown.stderr]  # the second run's report
    header = f"[crawl4ai.telemetry] report {newest.event_id} (local):\n"
    printed = shown.stderr.split(header, 1)[1]
    assert _json.loads(printed[: printed.rindex("}") + 1]) == _json.loads(outbox.read(newest.event_id))
