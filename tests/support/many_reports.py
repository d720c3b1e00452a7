"""An outbox holding many reports, as a long-lived machine's may: one real report captured
through the pipeline, then copies of its files under new ids and times (written directly: the
outbox's own writes would prune to its cap). Used by the dashboard test and its benchmark."""

from __future__ import annotations

import json
import os


def fill_outbox(count: int) -> list[str]:
    """``count`` reports in the current home's outbox; their ids, newest first."""
    from crawl4ai import telemetry
    from crawl4ai.telemetry import outbox as _outbox
    from crawl4ai.telemetry._files import write_private

    telemetry.enable()
    try:
        raise ValueError("a crawl failed")
    except ValueError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    box = _outbox.LocalOutbox()
    [entry] = box.entries()
    payload = box.read(entry.event_id)
    meta = json.loads(open(os.path.join(box.directory, entry.event_id + ".meta.json")).read())
    ids = [entry.event_id]
    for n in range(1, count):
        event_id = f"{n:032x}"
        write_private(os.path.join(box.directory, event_id + ".json"),
                      payload.replace(entry.event_id.encode(), event_id.encode()))
        copy = {**meta, "event_id": event_id, "created": meta["created"] - n}
        write_private(os.path.join(box.directory, event_id + ".meta.json"),
                      json.dumps(copy).encode())
        ids.append(event_id)
    return ids
