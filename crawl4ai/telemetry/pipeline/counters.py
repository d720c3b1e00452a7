"""What happened to the errors telemetry saw, per kind, in this run and in past runs.

The pipeline counts as it goes (cheap attribute increments, no lock: a rare race between
threads can miscount one error, never block one). At exit this run's counts are merged into a
small file in the telemetry folder (``settings.counters_path()``), under a lock, bounded in
size, and only once telemetry was used on this machine (the outbox or the file exists): counting
never creates files for someone who never said yes. The dashboard and ``status`` read both
through :func:`crawl4ai.telemetry.counters`.

A kind is an exception type. Its name is resolved only when counts are shown or saved, through
the report's own naming (a user-defined class shows as ``<user code>(Base)``), never on the
caller's thread.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from .. import settings

#: The counts kept per kind, in the order they are shown.
FIELDS = ("seen", "reported", "repeated", "deduplicated", "queue_full", "not_consented",
          "lost_at_exit")
# Older files counted repeats as rate limited (they rode on the next report, as repeats do now).
_OLD_NAMES = {"repeated": "rate_limited"}
#: Kinds kept in memory (then "<other kinds>") and in the file (the most seen first).
MAX_KINDS = 256
MAX_FILE_KINDS = 200
MAX_FILE_BYTES = 256 * 1024
OTHER = "<other kinds>"
_VERSION = 1


class KindCounts:
    """The counts of one kind of error. ``reported``: errors that made a report; ``repeated``:
    errors counted into the report of the same bug (``contexts.telemetry.occurrences``) instead of
    making their own; ``dropped`` = queue full + lost at exit."""

    __slots__ = FIELDS

    def __init__(self) -> None:
        self.seen = self.reported = self.repeated = self.deduplicated = 0
        self.queue_full = self.not_consented = 0
        self.lost_at_exit = 0  # consented, but neither sent nor kept before the process ended

    @property
    def dropped(self) -> int:
        return self.queue_full + self.lost_at_exit

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in FIELDS}


class Counters:
    """This run's counts: per kind (:meth:`of`) and for the pipeline's own events."""

    def __init__(self) -> None:
        self._kinds: dict[Any, KindCounts] = {}
        self.delivered = 0
        self.delivery_failed = 0
        self.errors = 0  # telemetry's own failures on the worker
        self.once_already_used = 0
        self.prompted = 0
        self.held_for_prompt = 0
        self.answers: dict[str, int] = {}
        self._saved: dict[str, dict[str, int]] = {}

    def of(self, kind: type[BaseException]) -> KindCounts:
        counts = self._kinds.get(kind)
        if counts is None:
            if len(self._kinds) >= MAX_KINDS:
                kind = OTHER
                counts = self._kinds.get(OTHER)
            if counts is None:
                counts = self._kinds[kind] = KindCounts()
        return counts

    def answered(self, answer: str) -> None:
        self.answers[answer] = self.answers.get(answer, 0) + 1

    # -- reading ---------------------------------------------------------------------------------

    def by_kind(self) -> dict[str, dict[str, int]]:
        """``{kind name: {field: count}}`` for this run (kinds of the same name are summed)."""
        out: dict[str, dict[str, int]] = {}
        for kind, counts in list(self._kinds.items()):
            _add(out.setdefault(_kind_name(kind), dict.fromkeys(FIELDS, 0)), counts.as_dict())
        return out

    def totals(self) -> dict[str, int]:
        """This run's non-zero counts by name (what ``status()["pipeline"]`` shows)."""
        totals = dict.fromkeys(FIELDS, 0)
        for counts in list(self._kinds.values()):
            _add(totals, counts.as_dict())
        totals.update(delivered=self.delivered, delivery_failed=self.delivery_failed,
                      errors=self.errors, once_already_used=self.once_already_used,
                      prompted=self.prompted, held_for_prompt=self.held_for_prompt)
        totals.update({f"prompt_answer_{a}": n for a, n in self.answers.items()})
        return {name: n for name, n in totals.items() if n}

    def repeated_kinds(self) -> dict[str, int]:
        """``{kind name: occurrences counted into an earlier report}`` for this run."""
        return {name: c["repeated"] for name, c in self.by_kind().items() if c["repeated"]}

    # -- this run and past runs --------------------------------------------------------------------

    def unsaved(self) -> dict[str, dict[str, int]]:
        """This run's counts not yet merged into the file."""
        delta: dict[str, dict[str, int]] = {}
        for name, counts in self.by_kind().items():
            saved = self._saved.get(name, {})
            diff = {f: counts[f] - saved.get(f, 0) for f in FIELDS}
            if any(diff.values()):
                delta[name] = diff
        return delta

    def save(self, path: str | None = None) -> bool:
        """Merge this run's unsaved counts into the file; False (nothing written) when there is
        nothing new, telemetry was never used here (no outbox, no file yet), or the file is busy
        or unwritable."""
        path = path or settings.counters_path()
        delta = self.unsaved()
        if not delta or not (os.path.exists(path) or os.path.isdir(settings.outbox_dir())):
            return False
        current = self.by_kind()
        if not _merge_into_file(path, delta, new_run=not self._saved):
            return False
        self._saved = current
        return True

    def all_runs(self, path: str | None = None) -> dict[str, Any]:
        """Past runs (the file) plus this run's unsaved counts."""
        past = read_file(path or settings.counters_path())
        kinds = {name: dict(c) for name, c in past["kinds"].items()}
        for name, diff in self.unsaved().items():
            _add(kinds.setdefault(name, dict.fromkeys(FIELDS, 0)), diff)
        runs = past["runs"] + (0 if self._saved else 1)
        return {"runs": runs, "since": past["since"], "kinds": kinds}


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for name in FIELDS:
        into[name] = into.get(name, 0) + counts.get(name, 0)


