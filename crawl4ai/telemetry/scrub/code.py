"""Which code a report's messages came from: the code objects of its frames and of its exception
classes, and what that code proves about the names in a message.

A message keeps text only where a template of this code puts it (:mod:`.align`). The templates
are read from code objects (:mod:`.formats`), found two ways:

- as build saw them: :func:`remember_frame` keeps the code object of every known frame a report
  was built from (bounded, newest kept), so the code that really ran is read (a function replaced
  at run time, code ``exec``'d under a library's file name), and a second scrub of the same report
  (Sentry's ``before_send``) reads the same code;
- else by name, as the frame names it (``module`` + qualified name + line), looked up in the loaded
  module without running any code (a report read again in a later process).

Proofs: a name in a message's hole stays only if code proves it is code, not data. Build records
what the exception carries beside the raw message (:data:`PROVEN`: ``AttributeError.obj``'s class
when known code defines it); the raising frame's own code proves the names and numbers it uses
(``.status_code``, ``int(x, 10)``'s base). A word alone proves nothing. The raw field never
leaves the scrubber: a second scrub of the same report (Sentry's ``before_send``) finds what the
first one proved under the message the first one wrote (:func:`remember_proof`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from types import CodeType, FunctionType, MappingProxyType, ModuleType
from typing import Any

from .. import ownership
from . import formats
from .align import Aligner, Pool, Proofs
from .known_names import KnownModules
from .message import base_pool

MAX_REMEMBERED = 4096
FrameKey = tuple[str, str, int]  # module, qualified function name, line

_frames: OrderedDict[FrameKey, CodeType] = OrderedDict()
_proofs: OrderedDict[tuple[str, FrameKey | None, str], frozenset[str]] = OrderedDict()

#: The raw exception value's field where build puts the class names the exception's objects prove.
PROVEN = "_proven_classes"
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # a fork may copy it held by the parent's worker


os.register_at_fork(after_in_child=_new_lock_in_child)

_MODULE_DICT = ModuleType.__dict__["__dict__"].__get__
_CLASS_DICT = type.__dict__["__dict__"].__get__
_FUNCTION_CODE = FunctionType.__dict__["__code__"].__get__
_MODULE_OF = type.__dict__["__module__"].__get__

def _remember(table: OrderedDict, key: Any, value: Any) -> None:
    with _lock:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_REMEMBERED:
            table.popitem(last=False)


def remember_frame(module: str, function: str, lineno: int, code: CodeType) -> None:
    """Build saw known code ``code`` run at this frame."""
    _remember(_frames, (module, function, lineno), code)


def remember_proof(type_name: str, frame: FrameKey | None, message: str, names: frozenset[str]) -> None:
    """The scrubber kept ``names`` in ``message`` (as it wrote it) of an exception of
    ``type_name`` raised at ``frame``, on build's proof: a second scrub of that report keeps them."""
    if names:
        _remember(_proofs, (type_name, frame, message), names)


def proof(type_name: str, frame: FrameKey | None, message: str) -> frozenset[str]:
    return _proofs.get((type_name, frame, message), frozenset())


def frame_key(frame: Any) -> FrameKey | None:
    """The key of a report's frame, or None for a frame that names no known code."""
    if not isinstance(frame, dict):
        return None
    module, function, lineno = frame.get("module"), frame.get("function"), frame.get("lineno")
    if isinstance(module, str) and isinstance(function, str) and type(lineno) is int:
        return module, function, lineno
    return None


def code_of(key: FrameKey) -> CodeType | None:
    """The code object that ran at a known frame: as build saw it, or found by its name."""
    code = _frames.get(key)
    if code is not None:
        return code
    module, function, lineno = key
    if not ownership.owner_of_module(module).known:
        return None
    code = _lookup(sys.modules.get(module), function)
    if code is None or not _holds_line(code, lineno):
        return None
    return code


def _holds_line(code: CodeType, lineno: int) -> bool:
    return any(line == lineno for _, _, line in code.co_lines())


