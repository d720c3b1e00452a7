"""Nothing found on disk is trusted: links, loose modes, other users' files, bad fields, leftovers."""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from pathlib import Path

import pytest

from crawl4ai.telemetry import outbox as outbox_module
from crawl4ai.telemetry.outbox import PENDING, SENT, LocalOutbox
from crawl4ai.telemetry.pipeline import Pipeline, set_pipeline
from crawl4ai.telemetry.providers.memory import MemoryProvider
from tests.hardening.watchdog import run_guarded, start_guarded

ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="planting another user's file needs root (CI runs as root)")


def _telemetry(home: Path) -> Path:
    return home / ".crawl4ai" / "telemetry"


def _new_id() -> str:
    return uuid.uuid4().hex


def _plant(directory: Path, *, state: str = PENDING, created: object = None,
           payload: bytes = b'{"planted": true}') -> str:
    """A report as another process (or person) could leave it in ``directory``."""
    event_id = _new_id()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{event_id}.json").write_bytes(payload)
    meta = {"event_id": event_id, "state": state, "created": time.time() if created is None else created,
            "updated": time.time(), "size": len(payload), "provider": "sentry"}
    (directory / f"{event_id}.meta.json").write_text(json.dumps(meta))
    return event_id


def _pipeline_with(provider: MemoryProvider) -> Pipeline:
    pipeline = Pipeline(provider=provider)
    set_pipeline(pipeline)
    return pipeline


def _retry_now(pipeline: Pipeline) -> None:
    pipeline.delivery.retry_pending()


