"""The worker: one daemon thread that does the slow part of every report, off the caller's thread.

It owns a bounded queue (a full queue drops the new job and says so, it never blocks the
caller), survives ``fork`` (a child starts with a fresh lock and no thread, so it can never wait
on a lock its parent's worker held), and lets exit wait a bounded time for pending jobs, and not
at all when nothing is pending. What a job does is not its business: it runs ``handler(item)``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .._debug import internal_error

QUEUE_LIMIT = 256


class Worker:
    """A bounded queue served by one daemon thread, started on the first job."""

    def __init__(self, on_error: Callable[[], None] | None = None, *,
                 limit: int = QUEUE_LIMIT, name: str = "crawl4ai-telemetry") -> None:
        self.limit = limit
        self.name = name
        self._on_error = on_error
        #: Held while the queue changes (public so a test can hold it across a fork).
        self.lock = threading.Condition()
        self._queue: deque[tuple[Callable[[Any], Any], Any]] = deque()
        self._pending = 0
        self._thread: threading.Thread | None = None

    def submit(self, handler: Callable[[Any], Any], item: Any = None) -> bool:
        """Queue ``handler(item)``; False (nothing queued) when the queue is full."""
        with self.lock:
            if len(self._queue) >= self.limit:
                return False
            self._queue.append((handler, item))
            self._pending += 1
            self.lock.notify()
        self.start()
        return True

    def start(self) -> None:
        """Start the thread now if it is not running (a prompt answered at exit could not)."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self.lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return self._pending

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` s until every job is done; True if none is left."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self.lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.lock.wait(remaining)
        return True

    def after_fork_in_child(self) -> None:
        """Start afresh: the parent's thread does not exist here, and its lock may be held."""
        self.lock = threading.Condition()
        self._queue = deque()
        self._pending = 0
        self._thread = None

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self._queue:
                    self.lock.wait()
                handler, item = self._queue.popleft()
            try:
                handler(item)
            except Exception:
                if self._on_error is not None:
                    self._on_error()
                internal_error("worker")
            finally:
                del handler, item  # do not keep an exception's frames alive until the next job
                with self.lock:
                    self._pending -= 1
                    self.lock.notify_all()
