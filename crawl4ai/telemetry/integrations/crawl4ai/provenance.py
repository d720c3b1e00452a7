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
  does not match the base method's annotation is remembered for the crawl (``arun``), and
  crawl4ai failing on it later, wherever that is, is the user's: a crawl4ai frame holds that very
  object, or the failure is an operation on a value of its type (``extend(None)``:
  ``'NoneType' object is not iterable``).
- **crawl4ai's call into user code.** A ``TypeError`` raised by the call itself (a hook with the
  wrong signature) names the user's function first.

Everything here runs in the process to decide; nothing read here enters a report.
"""

from __future__ import annotations

import collections
import collections.abc
import contextvars
import inspect
import sys
import time
import typing
from types import TracebackType
from typing import Any

from ...chain import traceback_of

# Code ownership is imported where it is asked, at a crawl's errors (a crawler's construction
# loads it): this module loads while crawl4ai is imported, and ownership would double its cost.
_MAX_FRAMES = 200
_MAX_OBJECTS = 200
_MAX_BAD_RETURNS = 32
_hints_cache: dict[type, dict[str, tuple[Any, Any]]] = {}
_bad_returns: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "crawl4ai_telemetry_bad_returns", default=None)
#: How long a wrong value returned outside any crawl's context counts (see record_user_return).
UNSCOPED_SECONDS = 60.0
_unscoped: collections.deque[tuple[float, Any, Any]] = collections.deque(maxlen=_MAX_BAD_RETURNS)


# -- lenient type matching ----------------------------------------------------------------------


# Kinds of plain data a user writes in a config; anything else is an "object" (duck typing:
# never called a mismatch). crawl4ai converts some values in __init__ (a list of classes becomes
# a set), so kinds are compared, not exact types.
_COLLECTIONS = (list, tuple, set, frozenset)


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (str, bytes)):
        return "text"
    if isinstance(value, _COLLECTIONS):
        return "collection"
    if isinstance(value, collections.abc.Mapping):
        return "mapping"
    return "object"


def _kinds_of_class(hint: type) -> set[str]:
    kinds = {"object"}
    for base, kind in ((bool, "bool"), (int, "number"), (float, "number"), (str, "text"),
                       (bytes, "text"), (dict, "mapping")):
        if issubclass(hint, base):
            kinds.add(kind)
    if hint in (int, float, bool):
        kinds |= {"number", "bool"}
    if issubclass(hint, _COLLECTIONS) or hint in (collections.abc.Sequence, collections.abc.Iterable,
                                                   collections.abc.Collection):
        kinds.add("collection")
    if hint is collections.abc.Mapping:
        kinds.add("mapping")
    return kinds


def _kinds(hint: Any) -> set[str] | None:
    """The kinds of value ``hint`` allows; None when it is not understood (allows anything)."""
    if hint is Any:
        return None
    if hint is None or hint is type(None):
        return {"none"}
    origin = typing.get_origin(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        kinds: set[str] = set()
        for arg in typing.get_args(hint):
            more = _kinds(arg)
            if more is None:
                return None
            kinds |= more
        return kinds
    if origin is typing.Literal:
        return {_kind(v) for v in typing.get_args(hint)}
    if origin is collections.abc.Callable:
        return {"object"}
    target = origin if origin is not None else hint
    return _kinds_of_class(target) if isinstance(target, type) else None


def matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of a kind ``hint`` allows; True whenever the hint is not understood
    and for any object that is not plain data."""
    kinds = _kinds(hint)
    kind = _kind(value)
    return kinds is None or kind == "object" or kind in kinds


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
                try:
                    hint = hint | None
                except TypeError:
                    continue
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
    """crawl4ai frames on the traceback, and those still running above the capture point that
    saw it (a capture point deep in crawl4ai sees the exception before its callers' frames are
    on the traceback)."""
    from ...ownership import owner_of_frame

    frames = []
    tb: TracebackType | None = traceback_of(exc)
    outermost = tb.tb_frame if tb is not None else None
    while tb is not None and len(frames) < _MAX_FRAMES:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    caller = outermost.f_back if outermost is not None else None
    while caller is not None and len(frames) < _MAX_FRAMES:
        frames.append(caller)
        caller = caller.f_back
    return [f for f in frames if owner_of_frame(f).crawl4ai]