def _lookup(module: Any, qualname: str) -> CodeType | None:
    """``module``'s code object called ``qualname`` (``Class.method``, ``f.<locals>.g``), read as
    stored: no property, ``__getattr__`` or import runs."""
    obj: Any = module
    code: CodeType | None = None
    for part in qualname.split("."):
        if part == "<locals>":
            continue
        if code is not None:  # inside a function: its nested code objects
            code = _nested(code, part)
            if code is None:
                return None
            continue
        obj = ownership.stored(obj, part)
        if obj is None:
            return None
        code = _code_of_object(obj)  # None while ``obj`` is a class
    return code


def _nested(code: CodeType, name: str) -> CodeType | None:
    for const in code.co_consts:
        if isinstance(const, CodeType) and const.co_name == name:
            return const
    return None


def _code_of_object(obj: Any) -> CodeType | None:
    """The code of a function, a static or class method or a property's getter, or None."""
    for _ in range(4):
        if type(obj) is FunctionType:
            return _FUNCTION_CODE(obj)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        elif isinstance(obj, property):
            obj = obj.fget
        else:
            wrapped = ownership.stored(obj, "__wrapped__") if obj is not None else None
            if wrapped is None:
                return None
            obj = wrapped
    return None


# -- the code of exception classes --------------------------------------------------------------


def class_of(module: str | None, qualname: str) -> type | None:
    """The exception class a report names (``module`` + qualified name), read as stored."""
    if module is None:
        return None
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = ownership.stored(found, part)
        if found is None:
            return None
    return found if isinstance(found, type) else None


def module_codes(module_name: str) -> tuple[CodeType, ...]:
    """The code of every function and method a known module defines itself: where its exception
    classes' ``__str__`` and its helpers write their messages."""
    if not isinstance(module_name, str) or module_name in ("builtins", "__builtin__"):
        return ()
    cached = _module_codes.get(module_name)
    if cached is not None:
        return cached
    owner = ownership.owner_of_module(module_name)
    module = sys.modules.get(module_name)
    out: list[CodeType] = []
    if owner.known and owner.origin != ownership.TELEMETRY and isinstance(module, ModuleType):
        try:
            namespace = dict(_MODULE_DICT(module))
        except Exception:
            namespace = {}
        for value in namespace.values():
            code = _code_of_object(value)
            if code is not None and code.co_filename == _module_file(module):
                out.append(code)
            elif isinstance(value, type) and _defined_in(value, module_name):
                out.extend(_class_codes(value))
    found = tuple(out)
    with _lock:
        _module_codes[module_name] = found
    return found


_module_codes: dict[str, tuple[CodeType, ...]] = {}


def _module_file(module: ModuleType) -> Any:
    return ownership.stored(module, "__file__")


def _defined_in(cls: type, module_name: str) -> bool:
    try:
        return _MODULE_OF(cls) == module_name
    except Exception:
        return False


def _class_codes(cls: type) -> list[CodeType]:
    try:
        namespace = _CLASS_DICT(cls)
    except Exception:
        return []
    if type(namespace) is not MappingProxyType:
        return []
    return [code for value in list(namespace.values()) if (code := _code_of_object(value)) is not None]


def class_modules(module: str | None, qualname: str) -> tuple[str, ...]:
    """The modules of the classes an exception class inherits its message code from."""
    cls = class_of(module, qualname)
    if cls is None:
        return (module,) if module else ()
    out: list[str] = []
    for base in type.__dict__["__mro__"].__get__(cls):
        try:
            name = _MODULE_OF(base)
        except Exception:
            continue
        if isinstance(name, str) and name not in out and name not in ("builtins", "__builtin__"):
            out.append(name)
    return tuple(out)


def module_templates(module_name: str) -> tuple[tuple[formats.Template, int], ...]:
    out: list[tuple[formats.Template, int]] = []
    for code in module_codes(module_name):
        out.extend(formats.templates_of_code(code))
    return tuple(out)


# -- a report's code ---------------------------------------------------------------------------

MAX_FRAMES = 60  # a report keeps this many frames per exception (the innermost)
MAX_VALUES = 10  # and this many exceptions of a chain


