"""Exceptions whose classes lie: a link, the traceback or any attribute read through a property
that raises or answers something that is not an exception. Each is still reported (the odd link
skipped, the real chain kept), and nothing raises into the caller, re-raised errors included."""

from __future__ import annotations

import sys

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import chain
from crawl4ai.telemetry.pipeline import filters

LINKS = ("__cause__", "__context__", "__traceback__", "__suppress_context__", "exceptions",
         "__notes__", "args")


class Odd:
    """Not an exception, not a traceback, not a flag: what a broken property might answer."""

    tb_frame = tb_next = tb_lineno = None

    def __bool__(self) -> bool:
        raise RuntimeError("odd truth")


def _raises(self, *args):
    raise RuntimeError("hostile property")


def _hostile_classes() -> dict[str, type[BaseException]]:
    classes: dict[str, type[BaseException]] = {}
    for name in LINKS:
        bare = name.strip("_")
        classes[f"{name} raises"] = type(f"Raising_{bare}", (ValueError,), {name: property(_raises)})
        classes[f"{name} is odd"] = type(f"Odd_{bare}", (ValueError,), {name: property(lambda self: Odd())})
    classes["__getattr__ answers everything"] = type("Answers", (ValueError,), {"__getattr__": lambda s, n: Odd()})
    classes["__getattribute__ raises"] = type("Unreadable", (ValueError,), {"__getattribute__": _raises})
    classes["__setattr__ raises"] = type("Unwritable", (ValueError,), {"__setattr__": _raises})
    classes["__str__ raises"] = type("Unprintable", (ValueError,), {"__str__": _raises})
    return classes


HOSTILE = _hostile_classes()


def _raised_from_a_cause(cls: type[BaseException]) -> BaseException:
    try:
        try:
            {}["missing"]
        except KeyError as inner:
            raise cls("outer") from inner
    except BaseException as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_exception_is_reported_with_its_real_chain(memory, case):
    exc = _raised_from_a_cause(HOSTILE[case])
    telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    assert len(memory.events) == 1, case
    values = memory.events[0]["exception"]["values"]
    assert [v["type"] for v in values][0] == "KeyError"  # the cause Python recorded, oldest first
    assert len(values) == 2
    assert values[-1]["stacktrace"]["frames"], "the real traceback"


@pytest.mark.parametrize("case", HOSTILE)
def test_report_building_and_the_filters_read_the_real_links(case):
    exc = _raised_from_a_cause(HOSTILE[case])
    assert [type(e) for e in chain.line(exc)] == [HOSTILE[case], KeyError]
    assert chain.traceback_of(exc) is not None
    report = telemetry.build_report(exc)
    assert len(report.event["exception"]["values"]) == 2
    codes = filters.failure_kind(exc)[1]
    assert codes and codes[-1] is _raised_from_a_cause.__code__
    assert filters.mark_seen(exc) is True
    assert filters.mark_seen(exc) is False  # one exception, one report
    assert filters.mark_seen(exc.__cause__ if case == "__setattr__ raises" else KeyError()) is True


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is built in from 3.11")
@pytest.mark.parametrize("answer", [_raises, lambda self: [Odd(), "text", ValueError("member")]])
def test_a_group_whose_members_cannot_be_read_is_reported_without_them(memory, answer):
    cls = type("HostileGroup", (ExceptionGroup,), {"exceptions": property(answer)})  # noqa: F821
    try:
        raise cls("several", [ValueError("one")])
    except BaseException as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    assert len(memory.events) == 1


@pytest.mark.parametrize("case", ["__traceback__ raises", "__traceback__ is odd", "__getattribute__ raises"])
def test_crawl4ai_rethrows_a_hostile_exception_unchanged(memory, case):
    """A capture point takes its own frame out of the traceback before re-raising: the caller
    still gets the very exception that was raised, not one from the hostile property."""
    from crawl4ai.extraction_strategy import ExtractionStrategy

    hostile = HOSTILE[case]

    class MyExtraction(ExtractionStrategy):
        def extract(self, url, html, *args, **kwargs):
            raise hostile("from the user's strategy")

    with pytest.raises(hostile) as raised:
        MyExtraction(input_format="html").extract("https://example.com", "<p>x</p>")
    assert chain.context_of(raised.value) is None  # nothing of ours was raised on the way


def _metaclass_raising(name: str) -> type:
    return type("Hostile" + name.strip("_").title(), (type,), {name: property(_raises)})


@pytest.mark.parametrize("attribute", ["__name__", "__mro__", "__module__", "__bases__"])
def test_an_exception_whose_metaclass_lies_about_its_class_is_reported(memory, attribute):
    """The gate and the report read a class's bases and names as Python recorded them."""
    hostile = _metaclass_raising(attribute)("MetaError", (ValueError,), {})
    telemetry.capture_exception(_raised_from_a_cause(hostile))
    assert telemetry.flush(10)
    assert [v["type"] for v in memory.events[0]["exception"]["values"]] == [
        "KeyError", "<user code>(ValueError)"]
    assert telemetry.build_report(hostile("again")).event["exception"]["values"]
