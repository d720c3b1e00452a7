"""_record.Record: the frozen value classes that replaced dataclasses on the import path behave as
frozen dataclasses did (construction, defaults, equality, hashing, repr, immutability, pickling)."""

from __future__ import annotations

import pickle

import pytest

from crawl4ai.telemetry.chain import Link
from crawl4ai.telemetry.integrations.crawl4ai.points import (
    CAPTURE_POINTS,
    CapturePoint,
    ExtensionPoint,
)
from crawl4ai.telemetry.ownership import Owner


def test_positional_keyword_and_default_construction_give_equal_values():
    a = CapturePoint("crawl4ai.x", "A", "m", "mech", False, kind="init")
    b = CapturePoint(module="crawl4ai.x", owner="A", method="m", mechanism="mech", handled=False,
                     kind="init", subclasses=False)
    assert a == b and hash(a) == hash(b)
    assert a.protocol == () and a.per_instance is False and a.target == "A.m"
    assert a != CapturePoint("crawl4ai.x", "A", "m", "mech", True, kind="init")
    assert Link(ValueError(), 0).parent is None


def test_a_missing_duplicated_or_unknown_field_is_a_type_error():
    with pytest.raises(TypeError, match="needs 'file'"):
        Owner("user")
    with pytest.raises(TypeError, match="no field 'origin'"):
        Owner("user", "f.py", origin="user")
    with pytest.raises(TypeError, match="no field 'colour'"):
        ExtensionPoint("m", "A", "run", colour="red")
    with pytest.raises(TypeError, match="takes 2 fields"):
        Owner("a", "b", "c")


def test_values_are_frozen_and_usable_as_keys():
    owner = Owner("user", "<user code>")
    with pytest.raises(AttributeError, match="frozen"):
        owner.origin = "crawl4ai"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del owner.file
    assert {owner: 1}[Owner("user", "<user code>")] == 1
    assert not hasattr(owner, "__dict__")  # slotted
    assert owner != ("user", "<user code>")


def test_repr_names_every_field_and_pickle_round_trips():
    assert repr(Owner("user", "<user code>")) == "Owner(origin='user', file='<user code>')"
    for value in (Owner("library", "x.py"), CAPTURE_POINTS[0], ExtensionPoint("m", "A", "run")):
        assert pickle.loads(pickle.dumps(value)) == value
