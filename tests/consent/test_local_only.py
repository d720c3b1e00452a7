""""Local only": reports are made, scrubbed and kept exactly as they would be sent, and none
leaves the machine unless the person sends it, whatever destination exists now or later.

The decision table covers every stored choice against the environment's words; the end-to-end
tests use the real sentry-sdk transport and the real local Sentry-protocol server."""

from __future__ import annotations

import json
import time

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import cli, consent, reports, wording
from crawl4ai.telemetry import outbox as _outbox
from tests.conftest import read_config, run_python
from tests.tui.conftest import SECRET_TOKEN, SECRET_URL, crash

SEND, ASK, KEEP, NOTHING = "send", "ask", "keep here", "nothing"


def outcome(decision: consent.Decision) -> str:
    if decision.send:
        return SEND
    if decision.ask:
        return ASK
    return KEEP if decision.keep_locally else NOTHING


def store_choice(home, consent_value: str, **extra) -> None:
    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"telemetry": {"consent": consent_value, **extra}}))


# (stored consent, environment variables, environment type) -> what happens to an error
TABLE = [
    ("local_only", {}, "library", KEEP),
    ("local_only", {"CRAWL4AI_TELEMETRY": "1"}, "library", KEEP),  # "on" never widens it
    ("local_only", {"CRAWL4AI_TELEMETRY": "0"}, "library", NOTHING),  # "off" wins over all
    ("local_only", {"DO_NOT_TRACK": "1"}, "library", NOTHING),
    ("local_only", {}, "docker", KEEP),  # the server default applies only where nobody chose
    ("local_only", {}, "api_server", KEEP),
    ("local_only", {"CRAWL4AI_SENTRY_DSN": "https://k@sentry.example.com/1"}, "library", KEEP),
    ("local_only", {"CRAWL4AI_SENTRY_DSN": "https://k@sentry.example.com/1"}, "docker", KEEP),
    ("local_only", {}, "jupyter", KEEP),  # never asked again
    # CRAWL4AI_TELEMETRY=local: the environment may only make telemetry more private.
    ("not_set", {"CRAWL4AI_TELEMETRY": "local"}, "library", KEEP),
    ("not_set", {"CRAWL4AI_TELEMETRY": "Local"}, "docker", KEEP),
    ("not_set", {"CRAWL4AI_TELEMETRY": "local"}, "jupyter", KEEP),  # nobody is asked
    ("always", {"CRAWL4AI_TELEMETRY": "local",
                "CRAWL4AI_SENTRY_DSN": "https://k@sentry.example.com/1"}, "library", KEEP),
    ("once", {"CRAWL4AI_TELEMETRY": "local"}, "library", KEEP),
    ("local_only", {"CRAWL4AI_TELEMETRY": "local"}, "library", KEEP),
    ("denied", {"CRAWL4AI_TELEMETRY": "local"}, "library", NOTHING),
    ("not_set", {"CRAWL4AI_TELEMETRY": "local", "DO_NOT_TRACK": "1"}, "docker", NOTHING),
    ("not_set", {}, "docker", SEND),
    ("not_set", {"CRAWL4AI_TELEMETRY": "0"}, "docker", NOTHING),
    ("not_set", {}, "jupyter", ASK),
    ("not_set", {"CRAWL4AI_TELEMETRY": "1"}, "library", SEND),
    ("not_set", {}, "library", NOTHING),
    ("denied", {"CRAWL4AI_TELEMETRY": "1"}, "docker", NOTHING),
    ("always", {}, "library", SEND),
    ("always", {"CRAWL4AI_TELEMETRY": "0"}, "library", NOTHING),
    ("once", {}, "library", SEND),
]


@pytest.mark.parametrize(("stored", "env", "environment", "expected"), TABLE,
                         ids=[f"{s}-{'+'.join(f'{k}={v}' for k, v in e.items()) or 'noenv'}-{t}"
                              for s, e, t, _ in TABLE])
