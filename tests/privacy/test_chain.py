"""The one walk of an exception chain: causes, contexts and groups, each exception once, with one
cap, and the report lists exactly what the walk found."""

from __future__ import annotations

import builtins
import sys

import pytest

from crawl4ai.telemetry import build_report, chain

needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="exception groups are 3.11+")
ExceptionGroup = getattr(builtins, "ExceptionGroup", Exception)  # noqa: A001


def _chained(depth: int) -> BaseException:
    try:
        raise ValueError("level 0")
    except ValueError as exc:
        current: BaseException = exc
    for level in range(1, depth):
        try:
            raise RuntimeError(f"level {level}") from current
        except RuntimeError as exc:
            current = exc
    return current


def test_causes_and_contexts_in_order_and_suppressed_contexts_left_out():
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            raise ValueError("middle")  # noqa: B904 - a context on purpose
    except ValueError as caught:
        middle = caught
    outer = RuntimeError("outer")
    outer.__cause__ = middle
    links = chain.walk(outer)
    assert [type(link.exception) for link in links] == [RuntimeError, ValueError, KeyError]
    assert [(link.parent, link.source) for link in links] == [(None, None), (0, "__cause__"), (1, "__context__")]
    middle.__suppress_context__ = True
    assert [type(e) for e in chain.line(outer)] == [RuntimeError, ValueError]
    assert [type(e) for e in chain.line(outer, context=lambda e: True)] == [RuntimeError, ValueError, KeyError]


def test_a_cycle_is_walked_once():
    a, b = ValueError("a"), ValueError("b")
    a.__cause__, b.__cause__ = b, a
    assert [link.exception for link in chain.walk(a)] == [a, b]


def test_one_cap_everywhere():
    deep = _chained(50)
    assert len(chain.walk(deep)) == chain.MAX_CHAIN
    report = build_report(deep)
    assert len(report.event["exception"]["values"]) == chain.MAX_CHAIN


@needs_311
def test_groups_nest_and_carry_their_members():
    inner = ExceptionGroup("inner", [KeyError("k")])
    group = ExceptionGroup("outer", [ValueError("v"), inner])
    links = chain.walk(group)
    assert [type(link.exception).__name__ for link in links] == [
        "ExceptionGroup", "ValueError", "ExceptionGroup", "KeyError"]
    assert [link.source for link in links] == [None, "exceptions[0]", "exceptions[1]", "exceptions[0]"]
    assert chain.line(group) == [group]
    values = build_report(group).event["exception"]["values"]
    assert values[-1]["mechanism"]["is_exception_group"] is True
    assert {v["mechanism"].get("source") for v in values} == {None, "exceptions[0]", "exceptions[1]"}
