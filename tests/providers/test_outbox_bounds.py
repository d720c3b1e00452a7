"""The outbox stays bounded in count and bytes, and what still waits to be sent goes last.

Pruning's order is the promise: settled reports (sent, local, failed, withheld) go first, oldest
first; a pending report is removed only when nothing else is left to remove, and then the oldest
pending first. The byte cap holds whatever the states are. The caps are made small here so a few
real reports overflow them; the files on disk are what is counted, not the outbox's own records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawl4ai.telemetry import outbox as outbox_module
from crawl4ai.telemetry.outbox import FAILED, LOCAL, PENDING, SENT, STATES, WITHHELD, LocalOutbox

SETTLED = (SENT, LOCAL, FAILED, WITHHELD)


def _reports_on_disk(box: LocalOutbox) -> dict[str, int]:
    """Report files (not meta files) in the outbox folder: name -> bytes."""
    folder = Path(box.directory)
    return {p.name[: -len(".json")]: p.stat().st_size for p in folder.iterdir()
            if p.name.endswith(".json") and not p.name.endswith(".meta.json")}


class Filler:
    """Adds reports named after their state and order (``pending-1``, ``sent-2``, …) and keeps
    the order they were added in, so a test can say which survived by name."""

    def __init__(self, box: LocalOutbox) -> None:
        self.box = box
        self.ids: dict[str, str] = {}  # label -> event id
        self.created: list[float] = []

    def add(self, state: str, size: int = 100) -> str:
        label = f"{state}-{len(self.ids) + 1}"
        event_id = f"{len(self.ids) + 1:032x}"
        entry = self.box.add(event_id, b"x" * size, state=state, provider="sentry")
        assert not self.created or entry.created > self.created[-1], "two reports share a time"
        self.created.append(entry.created)
        self.ids[label] = event_id
        return label

    def left(self) -> set[str]:
        on_disk = set(_reports_on_disk(self.box))
        return {label for label, event_id in self.ids.items() if event_id in on_disk}


@pytest.fixture
def filler(home) -> Filler:
    return Filler(LocalOutbox())


def test_settled_reports_go_first_oldest_first_and_pending_last(filler, monkeypatch):
    monkeypatch.setattr(outbox_module, "MAX_ENTRIES", 4)
    for state in (PENDING, SENT, PENDING, LOCAL):
        filler.add(state)
    assert filler.left() == {"pending-1", "sent-2", "pending-3", "local-4"}
    filler.add(FAILED)  # one too many: the oldest settled report goes
    assert filler.left() == {"pending-1", "pending-3", "local-4", "failed-5"}
    filler.add(WITHHELD)
    assert filler.left() == {"pending-1", "pending-3", "failed-5", "withheld-6"}
    filler.add(PENDING)
    filler.add(PENDING)  # only pending ones are left to keep
    assert filler.left() == {"pending-1", "pending-3", "pending-7", "pending-8"}
    filler.add(PENDING)  # nothing settled is left: now the oldest pending goes
    assert filler.left() == {"pending-3", "pending-7", "pending-8", "pending-9"}
    filler.add(SENT)  # a settled report never pushes out one that still waits
    assert filler.left() == {"pending-3", "pending-7", "pending-8", "pending-9"}


@pytest.mark.parametrize("state", STATES)
def test_the_byte_cap_holds_for_reports_of_each_state(filler, monkeypatch, state):
    monkeypatch.setattr(outbox_module, "MAX_BYTES", 1000)
    for _ in range(8):
        filler.add(state, size=300)
        assert sum(_reports_on_disk(filler.box).values()) <= 1000
    assert filler.left() == {f"{state}-{n}" for n in (6, 7, 8)}  # the newest three


def test_the_byte_cap_holds_across_a_mix_of_states_and_spares_pending(filler, monkeypatch):
    monkeypatch.setattr(outbox_module, "MAX_BYTES", 2000)
    for state in (PENDING, *SETTLED, PENDING, *SETTLED):
        filler.add(state, size=300)
        assert sum(_reports_on_disk(filler.box).values()) <= 2000
    # Ten reports of 300 bytes, room for six: the four oldest settled ones went.
    assert filler.left() == {"pending-1", "pending-6", "sent-7", "local-8", "failed-9", "withheld-10"}
    for _ in range(6):
        filler.add(PENDING, size=300)
        assert sum(_reports_on_disk(filler.box).values()) <= 2000
    assert filler.left() == {f"pending-{n}" for n in range(11, 17)}


def test_a_big_report_makes_room_by_bytes_not_by_count(filler, monkeypatch):
    monkeypatch.setattr(outbox_module, "MAX_BYTES", 1000)
    for state in (SENT, LOCAL, PENDING):
        filler.add(state, size=200)
    filler.add(FAILED, size=500)  # 1100 bytes: the oldest settled report alone makes room
    assert filler.left() == {"local-2", "pending-3", "failed-4"}
    assert sum(_reports_on_disk(filler.box).values()) == 900