def test_decision_table(home, monkeypatch, stored, env, environment, expected):
    store_choice(home, stored, destination="local")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    decision = consent.decide(consent.ConsentStore(), environment)
    assert outcome(decision) == expected, decision
    if expected == KEEP:
        assert decision.local_only and not decision.consume_once
    if stored == "local_only" and expected == KEEP and not env:
        assert decision.consent == consent.LOCAL_ONLY
        assert "on this machine only" in decision.reason


def test_env_local_keeps_a_stored_once_for_later_and_says_why(home, monkeypatch, capsys):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable(once=True)
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "local")
    capture_one()
    assert _outbox.LocalOutbox().entries()[0].state == _outbox.LOCAL
    assert read_config(home)["telemetry"]["consent"] == "once"  # not spent on a kept report
    status = telemetry.status()
    assert status["local_only"] and not status["problems"]
    assert any("CRAWL4AI_TELEMETRY=local" in o for o in status["overrides"])
    assert cli.run(["status"]) == 0
    assert capsys.readouterr().out.startswith("Crawl4AI telemetry: LOCAL ONLY")


def test_one_vocabulary_for_every_surface():
    assert set(consent.CHOICES) == set(consent.CONSENT_VALUES) - {consent.NOT_SET}
    assert tuple(wording.CHOICE_LABELS) == consent.CHOICES  # the dashboard's order, its labels
    assert "--local-only" in wording.TERMINAL_COMMANDS["local_only"]
    assert "local_only=True" in wording.NOTEBOOK_COMMANDS["local_only"]


