"""Nobody is asked where nobody can answer: no TTY, CI, a piped stdout, Crawl4AI's Docker image.

Where nobody is asked and nobody chose, nothing is sent (except in Crawl4AI's own Docker image,
where ``not_set`` means on by design). Each test checks the program's whole output for any trace
of the question, the server for requests and the outbox for files.
"""

from __future__ import annotations

from crawl4ai.telemetry import environment
from tests.conftest import run_python
from tests.consent.pty_session import HEADER, QUESTION, SYNC_SCRIPT, finish, spawn, spawn_shell


def outbox_files(home):
    outbox = home / ".crawl4ai" / "telemetry" / "outbox"
    return sorted(p.name for p in outbox.iterdir()) if outbox.exists() else []


def assert_no_prompt(text):
    assert HEADER not in text and QUESTION not in text and "crash reports" not in text


def test_without_a_tty_even_claiming_cli_nothing_is_asked_or_sent(home, sentry_server):
    # stdin is /dev/null, stdout a pipe; the environment is forced to "cli" to prove the TTY
    # check itself holds.
    result = run_python(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn,
                        CRAWL4AI_TELEMETRY_ENVIRONMENT="cli")
    assert result.returncode == 0, result.stderr
    assert "DONE" in result.stdout
    assert_no_prompt(result.stdout + result.stderr)
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_a_library_without_a_tty_is_detected_as_such_and_nothing_is_sent(home, sentry_server):
    code = SYNC_SCRIPT + "\n    print('ENV', telemetry.status()['environment'])\n"
    result = run_python(code, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    assert result.returncode == 0, result.stderr
    assert_no_prompt(result.stdout + result.stderr)
    # A container (these machines have /.dockerenv) that is not Crawl4AI's Docker image follows
    # the library's rules; only the report's environment field says "container".
    expected = "container" if environment.in_container() else "library"
    assert f"ENV {expected}\n" in result.stdout, result.stdout
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_in_ci_a_real_terminal_is_not_asked(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CI="true")
    out = finish(child)
    assert "DONE" in out
    assert_no_prompt(out)
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_in_ci_even_an_environment_forced_to_cli_is_not_asked(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, GITHUB_ACTIONS="true",
                  CRAWL4AI_TELEMETRY_ENVIRONMENT="cli")
    out = finish(child)
    assert "DONE" in out
    assert_no_prompt(out)
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_a_terminal_whose_output_is_piped_is_not_asked(home, sentry_server):
    script = home / "program.py"
    script.write_text(SYNC_SCRIPT.replace("\n    ", "\n"))
    import sys

    child = spawn_shell(f"'{sys.executable}' '{script}' | cat", home,
                        CRAWL4AI_SENTRY_DSN=sentry_server.dsn)
    out = finish(child)
    assert "DONE" in out
    assert_no_prompt(out)
    assert sentry_server.requests == [] and outbox_files(home) == []


def test_crawl4ais_docker_image_is_never_asked_and_keeps_its_on_by_default(home, sentry_server):
    child = spawn(SYNC_SCRIPT, home, CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CRAWL4AI_DOCKER="true")
    out = finish(child)
    assert "DONE" in out
    assert_no_prompt(out)
    [event] = sentry_server.wait_for_events(1)
    assert event["environment"] == "docker"
