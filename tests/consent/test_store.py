"""The settings file: others' keys survive, bad files are kept aside, writers never lose data."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry.consent import ConfigError, ConsentStore
from tests.conftest import child_env, read_config


def config_file(home):
    return home / ".crawl4ai" / "config.json"


def test_enable_keeps_other_keys_and_writes_mode_0600(home):
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"browser": {"headless": True}, "telemetry": {"consent": "denied", "x": 1}}))
    telemetry.enable(email="me@example.com")
    data = read_config(home)
    assert data["browser"] == {"headless": True}
    assert data["telemetry"]["consent"] == "always"
    assert data["telemetry"]["email"] == "me@example.com"
    assert data["telemetry"]["x"] == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    telemetry.disable()
    assert read_config(home)["browser"] == {"headless": True}
    assert read_config(home)["telemetry"]["consent"] == "denied"


def test_invalid_email_is_refused_and_nothing_written(home):
    with pytest.raises(ValueError):
        telemetry.enable(email="not-an-email")
    assert not config_file(home).exists()


def test_clear_email(home):
    telemetry.enable(email="me@example.com")
    telemetry.clear_email()
    assert read_config(home)["telemetry"]["email"] is None
    assert read_config(home)["telemetry"]["consent"] == "always"


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe\x00", b""])
def test_corrupt_file_reads_as_unreadable_and_is_kept_aside_on_write(home, content):
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    status = telemetry.status()
    assert status["consent"] == "unreadable" and status["enabled"] is False
    assert status["config_problem"].startswith("corrupt")
    assert path.read_bytes() == content  # reading never touches it
    telemetry.enable()
    kept = [p for p in path.parent.iterdir() if p.name.startswith("config.json.corrupt-")]
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert read_config(home)["telemetry"]["consent"] == "always"


def test_unknown_consent_value_reads_as_off_and_is_shown(home):
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"telemetry": {"consent": "yes please", "email": 42}}))
    loaded = ConsentStore().load()
    assert loaded["consent"] == "unrecognised" and loaded["email"] is None
    assert len(loaded["problems"]) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_home_nonroot(home):  # pragma: no cover - CI runs as root
    home.chmod(0o500)
    try:
        status = telemetry.enable()
        assert "warning" in status and status["enabled"] is True
    finally:
        home.chmod(0o700)


def test_unwritable_config_keeps_choice_for_this_process(home, monkeypatch):
    """A read-only home (simulated for root with a file where the folder should be)."""
    (home / ".crawl4ai").write_text("not a directory")
    with pytest.warns(RuntimeWarning, match="this process only"):
        status = telemetry.enable()
    assert status["enabled"] is True
    assert status["source"] == "this process"
    assert "cannot write" in status["warning"]
    with pytest.raises(ConfigError):
        ConsentStore().update(consent="denied")
    # The pipeline still works: capturing does not raise.
    try:
        raise RuntimeError("x")
    except RuntimeError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)


WRITER = r"""
import sys
from crawl4ai.telemetry.consent import ConsentStore, _atomic_write, _read_json_object
store = ConsentStore()
n = int(sys.argv[1])
for i in range(20):
    # A foreign tool writing its own key under the same lock discipline...
    with store.lock():
        data, _ = _read_json_object(store.path)
        data[f"tool{n}_{i}"] = i
        _atomic_write(store.path, data)
    # ...while telemetry writes its section.
    store.update(email=f"w{n}@example.com")
"""


def test_concurrent_writers_lose_no_keys(home):
    (home / ".crawl4ai").mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(n)], env=child_env(home))
        for n in range(4)
    ]
    for p in procs:
        assert p.wait(timeout=60) == 0
    data = read_config(home)
    for n in range(4):
        for i in range(20):
            assert data[f"tool{n}_{i}"] == i
    assert data["telemetry"]["email"] in {f"w{n}@example.com" for n in range(4)}


CONSUMER = r"""
from crawl4ai.telemetry.consent import ConsentStore
print("TOOK" if ConsentStore().consume_once() else "MISSED")
"""


def test_once_is_consumed_by_exactly_one_process(home):
    telemetry.enable(once=True)
    procs = [
        subprocess.Popen([sys.executable, "-c", CONSUMER], env=child_env(home), stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outputs.count("TOOK") == 1, outputs
    assert read_config(home)["telemetry"]["consent"] == "not_set"
