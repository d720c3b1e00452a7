"""The single capture path: gate → dedupe/rate limit → hand-off → build → scrub → outbox → deliver.

Every way an error is seen (``capture_exception``, decorators, context managers, the crawl4ai
hooks, Sentry's excepthook/threading/asyncio integrations in processes we own) ends in
:meth:`Pipeline.capture`. On the caller's thread it only decides and enqueues (a few
microseconds); building, scrubbing, writing the outbox and sending happen on one daemon worker
thread. Nothing here ever raises into the caller.

- Gate: the env kill switch first, then :func:`consent.decide`. When nobody has chosen yet and a
  person can answer, the prompt hook (:attr:`Pipeline.prompter`) decides.
- Dedupe: an exception (or one it wraps) that was already seen is not reported again.
- Rate limit: a token bucket per failure kind, so a storm of one bug yields a few reports that
  carry how often it happened; drops are counted in :attr:`Pipeline.stats`.
- Exit waits a bounded time for pending reports, and not at all when nothing is pending.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import chain, settings
from . import consent as _consent
from . import environment as _environment
from ._debug import internal_error

_SEEN_ATTR = "__crawl4ai_telemetry_seen__"
# Not errors: the user or the runtime stopping something on purpose.
_IGNORED = (KeyboardInterrupt, SystemExit, GeneratorExit)

QUEUE_LIMIT = 256


def _is_cancellation(exc: BaseException) -> bool:
    return type(exc).__name__ == "CancelledError"


def mark_seen(exc: BaseException) -> bool:
    """Mark ``exc`` as seen; False if it (or an exception it wraps) was seen before."""
    if any(getattr(e, _SEEN_ATTR, False) for e in chain.line(exc)):
        return False
    try:
        setattr(exc, _SEEN_ATTR, True)
    except Exception:
        pass
    return True


class RateLimiter:
    """Token bucket per failure kind; bounded memory (the oldest kinds are forgotten first).

    Lock-free on purpose: it runs on every failing call, and a rare race between threads can at
    worst let one extra report through or miscount one suppression.
    """

    def __init__(self, burst: int = 3, per_seconds: float = 60.0, max_kinds: int = 512) -> None:
        self.burst = burst
        self.rate = 1.0 / per_seconds
        self.max_kinds = max_kinds
        self._buckets: dict[Any, list[float]] = {}

    def hit(self, key: Any, now: float | None = None) -> tuple[bool, int]:
        """(allowed, occurrences this report stands for, counting suppressed ones)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_kinds:
                self._buckets.pop(next(iter(self._buckets)), None)
            self._buckets[key] = [self.burst - 1.0, now, 0]  # tokens, last refill, suppressed
            return True, 1
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        bucket[0] = tokens if tokens < self.burst else float(self.burst)
        bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            occurrences = bucket[2] + 1
            bucket[2] = 0
            return True, occurrences
        bucket[2] += 1
        return False, 0


def failure_kind(exc: BaseException) -> tuple[Any, ...]:
    """A cheap key for "the same failure": type plus the code objects along the traceback."""
    codes = []
    tb = exc.__traceback__
    while tb is not None and len(codes) < 64:
        codes.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    return (type(exc), tuple(codes))


class _Job:
    """One error on its way to the worker (a plain class: dataclasses cost ~1 ms to define)."""

    __slots__ = ("exc", "traceback", "context", "decision", "environment", "mechanism", "handled",
                 "occurrences")

    def __init__(self, exc: BaseException | None, traceback: TracebackType | None,
                 context: dict[str, Any] | None, decision: _consent.Decision, environment: str,
                 mechanism: str, handled: bool, occurrences: int) -> None:
        self.exc = exc
        self.traceback = traceback
        self.context = context
        self.decision = decision
        self.environment = environment
        self.mechanism = mechanism
        self.handled = handled
        self.occurrences = occurrences


# A prompter decides for one error when nobody has chosen yet (see crawl4ai.telemetry.prompts).
Prompter = Callable[["Pipeline", BaseException, "dict[str, Any] | None", _consent.Decision, str, bool], None]


