"""Where every capture point and process handler hands what it saw: :func:`seen`.

The wrappers (:mod:`.wrappers`) and ``crwl``'s process handlers (:mod:`.crwl`) both report here,
so neither needs the other. Only a crawl4ai bug goes on to the pipeline; the verdict comes from
:mod:`.classification`.
"""

from __future__ import annotations

from typing import Any

from ..._debug import internal_error
from ...settings import kill_switch
from . import state


def seen(exc: BaseException, mechanism: str, *, handled: bool, component: str | None = None,
         protocol: tuple[str, ...] = ()) -> None:
    """A capture point saw ``exc``: report it if it is a crawl4ai bug. Never raises."""
    if not isinstance(exc, Exception) or not state.watching() or kill_switch():
        return
    if protocol and type(exc).__name__ in protocol:
        return
    try:
        from ...pipeline import get_pipeline
        from .classification import BUG, verdict_of

        verdict, original = verdict_of(exc)
        if verdict != BUG:
            return

        context: dict[str, Any] = {"operation": mechanism}
        if component:
            context["component"] = component
        get_pipeline().capture(original, context, mechanism=mechanism, handled=handled)
    except Exception:
        internal_error(f"crawl4ai integration ({mechanism})")
