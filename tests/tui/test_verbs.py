"""``crwl telemetry reports | show | send | delete | preview``: the same operations for scripts."""

from __future__ import annotations

import json
import re

import pytest

from crawl4ai.telemetry import outbox as _outbox
from crawl4ai.telemetry.cli import run
from tests.conftest import run_python
from tests.tui.conftest import SECRET_TOKEN, SECRET_URL, capture_reports

SAMPLE_SECRETS = ("hunter2", "sk-live-4f9c2b7e1d8a6b3c5e0f9a7d", "Pa55w0rd", "shop.example.com",
                  "/home/alice", "10.20.0.7")


def verb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_reports_lists_the_outbox_newest_first(home, capsys):
    ids = capture_reports(2)
    code, out = verb(capsys, "reports", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [r["id"] for r in listed] == ids
    assert {r["state"] for r in listed} == {_outbox.LOCAL}
    assert [r["exception_type"] for r in listed] == ["LookupError", "ValueError"]
    assert [(r["occurrences"], r["carried"]) for r in listed] == [(1, 0), (1, 0)]
    code, out = verb(capsys, "reports")
    assert code == 0 and out.count("Error") == 2 and ids[0][:12] in out


def test_show_prints_the_exact_report_and_what_was_removed(home, capsys):
    [event_id] = capture_reports(1)
    kept = _outbox.LocalOutbox().read(event_id)
    code, out = verb(capsys, "show", event_id[:8], "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["report"] == json.loads(kept)
    assert shown["removed"]["url"] >= 1 and shown["history"][0]["state"] == _outbox.LOCAL
    code, out = verb(capsys, "show", event_id)
    assert code == 0
    assert json.loads(out.split("\nRemoved by the scrubber:")[0]) == json.loads(kept)
    for text in (out, verb(capsys, "show", event_id, "--markdown")[1]):
        assert SECRET_TOKEN not in text and SECRET_URL not in text


def test_show_why_says_which_template_kept_each_piece_and_which_rule_made_each_placeholder(home, capsys):
    from crawl4ai.async_configs import ProxyConfig

    from crawl4ai import telemetry

    telemetry.enable()
    try:
        ProxyConfig.from_string("10.0.0.7:8080:operator PLANTEDword")
    except ValueError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    [event_id] = [entry.event_id for entry in _outbox.LocalOutbox().entries()]
    code, out = verb(capsys, "show", event_id, "--why")
    assert code == 0
    why = out.split("\nWhy each piece of its messages is there:\n", 1)[1]
    lines = why.splitlines()
    assert lines[0] == "exception.values[0].value"
    kept, hole = lines[1].split(), lines[2].split()
    assert kept[0] == "kept" and "'Invalid proxy string format: '" in lines[1]
    assert re.fullmatch(r"crawl4ai/async_configs\.py:\d+", kept[-1]), lines[1]
    assert hole[0] == "placeholder" and f"hole of {kept[-1]}" in lines[2]
    assert "PLANTED" not in out and "operator" not in out


def test_show_markdown_is_a_github_issue_holding_the_redacted_report(home, capsys):
    [event_id] = capture_reports(1)
    code, out = verb(capsys, "show", event_id, "--markdown")
    assert code == 0
    assert out.startswith("## Crash report: ValueError in Crawl4AI")
    body = out.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(body) == json.loads(_outbox.LocalOutbox().read(event_id))


def test_an_unknown_id_is_bad_input(home, capsys):
    capture_reports(1)
    code, out = verb(capsys, "show", "ffff")
    assert code == 2 and "no report with the id 'ffff'" in out


def test_send_pending_delivers_and_send_says_why_not_without_destination(home, capsys, monkeypatch,
                                                                         sentry_server):
    [local_id] = capture_reports(1)
    code, out = verb(capsys, "send", local_id)
    assert code == 1 and "no destination is configured" in out
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    from crawl4ai.telemetry import pipeline

    pipeline.set_pipeline(None)  # a new process would see the DSN: so does a fresh pipeline
    sentry_server.mode = "error"
    pending = [i for i in capture_reports(2) if i != local_id]
    sentry_server.mode = "ok"
    code, out = verb(capsys, "send", "--pending", "--json")
    assert code == 0, out
    assert sorted(o["event_id"] for o in json.loads(out)) == sorted(pending)
    received = {e["event_id"] for e in sentry_server.wait_for_events(1)}
    assert set(pending) <= received
    assert verb(capsys, "send", "--pending")[1].strip() == "No report is pending."


def test_delete_one_then_all(home, capsys):
    ids = capture_reports(3)
    assert verb(capsys, "delete", ids[0])[0] == 0
    assert [e.event_id for e in _outbox.LocalOutbox().entries()] == ids[1:]
    code, out = verb(capsys, "delete", "--all", "--json")
    assert code == 0 and json.loads(out)["deleted"] == 2 and _outbox.LocalOutbox().entries() == []
    assert verb(capsys, "delete")[0] == 2  # neither an id nor --all


def test_preview_shows_the_sample_raw_and_redacted(home, capsys):
    code, out = verb(capsys, "preview")
    assert code == 0
    raw, report = out.split("The report telemetry would make of it")
    assert all(secret in raw for secret in SAMPLE_SECRETS)
    assert not any(secret in report for secret in SAMPLE_SECRETS)
    code, out = verb(capsys, "preview", "--json")
    assert code == 0
    assert json.loads(out)["exception"]["values"][-1]["type"] == "RuntimeError"
    assert not any(secret in out for secret in SAMPLE_SECRETS)


def test_no_verb_without_a_terminal_prints_the_status(home):
    result = run_python("from crawl4ai.telemetry.cli import main; main()", home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Crawl4AI telemetry: OFF")
