"""Walking an exception chain: the one walk, with the one cap, that every part of telemetry uses.

An exception can carry others: its explicit cause (``raise … from e``), the exception it was
raised while handling (``__context__``, unless suppressed with ``from None``), and, for an
exception group, its sub-exceptions. The report lists them, the fingerprint looks inside them,
the dedupe marks them, the classifier unwraps crawl4ai's wrappers through them. All of them walk
here, so they agree on what is in a chain and on how far to look (:data:`MAX_CHAIN` exceptions;
a cycle is visited once).

The links are read from the slots Python itself fills (``raise … from``, the ``except`` being
handled, the interpreter's traceback), the ones its own traceback printer reads, past any
property or ``__getattribute__`` an exception's class defines: a hostile or broken class can
neither make a walk raise nor put a non-exception in a chain. An odd group member is skipped.
"""

from __future__ import annotations

from collections.abc import Callable

from ._record import Record

MAX_CHAIN = 10

CAUSE = "__cause__"
CONTEXT = "__context__"

#: ``cause_of(exc)``, ``context_of(exc)``, ``traceback_of(exc)``: an exception's own links (an
#: exception or None, a traceback or None), whatever its class defines; they never raise.
cause_of = BaseException.__cause__.__get__
context_of = BaseException.__context__.__get__
traceback_of = BaseException.__traceback__.__get__
#: ``set_traceback(exc, tb)``: what ``exc.__traceback__ = tb`` does, past a property in its class.
set_traceback = BaseException.__traceback__.__set__
_suppresses_context = BaseException.__suppress_context__.__get__


class Link(Record):
    """One exception of a chain: ``index`` in walk order (the first is the one walked from),
    the ``parent`` link's index and how it hangs from it (``source``: ``__cause__``,
    ``__context__`` or ``exceptions[i]``); the first link has neither."""

    __slots__ = ("exception", "index", "parent", "source")
    exception: BaseException
    index: int
    parent: int | None
    source: str | None

    def __init__(self, exception: BaseException, index: int, parent: int | None = None,
                 source: str | None = None) -> None:
        # Spelled out: links are made on the caller's thread (dedupe), where the generic
        # constructor would cost three times as much.
        init = object.__setattr__
        init(self, "exception", exception)
        init(self, "index", index)
        init(self, "parent", parent)
        init(self, "source", source)


def follows_context(exc: BaseException) -> bool:
    """Python's own rule, the one tracebacks print: the context unless ``from None`` hid it."""
    return not _suppresses_context(exc)


def sub_exceptions(exc: BaseException) -> tuple[BaseException, ...]:
    """The exceptions an exception group holds (nothing for any other exception, nor for a
    group whose ``exceptions`` cannot be read)."""
    members = _members(exc)
    return () if members is None else tuple(m for m in members if isinstance(m, BaseException))


def is_group(exc: BaseException) -> bool:
    return _members(exc) is not None


def _members(exc: BaseException) -> list[object] | tuple[object, ...] | None:
    # The backport's groups (3.10) keep their members in a plain property: ask, never trust.
    try:
        members = getattr(exc, "exceptions", None)
        if isinstance(members, (list, tuple)) and hasattr(exc, "derive"):
            return members
    except Exception:
        pass
    return None


def walk(
    exc: BaseException,
    *,
    groups: bool = True,
    context: Callable[[BaseException], bool] = follows_context,
) -> list[Link]:
    """The chain from ``exc``, depth first (an exception, then its cause or context, then its
    group members), at most :data:`MAX_CHAIN` links, each exception once.

    ``groups=False`` follows causes and contexts only (a straight line); ``context`` decides,
    for an exception without a cause, whether its ``__context__`` belongs to the chain."""
    out: list[Link] = []
    seen: set[int] = set()
    pending: list[tuple[BaseException, int | None, str | None]] = [(exc, None, None)]
    while pending and len(out) < MAX_CHAIN:
        current, parent, source = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        link = Link(current, len(out), parent, source)
        out.append(link)
        nested: list[tuple[BaseException, int | None, str | None]] = []
        cause, implicit = cause_of(current), context_of(current)
        if cause is not None:
            nested.append((cause, link.index, CAUSE))
        elif implicit is not None and context(current):
            nested.append((implicit, link.index, CONTEXT))
        if groups:
            nested.extend((sub, link.index, f"exceptions[{i}]") for i, sub in enumerate(sub_exceptions(current)))
        pending.extend(reversed(nested))
    return out


def line(exc: BaseException, context: Callable[[BaseException], bool] = follows_context) -> list[BaseException]:
    """``[exc, its cause or context, …]``: the straight chain, groups not entered."""
    return [link.exception for link in walk(exc, groups=False, context=context)]
