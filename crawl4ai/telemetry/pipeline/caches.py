"""What the worker reuses from earlier processes in the same environment.

Some of a report's work depends only on what is installed: which files belong to which
distribution (:mod:`..ownership`'s code index, 0.1-0.3 s to read from the installed metadata),
the message templates of the code on a report's stack (:mod:`..scrub.formats`).
The worker loads such results from :mod:`..cache` before its first report and stores what it
computed after a report, so a process's first report costs milliseconds once the environment has
been seen. The rules themselves (ownership, scrub) stay pure functions: no file I/O in them.

One row per cached result in :data:`CACHED`: its cache name, how the rule adopts a loaded value
(False: not usable, so it computes its own), and how it exports what it computed (None: nothing
new to keep).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import cache, ownership
from .._record import Record
from ..scrub import formats


class Cached(Record):
    __slots__ = ("name", "adopt", "export")
    name: str
    adopt: Callable[[Any], bool]
    export: Callable[[], Any]


CACHED: tuple[Cached, ...] = (
    Cached("code-index", ownership.adopt_index, ownership.index_data),
    # The message templates of each code object a report's frames ran (scrub/formats.py).
    Cached("message-templates", formats.adopt, formats.export),
)

_loaded = False
_stored: dict[str, Any] = {}


def load() -> None:
    """Adopt every cached result (once per process; a miss costs nothing but the look)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for row in CACHED:
        value = cache.load(row.name)
        if value is not None and row.adopt(value):
            _stored[row.name] = value


def store() -> None:
    """Keep what this process computed that the cache does not hold yet."""
    for row in CACHED:
        value = row.export()
        if value is not None and _stored.get(row.name) != value and cache.store(row.name, value):
            _stored[row.name] = value


def _forget_for_tests() -> None:
    global _loaded
    _loaded = False
    _stored.clear()