def _kind_name(kind: Any) -> str:
    if isinstance(kind, str):
        return kind
    try:
        from ..raw_event import exception_type_name

        return exception_type_name(kind)[0]
    except Exception:
        return "<unknown>"


def read_file(path: str) -> dict[str, Any]:
    """The file's counts; an absent, unsafe, oversized or corrupt file counts as empty."""
    from .._files import parse_json, read_regular

    empty: dict[str, Any] = {"runs": 0, "since": None, "kinds": {}}
    try:
        data = parse_json(read_regular(path, follow_links=False, own=True,
                                       limit=MAX_FILE_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return empty
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
        return empty
    kinds = {}
    for name, counts in data["kinds"].items():
        if isinstance(name, str) and isinstance(counts, dict):
            kinds[name[:200]] = {f: _count(counts, f) for f in FIELDS}
    runs = data.get("runs")
    since = data.get("since")
    return {"runs": runs if type(runs) is int and runs >= 0 else 0,
            "since": since if isinstance(since, str) else None, "kinds": kinds}


def _count(counts: dict[str, Any], name: str) -> int:
    for key in (name, _OLD_NAMES.get(name)):
        value = counts.get(key) if key else None
        if type(value) is int and value >= 0:
            return value
    return 0


def _merge_into_file(path: str, delta: dict[str, dict[str, int]], new_run: bool) -> bool:
    """Add ``delta`` to the file under its lock; False when the lock stays busy (exit never
    waits on another process for long) or the folder is not safely ours."""
    from .._files import locked, own_folder_of, write_private

    try:
        own_folder_of(path)  # never written through a planted link
        with locked(path + ".lock", timeout=0.2):
            data = read_file(path)
            kinds = data["kinds"]
            for name, diff in delta.items():
                _add(kinds.setdefault(name, dict.fromkeys(FIELDS, 0)), diff)
            if len(kinds) > MAX_FILE_KINDS:
                kept = sorted(kinds, key=lambda n: kinds[n]["seen"], reverse=True)
                kinds = {n: kinds[n] for n in kept[:MAX_FILE_KINDS]}
            out = {"version": _VERSION, "runs": data["runs"] + new_run,
                   "since": data["since"] or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "kinds": kinds}
            write_private(path, json.dumps(out, indent=1, sort_keys=True).encode("utf-8"))
        return True
    except OSError:
        return False
