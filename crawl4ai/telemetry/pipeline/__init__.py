"""The single capture path: filters → consent → worker → build → scrub → outbox → deliver.

Every way an error is seen (``capture_exception``, decorators, context managers, the crawl4ai
hooks, Sentry's excepthook/threading/asyncio integrations in processes we own) ends in
:meth:`Pipeline.capture`. On the caller's thread it only filters, decides and enqueues (a few
microseconds); building, scrubbing, writing the outbox and sending happen on one daemon worker
thread. Nothing here ever raises into the caller.

One module per step, each with a small public interface:

- :mod:`.filters` — kill switch, ignore list, dedupe, repeats counted (caller's thread);
- :mod:`.capture` — the :class:`Capture` value every later step receives;
- consent — :func:`crawl4ai.telemetry.consent.decide`; when nobody has chosen yet and a person
  can answer, a prompt decides later through the :class:`~.sink.ConsentSink` seam;
- :mod:`.worker` — the queue and the thread (bounded, fork-safe, bounded exit);
- :mod:`.delivery` — store → send → mark, retry, resend (worker thread);
- :mod:`.repeats` — one report per bug: repeats counted into it, new reports held for them;
- :mod:`.counters` — what happened to each kind of error, this run and past runs.

The caller's thread imports only what it uses: this package, ``filters``, ``capture``,
``counters``, ``worker``, ``consent`` and ``environment``; with crawl4ai patched, its
integration loaded those already, while crawl4ai itself was imported. Delivery, the providers'
contract and the outbox load on the worker when the first report is processed (the list is
held by ``tests/pipeline/test_import_hygiene.py``, so it cannot grow unnoticed).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from .. import consent as _consent
from .. import settings
from .._debug import internal_error
from .capture import Capture
from .counters import Counters
from .filters import REPEAT, CaptureFilters, Repeats, failure_kind, mark_seen
from .worker import QUEUE_LIMIT, Worker

if TYPE_CHECKING:
    from .delivery import Delivery

__all__ = ["Pipeline", "Capture", "Counters", "Repeats", "QUEUE_LIMIT", "get_pipeline",
           "set_pipeline", "mark_seen", "failure_kind"]


class Pipeline:
    """The process's capture path. Also the :class:`~.sink.ConsentSink` prompts decide through."""

    def __init__(self, store: _consent.ConsentStore | None = None, outbox: Any = None,
                 provider: Any = None) -> None:
        self.store = store or _consent.ConsentStore()
        self.counters = Counters()
        self.filters = CaptureFilters(self.counters)
        self.worker = Worker(on_error=self._worker_failed)
        self._outbox, self._provider = outbox, provider  # for :attr:`delivery`, made when used
        self._delivery: Delivery | None = None
        self._delivery_lock = threading.Lock()
        #: ``prompter(sink, capture, decision)``: asks a person (default: crawl4ai.telemetry.prompts).
        self.prompter: Any = None
        self._prompter_resolved = False
        self._atexit_registered = False
        self._pending_requested = False
        self._repeats_queued = False
        self._timer: threading.Timer | None = None
        self._consent_changes = _consent.changes
        self._deadline: float | None = None  # exit's, once exit began (see _exit_deadline)
        self._kept_late = 0.0  # seconds spent keeping reports past the deadline (see _keep_now)

    # -- the caller's side: filter, decide and enqueue, nothing slow --------------------------------

    def capture(self, exc: BaseException, context: dict[str, Any] | None = None, *,
                mechanism: str = "generic", handled: bool = True) -> None:
        try:
            if _consent.changes != self._consent_changes:  # a person chose again since
                self._consent_changes = _consent.changes
                self.filters.repeats.forget_all()  # each bug's next error is decided afresh
            failure = self.filters.admit(exc)
            if failure is None:
                return
            if failure is REPEAT:
                self._count_repeats_soon()
                return
            self._register_exit()
            decision = _consent.decide(self.store, provider=self._chosen_at_runtime())
            capture = Capture(exc, context, mechanism=mechanism, handled=handled, failure=failure)
            if decision.ask:
                self._ask(capture, decision)
            else:
                self.decide(capture, decision)
        except Exception:
            internal_error("capture")

    def decide(self, capture: Capture, decision: _consent.Decision | None) -> bool:
        """Follow ``decision`` for ``capture``: queue it for delivery when it may be sent, else
        count it as not consented. True when queued. (The consent sink's one verb.)"""
        counts = self.counters.of(capture.kind)
        if decision is None or not (decision.send or decision.keep_locally):
            counts.not_consented += 1
            self.filters.repeats.refuse(capture.failure)
            return False
        if self.worker.submit(self._process, (capture, decision)):
            return True
        if self.worker.closed:
            return self._keep_now(capture, decision)
        counts.queue_full += 1
        self.filters.repeats.forget(capture.failure)  # its next error tries again
        return False

    def _keep_now(self, capture: Capture, decision: _consent.Decision) -> bool:
        """Exit began, so no worker will run again: keep the report in the outbox on this
        thread (``pending``: a later run delivers it), or count it lost. Never wait. Within
        exit's one bound it keeps; past it, only until the reports kept late have taken
        :data:`settings.EXIT_KEEP_GRACE` in all (the first always goes: one error in an exit
        hook of the host's, or in a ``__del__`` at finalisation, is kept however late). Later
        ones (a host's exit hooks failing on and on) are only counted lost.

        The redacted report is the cheapest form that is safe to keep: anything rawer written to
        disk would hold what the scrubber exists to remove, and with the caches warm it costs a
        few milliseconds (``just bench``)."""
        started = time.monotonic()
        late = started >= self._exit_deadline()
        if late and self._kept_late >= settings.EXIT_KEEP_GRACE:
            self.counters.of(capture.kind).lost_at_exit += 1
            return False
        try:
            delivery = self.delivery  # loads the outbox's locks: they too end at the deadline
            self._bound_lock_waits()
            kept = delivery.keep((capture, decision))
            if kept is None or kept.stored:
                return kept is not None
        except Exception:
            internal_error("keeping a report at exit")
        finally:
            if late:
                self._kept_late += time.monotonic() - started
        self.counters.of(capture.kind).lost_at_exit += 1
        return False

    def _process(self, job: tuple[Capture, _consent.Decision]) -> None:
        """The worker's job for one consented capture (delivery loads here, off the caller)."""
        self.delivery.process(job)
        if self.delivery.ledger.held:
            self._send_held_later()

    # -- one report per bug: repeats counted on the worker, new reports held for them -----------

    def _count_repeats_soon(self) -> None:
        """A repeat was counted on the caller's thread: one job at a time takes the counts to
        the worker (a storm queues one, not one per error)."""
        if not self._repeats_queued:
            self._repeats_queued = True
            if not self.worker.submit(self._take_repeats):
                self._repeats_queued = False  # kept counted: the next job or exit takes them

    def _take_repeats(self, _item: Any = None) -> None:
        self._repeats_queued = False  # first: a repeat counted from now on queues a new job
        if self._delivery is not None:
            self.delivery.take_repeats()

    def _send_held_later(self) -> None:
        """Send the held reports once :data:`settings.GATHER_SECONDS` passed (a daemon timer
        queues the job; flush and exit send them at once)."""
        if self._timer is not None:
            return
        timer = threading.Timer(settings.GATHER_SECONDS, self._send_held_soon)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _send_held_soon(self) -> None:
        self._timer = None
        self.worker.submit(self._send_held)

    def _send_held(self, _item: Any = None) -> None:
        self._repeats_queued = False
        self.delivery.send_held()

    def _gathering(self) -> bool:
        """Held reports or uncounted repeats exist (cheap: exit asks it with nothing pending)."""
        delivery = self._delivery
        return self.filters.repeats.waiting or (delivery is not None and delivery.holding)

    def _deliver_pending(self, _item: Any = None) -> None:
        self.delivery.deliver_pending()  # on the worker: delivery loads there

    @property
    def delivery(self) -> Delivery:
        """Store → send → mark for this pipeline, created on first use: normally by the worker,
        so the caller's thread never imports delivery or a provider."""
        if self._delivery is None:
            from .delivery import Delivery

            with self._delivery_lock:
                if self._delivery is None:
                    self._delivery = Delivery(self.store, self.counters, outbox=self._outbox,
                                              provider=self._provider,
                                              repeats=self.filters.repeats)
        return self._delivery

    def _chosen_at_runtime(self) -> Any:
        """:meth:`.delivery.Delivery.chosen_at_runtime`, without creating the delivery. A
        runtime provider is set through ``crawl4ai.telemetry.providers``: while that module is
        not loaded there is none, and the caller's thread does not load it to find out."""
        if self._provider is not None:
            return self._provider
        providers = sys.modules.get(_PROVIDERS)
        return providers.runtime() if providers is not None else None

    def _register_exit(self) -> None:
        if not self._atexit_registered:
            self._atexit_registered = True
            atexit.register(self._at_exit)

    def _ask(self, capture: Capture, decision: _consent.Decision) -> None:
        if not self._prompter_resolved:
            self._prompter_resolved = True
            if self.prompter is None:
                try:
                    from ..prompts import ask_for_consent

                    self.prompter = ask_for_consent
                except ImportError:
                    self.prompter = None
        if self.prompter is None:
            self.decide(capture, None)
            return
        self.prompter(self, capture, decision)

    def destination(self) -> tuple[str, bool]:
        """Where a report would go now, and whether it stays on this machine (what a consent
        surface may promise; see :func:`crawl4ai.telemetry.wording.where_reports_go`)."""
        provider, _problem = self.delivery.current_provider()
        return provider.destination(), bool(getattr(provider, "keeps_locally", False))

    def ready(self) -> None:
        """Start the delivery thread now: an answer that only comes at exit could not."""
        self.worker.start()

    # -- reports kept in the outbox ------------------------------------------------------------------

    def resend(self, event_id: str) -> bool:
        """Send a report kept in the outbox again, as it is (the dashboard's "re-send"), on the
        worker. The server never stores it twice: the event id stays the same. It is a person's
        explicit request for this one report, so the stored consent is not asked; the
        environment's kill switch still wins. False when telemetry is off by env, the report is
        unknown, or the queue is full."""
        try:
            if settings.kill_switch() or self.outbox.get(event_id) is None:
                return False
            return self.worker.submit(self.delivery.deliver_stored, event_id)
        except Exception:
            internal_error("resend")
            return False

    def deliver_pending(self) -> bool:
        """Deliver what earlier runs left ``pending``, on the worker (exit waits for it within
        its bound), if sending is allowed now: for a run with no error of its own, ``crwl
        telemetry status`` and the dashboard. Once per process; False when telemetry is off by
        env, it was already asked for, or the worker refused."""
        try:
            if self._pending_requested or settings.kill_switch():
                return False
            self._pending_requested = True
            self._register_exit()
            return self.worker.submit(self._deliver_pending)
        except Exception:
            internal_error("deliver pending")
            return False

    @property
    def outbox(self) -> Any:
        return self.delivery.outbox

    @property
    def provider(self) -> Any:
        return self.delivery.provider

    @property
    def stats(self) -> Counter[str]:
        """A snapshot of this run's counts by name (0 when absent; see :attr:`counters`)."""
        return Counter(self.counters.totals())

    @property
    def repeated_kinds(self) -> dict[str, int]:
        return self.counters.repeated_kinds()

    # -- flushing and exit ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return self.worker.pending

    def flush(self, timeout: float = settings.FLUSH_TIMEOUT) -> bool:
        """Send what waits (reports held for their repeats too) and wait at most ``timeout`` s
        for it; True if everything was handled."""
        deadline = time.monotonic() + max(0.0, timeout)
        if self.worker.pending or self._gathering():
            self.worker.submit(self._send_held)  # after what is queued: held reports too
        if not self.worker.wait(timeout):
            return False
        provider = self._delivery.active_provider() if self._delivery is not None else None
        if provider is not None:
            try:
                provider.flush(max(0.0, deadline - time.monotonic()))
            except Exception:
                internal_error("provider flush")
        return True

    def _keep_unstarted(self, deadline: float) -> None:
        """Reports still queued when exit's wait ended (a hung server held the worker): keep
        them in the outbox as ``pending`` for a later run, until ``deadline``; any left then
        are counted lost at exit (``status`` shows it), never waited for."""
        unstarted = self.worker.drain()
        if self._delivery is not None:  # the report the worker may be building
            self._delivery.wait_kept(deadline - time.monotonic(), count_lost=True)
        for handler, item in unstarted:
            if handler == self._process:  # not a retry, a re-send or held reports (kept already)
                self._keep_now(*item)
        self._settle_repeats(deadline)

    def _settle_repeats(self, deadline: float) -> None:
        """Exit: repeats the worker did not take are counted into their reports here (within
        the bound), or counted as lost; those of errors never reported, as not consented."""
        if self._delivery is None:
            return
        try:
            if self.filters.repeats.waiting and time.monotonic() < deadline:
                self._delivery.take_repeats()
            for kind, occurrences in self.filters.repeats.take().items():
                self.counters.of(kind[0]).lost_at_exit += occurrences
            self._delivery.ledger.settle()
        except Exception:
            internal_error("counting repeats at exit")

    def _exit_deadline(self, deadline: float | None = None) -> float:
        """When exit's work must be over (``time.monotonic()``): set by our exit hook, or by the
        first capture kept at exit when the interpreter finalises without it having run. From
        then on no lock of ours is waited for past it either."""
        if self._deadline is None:
            if deadline is None:
                        deadline = time.monotonic() + settings.exit_timeout()
            self._deadline = deadline
            self._bound_lock_waits()
        return self._deadline

    def _bound_lock_waits(self) -> None:
        files = sys.modules.get(_FILES)  # loaded with the outbox; if not, no lock was taken yet
        if files is not None and self._deadline is not None:
            files.bound_lock_waits(self._deadline)

    def _worker_failed(self) -> None:
        self.counters.errors += 1

    def _after_fork_in_child(self) -> None:
        """A forked child starts with no worker and, maybe, a lock its parent's worker held:
        start afresh so a capture in the child can never wait on it."""
        self.worker.after_fork_in_child()
        self._delivery_lock = threading.Lock()
        self._timer, self._repeats_queued = None, False
        self._deadline, self._kept_late = None, 0.0  # a child forked at exit has its own exit
        if self._delivery is not None:
            self._delivery.after_fork_in_child()

    def _at_exit(self) -> None:
        """Exit's one bound (``CRAWL4AI_TELEMETRY_EXIT_TIMEOUT``) covers all of exit's work:
        waiting for the worker (and a hung server), keeping what it did not start, and every
        lock wait after it. Whatever did not go stays ``pending`` in the outbox for the next
        start, so waiting longer would buy nothing."""
        started = time.monotonic()
        bound = settings.exit_timeout()
        deadline = self._exit_deadline(started + bound)
        if self.worker.pending or self._gathering():  # held reports go now, every count in
            self.worker.submit(self._send_held)  # after what is queued: its reports are held too
        if self.worker.pending:
            self.worker.wait(bound / 2)  # enough for a healthy server to take everything
        self.worker.close()  # from now on a capture is kept on its own thread (see decide)
        # What the worker has not started (a hung server holds it) is kept here, before any
        # more waiting: every report in the outbox first, then sending if time is left.
        self._keep_unstarted(deadline)
        remaining = deadline - time.monotonic()
        if remaining > 0 and self.worker.pending:
            self.flush(remaining)
        try:
            self.counters.save()
        except Exception:
            internal_error("counters")


_PROVIDERS = __name__.rpartition(".")[0] + ".providers"
_FILES = __name__.rpartition(".")[0] + "._files"
_pipeline: Pipeline | None = None
_lock = threading.Lock()


def get_pipeline() -> Pipeline:
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                _pipeline = Pipeline()
    return _pipeline


def current() -> Pipeline | None:
    """The process's pipeline if one exists (never creates one)."""
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
