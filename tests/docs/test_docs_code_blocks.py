"""Every code block of the telemetry page runs as written, pasted into a fresh home.

Each fenced block of ``docs/md_v2/core/telemetry.md`` is taken from the page as it is (new
sections included) and run the way a reader would: Python in a fresh interpreter, shell lines
with ``crwl telemetry …`` for real (the installed ``crwl``), the settings file as the file, TOML
parsed. Reports go to the suite's local Sentry-protocol server. A block that cannot run here says
why on the line above it (``<!-- docs-test: not run (why) -->``); a ``text`` block is a screen
shown, not code. Any other block that does not run fails this test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

from tests.conftest import child_env

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "md_v2" / "core" / "telemetry.md"
BIN = Path(sys.executable).parent
NOT_RUN = re.compile(r"<!-- docs-test: not run \((.+)\) -->\s*$")
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\s*$", re.S | re.M)
RUNS = {"python", "bash", "json", "toml"}


def code_blocks() -> list[tuple[int, str, str, str | None]]:
    """(line, language, code, why it is not run) for every fenced block of the page."""
    text = DOCS.read_text()
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        exempt = NOT_RUN.search(before)
        found.append((line, match.group(1), match.group(2), exempt and exempt.group(1)))
    return found


BLOCKS = code_blocks()


def test_every_block_runs_or_says_why_not():
    for line, language, _, exempt in BLOCKS:
        assert exempt or language in RUNS | {"text"}, (
            f"telemetry.md line {line}: a ```{language or '(no language)'} block must run "
            "(python, bash, json, toml), be a ```text screen, or say why not on the line above")
    # The exemptions stay few and narrow: installing the package, and what needs Docker.
    reasons = [why for *_, why in BLOCKS if why]
    assert len(reasons) <= 4 and all(
        "Docker" in why or "container" in why or "installs the package" in why
        for why in reasons), reasons


@pytest.fixture
def reader(home, sentry_server, tmp_path):
    """A reader's fresh home, a folder to paste into, reports going to the local server."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    site = tmp_path / "site"  # the provider examples' `my_package`
    (site / "my_package").mkdir(parents=True)
    (site / "my_package" / "__init__.py").write_text("")
    provider = next((code for _, lang, code, _ in BLOCKS
                     if lang == "python" and "class CustomProvider" in code), "")
    (site / "my_package" / "telemetry.py").write_text(provider)
    env = child_env(home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn,
                    PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                    PYTHONPATH=str(site))
    return cwd, env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300):
    return subprocess.run(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


def _one_report(cwd: Path, env: dict[str, str]) -> str:
    """A report in the reader's outbox (for the blocks that name one by its ID)."""
    done = _run([sys.executable, "-c", textwrap.dedent("""
        from crawl4ai import telemetry
        from crawl4ai.telemetry import reports
        telemetry.enable(local_only=True)
        try:
            raise ValueError("a crawl failed")
        except ValueError as e:
            telemetry.capture_exception(e)
        telemetry.flush(10)
        telemetry.disable()
        print(reports.list_reports()[0].event_id)
    """)], cwd, env)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def _ids(language: str) -> list[str]:
    return [f"line {line}" for line, lang, _, exempt in BLOCKS if lang == language and not exempt]


def _blocks(language: str) -> list[str]:
    return [code for _, lang, code, exempt in BLOCKS if lang == language and not exempt]


@pytest.mark.parametrize("code", _blocks("python"), ids=_ids("python"))
def test_python_blocks_run_as_written(reader, code):
    cwd, env = reader
    done = _run([sys.executable, "-c", code], cwd, env)
    assert done.returncode == 0, f"{code}\n---\n{done.stderr[-3000:]}"


@pytest.mark.timeout(900)  # a dozen real `crwl` runs, each importing Crawl4AI
@pytest.mark.parametrize("code", _blocks("bash"), ids=_ids("bash"))
def test_shell_blocks_run_for_real_in_a_fresh_home(reader, code):
    cwd, env = reader
    if re.search(r"\bID\b|<id>", code):
        # The page's placeholder for a report's id (it says so): a real one of this outbox.
        code = re.sub(r"\bID\b|<id>", _one_report(cwd, env), code)
    done = _run(["bash", "-e", "-x", "-c", code], cwd, env, timeout=600)
    assert done.returncode == 0, f"{code}\n---\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("code", _blocks("json"), ids=_ids("json"))
def test_the_settings_file_shown_is_read_as_shown(reader, home, code):
    cwd, env = reader
    (home / ".crawl4ai").mkdir(exist_ok=True)
    (home / ".crawl4ai" / "config.json").write_text(code)
    done = _run([str(BIN / "crwl"), "telemetry", "status", "--json"], cwd, env)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    shown = json.loads(code)["telemetry"]
    assert status["config_problem"] is None and status["consent"] == shown["consent"]
    assert status["email"] == shown["email"]


@pytest.mark.parametrize("code", _blocks("toml"), ids=_ids("toml"))
def test_toml_blocks_parse(code):
    assert tomllib.loads(code)  # what it registers: tests/providers/test_docs_examples.py


def test_the_statements_the_code_cannot_check():
    text = DOCS.read_text()
    readme = (ROOT / "README.md").read_text()
    assert "not on a package index yet" in readme and "not on a package index yet" in text
    assert 'pip install "crawl4ai-telemetry' not in text.split("## Installation")[1].split("##")[0]
    assert "invalid `CRAWL4AI_TELEMETRY_EMAIL`) reads as off" not in text
    row = next(line for line in text.splitlines() if line.startswith("| `CRAWL4AI_TELEMETRY_EXIT"))
    assert "at most 30" in row
