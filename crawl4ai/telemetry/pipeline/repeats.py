"""One report per bug, on the worker: where the repeats counted on the caller's thread go.

The caller's thread lets the first error of each failure kind through and only counts the later
ones (:class:`.filters.Repeats`). Here, on the worker, those counts reach the report of their
bug (:meth:`RepeatLedger.take`), and a new report whose bug already has one (the same bug
reached by another path, or reported by another process on this machine) is counted into that
one instead of being kept and sent again (:meth:`crawl4ai.telemetry.outbox.LocalOutbox.keep`).

A new report that is to be sent waits :data:`~crawl4ai.telemetry.settings.GATHER_SECONDS` in the
outbox (``held``) so the repeats that follow at once are in the bytes that leave; ``flush()`` and
exit send it at once. A report already sent cannot change: later occurrences are counted in its
entry and carried by the bug's next report, made once the repeat window has passed. Nothing is
lost silently: what cannot reach a report is counted in :class:`.counters.Counters`.
"""

from __future__ import annotations

from typing import Any

from .. import settings
from .capture import Capture
from .counters import Counters
from .filters import Repeats

# The outbox's answers (:mod:`..outbox`), by value: this module loads with delivery, before it.
_ADDED, _COUNTED, _EXPIRED = "added", "counted", "expired"


class RepeatLedger:
    """Which report stands for each failure kind of this process, and the reports held for
    their repeats. Used on the worker only (and on the exit thread once the worker is done)."""

    def __init__(self, counters: Counters, repeats: Repeats) -> None:
        self.counters = counters
        self.repeats = repeats
        self._bug_of: dict[Any, str] = {}  # failure kind -> the bug its report is about
        self._waiting: dict[Any, int] = {}  # repeats of kinds whose report is not made yet
        #: New reports of this process waiting for their repeats before they are sent.
        self.held: dict[str, None] = {}

    def occurrences(self, capture: Capture) -> int:
        """How many errors the report of ``capture`` stands for: itself and the repeats of its
        kind counted before its report was made (a prompt held it, say)."""
        return capture.occurrences + self._waiting.pop(capture.failure, 0)

    def kept(self, capture: Capture, bug: str, how: str, occurrences: int) -> None:
        """The outbox kept ``capture`` (``how``: a new report, or counted into its bug's)."""
        if capture.failure is not None and how != _EXPIRED:
            self._bug_of[capture.failure] = bug
            if len(self._bug_of) > 4 * self.repeats.max_kinds:
                self._bug_of.pop(next(iter(self._bug_of)))
        counts = self.counters.of(capture.kind)
        if how == _ADDED:
            counts.reported += 1
            counts.repeated += occurrences - capture.occurrences
        else:
            counts.repeated += occurrences

    def take(self, outbox: Any, busy: frozenset[str] = frozenset()) -> bool:
        """Count what the caller's thread counted into the reports of their bugs. True when some
        went into a report waiting that is not this process's to send (an earlier run's)."""
        counted = self.repeats.take()
        if not counted:
            return False
        window = settings.repeat_window()
        others = False
        for kind, occurrences in counted.items():
            bug = self._bug_of.get(kind)
            if bug is None and self.repeats.refused(kind):
                self.counters.of(kind[0]).not_consented += occurrences
                continue
            if bug is None:  # its first error is not a report yet (a prompt holds it)
                self._waiting[kind] = self._waiting.get(kind, 0) + occurrences
                continue
            self.counters.of(kind[0]).repeated += occurrences
            try:
                where = outbox.count(bug, occurrences, window=window, busy=busy)
            except OSError:
                where = None  # the outbox cannot be used: counted above, and only there
            if where is None or where[0] == _EXPIRED:
                # Its report is gone or too old: the kind's next error makes a new report
                # (carrying these, when the outbox could keep them).
                self._bug_of.pop(kind, None)
                self.repeats.forget(kind)
            elif where[0] == _COUNTED and where[1] not in self.held:
                others = True
        return others

    def settle(self) -> None:
        """At exit: repeats whose first error never became a report (nobody consented, or the
        prompt is still open) are counted as not consented, not dropped without a trace."""
        waiting, self._waiting = self._waiting, {}
        for kind, occurrences in waiting.items():
            self.counters.of(kind[0]).not_consented += occurrences

    def after_fork_in_child(self) -> None:
        """The parent's held reports are the parent's to send."""
        self.held = {}