def _values(event: dict[str, Any]) -> list[dict[str, Any]]:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    return [v for v in values if isinstance(v, dict)][-MAX_VALUES:] if isinstance(values, list) else []


def _frames_of(value: dict[str, Any]) -> list[Any]:
    stacktrace = value.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return frames[-MAX_FRAMES:] if isinstance(frames, list) else []


_pools: dict[Any, Pool] = {}


def _pool(key: Any, located: Any, file: str) -> Pool:
    """One code object's (or module's) templates as a pool, made once per process."""
    pool = _pools.get(key)
    if pool is None:
        pool = Pool((template, f"{file}:{line}") for template, line in located)
        if len(_pools) > 4096:
            _pools.clear()
        _pools[key] = pool
    return pool


def aligner_for(event: dict[str, Any]) -> Aligner:
    """The templates a report's messages are aligned to: CPython's and the reviewed list's, those
    of the code of every known frame of every exception in it (raising functions and callers), and
    those of the modules defining its exception classes; and what that code proves."""
    pools: list[Pool] = [base_pool()]
    names: set[str] = set()
    numbers: set[str] = set()
    messages: set[str] = set()
    for value in _values(event):
        text = value.get("value")
        if isinstance(text, str):
            messages.update((text, text.split("\n", 1)[0]))
        frames = _frames_of(value)
        for frame in frames:
            key = frame_key(frame)
            found = code_of(key) if key is not None and _claims_known(frame) else None
            if found is not None:
                pools.append(_pool(found, formats.templates_of_code(found), frame["filename"]))
        raising = raising_key(value)
        raising_code = code_of(raising) if raising is not None else None
        if raising_code is not None:
            names.update(formats.names_of_code(raising_code))
            numbers.update(formats.numbers_of_code(raising_code))
        type_name = value.get("type")
        if isinstance(type_name, str):
            module = value.get("module")
            for name in class_modules(module if isinstance(module, str) else None, type_name):
                owner = ownership.owner_of_module(name)
                if owner.known:
                    pools.append(_pool(name, module_templates(name), owner.file))
    unique = tuple(dict.fromkeys(pools))
    return Aligner(unique, Proofs(frozenset(names), frozenset(), frozenset(numbers), _KNOWN_MODULES.__contains__),
                   frozenset(messages))


def proven_types(value: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """The class names this exception value's objects prove: from build's raw field on a first
    scrub (True), else what a first scrub of the same report proved for this very message."""
    raw = value.get(PROVEN)
    if isinstance(raw, list):
        return frozenset(n for n in raw if type(n) is str and n.isidentifier()), True
    type_name, text = value.get("type"), value.get("value")
    if not isinstance(type_name, str) or not isinstance(text, str):
        return frozenset(), False
    return proof(type_name, raising_key(value), text), False


def raising_key(value: dict[str, Any]) -> FrameKey | None:
    frames = _frames_of(value)
    return frame_key(frames[-1]) if frames and _claims_known(frames[-1]) else None


_KNOWN_MODULES = KnownModules()


def aligner_for_modules(modules: Any) -> Aligner:
    """The templates of the known modules named (each module's functions and methods), with
    CPython's and the reviewed list's: what a message any of them might write is aligned to."""
    pools: list[Pool] = [base_pool()]
    for name in modules:
        owner = ownership.owner_of_module(name)
        if owner.known:
            pools.append(_pool(name, module_templates(name), owner.file))
    return Aligner(tuple(pools), Proofs(modules=_KNOWN_MODULES.__contains__))


def _claims_known(frame: dict[str, Any]) -> bool:
    """A frame that names a known module's own file (a user frame names neither)."""
    module = frame.get("module")
    if not isinstance(module, str) or not isinstance(frame.get("filename"), str):
        return False
    owner = ownership.owner_of_module(module)
    return owner.known and frame["filename"] in (owner.file, f"<frozen {module}>")


def _forget_for_tests() -> None:
    with _lock:
        _frames.clear()
        _proofs.clear()
        _module_codes.clear()
        _pools.clear()