def _crawl4ai_objects(frames: list[Any]) -> list[Any]:
    """crawl4ai objects held by the frames' locals, and those they hold (one level down)."""
    from ...ownership import owner_of_class

    found: dict[int, Any] = {}
    todo = [v for frame in frames for v in frame.f_locals.values()]
    for depth in range(2):
        nxt = []
        for value in todo:
            if len(found) >= _MAX_OBJECTS:
                return list(found.values())
            if id(value) in found or not owner_of_class(type(value)).crawl4ai:
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
        objects = _crawl4ai_objects(frames)
        if any(mistyped_attributes(obj) for obj in objects):
            return True
        if _mistyped_argument_from_a_config(frames, objects):
            return True
        return _holds_bad_return(exc, frames)
    except Exception:
        return False


# -- an argument of the wrong kind, taken from a config the user built ----------------------------


def _function_of(frame: Any) -> Any:
    name = frame.f_code.co_name
    owner = frame.f_locals.get("self")
    func = getattr(type(owner), name, None) if owner is not None else frame.f_globals.get(name)
    func = inspect.unwrap(func) if callable(func) else None
    return func if getattr(func, "__code__", None) is frame.f_code else None


def _mistyped_arguments(frame: Any) -> list[Any]:
    func = _function_of(frame)
    if func is None:
        return []
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        return []
    code = frame.f_code
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return [frame.f_locals[n] for n in names
            if n in hints and n in frame.f_locals and not matches(frame.f_locals[n], hints[n])]


def _reachable(objects: list[Any], limit: int = 5_000) -> set[int]:
    """ids of the values inside the crawl4ai objects' attributes, through dicts and lists (a
    JSON-like schema the user wrote), a few levels down."""
    seen: set[int] = set()
    todo = [v for obj in objects for v in getattr(obj, "__dict__", {}).values()]
    for _ in range(5):
        nxt = []
        for value in todo:
            if id(value) in seen or len(seen) >= limit:
                continue
            seen.add(id(value))
            if isinstance(value, dict):
                nxt.extend(value.values())
            elif isinstance(value, (list, tuple)):
                nxt.extend(value)
        todo = nxt
    return seen


def _mistyped_argument_from_a_config(frames: list[Any], objects: list[Any]) -> bool:
    """A crawl4ai function got an argument of the wrong kind for its annotation, and that very
    object sits in a config the user built (a list as a field's ``selector`` in a schema)."""
    candidates = [v for frame in frames[:20] for v in _mistyped_arguments(frame)]
    candidates = [v for v in candidates if _kind(v) in ("collection", "mapping", "text", "number")]
    if not candidates:
        return False
    inside = _reachable(objects)
    return any(id(v) in inside for v in candidates)


# -- values returned by user-defined strategies -------------------------------------------------


def new_crawl() -> None:
    """A crawl starts (``arun``): values users' strategies return are remembered for this crawl
    only. A list, so threads the crawl hands work to (``asyncio.to_thread``) add to it too."""
    _bad_returns.set([])


def record_user_return(value: Any, expected: Any, strategy: Any = None) -> None:
    """Called by the wrapper around a user's override: remember ``value`` if it is of the wrong
    kind for the base method's annotation. In a thread crawl4ai started without the crawl's
    context (``ExtractionStrategy.run`` hands ``extract`` to a ``ThreadPoolExecutor``), it is
    remembered with the user's ``strategy`` object instead, for :data:`UNSCOPED_SECONDS`: the
    crawl4ai code that trips over it holds that object (``run``'s ``self``)."""
    if matches(value, expected):
        return
    returned = _bad_returns.get()
    if returned is None:
        if strategy is not None:
            _unscoped.append((time.monotonic(), strategy, value))
    elif len(returned) < _MAX_BAD_RETURNS:
        returned.append(value)


def _bad_returns_behind(frames: list[Any]) -> list[Any]:
    """The wrong values users' strategies returned that these crawl4ai frames may have met: the
    crawl's own, and those of a strategy object the frames hold."""
    now = time.monotonic()
    held = {id(local) for frame in frames for local in frame.f_locals.values()}
    unscoped = [value for when, strategy, value in list(_unscoped)
                if now - when < UNSCOPED_SECONDS and id(strategy) in held]
    return [*(_bad_returns.get() or ()), *unscoped]


