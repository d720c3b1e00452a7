"""The local outbox: every report that is (or would be) sent, kept as its exact redacted bytes.

Local first: a report is written here before any provider sees it, so a person can read exactly
what left (or would leave) the machine, and a report that could not be delivered is retried on a
later run. Layout under ``~/.crawl4ai/telemetry/outbox/``: ``<event_id>.json`` holds the report's
bytes, ``<event_id>.meta.json`` its delivery state, ``.lock`` the lock every process takes to
change the folder. Files are mode 0600 in a 0700 folder; the outbox is bounded in count and size
across processes (oldest delivered reports go first).

Nothing found here is trusted (see :mod:`._files`): a folder or file that is a symbolic link, a
file of another user, or a meta file with a field of the wrong kind is skipped and counted
(``summary()["skipped"]``), never read, sent or allowed to break pruning. Pruning also removes
what a process killed mid-write leaves behind (temporary files, a report without its meta).

States: ``pending`` (not delivered yet, will be retried), ``sent`` (the server accepted it),
``local`` (no remote provider: kept here only), ``failed`` (gave up after too many attempts or
too long), ``withheld`` (consent was withdrawn before it could be sent).

One report per bug (:meth:`LocalOutbox.keep`, :meth:`LocalOutbox.count`): each entry names its
bug (``fingerprint``) and how many errors its bytes stand for (``occurrences``, the report's
``contexts.telemetry.occurrences``). A later error of the same bug is counted, under the lock,
into the report that stands for it: into its bytes while nobody is sending them (``pending``
held by this process or by no live one, ``local``), else into ``carried`` (a report already
sent cannot change; the next report of that bug, made once the repeat window has passed,
carries those occurrences and the count moves there).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from ._files import (
    TEMP_SUFFIX,
    UnsafePath,
    compact_json,
    is_own_regular,
    locked,
    parse_json,
    private_dirs,
    read_regular,
    temp_of,
    write_private,
)
from .settings import base_dir, outbox_dir, telemetry_dir

PENDING, SENT, LOCAL, FAILED, WITHHELD = "pending", "sent", "local", "failed", "withheld"
STATES = (PENDING, SENT, LOCAL, FAILED, WITHHELD)

MAX_ENTRIES = 200
MAX_BYTES = 4 * 1024 * 1024
MAX_ATTEMPTS = 5
MAX_HISTORY = 20
MAX_AGE_SECONDS = 7 * 24 * 3600
# A pending report another live process is sending is left alone for this long.
CLAIM_SECONDS = 120
# Leftovers younger than this may be another process's write in progress: pruning waits.
LEFTOVER_GRACE_SECONDS = 60
_META_LIMIT = 64 * 1024
# Free room below which ``status`` says reports cannot be kept: a report, its meta file and the
# temporary copies an atomic write makes.
ROOM_FOR_ONE = 64 * 1024
REPORT_SUFFIX, META_SUFFIX, LOCK_NAME = ".json", ".meta.json", ".lock"
#: How an error was kept (:meth:`LocalOutbox.keep`, :meth:`LocalOutbox.count`): as a new report;
#: counted into the bytes of the report that waits for its bug; counted into ``carried`` of the
#: report already sent within the window; or, past the window, carried to the next report.
ADDED, COUNTED, CARRIED, EXPIRED = "added", "counted", "carried", "expired"
# crawl4ai's settings file (in its own folder, shared with crawl4ai): only our temporary copies
# of it are ours to prune there.
_SETTINGS_FILE = "config.json"


@dataclass
class OutboxEntry:
    """One report's delivery record; the report itself is :meth:`LocalOutbox.read`."""

    event_id: str
    state: str
    created: float
    updated: float
    attempts: int = 0
    provider: str = ""
    detail: str = ""
    size: int = 0
    exception_type: str = ""
    removed: dict[str, int] = field(default_factory=dict)
    claimed_by: int = 0
    claimed_at: float = 0.0
    fingerprint: str = ""  # the bug this report is about (see :meth:`LocalOutbox.keep`)
    occurrences: int = 1  # errors the report's bytes stand for
    carried: int = 0  # errors counted after it was sent: the next report of the bug carries them
    # Delivery history, oldest first: [time, state, detail] per change (the dashboard shows it).
    history: list[list[Any]] = field(default_factory=list)

    def record(self, state: str, detail: str, when: float) -> None:
        self.history = [*self.history, [when, state, detail]][-MAX_HISTORY:]


def _valid_id(event_id: str) -> bool:
    return isinstance(event_id, str) and len(event_id) == 32 and all(c in "0123456789abcdef" for c in event_id)


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_time(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


def _is_counts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _is_count(v) for k, v in value.items())


