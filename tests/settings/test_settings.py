"""One table of settings: every variable parsed in one place, unrecognised values safe and shown.

Each case sets a real environment variable and asks the package (the gate, detection, ``status``)
what it made of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import environment, settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "md_v2" / "core" / "telemetry.md"
FLAGS = [s.name for s in settings.SETTINGS if s.parse is settings.parse_flag]


@pytest.mark.parametrize("name", FLAGS)
@pytest.mark.parametrize("word", sorted(settings.TRUE_WORDS | settings.FALSE_WORDS))
def test_every_flag_speaks_the_one_yes_no_vocabulary(monkeypatch, name, word):
    monkeypatch.setenv(name, f"  {word.upper()} ")
    reading = settings.read(name)
    assert reading.value is (word in settings.TRUE_WORDS)
    assert reading.problem is None and settings.problems() == []


@pytest.mark.parametrize(("name", "raw", "check"), [
    # Unrecognised never turns sending on: off, "do not track", not our server.
    ("CRAWL4AI_TELEMETRY", "maybe", lambda: settings.kill_switch() is not None),
    ("DO_NOT_TRACK", "please", lambda: settings.kill_switch() is not None),
    ("CRAWL4AI_DOCKER", "sometimes", lambda: environment.detect() != "docker"),
    ("CRAWL4AI_API_SERVER", "sure?", lambda: environment.detect() != "api_server"),
    ("CRAWL4AI_TELEMETRY_ENVIRONMENT", "docker-ish", lambda: environment.detect() != "docker-ish"),
    ("CRAWL4AI_TELEMETRY_EMAIL", "not-an-email", lambda: settings.email() is None),
    ("CRAWL4AI_SENTRY_DSN", "sentry.example.com", lambda: settings.dsn() == ""),
    ("CRAWL4AI_TELEMETRY_EXIT_TIMEOUT", "soon", lambda: settings.exit_timeout() == settings.EXIT_TIMEOUT),
    ("CRAWL4AI_TELEMETRY_EXIT_TIMEOUT", "-3", lambda: settings.exit_timeout() == settings.EXIT_TIMEOUT),
    ("CRAWL4AI_TELEMETRY_HOOK", "perhaps", lambda: settings.hook_enabled()),
])
def test_an_unrecognised_value_falls_back_safely_and_is_reported(monkeypatch, name, raw, check):
    monkeypatch.setenv(name, raw)
    environment.reset()
    assert check()
    (problem,) = settings.problems()
    assert problem.startswith(f"{name}={raw!r} is not recognised")
    assert settings.read(name).raw == raw
    assert telemetry.status()["problems"] == [problem]


def test_an_unrecognised_kill_switch_stops_a_stored_always(home, monkeypatch):
    from crawl4ai.telemetry.pipeline import Pipeline, get_pipeline, set_pipeline
    from crawl4ai.telemetry.providers.memory import MemoryProvider

    memory = MemoryProvider()
    set_pipeline(Pipeline(provider=memory))
    telemetry.enable()
    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "nope-ish")
    telemetry.capture_exception(RuntimeError("boom"))
    assert telemetry.flush(5)
    assert memory.events == [] and get_pipeline().outbox.entries() == []
    assert not telemetry.status()["enabled"]


def test_exit_timeout_is_capped(monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_EXIT_TIMEOUT", "3600")
    assert settings.exit_timeout() == settings.EXIT_TIMEOUT_MAX


def test_paths_follow_crawl4ais_base_directory(home, monkeypatch, tmp_path):
    monkeypatch.setenv("CRAWL4_AI_BASE_DIRECTORY", str(tmp_path / "elsewhere"))
    base = tmp_path / "elsewhere" / ".crawl4ai"
    assert settings.config_path() == str(base / "config.json")
    assert settings.outbox_dir() == str(base / "telemetry" / "outbox")
    assert settings.counters_path() == str(base / "telemetry" / "counters.json")
    monkeypatch.delenv("CRAWL4_AI_BASE_DIRECTORY")
    assert settings.config_path() == str(home / ".crawl4ai" / "config.json")


def test_the_docs_list_exactly_the_settings_table():
    text = DOCS.read_text()
    section = text[text.index("### Environment variables"):]
    section = section[:section.index("\n## ")]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)", section, re.M))
    assert documented == {s.name for s in settings.SETTINGS}


RELATIVE_BASE_PROGRAM = """
    import json, os, sys
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator(operation="crawl")
    def crawl():
        raise ValueError("boom")

    os.chdir(sys.argv[1])  # the application moves on to its own working folder
    try:
        crawl()
    except ValueError:
        pass
    print("FLUSHED", telemetry.flush(10))
    state = telemetry.status()
    print(json.dumps({"consent": state["consent"], "config": state["config_path"],
                      "outbox": state["outbox"]["directory"]}))
"""


def test_a_relative_base_folder_is_the_one_the_program_started_in(home, tmp_path, sentry_server):
    """``CRAWL4_AI_BASE_DIRECTORY=./data`` and an application that changes directory: the
    settings are still read from (and the report kept in) the folder it started in."""
    import json
    import subprocess
    import sys
    import textwrap

    from tests.conftest import child_env

    start, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (start / "data" / ".crawl4ai").mkdir(parents=True)
    elsewhere.mkdir()
    (start / "data" / ".crawl4ai" / "config.json").write_text(json.dumps(
        {"telemetry": {"consent": "always", "destination": "sentry:127.0.0.1"}}))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RELATIVE_BASE_PROGRAM), str(elsewhere)],
        cwd=start, env=child_env(home, CRAWL4_AI_BASE_DIRECTORY="./data",
                                 CRAWL4AI_SENTRY_DSN=sentry_server.dsn,
                                 CRAWL4AI_TELEMETRY_ENVIRONMENT="library"),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "FLUSHED True" in done.stdout
    shown = json.loads(done.stdout.splitlines()[-1])
    base = start / "data" / ".crawl4ai"
    assert shown == {"consent": "always", "config": str(base / "config.json"),
                     "outbox": str(base / "telemetry" / "outbox")}
    [event] = sentry_server.wait_for_events(1)
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert len(list((base / "telemetry" / "outbox").glob("*.meta.json"))) == 1
    assert not (elsewhere / "data").exists()
