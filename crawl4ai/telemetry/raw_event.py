"""The raw event: an exception becomes a Sentry-schema event, collection minimised at the source.

Nothing here reads a local variable's value, a source line, ``sys.argv``, the environment or the
host name. (To prove that a class name in a message is known code's, the classes of the objects an
exception carries and of the raising frame's locals are looked at: their classes, never a value.) Frames are classified once (crawl4ai, standard library, installed package, or the user's
own code); a user frame keeps only the fact that it exists. Values (messages, notes) are still
raw here: :mod:`.scrub` redacts them before anything is stored or sent, and
:mod:`.report_builder` is the one call that does both.

The fingerprint comes from the exception type and crawl4ai's frames (module:function), never the
message, so one bug seen on many sites groups as one issue.
"""

from __future__ import annotations

import platform
import time
import uuid
from functools import lru_cache
from types import TracebackType
from typing import Any

from . import chain, ownership
from ._version import __version__
from .scrub import code as scrub_code
from .scrub.known_names import defines

MAX_FRAMES = 60
USER_CODE = ownership.USER_CODE


def _owned_frames(tb: TracebackType | None) -> list[tuple[ownership.Owner, dict[str, Any]]]:
    """Each frame of ``tb`` with its owner; a user frame keeps only that it exists. Our own
    frames (the decorator's ``wrapper``, a capture point's wrapper) are plumbing around the
    error, never where it is: they are left out, unless the error was raised in one of them."""
    frames: list[tuple[ownership.Owner, dict[str, Any]]] = []
    while tb is not None:
        frame = tb.tb_frame
        code = frame.f_code
        owner = ownership.owner_of_frame(frame)
        if owner.origin == ownership.TELEMETRY and tb.tb_next is not None:
            tb = tb.tb_next
            continue
        if not owner.known:
            frames.append((owner, {"filename": USER_CODE, "in_app": False}))
        else:
            entry = {
                "filename": owner.file,
                "module": frame.f_globals.get("__name__"),
                "function": getattr(code, "co_qualname", code.co_name),
                "lineno": tb.tb_lineno,
                "in_app": owner.crawl4ai,
            }
            key = scrub_code.frame_key(entry)
            if key is not None:  # the scrubber reads the templates of the code that really ran
                scrub_code.remember_frame(*key, code)
            frames.append((owner, entry))
        tb = tb.tb_next
    if len(frames) > MAX_FRAMES:  # keep the outermost and the innermost: both locate a bug
        half = MAX_FRAMES // 2
        frames = frames[:half] + frames[-half:]
    return frames


def _frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    return [frame for _, frame in _owned_frames(tb)]


# A class's own bases, module and name, as Python recorded them: a metaclass's property can
# neither raise here nor make a class claim a name it was not given.
_mro_of = type.__dict__["__mro__"].__get__
_module_of = type.__dict__["__module__"].__get__
_qualname_of = type.__dict__["__qualname__"].__get__


def exception_type_name(exc_type: type) -> tuple[str, str | None]:
    """(type name, module) — a class that known code does not define (one in the user's code,
    or one made by ``exec``) shows only its nearest known base, as ``<user code>(ValueError)``:
    the class name is a piece of the user's source."""
    known = _known_class_name(exc_type)
    if known is not None:
        return known
    for base in _mro_of(exc_type)[1:]:
        known = _known_class_name(base)
        if known is not None:
            return f"{USER_CODE}({known[0]})", None
    return USER_CODE, None


def _known_class_name(cls: type) -> tuple[str, str | None] | None:
    """(qualified name, module or None for a builtin) if known code defines ``cls``."""
    try:
        module, qualname = _module_of(cls), _qualname_of(cls)
    except AttributeError:  # a class made where no module name was set: nothing to go by
        return None
    if module is not None and type(module) is not str or type(qualname) is not str:
        return None
    builtin = module in (None, "builtins", "__builtin__")
    if not defines("builtins" if builtin else module, qualname):
        return None
    return qualname, None if builtin else module


def _message(exc: BaseException) -> str:
    try:
        value = str(exc)
    except Exception:
        value = "<unprintable>"
    try:
        notes = getattr(exc, "__notes__", None)
    except Exception:  # a property that raises: the message alone is still worth reporting
        notes = None
    if isinstance(notes, (list, tuple)):
        value = "\n".join([value, *(n for n in notes if isinstance(n, str))])
    return value


MAX_LOCALS = 200


