"""The worker: one daemon thread that does the slow part of every report, off the caller's thread.

It owns a bounded queue (a full queue drops the new job and says so, it never blocks the
caller), survives ``fork`` (a child starts with a fresh lock and no thread, so it can never wait
on a lock its parent's worker held), and lets exit wait a bounded time for pending jobs, and not
at all when nothing is pending. What a job does is not its business: it runs ``handler(item)``.

Two more promises, both about the host's process surviving us:

- Exit: once :meth:`Worker.close` ran (our exit hook) or the interpreter is finalizing, no thread
  is started (a thread started then never runs, and ``Thread.start`` would wait for it for ever)
  and :meth:`Worker.submit` refuses, so the caller can keep the report itself; :meth:`drain`
  hands back what never ran.
- Fork: a child forgets the modules other threads were importing when it was forked (see
  :func:`_forget_imports_cut_by_fork`), so it never inherits a module half-imported by a thread
  that does not exist there.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .._debug import internal_error

QUEUE_LIMIT = 256


def _forget_imports_cut_by_fork() -> None:
    """In a forked child, imports other threads had in progress (our worker's, sentry-sdk's
    sender's) can never finish: their modules are half made and their import locks are held by
    threads that do not exist here. Forget both, so the child imports those modules afresh
    instead of failing (``partially initialized module``) or waiting for ever."""
    try:
        from importlib import _bootstrap  # frozen and always loaded: no real import

        me = threading.get_ident()
        cut = []
        for name, ref in list(_bootstrap._module_locks.items()):
            lock = ref()
            if lock is not None and getattr(lock, "owner", None) not in (None, me) and lock.count:
                cut.append(name)
        for name in cut:
            _bootstrap._module_locks.pop(name, None)
            if name in sys.modules:
                for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                    sys.modules.pop(key, None)  # its submodules too: one consistent re-import
    except Exception:
        pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_imports_cut_by_fork)


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
        self._closed = False

    def submit(self, handler: Callable[[Any], Any], item: Any = None) -> bool:
        """Queue ``handler(item)``; False (nothing queued) when the queue is full or exit began
        (see :attr:`closed`)."""
        if self.closed:
            return False
        with self.lock:
            if len(self._queue) >= self.limit:
                return False
            self._queue.append((handler, item))
            self._pending += 1
            self.lock.notify()
        self.start()
        return True

    @property
    def closed(self) -> bool:
        """Exit began: no job will be run by this worker any more."""
        if not self._closed and sys.is_finalizing():
            self._closed = True
        return self._closed

    def close(self) -> None:
        """Accept no more jobs (at exit); what is queued stays for :meth:`drain`."""
        self._closed = True

    def drain(self) -> list[tuple[Callable[[Any], Any], Any]]:
        """Take back every job that has not started (they will not be run)."""
        with self.lock:
            jobs = list(self._queue)
            self._queue.clear()
            self._pending -= len(jobs)
            self.lock.notify_all()
        return jobs

    def start(self) -> None:
        """Start the thread now if it is not running (a prompt answered at exit could not)."""
        if self._thread is not None and self._thread.is_alive():
            return
        if self.closed:
            return  # a thread started now would never run: Thread.start would wait for ever
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
        self._closed = False  # a child forked at exit is a new process: it reports normally

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
