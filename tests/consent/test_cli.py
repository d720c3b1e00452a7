"""`crwl telemetry` verbs: they do what the Python API does, say why, and fail clearly.

Most cases call :func:`crawl4ai.telemetry.cli.run` in-process (the function ``crwl`` mounts);
the end-to-end cases run the real entry points in fresh processes: ``python -m
crawl4ai.telemetry``, the ``crawl4ai-telemetry`` console script and ``crwl telemetry``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import cli
from tests.conftest import child_env, read_config

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def library(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")


def run(capsys, *args):
    code = cli.run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored(home):
    return read_config(home)["telemetry"]


def test_status_says_what_happens_and_why(capsys, home):
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert out.startswith("Crawl4AI telemetry: OFF")
    assert "no choice made yet" in out and "library" in out
    assert str(home / ".crawl4ai" / "config.json") in out
    assert f"Local outbox:  empty ({home / '.crawl4ai' / 'telemetry' / 'outbox'})\n" in out


def test_no_verb_shows_the_status(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("Crawl4AI telemetry:")


def test_status_json_is_the_python_apis_status(capsys):
    code, out, _ = run(capsys, "status", "--json")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(telemetry.status(), default=str))


def test_enable_with_email_then_forget_email_keeps_the_consent(capsys, home):
    code, out, _ = run(capsys, "enable", "--email", "me@example.org")
    assert code == 0 and "every Crawl4AI error is kept on this machine" in out
    assert stored(home) == {"consent": "always", "email": "me@example.org", "destination": "local"}
    code, out, _ = run(capsys, "status")
    assert code == 0 and out.startswith("Crawl4AI telemetry: ON") and "me@example.org" in out
    code, out, _ = run(capsys, "forget-email")
    assert code == 0 and "removed" in out
    assert stored(home) == {"consent": "always", "email": None, "destination": "local"}
    code, out, _ = run(capsys, "forget-email")
    assert code == 0 and "No email was stored" in out


def test_enable_once_is_the_next_error_only(capsys, home):
    code, out, _ = run(capsys, "enable", "--once")
    assert code == 0 and "next Crawl4AI error only" in out
    assert stored(home)["consent"] == "once"
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert out.startswith("Crawl4AI telemetry: ON for the next error only")


def test_disable_stores_denied(capsys, home):
    run(capsys, "enable")
    code, out, _ = run(capsys, "disable")
    assert code == 0 and "nothing will be sent" in out
    assert stored(home)["consent"] == "denied"
    assert telemetry.status()["enabled"] is False


def test_an_invalid_email_exits_2_with_a_message_and_changes_nothing(capsys, home):
    code, out, err = run(capsys, "enable", "--email", "not-an-email")
    assert code == 2
    assert "not a valid email address" in err and "--email" in err
    assert not (home / ".crawl4ai" / "config.json").exists()


def test_an_unwritable_settings_file_exits_1_with_a_message(capsys, home):
    (home / ".crawl4ai" / "config.json").mkdir(parents=True)
    for verb in (["enable"], ["disable"], ["forget-email"]):
        code, _, err = run(capsys, *verb)
        assert code == 1, verb
        assert "not saved" in err and "config.json" in err
    code, out, _ = run(capsys, "status")
    assert code == 0 and "Settings problem" in out


def test_an_unknown_verb_is_a_usage_error_not_an_exit(capsys):
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "No such command" in err
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "enable" in out and "forget-email" in out


@pytest.mark.parametrize(("env", "expected"), [
    ({"DO_NOT_TRACK": "1"}, "DO_NOT_TRACK=1 turns telemetry off"),
    ({"CRAWL4AI_TELEMETRY": "0"}, "CRAWL4AI_TELEMETRY=0 turns telemetry off"),
    ({"CRAWL4AI_DOCKER": "true", "CRAWL4AI_TELEMETRY_ENVIRONMENT": ""}, "on by default in Crawl4AI's docker"),
], ids=["do-not-track", "env-off", "docker-default"])
def test_status_names_the_override_or_default_in_force(capsys, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if "CRAWL4AI_DOCKER" not in env:
        run(capsys, "enable")  # a stored "always" that the variable overrides
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert expected in out


def test_status_never_shows_the_dsn_key(capsys, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", "https://SeCrEtKeY123@o42.ingest.example.io/7")
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    code, out_json, _ = run(capsys, "status", "--json")
    assert code == 0, out_json
    assert "o42.ingest.example.io" in out
    assert "SeCrEtKeY123" not in out + out_json


def test_status_says_when_sentry_sdk_is_missing(capsys, monkeypatch, sentry_server):
    monkeypatch.setenv("CRAWL4AI_SENTRY_DSN", sentry_server.dsn)
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # an import of it now fails
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert "sentry-sdk:    not installed (pip install 'crawl4ai-telemetry[sentry]')\n" in out
    assert "sentry-sdk is not installed" in out and "local outbox only" in out


def test_status_counts_the_local_outbox(capsys, home):
    telemetry.enable()
    try:
        raise RuntimeError("kept locally")
    except RuntimeError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    code, out, _ = run(capsys, "status")
    assert code == 0, out
    assert "1 report(s): 1 kept locally" in out


# -- end to end: the real entry points in fresh processes ---------------------------------------


def run_command(argv, home, **env):
    # A bound for a hang, not for speed: `crwl` alone took 30 s to start on a loaded machine.
    return subprocess.run(argv, env=child_env(home, CRAWL4AI_TELEMETRY_ENVIRONMENT="library", **env),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)


def test_module_entry_point_end_to_end(home):
    module = [sys.executable, "-m", "crawl4ai.telemetry"]
    done = run_command([*module, "enable", "--email", "me@example.org"], home)
    assert done.returncode == 0, done.stderr
    assert stored(home) == {"consent": "always", "email": "me@example.org", "destination": "local"}
    bad = run_command([*module, "enable", "--email", "bad@"], home)
    assert bad.returncode == 2 and "not a valid email address" in bad.stderr
    status = run_command([*module, "status", "--json"], home, DO_NOT_TRACK="1")
    assert status.returncode == 0
    data = json.loads(status.stdout)
    assert data["enabled"] is False and data["consent"] == "always"
    assert data["reason"] == "DO_NOT_TRACK=1 turns telemetry off"


def test_console_script_end_to_end(home):
    done = run_command([str(BIN / "crawl4ai-telemetry"), "disable"], home)
    assert done.returncode == 0, done.stderr
    assert stored(home)["consent"] == "denied"


@pytest.mark.timeout(900)
def test_real_crwl_telemetry_verbs_end_to_end(home):
    # crwl itself takes seconds to start: two calls, one per exit path.
    crwl = str(BIN / "crwl")
    done = run_command([crwl, "telemetry", "enable", "--email", "me@example.org"], home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every Crawl4AI error is kept on this machine" in done.stdout
    assert stored(home) == {"consent": "always", "email": "me@example.org", "destination": "local"}
    bad = run_command([crwl, "telemetry", "enable", "--email", "bad@"], home)
    assert bad.returncode == 2 and "not a valid email address" in bad.stderr
    assert "crwl telemetry enable" in bad.stderr  # the usage line names the real command


# -- help that fits the ecosystem ---------------------------------------------------------------


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_lists_the_verbs_the_environment_variables_and_the_docs(capsys, flag):
    from crawl4ai.telemetry.settings import SETTINGS

    code, out, _ = run(capsys, flag)
    assert code == 0
    assert "Without a command, shows the status" in out
    for verb in ("enable", "disable", "status", "forget-email"):
        assert verb in out
    for setting in SETTINGS:
        assert setting.name in out
    assert cli.DOCS_URL in out
    for verb in ("enable", "disable", "status"):
        _, sub, _ = run(capsys, verb, flag)
        assert "<bool>" not in sub and "<str>" not in sub
    assert "<bool>" not in out


def test_version(capsys):
    from crawl4ai.telemetry._version import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"crawl4ai-telemetry {__version__}"


def test_disable_keeps_the_email_unless_told_to_forget_it(capsys, home):
    run(capsys, "enable", "--email", "me@example.org")
    code, out, _ = run(capsys, "disable")
    assert code == 0 and "email is still stored" in out and "--forget-email" in out
    assert stored(home)["email"] == "me@example.org"
    code, out, _ = run(capsys, "disable", "--forget-email")
    assert code == 0 and "The stored email was removed" in out
    assert stored(home)["email"] is None and stored(home)["consent"] == "denied"