# The kinds a value is told by its identity: plain constants (None, True, 7, "x") are shared
# by every piece of code, so a frame holding one proves nothing.
_BY_IDENTITY = frozenset({"collection", "mapping", "object"})


def _holds_bad_return(exc: BaseException, frames: list[Any]) -> bool:
    """crawl4ai failed on a value a user's strategy returned: a crawl4ai frame holds that very
    object, or crawl4ai's operation on a value of its type failed (``extend(None)``: ``'NoneType'
    object is not iterable``)."""
    returned = _bad_returns_behind(frames)
    if not returned:
        return False
    if _failed_on_a_value_of_type(exc, {type(value) for value in returned}):
        return True
    held = [value for value in returned if _kind(value) in _BY_IDENTITY]
    return any(local is value for frame in frames for local in frame.f_locals.values()
               for value in held)


def _failed_on_a_value_of_type(exc: BaseException, types: set[type]) -> bool:
    """A ``TypeError`` or ``AttributeError`` whose subject is a value of one of ``types``: the
    object it is about (``AttributeError.obj``), or the type CPython names as the operand
    (``'NoneType' object is not iterable``, ``argument of type 'int' is not iterable``)."""
    if not isinstance(exc, (TypeError, AttributeError)):
        return False
    if isinstance(exc, AttributeError):
        obj = attribute_error_object(exc)
        if obj is not None and type(obj) in types:
            return True
    try:
        message = BaseException.__str__(exc)
    except Exception:
        return False
    for cls in types:
        name = f"'{cls.__name__}'"
        if message.startswith(name + " object") or f"of type {name}" in message:
            return True
    return False


# -- crawl4ai's call into user code --------------------------------------------------------------


def attribute_error_object(exc: AttributeError) -> Any:
    """The object an ``AttributeError`` was about, as Python recorded it (past any property of
    the exception's class, like :mod:`...chain` reads links); None if it was not recorded."""
    return AttributeError.obj.__get__(exc)


def failed_calling_user_code(exc: BaseException) -> bool:
    """A ``TypeError`` raised by crawl4ai's call of a user's function itself (wrong signature):
    the innermost frame is crawl4ai's, and the message starts with the user function's name. Or an
    ``AttributeError`` of a user's object that crawl4ai read (the object lacks what crawl4ai needs)."""
    from ...ownership import owner_of_frame

    tb = traceback_of(exc)
    if isinstance(exc, AttributeError) and tb is not None:
        obj = attribute_error_object(exc)
        return obj is not None and not isinstance(obj, type) and _is_user_class(type(obj))
    if not isinstance(exc, TypeError) or tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    if not owner_of_frame(frame).crawl4ai:
        return False
    message = str(exc)
    for func in _callables_near(frame):
        name = getattr(func, "__qualname__", None)
        if isinstance(name, str) and message.startswith(name + "()") and _is_user_function(func):
            return True
    return False


def _callables_near(frame: Any) -> list[Any]:
    from ...ownership import owner_of_class

    out = []
    for value in list(frame.f_locals.values())[:100]:
        candidates = [value]
        if isinstance(value, dict):
            candidates.extend(list(value.values())[:100])
        elif owner_of_class(type(value)).crawl4ai:
            attrs = getattr(value, "__dict__", {})
            candidates.extend(list(attrs.values())[:100])
            for v in list(attrs.values())[:100]:
                if isinstance(v, dict):
                    candidates.extend(list(v.values())[:100])
        elif not isinstance(value, type) and not owner_of_class(type(value)).crawl4ai:
            # A user's object handed to crawl4ai: its methods are what crawl4ai calls.
            candidates.extend(list(vars(type(value)).values())[:100])
        out.extend(inspect.unwrap(c) if callable(c) else c for c in candidates if callable(c))
    return out


def _is_user_class(cls: type) -> bool:
    from ...ownership import USER, owner_of_file

    module = sys.modules.get(getattr(cls, "__module__", "") or "")
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and owner_of_file(filename, cls.__module__).origin == USER


def _is_user_function(func: Any) -> bool:
    from ...ownership import USER, owner_of_file

    code = getattr(func, "__code__", None)
    module = getattr(func, "__module__", None)
    return code is not None and owner_of_file(code.co_filename, module).origin == USER