def test_status_says_local_only_and_why(home, monkeypatch, sentry_server, capsys):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    result = telemetry.enable(local_only=True)
    assert result["consent"] == "local_only" and result["local_only"] is True
    assert result["enabled"] is True and result["sends"] is False and not result["asks_again"]
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    assert cli.run(["status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Crawl4AI telemetry: LOCAL ONLY")
    assert "CRAWL4AI_TELEMETRY=1 is ignored" in out and "local_only (file)" in out
    with pytest.raises(ValueError):
        telemetry.enable(once=True, local_only=True)


def capture_one(n: int = 0) -> str:
    try:
        crash(n)
    except ValueError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    return _outbox.LocalOutbox().entries()[0].event_id


def test_a_local_only_report_reaches_the_server_only_when_sent_by_hand(home, monkeypatch,
                                                                       sentry_server):
    """Planted secrets, a DSN configured, the real sentry-sdk transport: nothing is sent until
    the person sends the one report, which then arrives redacted, with the same event id."""
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable(local_only=True)
    event_id = capture_one()
    entry = _outbox.LocalOutbox().get(event_id)
    assert entry.state == _outbox.LOCAL and entry.removed.get("url")
    kept = _outbox.LocalOutbox().read(event_id)
    assert SECRET_TOKEN.encode() not in kept and b"PLANTED" not in kept
    # Every moment that delivers what is pending sends nothing of it.
    from crawl4ai.telemetry.pipeline import get_pipeline

    get_pipeline().deliver_pending()
    assert telemetry.flush(10)
    time.sleep(0.3)  # a send would have arrived by now; the assertion below is the real check
    assert sentry_server.raw_bodies() == []
    assert reports.list_reports()[0].state_label == "kept locally"

    outcome_ = reports.send(event_id)
    assert outcome_.sent, outcome_
    [event] = sentry_server.wait_for_events(1)
    assert event["event_id"] == event_id
    assert all(b"PLANTED" not in raw for raw in sentry_server.raw_bodies())
    assert json.loads(kept)["exception"] == event["exception"]


def test_a_later_run_with_a_destination_sends_nothing_on_its_own(home, sentry_server):
    """The choice holds for a destination that appears later, in a new process (with the real
    crawl4ai imported, as a user's script would)."""
    code = f"""
        import crawl4ai
        from crawl4ai import telemetry
        try:
            raise ValueError("Failed on navigating ACS-GOTO: {SECRET_URL}")
        except ValueError as exc:
            telemetry.capture_exception(exc)
        assert telemetry.flush(10)
        from crawl4ai.telemetry.pipeline import get_pipeline
        get_pipeline().deliver_pending()
        assert telemetry.flush(10)
        print(telemetry.status()["outbox"]["counts"]["local"])
    """
    assert run_python("from crawl4ai import telemetry; telemetry.enable(local_only=True)",
                      home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library").returncode == 0
    for _ in (1, 2):
        done = run_python(code, home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library",
                          CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CRAWL4AI_TELEMETRY="1")
        assert done.returncode == 0, done.stderr
        assert done.stdout.split()[-1] == "1"  # the second run's error is the same bug: counted
    assert sentry_server.raw_bodies() == []
    from crawl4ai.telemetry.outbox import LocalOutbox

    assert [e.occurrences for e in LocalOutbox().entries()] == [2]


def test_choosing_local_only_keeps_waiting_reports_here_for_good(home, monkeypatch, sentry_server):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    sentry_server.mode = "error"
    telemetry.enable()
    event_id = capture_one()
    assert _outbox.LocalOutbox().get(event_id).state == _outbox.PENDING
    attempts = len(sentry_server.raw_bodies())
    sentry_server.mode = "ok"
    telemetry.enable(local_only=True)
    assert _outbox.LocalOutbox().get(event_id).state == _outbox.LOCAL
    telemetry.enable()  # back to "always": what was kept locally stays kept until sent by hand
    from crawl4ai.telemetry.pipeline import get_pipeline

    get_pipeline().deliver_pending()
    assert telemetry.flush(10)
    time.sleep(0.3)
    assert len(sentry_server.raw_bodies()) == attempts
    assert _outbox.LocalOutbox().get(event_id).state == _outbox.LOCAL


def test_a_failed_send_by_hand_stays_kept_locally(home, monkeypatch, sentry_server):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    telemetry.enable(local_only=True)
    event_id = capture_one()
    sentry_server.mode = "error"
    result = reports.send(event_id)
    assert not result.sent and result.state == _outbox.LOCAL
    assert "kept locally" in result.reason


def test_cli_enable_local_only_keeps_every_other_key(home, sentry_server, monkeypatch, capsys):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"browser": {"headless": False}, "telemetry": {"extra": 1}}))
    assert cli.run(["enable", "--local-only", "--email", "me@example.org"]) == 0
    out = capsys.readouterr().out
    assert "Crash reports are local only" in out and "crwl telemetry send ID" in out
    stored = read_config(home)
    assert stored["browser"] == {"headless": False} and stored["telemetry"]["extra"] == 1
    assert stored["telemetry"]["consent"] == "local_only"
    assert stored["telemetry"]["email"] == "me@example.org"
    assert cli.run(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["local_only"] is True
    assert cli.run(["enable", "--once", "--local-only"]) == 2
    assert read_config(home)["telemetry"]["consent"] == "local_only"
    assert cli.run(["disable"]) == 0
    assert read_config(home)["browser"] == {"headless": False}


def test_help_offers_local_only(capsys):
    assert cli.run(["enable", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--local-only" in out and "whatever destination" in out


def test_a_choice_made_elsewhere_while_the_notebook_asks_keeps_held_errors_locally(home):
    """The notebook watcher follows a stored "local only": the held errors are kept, not
    dropped, and none is sent."""
    from crawl4ai.telemetry.pipeline import get_pipeline
    from crawl4ai.telemetry.pipeline.capture import Capture
    from crawl4ai.telemetry.prompts._request import LOCAL_ONLY, ConsentRequest

    pipeline = get_pipeline()
    try:
        crash()
    except ValueError as exc:
        capture = Capture(exc, None)
    request = ConsentRequest(pipeline, capture, consent.decide(pipeline.store, "jupyter"),
                             "notebook")
    telemetry.enable(local_only=True)
    assert request.resolve_with(consent.decide(pipeline.store, "jupyter"))
    assert request.answer == LOCAL_ONLY
    assert pipeline.flush(10)
    [entry] = _outbox.LocalOutbox().entries()
    assert entry.state == _outbox.LOCAL