def test_outbox_folder_that_is_a_link_is_never_written_through(home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _telemetry(home).mkdir(parents=True)
    (_telemetry(home) / "outbox").symlink_to(elsewhere)
    with pytest.raises(OSError):
        LocalOutbox().add(_new_id(), b"{}", state=PENDING, provider="sentry")
    assert list(elsewhere.iterdir()) == []
    assert LocalOutbox().entries() == []


def test_report_that_is_a_link_is_never_read_or_sent(home, tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"stolen": "outside the outbox"}')
    outbox = _telemetry(home) / "outbox"
    event_id = _plant(outbox)
    os.unlink(outbox / f"{event_id}.json")
    (outbox / f"{event_id}.json").symlink_to(secret)
    provider = MemoryProvider()
    _retry_now(_pipeline_with(provider))
    assert provider.events == []
    with pytest.raises(OSError):
        LocalOutbox().read(event_id)
    assert secret.exists()


def test_dangling_lock_link_is_refused_and_its_target_never_created(home, tmp_path):
    target = tmp_path / "created-by-us"
    outbox = _telemetry(home) / "outbox"
    outbox.mkdir(parents=True, mode=0o700)
    (outbox / ".lock").symlink_to(target)
    (_telemetry(home) / "config.lock").symlink_to(tmp_path / "config-target")
    with pytest.raises(OSError):
        LocalOutbox().add(_new_id(), b"{}", state=PENDING, provider="sentry")
    from crawl4ai.telemetry.api import enable

    with pytest.warns(RuntimeWarning):
        enable()
    assert not target.exists()
    assert not (tmp_path / "config-target").exists()


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_every_folder_we_create_is_private_whatever_the_umask(home, umask):
    result = run_guarded(
        """
        import os, sys
        os.umask(int(sys.argv[1], 8))
        from crawl4ai.telemetry.outbox import LocalOutbox
        from crawl4ai.telemetry.consent import ConsentStore
        LocalOutbox().add("a" * 32, b"{}", state="local", provider="local")
        ConsentStore().update(consent="denied")
        """, home, args=(oct(umask),), CRAWL4_AI_BASE_DIRECTORY=str(home / "new" / "base"))
    assert result.returncode == 0, result.stderr
    crawl4ai_dir = home / "new" / "base" / ".crawl4ai"  # crawl4ai itself creates it at import
    assert not stat.S_IMODE(crawl4ai_dir.stat().st_mode) & 0o022
    for level in (crawl4ai_dir / "telemetry", crawl4ai_dir / "telemetry" / "outbox"):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    for f in [*(crawl4ai_dir / "telemetry" / "outbox").iterdir(), crawl4ai_dir / "config.json"]:
        assert stat.S_IMODE(f.lstat().st_mode) == 0o600, f


def test_a_loose_outbox_found_on_disk_is_made_private(home):
    outbox = _telemetry(home) / "outbox"
    outbox.mkdir(parents=True)
    os.chmod(outbox, 0o777)
    os.chmod(_telemetry(home), 0o777)
    os.chmod(home / ".crawl4ai", 0o777)
    LocalOutbox().add(_new_id(), b"{}", state=PENDING, provider="sentry")
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(_telemetry(home).stat().st_mode) == 0o700
    # crawl4ai's own folder keeps its mode, but nobody else may write into it any more.
    assert stat.S_IMODE((home / ".crawl4ai").stat().st_mode) == 0o755


@ROOT_ONLY
def test_reports_of_another_user_are_ignored(home):
    outbox = _telemetry(home) / "outbox"
    ours = _plant(outbox, payload=b'{"ours": true}')
    theirs = _plant(outbox, payload=b'{"user": {"email": "attacker@example.com"}}')
    for name in (f"{theirs}.json", f"{theirs}.meta.json"):
        os.chown(outbox / name, 4242, 4242)
    os.chmod(outbox, 0o700)
    provider = MemoryProvider()
    _retry_now(_pipeline_with(provider))
    assert provider.events == [{"ours": True}]
    assert [e.event_id for e in LocalOutbox().entries()] == [ours]
    assert "attacker" not in json.dumps(provider.events)


@pytest.mark.parametrize("field,value", [
    ("created", "yesterday"), ("created", None), ("size", "big"), ("attempts", -1),
    ("state", "exploded"), ("removed", {"url": "many"}), ("claimed_by", 1.5),
])
def test_one_bad_meta_field_is_skipped_and_counted_never_poisoning_the_rest(home, field, value):
    outbox = _telemetry(home) / "outbox"
    good = _plant(outbox, state=SENT)
    bad = _plant(outbox)
    meta = json.loads((outbox / f"{bad}.meta.json").read_text())
    meta[field] = value
    (outbox / f"{bad}.meta.json").write_text(json.dumps(meta))
    box = LocalOutbox()
    box.prune()  # must not raise
    assert [e.event_id for e in box.entries()] == [good]
    summary = box.summary()
    assert summary["counts"][SENT] == 1 and summary["skipped"] == 2  # the bad meta and its report
    result = run_guarded("from crawl4ai.telemetry.cli import main; main()", home)
    assert "1 report(s): 1 sent" in result.stdout, result.stdout + result.stderr
    assert "2 unusable file(s) skipped" in result.stdout


def test_pruning_removes_stale_leftovers_but_not_a_write_in_progress(home):
    outbox = _telemetry(home) / "outbox"
    keep = _plant(outbox)
    orphan_report = outbox / f"{_new_id()}.json"
    orphan_meta = outbox / f"{_new_id()}.meta.json"
    temp = outbox / f".{_new_id()}.json.abc123.tmp"
    fresh_temp = outbox / f".{_new_id()}.json.def456.tmp"
    foreign = outbox / "notes.txt"
    for path in (orphan_report, orphan_meta, temp, fresh_temp, foreign):
        path.write_text("{}")
    old = time.time() - 3600
    for path in (orphan_report, orphan_meta, temp, foreign):
        os.utime(path, (old, old))
    LocalOutbox().add(_new_id(), b"{}", state=SENT, provider="sentry")
    left = {p.name for p in outbox.iterdir()}
    assert not {orphan_report.name, orphan_meta.name, temp.name} & left
    assert {fresh_temp.name, foreign.name, f"{keep}.json", f"{keep}.meta.json"} <= left


ADDER = """
import sys, uuid
from crawl4ai.telemetry.outbox import LocalOutbox
box = LocalOutbox()
for i in range(int(sys.argv[1])):
    event_id = uuid.uuid4().hex
    box.add(event_id, b"x" * 100, state="pending", provider="sentry")
    box.mark(event_id, "sent")
"""


@pytest.mark.timeout(300)
def test_the_cap_holds_across_processes_and_leaves_no_orphans(home):
    per_process, processes = 40, 6
    procs = [start_guarded(ADDER, home, bound=90, args=(str(per_process),)) for _ in range(processes)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    outbox = _telemetry(home) / "outbox"
    names = [p.name for p in outbox.iterdir()]
    reports = {n[:-5] for n in names if n.endswith(".json") and not n.endswith(".meta.json")}
    metas = {n[:-10] for n in names if n.endswith(".meta.json")}
    assert reports == metas, "a report without its meta (or the reverse) was left behind"
    assert len(metas) <= outbox_module.MAX_ENTRIES
    assert not [n for n in names if n.endswith(".tmp")]


def _status_after_an_error(home: Path) -> dict:
    """Consent given, one error captured, then the status a person would read."""
    from crawl4ai import telemetry

    telemetry.enable()
    try:
        raise RuntimeError("an error whose report cannot be kept")
    except RuntimeError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(30)
    return telemetry.status()


def test_an_outbox_that_cannot_be_used_is_a_named_problem_not_an_empty_outbox(home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    _telemetry(home).parent.mkdir(parents=True, exist_ok=True)
    _telemetry(home).symlink_to(elsewhere, target_is_directory=True)  # refused as a link
    status = _status_after_an_error(home)
    assert any("reports cannot be kept in the local outbox" in p and "symbolic link" in p
               for p in status["problems"]), status["problems"]
    assert list(elsewhere.iterdir()) == []  # and nothing was written through the link


@ROOT_ONLY
def test_a_telemetry_folder_left_by_another_user_is_a_named_problem(home):
    # e.g. `sudo crwl telemetry enable` with the person's HOME: the folder now belongs to root.
    _telemetry(home).mkdir(parents=True, mode=0o700)
    os.chown(_telemetry(home), 4242, 4242)
    status = _status_after_an_error(home)
    assert any("belongs to another user" in p for p in status["problems"]), status["problems"]


@pytest.fixture
def full_disk(tmp_path):
    """A home on a tiny tmpfs filled to the last block (a real full disk, not a simulation)."""
    import subprocess

    home = tmp_path / "full"
    home.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(home)],
                             capture_output=True, text=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (home / ".crawl4ai").mkdir()
        (home / ".crawl4ai" / "config.json").write_text('{"telemetry": {"consent": "always"}, "theme": "dark"}')
        with open(home / "filler", "wb", buffering=0) as filler:
            with pytest.raises(OSError):  # written until the disk refuses
                for _ in range(1024):
                    filler.write(b"\0" * 4096)
        yield home
    finally:
        subprocess.run(["umount", "-l", str(home)], capture_output=True, timeout=30)


CRWL_STATUS = """
import sys
sys.argv = ["crwl", "status", *sys.argv[1:]]
from crawl4ai.telemetry.cli import main
try:
    main()
except SystemExit:
    pass
"""


def test_a_full_disk_is_a_named_problem_in_status_and_its_json(full_disk):
    for args in ((), ("--json",)):
        result = run_guarded(CRWL_STATUS, full_disk, bound=90, args=args)
        assert result.returncode == 0, result.stderr
        assert "reports cannot be kept in the local outbox: No space left on device" in result.stdout, \
            result.stdout
    assert json.loads((full_disk / ".crawl4ai" / "config.json").read_text())["theme"] == "dark"


def test_an_error_on_a_full_disk_neither_raises_nor_prints(full_disk):
    result = run_guarded("""
        from crawl4ai import telemetry
        try:
            raise ValueError("a crawl failed")
        except ValueError as exc:
            telemetry.capture_exception(exc)
        print("FLUSHED", telemetry.flush(30))
        print([p for p in telemetry.status()["problems"] if "No space left" in p])
        """, full_disk, bound=90)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "FLUSHED True" in result.stdout
    assert "No space left on device" in result.stdout
