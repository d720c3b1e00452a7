"""One consent request: the error that triggered the prompt, the errors that wait for the same
answer, and what each answer does with them.

Both surfaces (terminal and notebook) share this, so "send this error only", "always", "don't
send" and "dismissed" mean the same thing everywhere:

- ``once``: exactly the triggering error is sent, with a one-off decision handed straight to
  the consent sink (``sink.decide``). Nothing is written to the settings file, so the stored consent stays
  ``not_set`` (it can never end up as ``once`` or ``always`` by accident, and no other process can
  take "the one" report). Errors that waited for the answer are not sent.
- ``always``: ``always`` (and the email, if one was given) is stored, then the triggering error
  and every error that waited are sent.
- ``deny``: ``denied`` is stored; nothing is sent.
- ``local_only`` (not a button: chosen in a cell or a shell while the prompt is open, or by a
  caller of :meth:`ConsentRequest.resolve`): ``local_only`` is stored; the triggering error and
  every error that waited are kept in the local outbox, and none is sent.
- ``dismiss`` (Ctrl-C, EOF, the prompt closed): nothing is sent and nothing is stored. It is
  remembered for this process only: no second prompt appears in it, and the next run asks again.

At most one request exists per process; while it is open, later errors are held (bounded) for
its answer instead of opening a second prompt.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

from .. import consent as _consent
from .. import wording
from .._debug import internal_error
from .._fork import renew_after_fork
from ..providers.destinations import THIS_MACHINE

if TYPE_CHECKING:
    from ..pipeline.capture import Capture
    from ..pipeline.sink import ConsentSink

ONCE, ALWAYS, DENY, DISMISS = "once", "always", "deny", "dismiss"
LOCAL_ONLY = _consent.LOCAL_ONLY
ANSWERS = (ONCE, ALWAYS, DENY, DISMISS, LOCAL_ONLY)

#: Errors kept for the open prompt's answer besides the one that opened it.
MAX_HELD = 10




class ConsentRequest:
    """The open question for this process, and the errors waiting for its answer."""

    def __init__(self, sink: ConsentSink, capture: Capture, decision: _consent.Decision,
                 surface: str) -> None:
        self.sink = sink
        self.surface = surface
        self.environment = capture.environment
        self.default_email = decision.email
        #: Where a "yes" sends reports (what it is bound to); "local": nothing leaves the machine.
        self.destination = decision.destination or _consent.current_destination()
        self.keeps_locally = self.destination == THIS_MACHINE
        self.answer: str | None = None
        self.warning: str | None = None
        self.done = threading.Event()
        self.app: Any = None  # the prompt on screen, so a signal can close it cleanly
        #: The question was on the screen (a question asked again at exit says so in one line).
        self.shown = False
        self._errors = [capture]
        self._lock = threading.Lock()

    @property
    def exception_type(self) -> str:
        with self._lock:
            return type(self._errors[0].exc).__name__ if self._errors else ""

    def hold(self, capture: Capture) -> bool:
        """Keep an error for this request's answer; False if it is full or already answered."""
        with self._lock:
            if self.answer is not None or len(self._errors) > MAX_HELD:
                return False
            self._errors.append(capture)
            return True

    def report(self) -> Any:
        """The exact scrubbed report of the triggering error (nothing is sent)."""
        with self._lock:
            first = self._errors[0] if self._errors else None
        return None if first is None else first.report()

    def shown_report(self) -> tuple[str, str] | None:
        """(the report as indented JSON, what the scrubber removed) for showing, or None."""
        import json

        try:
            report = self.report()
        except Exception:
            internal_error("prompt report")
            return None
        if report is None:
            return None
        removed = ", ".join(f"{kind}: {n}" for kind, n in sorted(report.removed.items()))
        return (json.dumps(report.event, indent=2, ensure_ascii=False, sort_keys=True),
                removed or wording.REMOVED_NOTHING)

    # -- answers ----------------------------------------------------------------------------------

    def resolve(self, answer: str, email: str | None = None) -> bool:
        """Apply a person's answer. ``email``: an address to use (and, with ``always``, store), or
        ``""`` to store none. Returns False if the request was already answered."""
        if email is not None:
            email = email.strip()
            if email and not _consent.is_valid_email(email):
                raise ValueError(f"not a valid email address: {email!r}")
        errors = self._take(answer)
        if errors is None:
            return False
        try:
            if answer == ONCE:
                decision = _consent.Decision(
                    _consent.SEND, _consent.ANSWERED_ONCE, _consent.ONCE,
                    email or _consent.env_email() or self.default_email, "prompt",
                )
                self._send(errors[:1], decision)
                self._count_unsent(errors[1:])
            elif answer == ALWAYS:
                changes = {"consent": _consent.ALWAYS, "destination": self.destination}
                if email is not None:
                    changes["email"] = email or None
                self.warning = _persist(self.sink.store, changes)
                decision = _consent.decide(self.sink.store, self.environment,
                                           destination=self.destination)
                if decision.send:
                    self._send(errors, decision)
                else:
                    self._count_unsent(errors)
            elif answer == DENY:
                self.warning = _persist(self.sink.store, {"consent": _consent.DENIED})
                self._count_unsent(errors)
            elif answer == LOCAL_ONLY:
                self.warning = _persist(self.sink.store, {"consent": _consent.LOCAL_ONLY})
                self._send(errors, _consent.decide(self.sink.store, self.environment))
            else:
                self._count_unsent(errors)
        finally:
            self._finish()
        return True

    def resolve_with(self, decision: _consent.Decision) -> bool:
        """The person decided elsewhere (``telemetry.enable()`` / ``disable()`` in a cell, or the
        CLI): follow that stored decision for the waiting errors."""
        local = decision.local_only
        answer = (LOCAL_ONLY if local else DENY if not decision.send
                  else ONCE if decision.consume_once else ALWAYS)
        errors = self._take(answer)
        if errors is None:
            return False
        try:
            if local:
                self._send(errors, decision)  # kept in the local outbox, never sent
            elif not decision.send:
                self._count_unsent(errors)
            elif decision.consume_once:
                # Stored "once": the triggering error takes it, via the pipeline's atomic consume.
                self._send(errors[:1], decision)
                self._count_unsent(errors[1:])
            else:
                self._send(errors, decision)
        finally:
            self._finish()
        return True

    def _take(self, answer: str) -> list[Capture] | None:
        if answer not in ANSWERS:
            raise ValueError(f"unknown answer {answer!r}")
        with self._lock:
            if self.answer is not None:
                return None
            self.answer = answer
            errors, self._errors = self._errors, []
        return errors

    def _send(self, errors: list[Capture], decision: _consent.Decision) -> None:
        for capture in errors:
            try:
                self.sink.decide(capture, decision)
            except Exception:
                internal_error("prompt submit")

    def _count_unsent(self, errors: list[Capture]) -> None:
        for capture in errors:
            self.sink.decide(capture, None)

    def _finish(self) -> None:
        global _current
        self.sink.counters.answered(self.answer or DISMISS)
        with _lock:
            if _current is self:
                _current = None
        self.done.set()