def _is_history(value: Any) -> bool:
    return isinstance(value, list) and len(value) <= MAX_HISTORY and all(
        isinstance(step, list) and len(step) == 3 and _is_time(step[0]) and step[1] in STATES
        and isinstance(step[2], str) for step in value)


# What each meta field must be; a file with any other value is skipped as a whole.
_FIELD_CHECKS = {
    "event_id": _valid_id, "state": lambda v: v in STATES, "created": _is_time,
    "updated": _is_time, "attempts": _is_count, "provider": lambda v: isinstance(v, str),
    "detail": lambda v: isinstance(v, str), "size": _is_count,
    "exception_type": lambda v: isinstance(v, str), "removed": _is_counts,
    "claimed_by": _is_count, "claimed_at": _is_time, "history": _is_history,
    "fingerprint": lambda v: v == "" or _valid_id(v),
    "occurrences": lambda v: _is_count(v) and v >= 1, "carried": _is_count,
}
_REQUIRED = ("event_id", "state", "created", "updated")


def _entry_from(data: Any, event_id: str) -> OutboxEntry | None:
    if not isinstance(data, dict) or data.get("event_id") != event_id:
        return None
    if any(name not in data for name in _REQUIRED):
        return None
    fields = {k: v for k, v in data.items() if k in _FIELD_CHECKS}
    if not all(_FIELD_CHECKS[k](v) for k, v in fields.items()):
        return None
    return OutboxEntry(**fields)