def _proven_classes(exc: BaseException, tb: TracebackType | None, message: str) -> frozenset[str]:
    """Names of classes known code defines that the message names and that this error really
    involved: the class of what an ``AttributeError`` carries (``.obj``), of the raising frame's
    locals, and the classes the raising frame's module holds (the operand of
    ``unsupported operand type(s) for +: 'DomainState' and 'int'``, an item of a crawl4ai dict).
    Decided from the class objects; the scrubber keeps such a name in a class-name hole only."""
    if "'" not in message:
        return frozenset()
    candidates: list[Any] = []
    if isinstance(exc, AttributeError):
        try:
            obj = exc.obj  # 3.10+: the object whose attribute was missing
        except AttributeError:
            obj = None
        if obj is not None:
            candidates.append(obj if isinstance(obj, type) else type(obj))
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        frame = tb.tb_frame
        try:
            candidates.extend(type(v) for v in list(frame.f_locals.values())[:MAX_LOCALS])
            candidates.extend(v for v in list(frame.f_globals.values())[:10 * MAX_LOCALS] if isinstance(v, type))
        except Exception:
            pass
    out: set[str] = set()
    for cls in candidates:
        try:
            name = type.__dict__["__name__"].__get__(cls)
        except Exception:
            continue
        if isinstance(name, str) and f"'{name}'" in message and name not in out \
                and _known_class_name(cls) is not None:
            out.add(name)
    return frozenset(out)


def exception_values(exc: BaseException, traceback: TracebackType | None = None) -> list[dict[str, Any]]:
    """The chain (causes, contexts, exception groups), oldest first as Sentry expects.

    ``traceback`` is ``exc``'s traceback as it was when the error was captured: the exception
    keeps propagating (and its traceback keeps growing) while the report is built elsewhere."""
    root_tb = chain.traceback_of(exc) if traceback is None else traceback
    out: list[dict[str, Any]] = []
    for link in chain.walk(exc):
        e = link.exception
        type_name, module = exception_type_name(type(e))
        mechanism: dict[str, Any] = {"type": "chained" if link.parent is not None else "generic",
                                     "handled": True, "exception_id": link.index}
        if link.parent is not None:
            mechanism["parent_id"] = link.parent
            mechanism["source"] = link.source
        if chain.is_group(e):
            mechanism["is_exception_group"] = True
        tb = root_tb if e is exc else chain.traceback_of(e)
        entry: dict[str, Any] = {"type": type_name, "value": _message(e), "mechanism": mechanism}
        if module:
            entry["module"] = module
        entry["stacktrace"] = {"frames": _frames(tb)}
        # Read by the scrubber only (never kept): which class names the exception's objects prove.
        entry[scrub_code.PROVEN] = sorted(_proven_classes(e, tb, entry["value"]))
        out.append(entry)
    out.reverse()
    return out


def fingerprint(exc: BaseException, traceback: TracebackType | None = None) -> list[str]:
    """Type plus crawl4ai frames (module:function) of the innermost crawl4ai-bearing exception."""
    root_tb = chain.traceback_of(exc) if traceback is None else traceback
    parts = [exception_type_name(type(exc))[0]]
    for candidate in chain.line(exc):
        tb = root_tb if candidate is exc else chain.traceback_of(candidate)
        frames = [f for f in _frames(tb) if f.get("in_app")]
        if frames:
            if candidate is not exc:
                parts.append(exception_type_name(type(candidate))[0])
            parts.extend(f"{f['module']}:{f['function']}" for f in frames)
            break
    else:
        frames = [f for owner, f in _owned_frames(root_tb)
                  if owner.known and owner.origin != ownership.TELEMETRY]
        parts.extend(f"{f['module']}:{f['function']}" for f in frames[-3:])
    return parts


@lru_cache(maxsize=1)
def crawl4ai_version() -> str:
    try:
        from importlib.metadata import version

        return version("crawl4ai")
    except Exception:
        return "unknown"


@lru_cache(maxsize=1)
def _runtime() -> dict[str, dict[str, str]]:
    return {
        "runtime": {"name": platform.python_implementation(), "version": platform.python_version()},
        "os": {"name": platform.system(), "release": platform.release()},
    }


def build_event(
    exc: BaseException,
    context: dict[str, Any] | None = None,
    *,
    environment: str,
    email: str | None = None,
    mechanism: str = "generic",
    handled: bool = True,
    occurrences: int = 1,
    traceback: TracebackType | None = None,
) -> dict[str, Any]:
    """A raw (not yet scrubbed) Sentry event for ``exc``. No I/O, no locals, no source."""
    values = exception_values(exc, traceback)
    if values:
        values[-1]["mechanism"].update(type=mechanism, handled=handled)
    c4a_version = crawl4ai_version()
    contexts: dict[str, Any] = {k: dict(v) for k, v in _runtime().items()}
    contexts["crawl4ai"] = {
        "version": c4a_version,
        "telemetry_version": __version__,
        "environment": environment,
    }
    if context:
        # "occurrences" is the pipeline's count, never a caller's number.
        contexts["telemetry"] = {k: v for k, v in context.items() if k != "occurrences"}
    if occurrences > 1:
        contexts.setdefault("telemetry", {})["occurrences"] = occurrences
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "platform": "python",
        "level": "fatal" if not handled else "error",
        "release": f"crawl4ai@{c4a_version}",
        "environment": environment,
        "exception": {"values": values},
        "contexts": contexts,
        "tags": {
            "environment": environment,
            "crawl4ai_version": c4a_version,
            "telemetry_version": __version__,
            "python_version": platform.python_version(),
        },
        "fingerprint": fingerprint(exc, traceback),
        "sdk": {"name": "crawl4ai.telemetry", "version": __version__},
    }
    if email:
        event["user"] = {"email": email}
    return event
