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
         protocol: tuple[str, ...] = (), asked: str | None = None) -> None:
    """A capture point saw ``exc``: report it if it is a crawl4ai bug. Never raises.

    ``protocol``/``asked``: the exception types the wrapped method raises by contract, and the
    attribute name it was asked for (``__getattr__``, a property)."""
    if not isinstance(exc, Exception) or not state.watching() or kill_switch():
        return
    if protocol and _keeps_the_protocol(exc, protocol, asked):
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


def _keeps_the_protocol(exc: BaseException, protocol: tuple[str, ...], asked: str | None) -> bool:
    """``exc`` is what the method promises to raise, not a failure of it. For attribute access
    that is an ``AttributeError`` saying that the very name asked for is missing on one of
    crawl4ai's objects (the result, or the object it hands the question to): the user asked for
    a field that is not there. An ``AttributeError`` about another name, or about a name missing
    on something else (``None``, a list), is crawl4ai's own code failing while answering."""
    if type(exc).__name__ not in protocol:
        return False
    if not isinstance(exc, AttributeError) or asked is None:
        return True
    from ...ownership import owner_of_class
    from .provenance import attribute_error_object

    obj = attribute_error_object(exc)
    return (AttributeError.name.__get__(exc) == asked and obj is not None
            and owner_of_class(type(obj)).crawl4ai)
