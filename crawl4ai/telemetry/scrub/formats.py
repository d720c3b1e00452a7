"""The format strings a code object writes messages with, read from the code object itself.

A message keeps a word only where the code that made it puts that word (:mod:`.align`). This
module finds those places: for one code object (and the code nested in it: comprehensions,
lambdas, inner functions) every *template*, a tuple of literal pieces and holes (``None``):

- an f-string, as CPython compiled it: the constant pieces and ``FORMAT_VALUE``\\s that a
  ``BUILD_STRING`` joins (``f"Invalid proxy string format: {s}"`` is
  ``("Invalid proxy string format: ", None)``);
- a concatenation with ``+`` of constants and values (``"Failed: " + str(e)``);
- every string constant as it is, and read as a ``%``-format and as a ``str.format`` template
  when it has fields (``"%s: %d"`` is ``(None, ": ", None)``).

Read from the bytecode, not the source: the code that really ran (a function recompiled at run
time, code ``exec``'d under a library's file name) is what wrote the message, and no file is read.
Cached per code object for the process, and between processes by the worker
(:mod:`..pipeline.caches`: :func:`adopt` what an earlier process found, :func:`export` what this
one added), keyed by a digest of the code itself, so changed code is read again.
An abstract stack follows each instruction; where it cannot tell (a jump target), it starts afresh,
so a wrong guess only ever loses a template, never joins pieces of two expressions into one.
"""

from __future__ import annotations

import dis
import hashlib
import os
import re
import string
import threading
from types import CodeType
from typing import Any

Template = tuple  # of str (a literal piece) and None (a hole)
HOLE = None
MAX_CONSTANT = 2000  # a longer constant is a document (a prompt, a script), never a message
MAX_TEMPLATES = 4000  # per code object, nested code included
_VALUE = object()  # a value on the abstract stack that is not text we know

