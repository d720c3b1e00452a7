"""Where the value crawl4ai tripped over came from, when a crawl4ai bug is suspected.

crawl4ai validates little of what it is given, so a user's mistake often fails deep in crawl4ai's
code (a list where a selector string belongs, ``max_depth="2"``, a custom chunker returning
``None``). Three questions tell such a failure from a crawl4ai bug:

- **Config objects against their declared types.** Every crawl4ai object held by a crawl4ai frame
  on the traceback (``self``, ``config``, the strategies they hold) is checked: an attribute named
  after an ``__init__`` parameter whose value does not match the parameter's annotation came
  from the user. The check is lenient: an annotation it cannot read matches anything.
- **Values returned by user-defined strategies.** A method a user's class overrides on one of
  crawl4ai's extension points (:data:`.points.EXTENSION_POINTS`) is wrapped; a return value that
  does not match the base method's annotation is remembered for a short while, and a crawl4ai
  frame holding that very object on the traceback means the user's value caused the failure.
- **crawl4ai's call into user code.** A ``TypeError`` raised by the call itself (a hook with the
  wrong signature) names the user's function first.

Everything here runs in the process to decide; nothing read here enters a report.
"""

from __future__ import annotations

import collections.abc
import inspect
import threading
import time
import typing
from types import TracebackType
from typing import Any

from .ownership import frame_origin, is_crawl4ai_class, is_user_function

_MAX_FRAMES = 200
_MAX_OBJECTS = 200
_RECENT_SECONDS = 120.0
_hints_cache: dict[type, dict[str, tuple[Any, Any]]] = {}
_recent_bad_returns: collections.deque[tuple[float, Any]] = collections.deque(maxlen=32)
_recent_lock = threading.Lock()


# -- lenient type matching ----------------------------------------------------------------------


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the annotation ``hint``; True whenever the hint is not understood."""
    if hint is Any or hint is None and value is None:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        return any(matches(value, arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin is not None:
        return _matches_generic(value, origin, typing.get_args(hint))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) or isinstance(value, float)
    if hint is int:
        return isinstance(value, int)
    if isinstance(hint, type):
        try:
            return isinstance(value, hint)
        except TypeError:
            return True
    return True  # TypeVar, ForwardRef, strings, Callable[...] objects, …


def _matches_generic(value: Any, origin: Any, args: tuple[Any, ...]) -> bool:
    if origin is collections.abc.Callable:
        return callable(value)
    if not isinstance(origin, type):
        return True
    try:
        if not isinstance(value, origin):
            return False
    except TypeError:
        return True
    if origin in (list, set, frozenset) and len(args) == 1:
        return all(matches(item, args[0]) for item in list(value)[:50])
    if origin is dict and len(args) == 2:
        return all(matches(k, args[0]) for k in list(value)[:50])
    return True


def _init_hints(cls: type) -> dict[str, tuple[Any, Any]]:
    """``{parameter: (annotation, default)}`` of ``cls.__init__``, for readable annotations."""
    cached = _hints_cache.get(cls)
    if cached is not None:
        return cached
    hints: dict[str, tuple[Any, Any]] = {}
    try:
        init = cls.__init__
        params = inspect.signature(init).parameters
        try:
            resolved = typing.get_type_hints(init)
        except Exception:
            resolved = {}
        for name, param in params.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            hint = resolved.get(name)
            if hint is None or isinstance(hint, str):
                continue
            if param.default is None:
                hint = hint | None
            hints[name] = (hint, param.default)
    except Exception:
        hints = {}
    _hints_cache[cls] = hints
    return hints


def mistyped_attributes(obj: Any) -> list[str]:
    """Names of ``obj``'s attributes that do not match their ``__init__`` annotation (crawl4ai's
    own defaults do not always match theirs, ``max_pages: int = float("inf")``: a default is
    never the user's mistake)."""
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return []
    return [name for name, (hint, default) in _init_hints(type(obj)).items()
            if name in attrs and not matches(attrs[name], hint) and not _is_default(attrs[name], default)]


def _is_default(value: Any, default: Any) -> bool:
    try:
        return value is default or bool(value == default)
    except Exception:
        return False


# -- what the traceback's crawl4ai frames hold ---------------------------------------------------


def _crawl4ai_frames(exc: BaseException) -> list[Any]:
    frames = []
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and len(frames) < _MAX_FRAMES:
        if frame_origin(tb.tb_frame) == "crawl4ai":
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _crawl4ai_objects(frames: list[Any]) -> list[Any]:
    """crawl4ai objects held by the frames' locals, and those they hold (one level down)."""
    found: dict[int, Any] = {}
    todo = [v for frame in frames for v in frame.f_locals.values()]
    for depth in range(2):
        nxt = []
        for value in todo:
            if len(found) >= _MAX_OBJECTS:
                return list(found.values())
            if id(value) in found or not is_crawl4ai_class(type(value)):
                continue
            found[id(value)] = value
            if depth == 0:
                nxt.extend(v for v in getattr(value, "__dict__", {}).values())
        todo = nxt
    return list(found.values())


def bad_value_from_user(exc: BaseException) -> bool:
    """True if the failure is explained by a value the user supplied (see the module doc)."""
    try:
        frames = _crawl4ai_frames(exc)
        if any(mistyped_attributes(obj) for obj in _crawl4ai_objects(frames)):
            return True
        return _holds_recent_bad_return(frames)
    except Exception:
        return False


# -- values returned by user-defined strategies -------------------------------------------------


def record_user_return(value: Any, expected: Any) -> None:
    """Called by the wrapper around a user's override: remember ``value`` if it is mistyped."""
    if matches(value, expected):
        return
    with _recent_lock:
        _recent_bad_returns.append((time.monotonic(), value))


def _holds_recent_bad_return(frames: list[Any]) -> bool:
    now = time.monotonic()
    with _recent_lock:
        recent = [v for t, v in _recent_bad_returns if now - t < _RECENT_SECONDS]
    if not recent:
        return False
    for frame in frames:
        for local in frame.f_locals.values():
            if any(local is value for value in recent):
                return True
    return False


def forget_recent_returns() -> None:
    with _recent_lock:
        _recent_bad_returns.clear()


# -- crawl4ai's call into user code --------------------------------------------------------------


def failed_calling_user_code(exc: BaseException) -> bool:
    """A ``TypeError`` raised by crawl4ai's call of a user's function itself (wrong signature):
    the innermost frame is crawl4ai's, and the message starts with the user function's name."""
    if not isinstance(exc, TypeError) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    if frame_origin(frame) != "crawl4ai":
        return False
    message = str(exc)
    for func in _callables_near(frame):
        name = getattr(func, "__qualname__", None)
        if isinstance(name, str) and message.startswith(name + "()") and is_user_function(func):
            return True
    return False


def _callables_near(frame: Any) -> list[Any]:
    out = []
    for value in list(frame.f_locals.values())[:100]:
        candidates = [value]
        if isinstance(value, dict):
            candidates.extend(list(value.values())[:100])
        elif is_crawl4ai_class(type(value)):
            attrs = getattr(value, "__dict__", {})
            candidates.extend(list(attrs.values())[:100])
            for v in list(attrs.values())[:100]:
                if isinstance(v, dict):
                    candidates.extend(list(v.values())[:100])
        out.extend(inspect.unwrap(c) if callable(c) else c for c in candidates if callable(c))
    return out
