"""The settings file as found: a FIFO never blocks, a BOM is JSON, others' keys survive, locks are ours."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.consent import ConsentStore
from crawl4ai.telemetry.pipeline import get_pipeline
from tests.conftest import read_config
from tests.hardening.watchdog import hung, run_guarded

FIFO_ONLY = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


def _config(home):
    path = home / ".crawl4ai" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@FIFO_ONLY
def test_a_fifo_settings_file_never_blocks_the_first_error(home):
    os.mkfifo(_config(home))
    result = run_guarded(
        """
        from crawl4ai import telemetry
        try:
            raise RuntimeError("first error")
        except RuntimeError as exc:
            telemetry.capture_exception(exc)
        print("captured")
        print(telemetry.status()["config_problem"])
        """, home, bound=60, CRAWL4AI_DOCKER="true")
    assert not hung(result), result.stderr
    assert result.returncode == 0, result.stderr
    assert "captured" in result.stdout
    assert "not a regular file" in result.stdout


@FIFO_ONLY
def test_a_fifo_settings_file_is_never_replaced_by_a_choice(home):
    path = _config(home)
    os.mkfifo(path)
    result = run_guarded(
        """
        import warnings
        from crawl4ai import telemetry
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            telemetry.enable()
        print(caught[0].message)
        """, home, bound=60)
    assert not hung(result), result.stderr
    assert "not a regular file" in result.stdout
    assert path.is_fifo()


def test_a_byte_order_mark_is_read_as_json_and_other_keys_survive(home):
    path = _config(home)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(
        {"browser": {"headless": False}, "telemetry": {"consent": "denied"}}).encode())
    status = telemetry.status()
    assert status["config_problem"] is None
    assert status["consent"] == "denied"
    telemetry.enable(email="me@example.com")
    data = read_config(home)
    assert data["browser"] == {"headless": False}
    assert data["telemetry"]["consent"] == "always"
    assert not list(path.parent.glob("config.json.corrupt-*"))


def test_a_linked_settings_file_is_followed_for_dotfile_managers(home, tmp_path):
    real = tmp_path / "dotfiles" / "config.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"telemetry": {"consent": "always"}, "other": 1}))
    _config(home).symlink_to(real)
    assert ConsentStore().load()["consent"] == "always"


def test_the_settings_lock_lives_in_the_telemetry_folder(home):
    telemetry.enable()
    folder = home / ".crawl4ai" / "telemetry"
    assert (folder / "config.lock").is_file()
    assert not (home / ".crawl4ai" / "config.json.lock").exists()


def test_a_corrupt_file_kept_aside_never_replaces_an_earlier_copy(home):
    import time

    path = _config(home)
    # Copies kept aside earlier, at every name the next minute's corruption could be given.
    now = time.time()
    earlier = [path.with_name(f"config.json.corrupt-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now + s))}")
               for s in range(-1, 60)]
    for copy in earlier:
        copy.write_text("an earlier corrupt copy")
    path.write_text('{"browser": {"headless": false}, oops')
    telemetry.enable()
    assert read_config(home)["telemetry"]["consent"] == "always"
    assert all(copy.read_text() == "an earlier corrupt copy" for copy in earlier)
    kept = [p for p in path.parent.glob("config.json.corrupt-*") if p not in earlier]
    assert [p.read_text() for p in kept] == ['{"browser": {"headless": false}, oops']


@pytest.mark.parametrize("section", [5, "always", ["always"], True])
def test_a_telemetry_value_that_is_not_an_object_is_a_named_problem_and_others_survive(
        home, section):
    path = _config(home)
    path.write_text(json.dumps({"browser": {"headless": False}, "telemetry": section}))
    status = telemetry.status()
    assert status["consent"] == "not_set" and not status["enabled"]
    assert any("'telemetry' value is not an object" in p for p in status["problems"])
    telemetry.disable()
    assert read_config(home) == {"browser": {"headless": False},
                                 "telemetry": {"consent": "denied"}}
    assert telemetry.status()["problems"] == []


# Deeper than any JSON parser in Python goes (its recursion limit): a RecursionError is no
# ValueError, and slipped past every "corrupt file" handler.
TOO_DEEP = "[" * 100_000 + "]" * 100_000


def test_a_settings_file_nested_too_deeply_is_a_named_problem_and_loses_nothing(home):
    path = _config(home)
    path.write_text('{"browser": {"headless": false}, "telemetry": ' + TOO_DEEP + "}")
    status = telemetry.status()
    assert status["consent"] == "unreadable"
    assert status["config_problem"] == "corrupt (not valid JSON: nested too deeply at line 1, column 1)"
    try:
        raise ValueError("a crawl failed")
    except ValueError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    # It may hold a "yes": the report is kept, unsent, until the file can be read.
    assert [e.state for e in get_pipeline().outbox.entries()] == ["local"]  # no destination here
    telemetry.enable()  # the unreadable file is kept aside, as any corrupt one
    assert read_config(home)["telemetry"]["consent"] == "always"
    [kept] = path.parent.glob("config.json.corrupt-*")
    assert kept.read_text().endswith(TOO_DEEP + "}")


def test_telemetrys_own_files_nested_too_deeply_are_skipped_never_raised(home):
    from crawl4ai.telemetry.settings import outbox_dir, telemetry_dir

    outbox = Path(outbox_dir())
    outbox.mkdir(parents=True, mode=0o700)
    Path(telemetry_dir()).chmod(0o700)
    event_id = "ab" * 16
    for name in (f"{event_id}.json", f"{event_id}.meta.json"):
        (outbox / name).write_text(TOO_DEEP)
        (outbox / name).chmod(0o600)
    counters = Path(telemetry_dir()) / "counters.json"
    counters.write_text(TOO_DEEP)
    counters.chmod(0o600)
    status = telemetry.status()
    assert status["outbox"]["skipped"] == 2 and sum(status["outbox"]["counts"].values()) == 0
    assert telemetry.counters()["all_runs"]["kinds"] == {}
