"""The consent-sink seam: what a consent surface (terminal or notebook prompt, the dashboard)
may do with the errors it holds while a person decides. Nothing else of the pipeline.

A surface receives ``(sink, capture, decision)`` from the pipeline when nobody has chosen yet.
When the person answers it calls ``sink.decide(capture, decision)`` for each held capture: with
a decision that may send, the capture is queued for delivery; with ``None`` or a "no" it is
counted as not consented. :class:`~crawl4ai.telemetry.pipeline.Pipeline` implements it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..consent import ConsentStore, Decision
    from .capture import Capture
    from .counters import Counters


class ConsentSink(Protocol):
    #: Where the person's choice is stored (read to decide, written by "always" / "never").
    store: ConsentStore
    #: Typed counts; a surface bumps ``prompted``, ``held_for_prompt`` and ``answered(...)``.
    counters: Counters

    def decide(self, capture: Capture, decision: Decision | None) -> bool:
        """Send ``capture`` if ``decision`` allows it, else count it as not consented."""
        ...

    def destination(self) -> tuple[str, bool]:
        """Where a report would go now, and whether it stays on this machine."""
        ...

    def ready(self) -> None:
        """Start the delivery thread now (an answer given at interpreter exit could not)."""
        ...

    def flush(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for queued reports."""
        ...
