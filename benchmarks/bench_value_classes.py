"""Which way to write a value class: what defining one and making one costs.

Value classes load while crawl4ai itself is imported (the capture table, the exception chain)
and on a capture's path, so the cost of *defining* a class is part of the import budget and the
cost of *making* one is part of a capture's. The four ways the code once used, each measured
in this interpreter on a class of six fields with two defaults:

- ``Record``                 :class:`crawl4ai.telemetry._record.Record` (the choice, see
                             CONTRIBUTING.md): slots, equality, hash, repr, frozen, one base
- ``dataclass(frozen=True)`` compiles ``__init__``/``__eq__``/… with ``exec`` at definition
- ``NamedTuple``             builds a tuple subclass and its ``__new__`` with ``exec``
- hand-written slots         the floor: a class with ``__slots__`` and an ``__init__``

Each row is the style beside the hand-written floor (the reference), so the ratio says what
the style adds. There is no budget: this measure chose the style, and keeps the reason visible.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import main, row  # noqa: E402

from crawl4ai.telemetry._record import Record  # noqa: E402

DEFINITIONS = 200
INSTANCES = 20_000


def define_record() -> type:
    class Point(Record):
        __slots__ = ("a", "b", "c", "d", "e", "f")
        _defaults = {"e": None, "f": ()}
    return Point


def define_dataclass() -> type:
    @dataclass(frozen=True)
    class Point:
        a: Any
        b: Any
        c: Any
        d: Any
        e: Any = None
        f: Any = ()
    return Point


def define_namedtuple() -> type:
    class Point(NamedTuple):
        a: Any
        b: Any
        c: Any
        d: Any
        e: Any = None
        f: Any = ()
    return Point


def define_slotted() -> type:
    class Point:
        __slots__ = ("a", "b", "c", "d", "e", "f")

        def __init__(self, a: Any, b: Any, c: Any, d: Any, e: Any = None, f: Any = ()) -> None:
            self.a, self.b, self.c, self.d, self.e, self.f = a, b, c, d, e, f
    return Point


STYLES = {"Record": define_record, "dataclass(frozen=True)": define_dataclass,
          "NamedTuple": define_namedtuple}


def _per_definition_us(define: Any) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(DEFINITIONS):
            define()
        samples.append((time.perf_counter() - start) / DEFINITIONS * 1e6)
    return statistics.median(samples)


def _per_instance_us(cls: type) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for i in range(INSTANCES):
            cls(i, "x", 2.0, None, f=(i,))
        samples.append((time.perf_counter() - start) / INSTANCES * 1e6)
    return statistics.median(samples)


def definition() -> None:
    floor = _per_definition_us(define_slotted)
    for name, define in STYLES.items():
        row(f"define one class: {name}", _per_definition_us(define), floor, "us", "-")


def construction() -> None:
    floor = _per_instance_us(define_slotted())
    for name, define in STYLES.items():
        row(f"make one value: {name}", _per_instance_us(define()), floor, "us", "-")


if __name__ == "__main__":
    sys.exit(main({"definition": definition, "construction": construction}))