def _persist(store: _consent.ConsentStore, changes: dict[str, Any]) -> str | None:
    """Store the choice; if the file cannot be written, keep it for this process and say why."""
    problem = _consent.save_choice(store, **changes)
    return None if problem is None else f"{problem}; your choice holds for this run only"


# -- the process's single request ----------------------------------------------------------------

_lock = threading.Lock()
renew_after_fork(sys.modules[__name__], "_lock")
_current: ConsentRequest | None = None
_asked = False


def open_request(sink: ConsentSink, capture: Capture, decision: _consent.Decision,
                 surface: str) -> ConsentRequest | None:
    """A new request if this process has not asked yet; otherwise hold ``capture`` for the open
    one (or count it as not consented) and return None."""
    global _current, _asked
    with _lock:
        current = _current
        if current is None and not _asked:
            _asked = True
            _current = ConsentRequest(sink, capture, decision, surface)
            sink.counters.prompted += 1
            return _current
    if current is not None and current.hold(capture):
        sink.counters.held_for_prompt += 1
    else:
        sink.decide(capture, None)
    return None


def current_request() -> ConsentRequest | None:
    return _current


def state() -> str:
    """``"idle"`` (not asked yet), ``"open"`` (waiting for an answer) or ``"answered"``."""
    if _current is not None:
        return "open"
    return "answered" if _asked else "idle"


def reset() -> None:
    """Forget this process's prompt (tests; a long-lived host that wants to ask again)."""
    global _current, _asked
    with _lock:
        _current = None
        _asked = False
