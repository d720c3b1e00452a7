"""The local outbox: every report that is (or would be) sent, kept as its exact redacted bytes.

Local first: a report is written here before any provider sees it, so a person can read exactly
what left (or would leave) the machine, and a report that could not be delivered is retried on a
later run. Layout under ``~/.crawl4ai/telemetry/outbox/``: ``<event_id>.json`` holds the report's
bytes, ``<event_id>.meta.json`` its delivery state. Files are mode 0600; the outbox is bounded in
count and size (oldest delivered reports go first).

States: ``pending`` (not delivered yet, will be retried), ``sent`` (the server accepted it),
``local`` (no remote provider: kept here only), ``failed`` (gave up after too many attempts or
too long), ``withheld`` (consent was withdrawn before it could be sent).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ._files import write_private
from .settings import outbox_dir  # noqa: F401 - the outbox's folder is a setting

PENDING, SENT, LOCAL, FAILED, WITHHELD = "pending", "sent", "local", "failed", "withheld"
STATES = (PENDING, SENT, LOCAL, FAILED, WITHHELD)

MAX_ENTRIES = 200
MAX_BYTES = 4 * 1024 * 1024
MAX_ATTEMPTS = 5
MAX_AGE_SECONDS = 7 * 24 * 3600
# A pending report another live process is sending is left alone for this long.
CLAIM_SECONDS = 120


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


def _valid_id(event_id: str) -> bool:
    return isinstance(event_id, str) and len(event_id) == 32 and all(c in "0123456789abcdef" for c in event_id)


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
        return base + ".json", base + ".meta.json"

    def add(self, event_id: str, payload: bytes, *, state: str, provider: str,
            exception_type: str = "", removed: dict[str, int] | None = None) -> OutboxEntry:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        report_path, _ = self._paths(event_id)
        write_private(report_path, payload)
        now = time.time()
        entry = OutboxEntry(
            event_id=event_id, state=state, created=now, updated=now, provider=provider,
            size=len(payload), exception_type=exception_type, removed=dict(removed or {}),
            claimed_by=os.getpid() if state == PENDING else 0, claimed_at=now if state == PENDING else 0.0,
        )
        self._save(entry)
        self.prune()
        return entry

    def _save(self, entry: OutboxEntry) -> None:
        _, meta_path = self._paths(entry.event_id)
        write_private(meta_path, json.dumps(asdict(entry), sort_keys=True).encode())

    def get(self, event_id: str) -> OutboxEntry | None:
        try:
            _, meta_path = self._paths(event_id)
            with open(meta_path, encoding="utf-8") as f:
                data = json.load(f)
            return OutboxEntry(**{k: v for k, v in data.items() if k in OutboxEntry.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return None

    def read(self, event_id: str) -> bytes:
        """The exact bytes of the report, as sent (or as it would be sent)."""
        report_path, _ = self._paths(event_id)
        with open(report_path, "rb") as f:
            return f.read()

    def replace_payload(self, event_id: str, payload: bytes) -> None:
        """Record the bytes a provider really transmitted."""
        report_path, _ = self._paths(event_id)
        write_private(report_path, payload)
        entry = self.get(event_id)
        if entry is not None:
            entry.size = len(payload)
            self._save(entry)

    def entries(self, state: str | None = None) -> list[OutboxEntry]:
        """All entries (newest first), optionally only those in ``state``."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        out = []
        for name in names:
            if name.endswith(".meta.json"):
                entry = self.get(name[: -len(".meta.json")])
                if entry is not None and (state is None or entry.state == state):
                    out.append(entry)
        out.sort(key=lambda e: e.created, reverse=True)
        return out

    def mark(self, event_id: str, state: str, detail: str = "", *, attempted: bool = False) -> None:
        entry = self.get(event_id)
        if entry is None:
            return
        entry.state = state
        entry.detail = detail
        entry.updated = time.time()
        if attempted:
            entry.attempts += 1
        if state != PENDING:
            entry.claimed_by, entry.claimed_at = 0, 0.0
        self._save(entry)

    def delete(self, event_id: str) -> bool:
        removed = False
        for path in self._paths(event_id):
            try:
                os.unlink(path)
                removed = True
            except OSError:
                pass
        return removed

    def claim_retries(self, now: float | None = None) -> list[OutboxEntry]:
        """Pending reports of earlier runs this process may retry now (claimed for it)."""
        now = now or time.time()
        due = []
        for entry in self.entries(PENDING):
            if now - entry.created > MAX_AGE_SECONDS or entry.attempts >= MAX_ATTEMPTS:
                self.mark(entry.event_id, FAILED, "gave up: too old or too many attempts")
                continue
            if entry.claimed_by == os.getpid():
                continue
            if entry.claimed_by and now - entry.claimed_at < CLAIM_SECONDS and _alive(entry.claimed_by):
                continue
            entry.claimed_by, entry.claimed_at = os.getpid(), now
            self._save(entry)
            due.append(entry)
        return due

    def withhold_pending(self) -> int:
        """Consent withdrawn: nothing still waiting may leave."""
        entries = self.entries(PENDING)
        for entry in entries:
            self.mark(entry.event_id, WITHHELD, "consent withdrawn before delivery")
        return len(entries)

    def summary(self) -> dict[str, Any]:
        counts = {state: 0 for state in STATES}
        total = 0
        for entry in self.entries():
            counts[entry.state] = counts.get(entry.state, 0) + 1
            total += entry.size
        return {"directory": self.directory, "counts": counts, "bytes": total}

    def prune(self) -> None:
        entries = self.entries()
        # Oldest first, delivered/settled before pending.
        order = sorted(entries, key=lambda e: (e.state == PENDING, e.created))
        count, size = len(entries), sum(e.size for e in entries)
        for entry in order:
            if count <= MAX_ENTRIES and size <= MAX_BYTES:
                break
            self.delete(entry.event_id)
            count -= 1
            size -= entry.size


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
