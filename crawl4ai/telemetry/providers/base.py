"""The provider contract: where a scrubbed report goes, and what the pipeline may ask of it.

A provider receives reports that already passed the scrubber; it never sees the exception that
was raised, a local variable or anything unscrubbed. It implements ONE of two methods:

- :meth:`TelemetryProvider.send_event` gets the scrubbed report as a Sentry-schema dict;
- :meth:`TelemetryProvider.send_exception` (the shape Crawl4AI's docs first showed) gets a
  :class:`ScrubbedException` rebuilt from that scrubbed report: the exception type's name and
  the redacted message, chained like the original, with no traceback, no locals, no raw
  exception; and, as ``context``, the scrubbed context of the report.

Either way the pipeline calls :meth:`TelemetryProvider.deliver`, which picks the method the
subclass implemented and returns a :class:`DeliveryResult`. Returning ``False`` or raising
means "not delivered": the report stays in the local outbox and is retried later. A provider
that keeps reports on this machine only declares ``keeps_locally = True``; ``status`` shows
:meth:`TelemetryProvider.destination`, which is also the identity a stored consent is bound to.

This module imports no implementation: built-in providers register through the entry-point
group ``crawl4ai.telemetry.providers`` exactly like third-party ones.
"""

from __future__ import annotations

from typing import Any

from .._record import Record
from .destinations import THIS_MACHINE


class DeliveryResult(Record):
    """The outcome of one delivery. ``payload``: the exact bytes that went out, when the provider
    knows them (the outbox then keeps those)."""

    __slots__ = ("accepted", "detail", "payload")
    _defaults = {"detail": "", "payload": None}
    accepted: bool
    detail: str
    payload: bytes | None

    def __bool__(self) -> bool:
        return self.accepted

    def __repr__(self) -> str:
        return f"DeliveryResult(accepted={self.accepted!r}, detail={self.detail!r})"


class ScrubbedException(Exception):
    """A stand-in rebuilt from a scrubbed report, handed to ``send_exception`` providers.

    Its class is named after the reported type (``type(e).__name__ == "ValueError"``), its
    message is the redacted one, ``__cause__`` links the chain as reported, and it has no
    traceback. ``event`` is the scrubbed report itself, for providers that want frames."""

    event: dict[str, Any]

    def __init__(self, message: str, event: dict[str, Any]) -> None:
        super().__init__(message)
        self.event = event


_STAND_IN_CLASSES: dict[str, type[ScrubbedException]] = {}


def scrubbed_exception(event: dict[str, Any]) -> ScrubbedException:
    """The stand-in for the scrubbed ``event``: its last exception value, chained to the ones
    before it. Nothing but the event's (scrubbed) type names and messages goes into it."""
    values = (event.get("exception") or {}).get("values") or [{}]
    previous: ScrubbedException | None = None
    for value in values:
        value = value if isinstance(value, dict) else {}
        name = str(value.get("type") or "Exception")
        cls = _STAND_IN_CLASSES.get(name)
        if cls is None:
            if len(_STAND_IN_CLASSES) > 256:
                _STAND_IN_CLASSES.clear()
            cls = _STAND_IN_CLASSES[name] = type(name, (ScrubbedException,), {
                "__module__": "crawl4ai.telemetry.reported", "__qualname__": name})
        stand_in = cls(str(value.get("value") or ""), event)
        stand_in.__cause__ = previous
        previous = stand_in
    assert previous is not None
    return previous


def _overrides(provider: Any, method: str) -> bool:
    return getattr(type(provider), method, None) is not getattr(TelemetryProvider, method)


class TelemetryProvider:
    """Deliver scrubbed reports somewhere. Implement :meth:`send_event` or :meth:`send_exception`."""

    #: Short name: how ``CRAWL4AI_TELEMETRY_PROVIDER`` and ``status`` call it.
    name: str = "custom"
    #: True when reports stay on this machine (the outbox entry is the delivery).
    keeps_locally: bool = False

    def send_event(self, event: dict[str, Any]) -> bool:
        """Deliver one scrubbed report; True once the backend accepted it.

        Called on telemetry's worker thread, never on the caller's. May block for a bounded
        time. Returning False (or raising) leaves the report in the local outbox for a retry.
        """
        if _overrides(self, "send_exception"):
            return self._send_stand_in(event)
        raise NotImplementedError(f"{type(self).__name__} must implement send_event() or "
                                  "send_exception()")

    def send_exception(self, exc: BaseException, context: dict[str, Any] | None = None) -> bool:
        """Deliver one error. The pipeline passes a :class:`ScrubbedException` and the scrubbed
        context. Called directly with a real exception, the default builds and scrubs its report
        (no consent check) with the pipeline's code and hands it to :meth:`send_event`."""
        from ..report_builder import build_report

        return self.send_event(build_report(exc, context).event) is not False

    def deliver(self, event: dict[str, Any]) -> DeliveryResult:
        """The pipeline's one call: send ``event`` with the method this provider implements."""
        try:
            if _overrides(self, "send_event") or not _overrides(self, "send_exception"):
                outcome = self.send_event(event)
            else:
                outcome = self._send_stand_in(event)
        except Exception as e:
            from .._debug import internal_error

            internal_error(f"provider {self.name}")
            return DeliveryResult(False, f"{type(e).__name__} in {type(self).__name__}")
        if isinstance(outcome, DeliveryResult):
            return outcome
        return DeliveryResult(outcome is not False, "" if outcome is not False else "refused")

    def _send_stand_in(self, event: dict[str, Any]) -> bool:
        context = (event.get("contexts") or {}).get("telemetry")
        return self.send_exception(scrubbed_exception(event),
                                   dict(context) if isinstance(context, dict) else None) is not False

    def prepare(self) -> None:
        """Import and set up what delivering needs, without sending anything. Called on the
        worker before the first delivery, so the imports happen there, up front, and not on a
        sender thread of the provider's own in the middle of a send."""

    def destination(self) -> str:
        """Where reports go, in words, for ``status`` and the prompts (a host name, never a
        key)."""
        return f"provider {self.name!r}"

    def destination_id(self) -> str:
        """Who receives the reports: the identity a stored "yes" is bound to, so that a change of
        receiver asks again. Stable and short (``"kind:host"`` or a name, never a key);
        ``"local"`` when nothing leaves this machine."""
        return THIS_MACHINE if self.keeps_locally else self.name

    def problem(self) -> str | None:
        """Why this provider cannot deliver now (then reports are kept on this machine), or
        None. ``status`` shows it."""
        return None

    def flush(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for reports in flight."""

    def close(self, timeout: float) -> None:
        """Release resources; wait at most ``timeout`` seconds."""
        self.flush(timeout)