class LocalOutbox:
    """A small query API over the outbox folder (used by the pipeline, ``status`` and the TUI)."""

    def __init__(self, directory: str | None = None) -> None:
        self._explicit = directory

    @property
    def directory(self) -> str:
        return self._explicit or outbox_dir()

    def _paths(self, event_id: str) -> tuple[str, str]:
        if not _valid_id(event_id):
            raise ValueError("not a report id")
        base = os.path.join(self.directory, event_id)
        return base + REPORT_SUFFIX, base + META_SUFFIX

    def _ready(self, directory: str | None = None) -> str:
        """Create (or check) the folder: 0700 at every level, no links, ours."""
        if self._explicit:
            return private_dirs(directory or self._explicit, shared_from=self._explicit,
                                ours_from=self._explicit)
        return private_dirs(directory or self.directory, shared_from=base_dir(),
                            ours_from=telemetry_dir())

    def problem(self) -> str | None:
        """Why a report could not be kept here now (a folder that is someone else's, a link, not
        writable), or None. Checks the levels that exist, by the rules writing uses; creates
        nothing."""
        level = self.directory
        while not os.path.lexists(level):
            parent = os.path.dirname(level)
            if parent == level:
                return None
            level = parent
        try:
            self._ready(level)
            if not os.access(level, os.W_OK | os.X_OK):
                raise PermissionError(f"{level} is not writable")
            _check_room(level)
        except OSError as e:
            return f"reports cannot be kept in the local outbox: {e.strerror or e}"
        return None

    def _readable(self) -> bool:
        """The folder exists and is safe to read from (checked, never created)."""
        try:
            if not os.path.lexists(self.directory):
                return False
            self._ready()
            return True
        except OSError:
            return False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with locked(os.path.join(self._ready(), LOCK_NAME)):
            yield

    def add(self, event_id: str, payload: bytes, *, state: str, provider: str,
            exception_type: str = "", removed: dict[str, int] | None = None,
            claim: bool = True) -> OutboxEntry:
        """Keep a report. A ``pending`` one is claimed by this process (it is sending it now),
        unless ``claim`` is False: then any run's retry may send it, this one's included."""
        with self._locked():
            return self._add(event_id, payload, state=state, provider=provider,
                             exception_type=exception_type, removed=removed, claim=claim)

    def _add(self, event_id: str, payload: bytes, *, state: str, provider: str,
             exception_type: str = "", removed: dict[str, int] | None = None,
             claim: bool = True, fingerprint: str = "", occurrences: int = 1) -> OutboxEntry:
        report_path, _ = self._paths(event_id)
        now = time.time()
        claimed = state == PENDING and claim
        entry = OutboxEntry(
            event_id=event_id, state=state, created=now, updated=now, provider=provider,
            size=len(payload), exception_type=exception_type, removed=dict(removed or {}),
            claimed_by=os.getpid() if claimed else 0, claimed_at=now if claimed else 0.0,
            fingerprint=fingerprint, occurrences=max(1, occurrences),
        )
        entry.record(state, "kept in the outbox", now)
        write_private(report_path, payload)
        self._save(entry)
        self._prune()
        return entry

    # -- one report per bug ------------------------------------------------------------------------

    def keep(self, event_id: str, payload: bytes, *, state: str, provider: str, fingerprint: str,
             occurrences: int = 1, window: float, exception_type: str = "",
             removed: dict[str, int] | None = None, busy: frozenset[str] = frozenset(),
             claim: bool = True) -> tuple[str, str]:
        """Keep a new report of the bug ``fingerprint`` that stands for ``occurrences`` errors
        (its bytes are made to say so),
        unless a report of that bug already stands for them: ``(how, event id)`` of the report
        that now counts them (:data:`ADDED` this one; :data:`COUNTED` or :data:`CARRIED`
        another). A new report carries what earlier reports of its bug counted after they were
        sent. ``busy``: reports this process is sending right now (their bytes cannot change);
        ``claim``: as for :meth:`add`."""
        with self._locked():
            same = self._of_bug(fingerprint)
            standing = _standing(same, window, kept_here=state == LOCAL)
            if standing is not None:
                return self._count_into(standing, occurrences, busy), standing.event_id
            carried = 0
            for entry in same:
                if entry.carried:
                    carried, entry.carried = carried + entry.carried, 0
                    self._save(entry)
            occurrences += carried
            if occurrences != 1:
                payload = recounted(payload, occurrences)
            self._add(event_id, payload, state=state, provider=provider,
                      exception_type=exception_type, removed=removed, claim=claim,
                      fingerprint=fingerprint, occurrences=occurrences)
            return ADDED, event_id

    def count(self, fingerprint: str, occurrences: int, *, window: float,
              busy: frozenset[str] = frozenset()) -> tuple[str, str] | None:
        """Count ``occurrences`` more errors of the bug ``fingerprint`` into the report that
        stands for it (:data:`COUNTED`, :data:`CARRIED`); :data:`EXPIRED` when its last report
        is older than the window (carried: the bug's next report takes them); None when no
        report of the bug is here any more (deleted by the person, or pruned)."""
        with self._locked():
            same = self._of_bug(fingerprint)
            standing = _standing(same, window)
            if standing is not None:
                return self._count_into(standing, occurrences, busy), standing.event_id
            if not same:
                return None
            newest = same[0]
            newest.carried += occurrences
            self._save(newest)
            return EXPIRED, newest.event_id

    def _of_bug(self, fingerprint: str) -> list[OutboxEntry]:
        """The reports of one bug, newest first."""
        return [e for e in self.entries() if fingerprint and e.fingerprint == fingerprint]

    def _count_into(self, entry: OutboxEntry, occurrences: int, busy: frozenset[str]) -> str:
        if not _may_rewrite(entry, busy):
            entry.carried += occurrences
            self._save(entry)
            return CARRIED
        report_path, _ = self._paths(entry.event_id)
        payload = recounted(read_regular(report_path, follow_links=False, own=True,
                                         limit=MAX_BYTES), entry.occurrences + occurrences)
        write_private(report_path, payload)
        entry.occurrences += occurrences
        entry.size = len(payload)
        self._save(entry)
        return COUNTED

    def _save(self, entry: OutboxEntry) -> None:
        _, meta_path = self._paths(entry.event_id)
        write_private(meta_path, json.dumps(asdict(entry), sort_keys=True).encode())

    def get(self, event_id: str) -> OutboxEntry | None:
        """The entry, or None when it is missing or cannot be trusted as found."""
        try:
            _, meta_path = self._paths(event_id)
            raw = read_regular(meta_path, follow_links=False, own=True, limit=_META_LIMIT)
            return _entry_from(parse_json(raw.decode("utf-8")), event_id)
        except (OSError, ValueError):
            return None

    def read(self, event_id: str) -> bytes:
        """The exact bytes of the report, as sent (or as it would be sent).

        OSError (:class:`UnsafePath`) for a report that is a link or another user's file."""
        report_path, _ = self._paths(event_id)
        if not self._readable():
            raise UnsafePath(f"{self.directory} cannot be used")
        return read_regular(report_path, follow_links=False, own=True, limit=MAX_BYTES)

    def replace_payload(self, event_id: str, payload: bytes) -> None:
        """Record the bytes a provider really transmitted."""
        report_path, _ = self._paths(event_id)
        with self._locked():
            entry = self.get(event_id)
            if entry is None:
                return  # pruned meanwhile: never bring back half an entry
            write_private(report_path, payload)
            entry.size = len(payload)
            self._save(entry)

    def _scan(self) -> tuple[list[OutboxEntry], list[str]]:
        """(usable entries newest first, names of files that are not part of one)."""
        if not self._readable():
            return [], []
        try:
            names = os.listdir(self.directory)
        except OSError:
            return [], []
        usable = []
        for name in names:
            if name.endswith(META_SUFFIX):
                entry = self.get(name[: -len(META_SUFFIX)])
                report = os.path.join(self.directory, name[: -len(META_SUFFIX)] + REPORT_SUFFIX)
                if entry is not None and is_own_regular(report):
                    usable.append(entry)
        parts = {e.event_id + suffix for e in usable for suffix in (REPORT_SUFFIX, META_SUFFIX)}
        others = [name for name in names if name not in parts and name != LOCK_NAME]
        usable.sort(key=lambda e: e.created, reverse=True)
        return usable, others

    def entries(self, state: str | None = None) -> list[OutboxEntry]:
        """All usable entries (newest first), optionally only those in ``state``."""
        usable, _ = self._scan()
        return usable if state is None else [e for e in usable if e.state == state]

    def mark(self, event_id: str, state: str, detail: str = "", *, attempted: bool = False) -> None:
        with self._locked():
            entry = self.get(event_id)
            if entry is None:
                return
            entry.state = state
            entry.detail = detail
            entry.updated = time.time()
            entry.record(state, detail, entry.updated)
            if attempted:
                entry.attempts += 1
            if state != PENDING:
                entry.claimed_by, entry.claimed_at = 0, 0.0
            self._save(entry)

    def delete(self, event_id: str) -> bool:
        with self._locked():
            return self._delete(event_id)

    def _delete(self, event_id: str) -> bool:
        removed = False
        for path in self._paths(event_id):
            try:
                os.unlink(path)  # a link is removed itself, never followed
                removed = True
            except OSError:
                pass
        return removed

    def claim_retries(self, now: float | None = None) -> list[OutboxEntry]:
        """Pending reports of earlier runs this process may retry now (claimed for it)."""
        now = now or time.time()
        due = []
        with self._locked():
            for entry in self.entries(PENDING):
                if now - entry.created > MAX_AGE_SECONDS or entry.attempts >= MAX_ATTEMPTS:
                    entry.state, entry.detail = FAILED, "gave up: too old or too many attempts"
                    entry.claimed_by, entry.claimed_at = 0, 0.0
                    self._save(entry)
                    continue
                if entry.claimed_by == os.getpid():
                    continue
                if entry.claimed_by and now - entry.claimed_at < CLAIM_SECONDS and _alive(entry.claimed_by):
                    continue
                entry.claimed_by, entry.claimed_at = os.getpid(), now
                self._save(entry)
                due.append(entry)
        return due

    def withhold_pending(self, state: str = WITHHELD,
                         detail: str = "consent withdrawn before delivery") -> int:
        """Consent withdrawn (or "local only" chosen): nothing still waiting may leave on its
        own; each report becomes ``state`` (``withheld``, or ``local``: kept here)."""
        entries = self.entries(PENDING)
        for entry in entries:
            self.mark(entry.event_id, state, detail)
        return len(entries)

    def summary(self) -> dict[str, Any]:
        usable, others = self._scan()
        counts = {state: 0 for state in STATES}
        for entry in usable:
            counts[entry.state] += 1
        return {"directory": self.directory, "counts": counts,
                "bytes": sum(e.size for e in usable), "skipped": len(others),
                "problem": self.problem()}

    def prune(self) -> None:
        with self._locked():
            self._prune()

    def _prune(self) -> None:
        """Hold the cap (oldest settled reports first) and remove stale leftovers."""
        usable, others = self._scan()
        order = sorted(usable, key=lambda e: (e.state == PENDING, e.created))
        count, size = len(usable), sum(e.size for e in usable)
        for entry in order:
            if count <= MAX_ENTRIES and size <= MAX_BYTES:
                break
            self._delete(entry.event_id)
            count -= 1
            size -= entry.size
        self._remove_leftovers(others)

    def _remove_leftovers(self, others: list[str]) -> None:
        """What processes that died mid-write left (called under the outbox lock).

        Every write to the outbox holds its lock, so now none is in progress: half an entry (a
        report without its meta file, or the reverse) is a leftover, removed at once. A
        temporary file is removed at once when the process that wrote it is dead, after
        :data:`LEFTOVER_GRACE_SECONDS` otherwise. The same holds for the temporary files our
        other writers leave beside their files: the counters, the caches, the settings file."""
        for name in others:
            if not _is_ours(name):
                continue
            path = os.path.join(self.directory, name)
            if _half_entry(self.directory, name):
                with contextlib.suppress(OSError):
                    os.unlink(path)  # a link is removed itself, never followed
            else:
                _remove_leftover(path)
        if self._explicit:
            return
        from .cache import folder as cache_folder

        for folder, replaced in ((telemetry_dir(), None), (cache_folder(), None),
                                 (base_dir(), _SETTINGS_FILE)):
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                temp = temp_of(name)
                if temp is not None and replaced in (None, temp[0]):
                    _remove_leftover(os.path.join(folder, name))


