"""The capture filters: which errors go on, decided on the caller's thread in microseconds.

In order: the environment's kill switch (``settings.kill_switch``), the ignore list (the user
or the runtime stopping something on purpose), dedupe (one exception object is reported once,
however many decorators, contexts and hooks it passes) and the rate limit (a token bucket per
failure kind, so a storm of one bug becomes a few reports that carry how often it happened).
Every error that passes the kill switch is counted (:class:`~.counters.Counters`).

The limiter runs before the consent decision on purpose: a storm then costs a few µs per error
and no ``stat`` of the settings file.
"""

from __future__ import annotations

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


class RateLimiter:
    """Token bucket per failure kind; bounded memory (the oldest kinds are forgotten first).

    Lock-free on purpose: it runs on every failing call, and a rare race between threads can at
    worst let one extra report through or miscount one suppression.
    """

    def __init__(self, burst: int = 3, per_seconds: float = 60.0, max_kinds: int = 512) -> None:
        self.burst = burst
        self.rate = 1.0 / per_seconds
        self.max_kinds = max_kinds
        self._buckets: dict[Any, list[float]] = {}

    def hit(self, key: Any, now: float | None = None) -> tuple[bool, int]:
        """(allowed, occurrences this report stands for, counting suppressed ones)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_kinds:
                self._buckets.pop(next(iter(self._buckets)), None)
            self._buckets[key] = [self.burst - 1.0, now, 0]  # tokens, last refill, suppressed
            return True, 1
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        bucket[0] = tokens if tokens < self.burst else float(self.burst)
        bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            occurrences = bucket[2] + 1
            bucket[2] = 0
            return True, occurrences
        bucket[2] += 1
        return False, 0


class CaptureFilters:
    """The filters in their order, counting what each one stops."""

    def __init__(self, counters: Counters, limiter: RateLimiter | None = None) -> None:
        self.counters = counters
        self.limiter = limiter or RateLimiter()

    def admit(self, exc: Any) -> int:
        """How many occurrences a report of ``exc`` stands for; 0 when it goes no further."""
        if not isinstance(exc, BaseException) or ignored(exc) or settings.kill_switch():
            return 0
        counts = self.counters.of(type(exc))
        counts.seen += 1
        if not mark_seen(exc):
            counts.deduplicated += 1
            return 0
        allowed, occurrences = self.limiter.hit(failure_kind(exc))
        if not allowed:
            counts.rate_limited += 1
            return 0
        return occurrences
