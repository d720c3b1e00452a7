"""Build: an exception becomes a Sentry-schema event, with collection minimised at the source.

Nothing here reads a local variable, a source line, ``sys.argv``, the environment or the host
name. Frames are classified once (crawl4ai, standard library, installed package, or the user's
own code); a user frame keeps only the fact that it exists. Values (messages, notes) are still
raw here: :mod:`.scrub` redacts them before anything is stored or sent.

The fingerprint comes from the exception type and crawl4ai's frames (module:function), never the
message, so one bug seen on many sites groups as one issue.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import time
import uuid
from functools import lru_cache
from types import TracebackType
from typing import Any

from ._version import __version__

MAX_CHAINED = 10
MAX_FRAMES = 60
USER_CODE = "<user code>"

CRAWL4AI = "crawl4ai"
STDLIB = "stdlib"
PACKAGE = "package"
USER = "user"


@lru_cache(maxsize=1)
def _roots() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(stdlib dirs, package dirs), longest first so the tightest root wins."""
    paths = sysconfig.get_paths()
    stdlib = {paths.get("stdlib"), paths.get("platstdlib")}
    packages = {paths.get("purelib"), paths.get("platlib")}
    try:
        import site

        packages.update(site.getsitepackages())
        packages.add(site.getusersitepackages())
    except Exception:
        pass
    norm = lambda s: tuple(sorted({os.path.normcase(p) + os.sep for p in s if p}, key=len, reverse=True))  # noqa: E731
    return norm(stdlib), norm(packages)


@lru_cache(maxsize=4096)
def classify_file(filename: str, module: str | None) -> tuple[str, str]:
    """(origin, package-relative file name) for a code file; origin is one of the four kinds."""
    if module and (module == "crawl4ai" or module.startswith("crawl4ai.")):
        return CRAWL4AI, _module_file(module, filename)
    if filename.startswith("<frozen "):
        return STDLIB, filename
    path = os.path.normcase(os.path.abspath(filename)) if filename and not filename.startswith("<") else ""
    if not path:
        return USER, USER_CODE
    stdlib, packages = _roots()
    for root in packages:
        if path.startswith(root):
            return PACKAGE, path[len(root):].replace(os.sep, "/")
    for marker in (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep):
        if marker in path:
            return PACKAGE, path.rsplit(marker, 1)[1].replace(os.sep, "/")
    for root in stdlib:
        if path.startswith(root):
            return STDLIB, path[len(root):].replace(os.sep, "/")
    return USER, USER_CODE


def _module_file(module: str, filename: str) -> str:
    base = module.replace(".", "/")
    return base + ("/__init__.py" if os.path.basename(filename) == "__init__.py" else ".py")


def _frames(tb: TracebackType | None) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while tb is not None:
        frame = tb.tb_frame
        code = frame.f_code
        module = frame.f_globals.get("__name__") if isinstance(frame.f_globals, dict) else None
        origin, filename = classify_file(code.co_filename, module if isinstance(module, str) else None)
        if origin == USER:
            frames.append({"filename": USER_CODE, "in_app": False})
        else:
            frames.append(
                {
                    "filename": filename,
                    "module": module,
                    "function": getattr(code, "co_qualname", code.co_name),
                    "lineno": tb.tb_lineno,
                    # Telemetry's own wrappers are plumbing around the error, not where it is.
                    "in_app": origin == CRAWL4AI and not _is_telemetry(module),
                }
            )
        tb = tb.tb_next
    if len(frames) > MAX_FRAMES:  # keep the outermost and the innermost: both locate a bug
        half = MAX_FRAMES // 2
        frames = frames[:half] + frames[-half:]
    return frames


def _is_telemetry(module: Any) -> bool:
    return isinstance(module, str) and (module == "crawl4ai.telemetry" or module.startswith("crawl4ai.telemetry."))


