"""What the docs say about consent, exit and the site is what the product does."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from crawl4ai import telemetry

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "md_v2" / "core" / "telemetry.md").read_text()
BIN = Path(sys.executable).parent


def test_the_site_has_an_index_page_and_every_nav_page_exists():
    import re

    nav = re.findall(r":\s*([\w/.-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert "index.md" in nav
    for page in nav:
        assert (ROOT / "docs" / "md_v2" / page).is_file(), page


def test_the_docs_list_every_environment_variable_and_the_cli_help_does_too():
    from crawl4ai.telemetry import cli
    from crawl4ai.telemetry.settings import SETTINGS

    help_text = subprocess.run([str(BIN / "crawl4ai-telemetry"), "-h"], capture_output=True,
                               text=True, timeout=60, stdin=subprocess.DEVNULL).stdout
    for setting in SETTINGS:
        assert f"`{setting.name}" in DOC, setting.name
        assert setting.name in help_text, setting.name
    assert cli.DOCS_URL in help_text


def test_the_exit_bound_in_the_docs_is_the_products():
    from crawl4ai.telemetry.prompts.terminal import UNANSWERED_SECONDS

    assert f"at most {UNANSWERED_SECONDS:.0f} seconds without a key press" in DOC


def test_a_choice_that_could_not_be_saved_is_reported_by_every_status_and_warns_at_the_callers_line(
        home, monkeypatch):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    (home / ".crawl4ai").write_text("a file where the folder should be: nothing can be saved")
    assert "every later `status()` keeps" in DOC and "points\nat the line of your code" in DOC
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        telemetry.enable()
    [warning] = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert warning.filename == __file__
    assert "not saved" in telemetry.status()["warning"]  # later, without being told again


def test_decorated_own_code_is_reported_but_automatic_capture_never_reports_it(home, monkeypatch):
    assert "reports **you ask for**" in DOC and "errors in your own code" in DOC
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    telemetry.enable()

    @telemetry.telemetry_decorator
    def mine():
        raise ValueError("my own bug")

    with pytest.raises(ValueError):
        mine()
    assert telemetry.flush(10)
    assert telemetry.status()["outbox"]["counts"]["local"] == 1


def test_a_container_with_a_terminal_asks_like_any_terminal(home):
    """These machines are containers (``/.dockerenv``): with a terminal, the person is asked."""
    from crawl4ai.telemetry import environment

    if not environment.in_container():
        pytest.skip("not running in a container")
    assert "A container with a terminal" in DOC
    from tests.consent.pty_session import SYNC_SCRIPT, choose, finish, spawn

    child = spawn(SYNC_SCRIPT, home)
    choose(child, 3)
    assert "Crawl4AI Error Detection" in finish(child)
    no_tty = subprocess.run([sys.executable, "-c", "from crawl4ai.telemetry import environment;"
                             "print(environment.detect())"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60,
                            env={**__import__("os").environ, "HOME": str(home)})
    assert no_tty.stdout.strip() == "container"


def test_the_readme_demo_installs_only_what_the_demo_needs_and_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    justfile = (ROOT / "justfile").read_text()
    recipe = justfile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "just demo" in readme and "[test]" not in recipe and "setup" not in recipe.split("\n")[0]
    assert "pip install -q -e ." in recipe
    test_command = "python3 -m venv .venv && .venv/bin/pip install -q rust-just && .venv/bin/just test"
    assert test_command in readme and test_command in (ROOT / ".ci" / "run").read_text()
    assert "@{{just_executable()}} --list" in justfile.split("\ndefault:", 1)[1].split("\n\n")[0]
    assert 'pip install ".[sentry]"' in readme  # installing from the repository
