"""Log records our own work causes stay out of the host's logs.

The libraries telemetry uses log through the host's logging set-up: filelock says "Lock …
acquired on …/outbox/.lock" at DEBUG for every lock we take, urllib3 warns "Retrying …
/api/1/envelope/" for each report to an unreachable server. A host with a plain
``logging.basicConfig(level=logging.DEBUG)`` (or even the default WARNING) would find our
traffic among its own lines. The loggers are shared with the host's own use of the same
libraries, so they are never silenced: a filter drops only the records made on a thread while it
does our work (:func:`our_work`: holding one of our locks, making or flushing our Sentry client,
sending one of our reports) or on a thread that only ever does ours (:func:`ours_for_good`: our
client's sender). With ``CRAWL4AI_TELEMETRY_DEBUG`` on, everything shows.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Iterator

#: The loggers of the libraries we call (a logger's filters see its own records only).
LIBRARY_LOGGERS = ("filelock", "urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager",
                   "urllib3.util.retry", "sentry_sdk.errors")
_working = threading.local()
_our_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()  # a thread that ended drops out


class _NotOurWork(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_working, "depth", 0) and threading.current_thread() not in _our_threads


_FILTER = _NotOurWork()
_installed: list[bool] = []


def _install() -> None:
    from .settings import debug_enabled

    _installed.append(True)
    if debug_enabled():  # debugging telemetry: show everything
        return
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def ours_for_good() -> None:
    """Everything the libraries log on this thread, from now on until it ends, is ours."""
    if not _installed:
        _install()
    _our_threads.add(threading.current_thread())


@contextlib.contextmanager
def our_work() -> Iterator[None]:
    """What the libraries log on this thread inside the block is ours: kept out of the host's logs."""
    if not _installed:
        _install()
    _working.depth = getattr(_working, "depth", 0) + 1
    try:
        yield
    finally:
        _working.depth -= 1
