"""Delivery, on the worker thread: store → send → mark, retry, resend.

Local first: each report is written to the outbox (its exact redacted bytes) before any
provider sees it, so a person can read what left, or would leave, the machine. Then the
provider's :meth:`~crawl4ai.telemetry.providers.base.TelemetryProvider.deliver` runs and the
outbox records the outcome. A provider that keeps reports locally (``keeps_locally``) is not
called: the outbox entry is the delivery. Reports earlier runs could not deliver are retried
once per run, with the same event id, so a server never stores one twice.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import consent as _consent
from .. import providers as _providers
from .. import settings
from .._debug import internal_error, show_report
from .._files import parse_json
from .._record import Record
from .capture import Capture
from .counters import Counters
from .filters import Repeats
from .repeats import RepeatLedger

_modules: dict[str, Any] = {}


def _outbox_module() -> Any:
    """The outbox module, imported once with what keeping a report needs (its lock, the report
    builder), so keeping a report later needs no import statement: at interpreter shutdown,
    imports fail."""
    if not _modules:
        import filelock  # noqa: F401 - the outbox's lock

        from .. import outbox, report_builder  # noqa: F401
        from . import caches

        _modules["outbox"] = outbox
        _modules["caches"] = caches
    return _modules["outbox"]


class Kept(Record):
    """A report written to the outbox (``stored`` False: it could not be) and where it goes."""

    __slots__ = ("report", "provider", "stored", "to_send", "counted")
    _defaults = {"counted": False}
    report: Any
    provider: Any
    stored: bool
    to_send: bool
    counted: bool  # counted into another report of its bug, not kept as its own


class Delivery:
    """Turns a consented :class:`Capture` into a kept, and maybe sent, report."""

    def __init__(self, store: _consent.ConsentStore, counters: Counters, *, outbox: Any = None,
                 provider: Any = None, repeats: Repeats | None = None) -> None:
        self.store = store
        self.counters = counters
        #: One report per bug: which report counts each failure kind, and the held reports.
        self.ledger = RepeatLedger(counters, repeats or Repeats())
        self._sending: frozenset[str] = frozenset()  # the report being sent now (bytes fixed)
        self._outbox = outbox
        self._explicit = provider  # given at construction (tests, embedding): never replaced
        self._configured: Any = None
        self.provider_problem: str | None = None
        self._retried = False
        self._prepared: set[int] = set()
        self._keeping = threading.Condition()
        self._in_keep: list[Capture] = []  # being built and written now
        self._given_up: set[int] = set()  # ids of those exit counted lost

    @property
    def outbox(self) -> Any:
        if self._outbox is None:
            self._outbox = _outbox_module().LocalOutbox()
        return self._outbox

    @property
    def provider(self) -> Any:
        """The provider reports go to: the one this pipeline was built with, else the runtime
        one (``use_provider``), else the configured one (created once)."""
        if self._explicit is not None:
            return self._explicit
        runtime = _providers.runtime()
        if runtime is not None:
            return runtime
        if self._configured is None:
            self._configured, self.provider_problem = _providers.resolve()
        return self._configured

    def current_provider(self) -> tuple[Any, str | None]:
        """What :attr:`provider` would return, and why it is not the chosen one if it is not,
        without creating (and keeping) one."""
        if self._explicit is not None or _providers.runtime() is not None:
            return self.provider, None
        if self._configured is not None:
            return self._configured, self.provider_problem
        return _providers.resolve()

    def chosen_at_runtime(self) -> Any:
        """The provider handed in (at construction or with ``use_provider``), or None when the
        configured one is used: a consent is bound to it (see :func:`consent.current_destination`)."""
        return self._explicit if self._explicit is not None else _providers.runtime()

    def active_provider(self) -> Any:
        """The provider already in use, or None (flushing must not create one)."""
        if self._explicit is not None:
            return self._explicit
        return _providers.runtime() or self._configured

    def after_fork_in_child(self) -> None:
        """The parent's connections and threads are not ours, and a report its worker was
        keeping at the fork is not being kept here (its lock may have been copied held)."""
        self._configured = None
        self._keeping = threading.Condition()
        self._in_keep: list[Capture] = []  # being built and written now
        self._given_up: set[int] = set()  # ids of those exit counted lost
        self._sending = frozenset()
        self.ledger.after_fork_in_child()  # the parent's held reports are the parent's to send

    # -- one report --------------------------------------------------------------------------------

    def process(self, job: tuple[Capture, _consent.Decision]) -> None:
        """The worker's job for one capture: keep it in the outbox (or count it into the report
        of its bug), then send it: a report the outbox kept waits for its repeats (``held``,
        sent by :meth:`send_held`); one it could not keep is sent now."""
        kept = self.keep(job)
        _modules["caches"].store()  # what this report computed, for the next process
        if kept is None:
            return
        if not kept.to_send:
            if kept.counted and job[1].send:
                # Counted into a report an earlier run left waiting: deliver what waits now.
                self._retry_once(kept.provider, job[1])
            return
        if kept.stored:
            self.ledger.held[kept.report.event_id] = None
            try:
                self._prepare(kept.provider)  # now, so that sending at exit fits its bound
            except Exception:
                internal_error(f"provider {getattr(kept.provider, 'name', '?')}")
            return
        self._send(kept.provider, kept.report.event)
        self._retry_once(kept.provider, job[1])

    @property
    def holding(self) -> bool:
        """Reports wait for their repeats, or repeats wait to be counted into reports."""
        return bool(self.ledger.held) or self.ledger.repeats.waiting

    def take_repeats(self) -> None:
        """Count the repeats the caller's thread counted into the reports of their bugs; one
        counted into a report an earlier run left waiting has it delivered now, if allowed."""
        if self.ledger.take(self.outbox, busy=self._sending) and not self._retried:
            self.deliver_pending()

    def send_held(self) -> None:
        """Send the reports held for their repeats, with every repeat counted so far."""
        self.take_repeats()
        provider = None
        while self.ledger.held:
            event_id = next(iter(self.ledger.held))
            del self.ledger.held[event_id]
            entry = self.outbox.get(event_id)
            if entry is None or entry.state != _outbox_module().PENDING:
                continue  # deleted, or withheld since (consent withdrawn)
            provider = provider or self.provider
            self._sending = frozenset({event_id})
            try:
                self.deliver_stored(event_id, provider, keep_payload=True)
            finally:
                self._sending = frozenset()
        if provider is not None:
            self._retry_once(provider)

    def _retry_once(self, provider: Any, decision: _consent.Decision | None = None) -> None:
        """After this process's first delivery: what earlier runs left pending (once)."""
        if not self._retried and not (decision is not None and decision.consume_once):
            self._retried = True
            self.retry_pending(provider)

    def keep(self, job: tuple[Capture, _consent.Decision]) -> Kept | None:
        """Build the report and write it to the outbox (``pending``, or ``local`` for a provider
        that keeps reports here): the part no consented capture may skip, so at exit it runs on
        the caller's thread. None when a "send the next report only" was already used."""
        capture, decision = job
        with self._keeping:
            self._in_keep.append(capture)
        try:
            outbox = _outbox_module()
            _modules["caches"].load()
            if decision.consume_once and not self.store.consume_once():
                self.counters.once_already_used += 1
                return None
            report = capture.report(email=decision.email)
            provider = self.provider
            # A consent given for another destination keeps reports here until agreed again. An
            # unreadable settings file keeps them pending, unsent: sent by a later run once the
            # file reads "yes" for this destination.
            held = decision.consent == _consent.UNREADABLE
            local_only = bool(getattr(provider, "keeps_locally", False)) or (
                decision.keep_locally and not held)
            occurrences = self.ledger.occurrences(capture)
            how, stored = self._store(report, outbox.LOCAL if local_only else outbox.PENDING,
                                      provider.name, occurrences, claim=not held)
            self.ledger.kept(capture, report.bug, how, occurrences)
            if stored and id(capture) in self._given_up:  # kept after all, just after exit's bound
                self.counters.of(capture.kind).lost_at_exit -= 1
            added = how == outbox.ADDED
            return Kept(report, provider, stored, to_send=not local_only and not held and added,
                        counted=not added)
        finally:
            with self._keeping:
                self._in_keep.remove(capture)
                self._keeping.notify_all()

    def wait_kept(self, timeout: float, *, count_lost: bool = False) -> bool:
        """Wait at most ``timeout`` s until no report is half kept (the worker may be building
        one when exit comes); True when none is. ``count_lost``: exit gives up on those still
        being kept, counted lost at exit (uncounted again if the worker still keeps one before
        the interpreter stops it)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._keeping:
            while self._in_keep:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if count_lost:
                        for capture in self._in_keep:
                            self._given_up.add(id(capture))
                            self.counters.of(capture.kind).lost_at_exit += 1
                    return False
                self._keeping.wait(remaining)
        return True

    def retry_pending(self, provider: Any = None) -> int:
        """Deliver what earlier runs could not (each claimed, so two processes never both send
        it; same event id, so a server never stores it twice). Returns how many were accepted."""
        provider = provider or self.provider
        if getattr(provider, "keeps_locally", False):
            return 0
        return sum(self.deliver_stored(entry.event_id, provider)
                   for entry in self.outbox.claim_retries())

    def deliver_pending(self, _: Any = None) -> None:
        """The worker's job for a run that has no error of its own (or ``status``): deliver what
        is pending when sending is allowed now. A "send the next report only" is kept for the
        next report, not spent on old ones."""
        _outbox_module()
        _modules["caches"].load()  # a crawl's first error then finds the code index ready
        decision = _consent.decide(self.store, provider=self.chosen_at_runtime())
        if decision.send and not decision.consume_once:
            self._retried = True
            self.retry_pending()

    def deliver_stored(self, event_id: str, provider: Any = None, *,
                       keep_payload: bool = False) -> bool:
        """Deliver the exact bytes the outbox keeps for ``event_id`` and record the outcome
        (``keep_payload``: keep the bytes the provider says went out, for a first delivery)."""
        provider = provider or self.provider
        if getattr(provider, "keeps_locally", False):
            return False
        try:
            entry = self.outbox.get(event_id)
            event = parse_json(self.outbox.read(event_id))
        except (OSError, ValueError):
            self.outbox.delete(event_id)  # unreadable: it could never be sent as it was shown
            return False
        result = self._send(provider, event)
        # A report kept locally that the person sent and that did not arrive stays kept locally:
        # it is sent again only when they ask, never by a later run's retry.
        kept_here = entry is not None and entry.state == _outbox_module().LOCAL
        self._record(event_id, result, keep_payload=keep_payload, unsent_local=kept_here)
        return result.accepted

    def _store(self, report: Any, state: str, provider_name: str, occurrences: int,
               claim: bool = True) -> tuple[str, bool]:
        """Keep ``report`` in the outbox, or count it into the report of its bug there:
        (how, stored). Not stored: a new report, to be delivered without a local copy."""
        outbox = _outbox_module()
        try:
            how, where = self.outbox.keep(
                report.event_id, report.payload(), state=state, provider=provider_name,
                fingerprint=report.bug, occurrences=occurrences, window=settings.repeat_window(),
                exception_type=report.exception_type, removed=dict(report.removed),
                busy=self._sending, claim=claim)
        except Exception:  # read-only home: still deliver, just without a local copy
            internal_error("outbox")
            show_report(report.event_id, state, report.payload())
            return outbox.ADDED, False
        if settings.debug_enabled():  # the report as it is now stored (maybe another one that counts it)
            try:
                show_report(where, state, self.outbox.read(where))
            except OSError:
                pass
        return how, True

    def _send(self, provider: Any, event: dict[str, Any]) -> _providers.DeliveryResult:
        try:
            self._prepare(provider)
            result = provider.deliver(event)
        except Exception:
            internal_error(f"provider {getattr(provider, 'name', '?')}")
            result = _providers.DeliveryResult(False, "the provider failed")
        if result.accepted:
            self.counters.delivered += 1
        else:
            self.counters.delivery_failed += 1
        return result

    def _prepare(self, provider: Any) -> None:
        """Once per provider: e.g. sentry-sdk imported and its client made, before any lock of
        the sender. Raises what the provider raises (the caller decides)."""
        if id(provider) not in self._prepared:
            prepare = getattr(provider, "prepare", None)
            if prepare is not None:
                prepare()
            self._prepared.add(id(provider))

    def _record(self, event_id: str, result: Any, keep_payload: bool = True,
                unsent_local: bool = False) -> None:
        from ..outbox import LOCAL, PENDING, SENT

        if result.accepted and result.payload and keep_payload:
            self.outbox.replace_payload(event_id, result.payload)
        if result.accepted:
            self.outbox.mark(event_id, SENT, "", attempted=True)
        elif unsent_local:
            self.outbox.mark(event_id, LOCAL, "not delivered; kept on this machine until you "
                             "send it again", attempted=True)
        else:
            self.outbox.mark(event_id, PENDING, "not delivered; will retry", attempted=True)
