"""Shared fixtures: every test gets its own home, no inherited telemetry settings, a fresh
pipeline, and says itself which environment it runs as."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from crawl4ai.telemetry.settings import names
from tests.support.sentry_server import SentryServer

# Variables that change telemetry's behaviour (the settings module's list); none may leak in from
# the machine or CI. PROMPT_TOOLKIT_NO_CPR would hide a prompt that waits for the terminal's reply
# to a cursor-position request.
TELEMETRY_VARS = (*names(), "PROMPT_TOOLKIT_NO_CPR")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home for the test; the telemetry state of the process starts clean."""
    home = tmp_path / "home"
    home.mkdir()
    for name in TELEMETRY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CRAWL4_AI_BASE_DIRECTORY", str(home))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from crawl4ai.telemetry import consent, environment, pipeline

    environment.reset()
    consent.set_session_choice(None)
    previous = pipeline.set_pipeline(None)
    yield home
    current = pipeline.set_pipeline(previous)
    if current is not None:
        current.flush(2.0)
    environment.reset()
    consent.set_session_choice(None)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch):
    """Consent given; reports collected in memory (the outbox still gets its copy)."""
    from crawl4ai.telemetry.pipeline import Pipeline, set_pipeline
    from crawl4ai.telemetry.providers.memory import MemoryProvider

    monkeypatch.setenv("CRAWL4AI_TELEMETRY", "1")
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    provider = MemoryProvider()
    set_pipeline(Pipeline(provider=provider))
    return provider


def reported_types(provider: Any) -> list[str]:
    """The exception type of each report ``provider`` received, in order (after a flush)."""
    from crawl4ai import telemetry

    assert telemetry.flush(10)
    return [e["exception"]["values"][-1]["type"] for e in provider.events]


@pytest.fixture
def sentry_server():
    with SentryServer() as server:
        yield server


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: this test's home, no inherited telemetry vars."""
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_VARS}
    env.update(HOME=str(home), CRAWL4_AI_BASE_DIRECTORY=str(home), LITELLM_LOCAL_MODEL_COST_MAP="True",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_python(code: str, home: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (no TTY: stdin is /dev/null)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=child_env(home, **env), stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=timeout,
    )


def read_config(home: Path) -> dict[str, Any]:
    import json

    return json.loads((home / ".crawl4ai" / "config.json").read_text())


# -- the labelled crawls' table (tests/crawl4ai): recall, false positives, duplicates ---------------

_labelled: dict[str, dict[str, Any]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in getattr(report, "user_properties", ()):
        if name == "labelled" and isinstance(value, dict):
            _labelled[f"{report.nodeid}:{value['subsystem']}"] = value


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _labelled:
        return
    rows: dict[str, list[int]] = {}
    for value in _labelled.values():
        row = rows.setdefault(value["subsystem"], [0, 0, 0, 0, 0])  # bugs, found, dup, quiet, fp
        if value["label"] == "bug":
            row[0] += 1
            row[1] += value["reports"] >= 1
            row[2] += max(0, value["reports"] - 1)
        else:
            row[3] += 1
            row[4] += value["reports"] > 0
    write = terminalreporter.write_line
    write("")
    write(f"{'labelled crawls':<16} {'bugs':>5} {'found':>6} {'dup':>4} {'not bugs':>9} {'reported':>9}")
    for subsystem, (bugs, found, dup, quiet, fp) in sorted(rows.items()):
        write(f"{subsystem:<16} {bugs:>5} {found:>6} {dup:>4} {quiet:>9} {fp:>9}")
    tokens = [t for value in _labelled.values() if value["label"] == "bug"
              for message in value.get("messages", ()) for t in _MESSAGE_TOKEN.findall(message)]
    if tokens:
        placeholders = sum(t.startswith("<") for t in tokens)
        write(f"placeholder share of the bugs' report messages: {placeholders}/{len(tokens)} tokens"
              f" ({placeholders / len(tokens):.1%})")


# A placeholder (``<url>``, ``<user code>``) or a word, as the share above counts them.
_MESSAGE_TOKEN = re.compile(r"<[a-z][a-z ]*>|\w+(?:['.\-]\w+)*")
