"""The wrappers the capture table's ``kind`` column names; they report to :func:`.seen.seen`.

Transparency is the rule for every wrapper: it returns what the wrapped call returns and
re-raises the very exception it caught, with its own frame taken out of the traceback, so
results, exceptions and printed tracebacks are what they would be without the add-on.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

from ..._debug import internal_error
from ...chain import set_traceback, traceback_of
from . import state
from .points import CapturePoint
from .provenance import new_crawl, record_user_return
from .seen import seen

MARK = "__crawl4ai_telemetry_wrapped__"


def hide_frame(exc: BaseException, code: CodeType) -> None:
    """Take the wrapper's own entry out of the traceback before re-raising."""
    tb = traceback_of(exc)
    if tb is not None and tb.tb_frame.f_code is code:
        set_traceback(exc, tb.tb_next)


def crawl4ai_class_name(obj: Any) -> str | None:
    """The first crawl4ai class of ``obj`` (never a name from the user's code)."""
    from ...ownership import owner_of_class

    for cls in type(obj).__mro__:
        if owner_of_class(cls).crawl4ai:
            return cls.__name__
    return None


def _component(point: CapturePoint, args: tuple[Any, ...]) -> str | None:
    if point.owner is None:
        return None
    return (crawl4ai_class_name(args[0]) if args else None) or point.owner


def transparent(func: Callable[..., Any], *,
                before: Callable[[tuple[Any, ...]], None] | None = None,
                on_error: Callable[[BaseException, tuple[Any, ...]], None] | None = None,
                after: Callable[[Any, tuple[Any, ...]], None] | None = None) -> Callable[..., Any]:
    """The one shape of a synchronous wrapper: ``before(args)``, the call, ``after(result, args)``;
    for what escapes the call ``on_error(exc, args)``, then the wrapper's own frame taken out
    and the very same exception re-raised. The result is returned as it came."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(args)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            if on_error is not None:
                on_error(exc, args)
            hide_frame(exc, wrapper.__code__)
            raise
        if after is not None:
            after(result, args)
        return result

    setattr(wrapper, MARK, func)
    return wrapper


def wrap_call(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    """What escapes ``func`` is seen; a returned async generator is watched as it is iterated."""
    if inspect.iscoroutinefunction(func):
        return _wrap_async_call(func, point)

    def escaped(exc: BaseException, args: tuple[Any, ...]) -> None:
        seen(exc, point.mechanism, handled=point.handled, component=_component(point, args),
             protocol=point.protocol, asked=_asked(point, args))

    return transparent(func, on_error=escaped)


def _asked(point: CapturePoint, args: tuple[Any, ...]) -> str | None:
    """The attribute name a call answers: ``__getattr__``'s argument, or the property's name."""
    if point.method == "__getattr__":
        return args[1] if len(args) > 1 and isinstance(args[1], str) else None
    return point.method


def _wrap_async_call(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if point.adopt:
            state.adopt(args[0] if args else None)
            state.adopt(kwargs.get("crawler"))
        state.enable_asyncio_for_loop()
        if point.starts_crawl:
            new_crawl()
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            seen(exc, point.mechanism, handled=point.handled, component=_component(point, args),
                 protocol=point.protocol)
            hide_frame(exc, wrapper.__code__)
            raise
        if inspect.isasyncgen(result):  # stream=True: the failures come while iterating
            return _watch_stream(result, point, _component(point, args))
        return result

    setattr(wrapper, MARK, func)
    return wrapper


async def _watch_stream(stream: Any, point: CapturePoint, component: str | None) -> Any:
    """The results of a streaming crawl (``arun_many``/deep crawl with ``stream=True``), item
    for item; what the stream raises is seen like what the call itself raises."""
    try:
        async for item in stream:
            yield item
    except Exception as exc:
        seen(exc, point.mechanism, handled=point.handled, component=component)
        hide_frame(exc, _watch_stream.__code__)
        raise
    finally:
        await stream.aclose()


def wrap_while_handling(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    """crawl4ai calls ``func`` inside an ``except`` block (a logger, ``get_error_context``): the
    exception being handled is seen before ``func`` runs."""

    def handling(args: tuple[Any, ...]) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            seen(exc, point.mechanism, handled=point.handled, component=_logged_component(point, args))

    return transparent(func, before=handling)


def _logged_component(point: CapturePoint, args: tuple[Any, ...]) -> str | None:
    """For a logger, the crawl4ai class whose code was running (the logger says nothing)."""
    if point.owner is None:
        return "AsyncWebCrawler"
    frame = sys._getframe(3)  # over this function, ``handling`` and the wrapper: the logger's caller
    hops = 0
    while frame is not None and hops < 5:
        owner = frame.f_locals.get("self")
        if owner is not None and owner is not (args[0] if args else None):
            name = crawl4ai_class_name(owner)
            if name:
                return name
        frame = frame.f_back
        hops += 1
    return _component(point, args)


def wrap_log_level(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    """``_log(level, …)`` of the scraping strategy: an ``"error"`` logged while handling an
    exception (a link, an image, the metadata failed; the page still comes back)."""

    @functools.wraps(func)
    def wrapper(self: Any, level: Any, *args: Any, **kwargs: Any) -> Any:
        if level == "error":
            exc = sys.exc_info()[1]
            if exc is not None:
                seen(exc, point.mechanism, handled=point.handled, component=crawl4ai_class_name(self))
        return func(self, level, *args, **kwargs)

    setattr(wrapper, MARK, func)
    return wrapper


def wrap_init(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    """The crawler's ``__init__``: what escapes is seen; then the new crawler is adopted."""

    @functools.wraps(func)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            func(self, *args, **kwargs)
        except BaseException as exc:
            seen(exc, point.mechanism, handled=point.handled, component=point.owner)
            hide_frame(exc, __init__.__code__)
            raise
        state.adopt(self)
        _crawler_made()

    setattr(__init__, MARK, func)
    return __init__


