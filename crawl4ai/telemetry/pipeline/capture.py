"""The one value that travels down the pipeline: an error as it was seen.

A :class:`Capture` is made on the caller's thread once the filters let an error through, then
handed to a consent surface (which may hold it for a person's answer) or to the worker (which
builds, scrubs and delivers the report). It is immutable, so what a prompt shows and what the
worker sends are built from the same snapshot: the traceback as it was when the error was seen,
however far the exception travels afterwards.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from .. import environment as _environment
from .._record import Record

_builder: dict[str, Any] = {}


class Capture(Record):
    """One error on its way to a report. Its constructor is spelled out: one is made for every
    error the filters let through, on the caller's thread."""

    __slots__ = ("exc", "traceback", "context", "mechanism", "handled", "occurrences",
                 "environment", "failure")

    exc: BaseException
    traceback: TracebackType | None
    context: dict[str, Any] | None
    mechanism: str
    handled: bool
    occurrences: int
    environment: str
    #: The filters' failure kind (:func:`.filters.failure_kind`): the later errors of this kind
    #: are counted into this capture's report. None for a capture made elsewhere.
    failure: Any

    def __init__(self, exc: BaseException, context: dict[str, Any] | None = None, *,
                 mechanism: str = "generic", handled: bool = True, occurrences: int = 1,
                 traceback: TracebackType | None = None, environment: str | None = None,
                 failure: Any = None) -> None:
        init = object.__setattr__
        init(self, "exc", exc)
        # The real traceback, past any property of the exception's class (as ..chain reads it).
        init(self, "traceback", traceback or BaseException.__traceback__.__get__(exc))
        init(self, "context", dict(context) if isinstance(context, dict) else None)
        init(self, "mechanism", mechanism)
        init(self, "handled", handled)
        init(self, "occurrences", occurrences)
        init(self, "environment", environment or _environment.detect())
        init(self, "failure", failure)

    # An exception and its traceback are not values: two captures are equal only if they are one.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    @property
    def kind(self) -> type[BaseException]:
        """What the counters group it by: the exception's type."""
        return type(self.exc)

    def __repr__(self) -> str:
        return f"<Capture {type(self.exc).__name__} via {self.mechanism}>"

    def report(self, email: str | None = None) -> Any:
        """The exact scrubbed report of this capture (nothing is sent)."""
        build_report = _builder.get("build_report")
        if build_report is None:  # imported once: at interpreter shutdown, imports fail
            from ..report_builder import build_report

            _builder["build_report"] = build_report
        return build_report(self.exc, self.context, environment=self.environment, email=email,
                            mechanism=self.mechanism, handled=self.handled,
                            occurrences=self.occurrences, traceback=self.traceback)