def recounted(payload: bytes, occurrences: int) -> bytes:
    """A report's bytes saying it stands for ``occurrences`` errors
    (``contexts.telemetry.occurrences``, written only above one, as the report builder does),
    everything else as it was: the same compact JSON the report was kept as."""
    event = parse_json(payload)
    contexts = event.setdefault("contexts", {})
    telemetry = contexts.setdefault("telemetry", {})
    if occurrences > 1:
        telemetry["occurrences"] = min(occurrences, 10**9)  # the scrubber's cap for the field
    else:
        telemetry.pop("occurrences", None)
        if not telemetry:
            del contexts["telemetry"]
    return compact_json(event)


def _may_rewrite(entry: OutboxEntry, busy: frozenset[str]) -> bool:
    """Whether a report's bytes may still change: kept here only, or waiting to be sent by this
    process or by no live one; never while someone is sending them."""
    if entry.event_id in busy:
        return False
    if entry.state == LOCAL:
        return True
    if entry.state != PENDING:
        return False
    return entry.claimed_by in (0, os.getpid()) or not _alive(entry.claimed_by)


def _standing(same: list[OutboxEntry], window: float, *, kept_here: bool = True) -> OutboxEntry | None:
    """The report that stands for a bug now (``same`` newest first): one still waiting to be
    sent, or one sent (or kept here) within the repeat ``window``. A report kept here does not
    stand for one that is to be sent (``kept_here`` False): nothing of that bug left yet.
    None: a new report is due."""
    now = time.time()
    settled = (SENT, LOCAL) if kept_here else (SENT,)
    for entry in same:
        if entry.state == PENDING:
            return entry
        if entry.state in settled and now - entry.updated < window:
            return entry
    return None


