"""Consent prompts: ask a person, at the first error, whether crash reports may be sent.

The pipeline calls :func:`ask_for_consent` only when nobody has chosen yet and someone can
answer (:func:`crawl4ai.telemetry.consent.decide` said ``ask``). This module picks the surface:

- a terminal (``cli``: stdin and stdout are TTYs, not CI): a questionary prompt
  (:mod:`.terminal`), which never blocks a running event loop;
- Jupyter or Colab: an ipywidgets prompt, or a Markdown snippet with the exact calls when
  ipywidgets is missing (:mod:`.notebook`).

What each answer does is defined once, in :mod:`._request`. At most one prompt per process;
errors raised while it is open wait for its answer. Nothing here ever raises into user code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import environment as _environment

if TYPE_CHECKING:
    from ..pipeline.capture import Capture
    from ..pipeline.sink import ConsentSink
from .._debug import internal_error
from ._request import ALWAYS, DENY, DISMISS, ONCE, current_request, reset, state

__all__ = ["ask_for_consent", "state", "current_request", "reset", "ONCE", "ALWAYS", "DENY",
           "DISMISS"]


def ask_for_consent(sink: ConsentSink, capture: Capture, decision: Any) -> None:
    """The pipeline's prompt hook: ask (or hold ``capture`` for the prompt already open)."""
    try:
        env = _environment.detect()
        if env in (_environment.JUPYTER, _environment.COLAB):
            from . import notebook

            notebook.ask(sink, capture, decision)
        elif env == _environment.CLI:
            from . import terminal

            terminal.ask(sink, capture, decision)
        else:
            sink.decide(capture, None)
    except Exception:
        internal_error("consent prompt")