_PERCENT = re.compile(r"%(?:\([^)]{0,100}\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_FORMATTER = string.Formatter()


def _join(items: list[object]) -> Template:
    """Pieces and holes of items joined: adjacent literals merge, adjacent holes are one."""
    out: list[str | None] = []
    for item in items:
        pieces = item if isinstance(item, tuple) else (HOLE,)
        for piece in pieces:
            if piece is HOLE:
                if not out or out[-1] is not HOLE:
                    out.append(HOLE)
            elif piece:
                if out and out[-1] is not HOLE:
                    out[-1] += piece
                else:
                    out.append(piece)
    return tuple(out)


def constant_templates(text: str) -> set[Template]:
    """A string constant as it is, and as a ``%``- and a ``str.format`` template if it has fields."""
    out: set[Template] = {(text,)} if text else set()
    if "%" in text:
        items: list[object] = []
        position = 0
        for match in _PERCENT.finditer(text):
            items.append((text[position:match.start()],))
            items.append(("%",) if match.group(0) == "%%" else _VALUE)
            position = match.end()
        items.append((text[position:],))
        joined = _join(items)
        if HOLE in joined:
            out.add(joined)
    if "{" in text:
        try:
            parsed = list(_FORMATTER.parse(text))
        except (ValueError, IndexError):
            parsed = []
        items = []
        for literal, field, _spec, _conversion in parsed:
            items.append((literal,))
            if field is not None:
                items.append(_VALUE)
        joined = _join(items)
        if HOLE in joined:
            out.add(joined)
    return out


def _textual(item: object) -> bool:
    return isinstance(item, tuple)


_LOAD_CONST = dis.opmap["LOAD_CONST"]
_FORMAT_VALUE = dis.opmap.get("FORMAT_VALUE", -1)
_BUILD_STRING = dis.opmap["BUILD_STRING"]
_BINARY_OP = dis.opmap.get("BINARY_OP", -1)
_BINARY_ADD = dis.opmap.get("BINARY_ADD", -1)  # before 3.11
_EXTENDED_ARG = dis.EXTENDED_ARG
_CACHE = dis.opmap.get("CACHE", -1)
_ADD_ARGS = (0, 13)  # BINARY_OP's + and +=
_effects: dict[tuple[int, int | None], int | None] = {}


def _effect(op: int, arg: int) -> int | None:
    key = (op, arg if op >= dis.HAVE_ARGUMENT else None)
    if key not in _effects:
        try:
            _effects[key] = dis.stack_effect(op, key[1], jump=False)
        except ValueError:
            _effects[key] = None
    return _effects[key]


def _scan(code: CodeType, out: dict[Template, int]) -> None:
    """Follow ``code``'s instructions on an abstract stack (raw bytes: ``dis.get_instructions``
    costs ten times more, and a large function is read on a report's first frame)."""
    raw = code.co_code
    consts = code.co_consts
    labels = set(dis.findlabels(raw))
    lines = {start: line for start, _end, line in code.co_lines() if line is not None}
    line = code.co_firstlineno
    stack: list[object] = []

    def found(template: Template) -> None:
        out.setdefault(template, line)

    def pop(n: int) -> list[object]:
        if n > len(stack):
            taken = [_VALUE] * (n - len(stack)) + stack[:]
            stack.clear()
            return taken
        taken = stack[len(stack) - n:]
        del stack[len(stack) - n:]
        return taken

    extended = 0
    for offset in range(0, len(raw), 2):
        op = raw[offset]
        if op == _CACHE:
            continue
        arg = raw[offset + 1] | extended
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        line = lines.get(offset, line)
        if offset in labels:
            stack.clear()  # two paths meet here: what is on the stack is no longer known
        if op == _LOAD_CONST:
            value = consts[arg]
            if type(value) is str and len(value) <= MAX_CONSTANT:
                stack.append((value,))
                for template in constant_templates(value):
                    found(template)
            else:
                stack.append(_VALUE)
        elif op == _FORMAT_VALUE:
            pop(2 if arg & 0x04 else 1)
            stack.append(_VALUE)
        elif op == _BUILD_STRING:
            joined = _join(pop(arg))
            found(joined)
            stack.append(joined)
        elif (op == _BINARY_OP and arg in _ADD_ARGS) or op == _BINARY_ADD:
            left, right = pop(2)
            if _textual(left) or _textual(right):
                joined = _join([left, right])
                found(joined)
                stack.append(joined)
            else:
                stack.append(_VALUE)
        else:
            effect = _effect(op, arg)
            if effect is None:
                stack.clear()
            elif effect > 0:
                stack.extend([_VALUE] * effect)
            elif effect < 0:
                pop(-effect)
                if stack:
                    stack[-1] = _VALUE  # most instructions that pop leave a result in place
            elif stack:
                stack[-1] = _VALUE
        if len(out) > MAX_TEMPLATES:
            return


Located = tuple  # (Template, the line it is written on)
_cache: dict[CodeType, tuple[Located, ...]] = {}
_lock = threading.Lock()


def _new_lock_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # a fork may copy it held by the parent's worker


os.register_at_fork(after_in_child=_new_lock_in_child)
MAX_CACHED = 20_000


def templates_of_code(code: CodeType) -> tuple[Located, ...]:
    """Every template ``code`` and the code nested in it write with (see the module docstring),
    each with the line it is on. Cached per code object for the life of the process."""
    cached = _cache.get(code)
    if cached is not None:
        return cached
    key = code_key(code) if _adopted else None
    if key is not None and key in _adopted:
        located = _adopted[key]
        with _lock:
            _cache[code] = located
        return located
    out: dict[Template, int] = {}
    todo = [code]
    seen = 0
    while todo and seen < 200:
        current = todo.pop()
        seen += 1
        _scan(current, out)
        todo.extend(c for c in current.co_consts if isinstance(c, CodeType))
    located = tuple((t, line) for t, line in out.items() if any(p for p in t if p is not HOLE))
    with _lock:
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[code] = located
        if len(_found) < MAX_CACHED:
            _found[code_key(code)] = located
    return located


# -- between processes -------------------------------------------------------------------------

_adopted: dict[str, tuple[Located, ...]] = {}  # code key -> templates, from an earlier process
_found: dict[str, tuple[Located, ...]] = {}  # computed here, not yet kept
_key_cache: dict[CodeType, str] = {}


def code_key(code: CodeType) -> str:
    """A digest of what a code object's templates depend on: its instructions and constants,
    nested code included, and where it is (file, name, first line)."""
    key = _key_cache.get(code)
    if key is not None:
        return key
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{code.co_filename}\0{code.co_qualname if hasattr(code, 'co_qualname') else code.co_name}"
                  f"\0{code.co_firstlineno}\0".encode("utf-8", "surrogatepass"))
    digest.update(code.co_code)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            digest.update(code_key(const).encode())
        elif isinstance(const, str):
            digest.update(b"s" + const.encode("utf-8", "surrogatepass") + b"\0")
        else:
            digest.update(b"o" + type(const).__name__.encode() + b"\0")
    key = digest.hexdigest()
    _key_cache[code] = key
    return key


def _well_formed(entry: Any) -> bool:
    return (isinstance(entry, list) and len(entry) == 2 and type(entry[1]) is int
            and isinstance(entry[0], list) and entry[0]
            and all(p is None or (type(p) is str and len(p) <= MAX_CONSTANT) for p in entry[0]))


def adopt(value: Any) -> bool:
    """Use the templates an earlier process read (``{code key: [[pieces, line], …]}``); False
    (ignored) when the value is not well formed."""
    if not isinstance(value, dict) or len(value) > MAX_CACHED:
        return False
    adopted: dict[str, tuple[Located, ...]] = {}
    for key, entries in value.items():
        if type(key) is not str or not isinstance(entries, list) or not all(map(_well_formed, entries)):
            return False
        adopted[key] = tuple((tuple(pieces), line) for pieces, line in entries)
    with _lock:
        _adopted.update(adopted)
    return True


def export() -> dict[str, list] | None:
    """What to keep for later processes (what was adopted plus what this process read), or None
    when this process read nothing new."""
    with _lock:
        if not _found:
            return None
        merged = {**_adopted, **_found}
        _adopted.update(_found)
        _found.clear()
    return {key: [[list(t), line] for t, line in located] for key, located in list(merged.items())[-MAX_CACHED:]}


def names_of_code(code: CodeType) -> frozenset[str]:
    """The names ``code`` itself reads and writes: attributes, globals, its own variables."""
    return frozenset(code.co_names) | frozenset(code.co_varnames)


def numbers_of_code(code: CodeType) -> frozenset[str]:
    """The integer constants ``code`` itself uses, as text (``int(x, 10)``'s base)."""
    return frozenset(str(c) for c in code.co_consts if type(c) is int)