def _module_origin(module: str | None) -> str:
    if module in (None, "builtins", "__builtin__"):
        return STDLIB
    mod = sys.modules.get(module)
    filename = getattr(mod, "__file__", None) or ""
    if filename:
        return classify_file(filename, module)[0]
    if module == "crawl4ai" or module.startswith("crawl4ai."):
        return CRAWL4AI
    stdlib = getattr(sys, "stdlib_module_names", ())
    return STDLIB if module.split(".")[0] in stdlib else USER


def exception_type_name(exc_type: type) -> tuple[str, str | None]:
    """(type name, module) — a class defined in the user's code shows only its nearest public
    base, as ``<user code>(ValueError)``: the class name is a piece of the user's source."""
    module = getattr(exc_type, "__module__", None)
    if module in (None, "builtins", "__builtin__"):
        return exc_type.__qualname__, None
    if _module_origin(module) == USER:
        for base in exc_type.__mro__[1:]:
            if _module_origin(getattr(base, "__module__", None)) != USER:
                return f"{USER_CODE}({base.__qualname__})", None
        return USER_CODE, None
    return exc_type.__qualname__, module


def _message(exc: BaseException) -> str:
    try:
        value = str(exc)
    except Exception:
        value = "<unprintable>"
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, (list, tuple)):
        value = "\n".join([value, *(n for n in notes if isinstance(n, str))])
    return value


def exception_values(exc: BaseException, traceback: TracebackType | None = None) -> list[dict[str, Any]]:
    """The chain (causes, contexts, exception groups), oldest first as Sentry expects.

    ``traceback`` is ``exc``'s traceback as it was when the error was captured: the exception
    keeps propagating (and its traceback keeps growing) while the report is built elsewhere."""
    root_tb = exc.__traceback__ if traceback is None else traceback
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(e: BaseException, source: str | None, parent: int | None) -> None:
        if id(e) in seen or len(out) >= MAX_CHAINED:
            return
        seen.add(id(e))
        exc_id = len(out)
        type_name, module = exception_type_name(type(e))
        is_group = isinstance(getattr(e, "exceptions", None), (list, tuple)) and hasattr(e, "derive")
        mechanism: dict[str, Any] = {"type": "chained" if parent is not None else "generic",
                                     "handled": True, "exception_id": exc_id}
        if parent is not None:
            mechanism["parent_id"] = parent
            mechanism["source"] = source
        if is_group:
            mechanism["is_exception_group"] = True
        entry: dict[str, Any] = {"type": type_name, "value": _message(e), "mechanism": mechanism}
        if module:
            entry["module"] = module
        entry["stacktrace"] = {"frames": _frames(root_tb if e is exc else e.__traceback__)}
        out.append(entry)
        if e.__cause__ is not None:
            walk(e.__cause__, "__cause__", exc_id)
        elif e.__context__ is not None and not e.__suppress_context__:
            walk(e.__context__, "__context__", exc_id)
        if is_group:
            for i, sub in enumerate(e.exceptions):
                if isinstance(sub, BaseException):
                    walk(sub, f"exceptions[{i}]", exc_id)

    walk(exc, None, None)
    out.reverse()
    return out


def fingerprint(exc: BaseException, traceback: TracebackType | None = None) -> list[str]:
    """Type plus crawl4ai frames (module:function) of the innermost crawl4ai-bearing exception."""
    root_tb = exc.__traceback__ if traceback is None else traceback
    parts = [exception_type_name(type(exc))[0]]
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < MAX_CHAINED and e not in chain:
        chain.append(e)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    for candidate in chain:
        tb = root_tb if candidate is exc else candidate.__traceback__
        frames = [f for f in _frames(tb) if f.get("in_app")]
        if frames:
            if candidate is not exc:
                parts.append(exception_type_name(type(candidate))[0])
            parts.extend(f"{f['module']}:{f['function']}" for f in frames)
            break
    else:
        frames = [
            f for f in _frames(root_tb)
            if f["filename"] != USER_CODE and not _is_telemetry(f.get("module"))
        ]
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
        contexts["telemetry"] = dict(context)
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