class Pipeline:
    def __init__(self, store: _consent.ConsentStore | None = None, outbox: Any = None,
                 provider: Any = None) -> None:
        self.store = store or _consent.ConsentStore()
        self._outbox = outbox
        self._provider = provider
        self.limiter = RateLimiter()
        self.stats: Counter[str] = Counter()
        self.rate_limited_kinds: Counter[str] = Counter()
        self.prompter: Prompter | None = None
        self._prompter_resolved = False
        self._queue: deque[_Job | Callable[[], Any]] = deque()
        self._cv = threading.Condition()
        self._pending = 0
        self._worker: threading.Thread | None = None
        self._retried = False
        self._atexit_registered = False

    # -- the caller's side: decide and enqueue, nothing slow ------------------------------------

    def capture(self, exc: BaseException, context: dict[str, Any] | None = None, *,
                mechanism: str = "generic", handled: bool = True) -> None:
        try:
            if not isinstance(exc, BaseException) or isinstance(exc, _IGNORED) or _is_cancellation(exc):
                return
            if settings.kill_switch():
                return
            self.stats["seen"] += 1
            if not mark_seen(exc):
                self.stats["deduplicated"] += 1
                return
            # The limiter runs before the (costlier) consent decision: a storm stays cheap.
            allowed, occurrences = self.limiter.hit(failure_kind(exc))
            if not allowed:
                self.stats["rate_limited"] += 1
                kind = type(exc).__name__
                if kind in self.rate_limited_kinds or len(self.rate_limited_kinds) < 256:
                    self.rate_limited_kinds[kind] += 1
                return
            decision = _consent.decide(self.store, provider=self._provider)
            if decision.ask:
                self._ask(exc, context, decision, mechanism, handled)
            elif decision.send or decision.keep_locally:
                self.submit(exc, context, decision, mechanism=mechanism, handled=handled,
                            occurrences=occurrences)
            else:
                self.stats["not_consented"] += 1
        except Exception:
            internal_error("capture")

    def _ask(self, exc: BaseException, context: dict[str, Any] | None,
             decision: _consent.Decision, mechanism: str, handled: bool) -> None:
        if not self._prompter_resolved:
            self._prompter_resolved = True
            if self.prompter is None:
                try:
                    from .prompts import ask_for_consent

                    self.prompter = ask_for_consent
                except ImportError:
                    self.prompter = None
        if self.prompter is None:
            self.stats["not_consented"] += 1
            return
        self.prompter(self, exc, context, decision, mechanism, handled)

    def submit(self, exc: BaseException, context: dict[str, Any] | None,
               decision: _consent.Decision, *, mechanism: str = "generic",
               handled: bool = True, occurrences: int = 1,
               traceback: TracebackType | None = None) -> bool:
        """Hand an error that may be sent to the worker (the prompts' way in, too).

        The report shows the traceback as it is now (or ``traceback``, as it was when a prompt
        first saw the error): the exception may keep propagating while the worker builds it."""
        context = dict(context) if isinstance(context, dict) else None
        return self._enqueue(_Job(exc, traceback or exc.__traceback__, context, decision,
                                  _environment.detect(), mechanism, handled, occurrences))

    def resend(self, event_id: str) -> bool:
        """Send a report kept in the outbox again, as it is (the dashboard's "re-send"), on the
        worker. The server never stores it twice: the event id stays the same. It is a person's
        explicit request for this one report, so the stored consent is not asked; the
        environment's kill switch still wins. False when telemetry is off by env, the report is
        unknown, or the queue is full."""
        try:
            if settings.kill_switch() or self.outbox.get(event_id) is None:
                return False
            return self._enqueue(lambda: self._deliver_stored(event_id))
        except Exception:
            internal_error("resend")
            return False

    def _enqueue(self, work: _Job | Callable[[], Any]) -> bool:
        with self._cv:
            if len(self._queue) >= QUEUE_LIMIT:
                self.stats["queue_full"] += 1
                return False
            self._queue.append(work)
            self._pending += 1
            self._cv.notify()
        self._ensure_worker()
        return True

    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        with self._cv:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._run, name="crawl4ai-telemetry", daemon=True)
            self._worker.start()
        if not self._atexit_registered:
            self._atexit_registered = True
            atexit.register(self._at_exit)

    # -- the worker's side -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue:
                    self._cv.wait()
                work = self._queue.popleft()
            try:
                if isinstance(work, _Job):
                    self._process(work)
                else:
                    work()
            except Exception:
                self.stats["errors"] += 1
                internal_error("worker")
            finally:
                with self._cv:
                    self._pending -= 1
                    self._cv.notify_all()

    @property
    def outbox(self) -> Any:
        if self._outbox is None:
            from .outbox import LocalOutbox

            self._outbox = LocalOutbox()
        return self._outbox

    @property
    def provider_in_use(self) -> Any:
        """The provider object if one exists yet (set at runtime or created), else None: what a
        consent is bound to, without importing or creating a provider."""
        return self._provider

    @property
    def provider(self) -> Any:
        if self._provider is None:
            from .providers import create

            self._provider = create()
        return self._provider

    def _process(self, job: _Job) -> None:
        from .outbox import LOCAL, PENDING, SENT
        from .report import build_report

        decision = job.decision
        if decision.consume_once and not self.store.consume_once():
            self.stats["once_already_used"] += 1
            return
        exc, tb = job.exc, job.traceback
        job.exc = job.traceback = None  # do not keep frames alive longer than needed
        report = build_report(exc, job.context, environment=job.environment, email=decision.email,
                              mechanism=job.mechanism, handled=job.handled,
                              occurrences=job.occurrences, traceback=tb)
        provider = self.provider
        local_only = getattr(provider, "keeps_locally", False) or decision.keep_locally
        stored = self._store(report, LOCAL if local_only else PENDING, provider.name)
        self.stats["reported"] += 1
        if local_only:
            return
        ok = self._deliver(provider, report.event)
        if stored:
            payload = getattr(provider, "last_payload", None)
            if ok and payload:
                self.outbox.replace_payload(report.event_id, payload)
            self.outbox.mark(report.event_id, SENT if ok else PENDING,
                             "" if ok else "not delivered; will retry", attempted=True)
        if not self._retried and not decision.consume_once:
            self._retried = True
            self._retry_pending(provider)

    def _store(self, report: Any, state: str, provider_name: str) -> bool:
        try:
            self.outbox.add(report.event_id, report.payload(), state=state, provider=provider_name,
                            exception_type=report.exception_type, removed=dict(report.removed))
            return True
        except Exception:  # read-only home: still deliver, just without a local copy
            internal_error("outbox")
            return False

    def _deliver(self, provider: Any, event: dict[str, Any]) -> bool:
        try:
            ok = bool(provider.send_event(event))
        except Exception:
            internal_error(f"provider {getattr(provider, 'name', '?')}")
            ok = False
        self.stats["delivered" if ok else "delivery_failed"] += 1
        return ok

    def _retry_pending(self, provider: Any) -> None:
        """Reports earlier runs could not deliver: same event id, so never duplicated."""
        for entry in self.outbox.claim_retries():
            self._deliver_stored(entry.event_id, provider)

    def _deliver_stored(self, event_id: str, provider: Any = None) -> bool:
        """Deliver the exact bytes the outbox keeps for ``event_id`` and record the outcome."""
        import json

        from .outbox import PENDING, SENT

        provider = provider or self.provider
        if getattr(provider, "keeps_locally", False):
            return False
        try:
            event = json.loads(self.outbox.read(event_id))
        except (OSError, ValueError):
            self.outbox.delete(event_id)  # unreadable: it could never be sent as it was shown
            return False
        ok = self._deliver(provider, event)
        self.outbox.mark(event_id, SENT if ok else PENDING,
                         "" if ok else "not delivered; will retry", attempted=True)
        return ok

    # -- flushing and exit -----------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait at most ``timeout`` s for queued reports; True if everything was handled."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cv:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(remaining)
        if self._provider is not None:
            try:
                self._provider.flush(max(0.0, deadline - time.monotonic()))
            except Exception:
                internal_error("provider flush")
        return True

    def _after_fork_in_child(self) -> None:
        """A forked child starts with no worker and, maybe, a lock its parent's worker held:
        start afresh so a capture in the child can never wait on it."""
        self._cv = threading.Condition()
        self._queue = deque()
        self._pending = 0
        self._worker = None
        self._provider = None  # its connections and threads belong to the parent

    def _at_exit(self) -> None:
        if not self._pending:
            return
        self.flush(settings.exit_timeout())


_pipeline: Pipeline | None = None
_lock = threading.Lock()


def get_pipeline() -> Pipeline:
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                _pipeline = Pipeline()
    return _pipeline


def set_pipeline(pipeline: Pipeline | None) -> Pipeline | None:
    """Replace the process's pipeline (tests, embedding); returns the previous one."""
    global _pipeline
    previous, _pipeline = _pipeline, pipeline
    return previous


def _reinit_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    if _pipeline is not None:
        _pipeline._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
