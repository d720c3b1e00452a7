"""Shared fixtures: every test gets its own home, no inherited telemetry settings, a fresh
pipeline, and says itself which environment it runs as."""

from __future__ import annotations

import os
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