def _check_room(folder: str) -> None:
    """OSError(ENOSPC) when the disk holding ``folder`` has no room for one more report (no
    space, or no file entries left); a file system that cannot tell is given the benefit."""
    try:
        fs = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return
    # Root may use the blocks a file system reserves for it; others may not.
    free_blocks = fs.f_bfree if _is_root() else fs.f_bavail
    no_entries = fs.f_files > 0 and fs.f_favail == 0
    if fs.f_blocks and (free_blocks * fs.f_frsize < ROOM_FOR_ONE or no_entries):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), folder)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _is_ours(name: str) -> bool:
    """A name this module (or :func:`write_private`) could have written."""
    if name.endswith(TEMP_SUFFIX):
        return name.startswith(".")
    stem = name.removesuffix(META_SUFFIX) if name.endswith(META_SUFFIX) else name.removesuffix(REPORT_SUFFIX)
    return stem != name and _valid_id(stem)


def _half_entry(folder: str, name: str) -> bool:
    """A report whose meta file is missing, or a meta file whose report is."""
    if name.endswith(META_SUFFIX):
        partner = name[: -len(META_SUFFIX)] + REPORT_SUFFIX
    elif name.endswith(REPORT_SUFFIX) and not name.endswith(TEMP_SUFFIX):
        partner = name[: -len(REPORT_SUFFIX)] + META_SUFFIX
    else:
        return False
    return not os.path.lexists(os.path.join(folder, partner))


def _remove_leftover(path: str) -> None:
    """Remove ``path`` if it is a link, a dead process's temporary file, or older than the grace
    (a live writer's temporary file may be a write in progress)."""
    try:
        st = os.lstat(path)
        temp = temp_of(os.path.basename(path))
        writer = temp[1] if temp is not None else None
        dead = writer is not None and writer != os.getpid() and not _alive(writer)
        if os.path.islink(path) or dead or time.time() - st.st_mtime > LEFTOVER_GRACE_SECONDS:
            os.unlink(path)
    except OSError:
        pass


def _alive(pid: int) -> bool:
    """Is process ``pid`` still running (a signal-0 probe; elsewhere psutil, a crawl4ai
    dependency). Unsure means alive: its claim or file is left until it expires."""
    if os.name == "posix":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:  # PermissionError: it exists, as another user
            return True
        return True
    try:
        import psutil

        return psutil.pid_exists(pid)
    except Exception:
        return True