def _crawler_made() -> None:
    """A crawler was made, so this run crawls (once per process):

    - load what only a crawl's errors need on their thread (the classifier and code ownership),
      beside a construction of tens of milliseconds and before a browser start of hundreds: not
      while crawl4ai is imported (``crwl --help``, a script that never crawls), nor in a crawl's
      first error. Only modules load: no thread, no I/O.
    - deliver what earlier runs left pending, on the worker: a report kept at exit must not wait
      for the next error to leave.
    """
    if state.crawler_made:
        return
    state.crawler_made = True
    try:
        from ...pipeline import get_pipeline
        from . import classification  # noqa: F401 - with code ownership

        get_pipeline().deliver_pending()
    except Exception:
        internal_error("preparing for a crawl's errors")


def wrap_crwl_main(func: Callable[..., Any], point: CapturePoint) -> Callable[..., Any]:
    """``crwl``'s entry point: the process is ours, so uncaught errors are watched too."""

    def watch_process(_args: tuple[Any, ...]) -> None:
        from .crwl import TELEMETRY_COMMAND, install_process_handlers

        if sys.argv[1:2] != [TELEMETRY_COMMAND]:
            install_process_handlers()

    return transparent(func, before=watch_process)


#: How a row is wrapped, by its ``kind`` column:
#: ``call``: what escapes the call is seen, then re-raised; async generators are watched as
#: they are iterated. ``while_handling``: crawl4ai calls it inside an ``except`` block (its
#: loggers), so the exception being handled is seen. ``log_level``: the same, only when the
#: first argument (the level) is ``"error"``. ``init``: ``call``, then the crawler is adopted.
#: ``crwl_main``: crwl's entry point (installs the process handlers; the process is ours).
WRAPPERS: dict[str, Callable[[Callable[..., Any], CapturePoint], Callable[..., Any]]] = {
    "call": wrap_call,
    "while_handling": wrap_while_handling,
    "log_level": wrap_log_level,
    "init": wrap_init,
    "crwl_main": wrap_crwl_main,
}


def wrap(func: Any, point: CapturePoint) -> Any:
    """``func`` wrapped as ``point`` says; a property gets its getter wrapped."""
    if isinstance(func, property):
        return property(wrap(func.fget, point), func.fset, func.fdel, func.__doc__)
    return WRAPPERS[point.kind](func, point)


def is_wrapped(func: Any) -> bool:
    if isinstance(func, property):
        return hasattr(func.fget, MARK)
    return hasattr(func, MARK)


def wrap_user_override(func: Callable[..., Any], expected: Any) -> Callable[..., Any]:
    """A user's override of an extension point: its return value is checked against the base
    method's annotation (:func:`.provenance.record_user_return`, which also keeps the strategy
    object it came from); nothing else changes."""

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_override(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                hide_frame(exc, async_override.__code__)
                raise
            record_user_return(result, expected, args[0] if args else None)
            return result

        setattr(async_override, MARK, func)
        return async_override

    return transparent(func, after=lambda result, args: record_user_return(
        result, expected, args[0] if args else None))
