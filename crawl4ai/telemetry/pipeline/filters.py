"""The capture filters: which errors go on, decided on the caller's thread in microseconds.

In order: the environment's kill switch (``settings.kill_switch``), the ignore list (the user
or the runtime stopping something on purpose), dedupe (one exception object is reported once,
however many decorators, contexts and hooks it passes) and repeats (:class:`Repeats`: the first
error of a failure kind goes on, the later ones are counted for its report, so a storm of one
bug becomes one report that says how often it happened). Every error that passes the kill
switch is counted (:class:`~.counters.Counters`).

Repeats are counted before the consent decision on purpose: a storm then costs a few µs per
error and no ``stat`` of the settings file.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import settings
from .counters import Counters

_SEEN_ATTR = "__crawl4ai_telemetry_seen__"
# An exception's own attributes and links, read past any ``__getattr__``, property or
# ``__getattribute__`` its class defines (as :mod:`..chain` reads them): a class that answers
# every name must not look seen, one that raises must not be lost.
_own_attributes = BaseException.__dict__["__dict__"].__get__
_cause, _context = BaseException.__cause__.__get__, BaseException.__context__.__get__
# A class's own bases and names, past any property its metaclass defines.
_mro_of, _name_of = type.__dict__["__mro__"].__get__, type.__dict__["__name__"].__get__
#: Not errors: the user or the runtime stopping something on purpose.
IGNORED = (KeyboardInterrupt, SystemExit, GeneratorExit)


#: Class names that mean "cancelled", in any library (asyncio and concurrent.futures use the first).
CANCELLATIONS = frozenset({"CancelledError", "Cancelled"})
_GROUP_DEPTH = 8
_PLAIN, _CANCELLATION, _GROUP, _IGNORED = 0, 1, 2, 3
_class_kinds: dict[type, int] = {}  # a storm asks about the same few classes: look once


def ignored(exc: BaseException) -> bool:
    """Not an error: :data:`IGNORED` or a cancellation (one dictionary look-up per class)."""
    kind = _class_kind(type(exc))
    if kind == _GROUP:
        return is_cancellation(exc)
    return kind != _PLAIN


def is_cancellation(exc: BaseException, depth: int = 0) -> bool:
    """A cancellation is never a crash: a class named as one anywhere in its bases (a library's
    own subclass of ``asyncio.CancelledError`` included), or an exception group holding nothing
    but cancellations. Asks no module to be imported."""
    kind = _class_kind(type(exc))
    if kind != _GROUP:
        return kind == _CANCELLATION
    try:
        members = getattr(exc, "exceptions", None)
    except Exception:  # a group that cannot say what it holds is not a cancellation
        return False
    if not isinstance(members, tuple) or not members or depth >= _GROUP_DEPTH:
        return False
    return all(isinstance(m, BaseException) and is_cancellation(m, depth + 1) for m in members)


def _class_kind(cls: type) -> int:
    kind = _class_kinds.get(cls)
    if kind is None:
        names = {_name_of(c) for c in _mro_of(cls)}
        # BaseExceptionGroup on 3.11+, and the ``exceptiongroup`` backport's class before.
        kind = (_CANCELLATION if names & CANCELLATIONS
                else _IGNORED if issubclass(cls, IGNORED)
                else _GROUP if "BaseExceptionGroup" in names else _PLAIN)
        if len(_class_kinds) < 1024:
            _class_kinds[cls] = kind
    return kind


def mark_seen(exc: BaseException) -> bool:
    """Mark ``exc`` as seen; False if it (or an exception it wraps) was seen before.

    The exception itself is checked first, and the chain is walked only when there is one: in a
    storm of plain errors this costs two attribute reads, not a chain object per error."""
    attributes = _own_attributes(exc)
    if attributes.get(_SEEN_ATTR):
        return False
    if _cause(exc) is not None or _context(exc) is not None:
        from .. import chain  # loaded with crawl4ai's integration; only here otherwise

        if any(_own_attributes(e).get(_SEEN_ATTR) for e in chain.line(exc)):
            return False
    attributes[_SEEN_ATTR] = True
    return True


def failure_kind(exc: BaseException) -> tuple[Any, ...]:
    """A cheap key for "the same failure": type plus the code objects along the traceback."""
    codes = []
    tb = BaseException.__traceback__.__get__(exc)  # the real one (see _own_attributes)
    while tb is not None and len(codes) < 64:
        codes.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    return (type(exc), tuple(codes))


class Repeats:
    """The caller's side of "one report per bug": the first error of each failure kind goes on
    to become a report; the later ones are only counted here, and the worker takes the counts
    (:meth:`take`) to add them to that report (:mod:`.repeats`). Bounded memory: the oldest
    kinds are forgotten first (a forgotten kind's next error is a new capture, and the worker
    folds it into the same report by its fingerprint, so nothing is lost).

    The count is kept under a lock (a fraction of a microsecond), so every occurrence of a
    storm on many threads is counted exactly once.
    """

    def __init__(self, max_kinds: int = 512, max_counted: int = 4096) -> None:
        self.max_kinds = max_kinds
        self.max_counted = max_counted
        # Kinds on their way to a report, oldest first: None, or when their report was refused.
        self._known: dict[Any, float | None] = {}
        self._counts: dict[Any, int] = {}  # occurrences the worker has not taken yet
        self._lock = threading.Lock()

    def first(self, key: Any) -> bool | None:
        """True for the first error of a kind; False for a repeat (counted); None for a repeat
        that could not be counted (:attr:`max_counted` kinds wait for the worker already).
        A kind whose report was refused (no consent) is asked about again after
        :data:`REASK_SECONDS`: consent may have been given since."""
        refused = self._known.get(key, _UNKNOWN)
        if refused is _UNKNOWN or (refused is not None
                                   and time.monotonic() - refused > REASK_SECONDS):
            if refused is _UNKNOWN and len(self._known) >= self.max_kinds:
                self._known.pop(next(iter(self._known)), None)
            self._known[key] = None
            return True
        with self._lock:
            count = self._counts.get(key)
            if count is None and len(self._counts) >= self.max_counted:
                return None
            self._counts[key] = (count or 0) + 1
        return False

    def forget(self, key: Any) -> None:
        """The next error of this kind is a new capture again (its first went nowhere, or its
        report was sent longer ago than the repeat window)."""
        self._known.pop(key, None)

    def forget_all(self) -> None:
        """Every kind's next error is a new capture (a consent choice changed)."""
        self._known = {}

    def refuse(self, key: Any) -> None:
        """This kind's report was not consented: its repeats are not consented either."""
        if key in self._known:
            self._known[key] = time.monotonic()

    def refused(self, key: Any) -> bool:
        return self._known.get(key) is not None

    @property
    def waiting(self) -> bool:
        """Occurrences are counted that the worker has not taken yet."""
        return bool(self._counts)

    def take(self) -> dict[Any, int]:
        """The counted occurrences per kind, handed over once (the worker's side)."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts


_UNKNOWN = object()
#: How often a kind whose report was refused is put to the consent decision again.
REASK_SECONDS = 1.0
#: :meth:`CaptureFilters.admit` for an error that is a repeat of a kind already on its way.
REPEAT = "repeat"


class CaptureFilters:
    """The filters in their order, counting what each one stops."""

    def __init__(self, counters: Counters, repeats: Repeats | None = None) -> None:
        self.counters = counters
        self.repeats = repeats or Repeats()

    def admit(self, exc: Any) -> Any:
        """``exc``'s failure kind when it is the first of its kind (it goes on to become a
        report); :data:`REPEAT` when it was counted for the report of its kind; None when it
        goes no further."""
        if not isinstance(exc, BaseException) or ignored(exc) or settings.kill_switch():
            return None
        counts = self.counters.of(type(exc))
        counts.seen += 1
        if not mark_seen(exc):
            counts.deduplicated += 1
            return None
        key = failure_kind(exc)
        first = self.repeats.first(key)
        if first:
            return key
        if first is None:
            counts.queue_full += 1
            return None
        return REPEAT
