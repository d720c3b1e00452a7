"""What known code names: the identifiers a known module's source defines, which module names
known code has, and whether a class a report names is known code's.

Reports name code (frames, exception types, fingerprints): a name stays only if known code defines
it (:func:`defines`, :func:`known_class_name`), a module name only if known code has that module
(:class:`KnownModules`). A message's words are not decided here: a word stays only where a
template of its code puts it (:mod:`.align`).

A module's identifiers are read from its source (for code compiled without a reachable object, such
as a function ``exec``'d under a library's file name), cached per file (path, size, modification
time) for the life of the process.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
import threading
from typing import Any

from .. import ownership
from .._record import Record

MAX_LITERAL = 200  # a longer literal is text (a prompt, a script, a demo), not a message template
MAX_SOURCE = 4 * 1024 * 1024
TABLE_RUN = 3  # this many literals in a row, separated by commas or colons, are a table of data
_SEPARATOR = re.compile(r"\s*[,:]\s*(?:#[^\n]*\s*)*")

#: How text splits into tokens, here and in the allowlist: runs of word characters (any
#: non-ASCII character counts as one), joined by ``'``, ``.`` or ``-`` ("can't", "utf-8",
#: "asyncio.TimeoutError").
WORD_CHAR = r"(?:\w|[^\x00-\x7f\s])"
TOKEN = re.compile(WORD_CHAR + r"+(?:['.\-]" + WORD_CHAR + r"+)*")

_LEX = re.compile(
    r"(?P<comment>\#[^\n]*)"
    r"|(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'))"
    r"|(?P<name>[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)"
)
_URL_HOST = re.compile(r"https?://([A-Za-z0-9.\-]+)")
_PREFIX = re.compile(r"(?<![\w.\-])([A-Za-z][\w\-]*):(?=[^\s/:])")


class Words(Record):
    """What one source file contributes."""

    __slots__ = ("words", "identifiers", "link_hosts", "prefixes")
    _defaults = {"prefixes": frozenset()}
    words: frozenset[str]  # lower case
    identifiers: frozenset[str]  # as written, dotted chains included ("self.page", "Foo.bar")
    link_hosts: frozenset[str]  # hosts of the http(s) links in its literals
    prefixes: frozenset[str]  # lower case: "ssl" of "ssl:{}", the left of a pair


# ---------------------------------------------------------------------------------------------
# One source file


def _is_docstring(source: str, start: int) -> bool:
    """A string that opens a module, class or function body (the previous code ends with ':')."""
    i = start - 1
    while i >= 0 and source[i] in " \t\r\n":
        i -= 1
    return i < 0 or source[i] == ":"


def words_of_source(source: str) -> Words:
    words: set[str] = set()
    identifiers: set[str] = set()
    hosts: set[str] = set()
    prefixes: set[str] = set()
    matches = list(_LEX.finditer(source))
    in_table = _table_literals(source, matches)
    for i, match in enumerate(matches):
        kind = match.lastgroup
        if kind == "name":
            parts = re.sub(r"\s+", "", match.group()).split(".")
            # Every contiguous piece of a dotted chain: "self.logger.info" names "logger.info" too.
            identifiers.update(".".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1))
        elif kind == "string" and i not in in_table:
            literal = match.group()
            if len(literal) > MAX_LITERAL or (literal.endswith(('"""', "'''")) and _is_docstring(source, match.start())):
                continue
            body = literal.lstrip("rRbBuUfF").strip("'\"")
            if body.lstrip()[:1] in ("{", "[", "<"):
                continue  # a JSON, markup or list example: sample data, not a message
            words.update(token.lower() for token in TOKEN.findall(body))
            hosts.update(host.lower() for host in _URL_HOST.findall(body))
            prefixes.update(p.lower() for p in _PREFIX.findall(body))
    return Words(frozenset(words), frozenset(identifiers), frozenset(hosts), frozenset(prefixes))


def _table_literals(source: str, matches: list[re.Match[str]]) -> set[int]:
    """The literals that are entries of a table of data: :data:`TABLE_RUN` or more literals in a
    row separated only by commas or colons (a list of sub-domains, stop words, user agents,
    ``{"key": "value", …}``). They are values the code compares input with or picks from, not
    text it writes, and the input they match is the user's: their words do not count."""
    out: set[int] = set()
    run: list[int] = []
    for i, match in enumerate(matches):
        kind = match.lastgroup
        if kind == "comment":
            continue  # a comment after an entry does not end the table
        if kind == "string" and run and _SEPARATOR.fullmatch(source, matches[run[-1]].end(), match.start()):
            run.append(i)
            continue
        if len(run) >= TABLE_RUN:
            out.update(run)
        run = [i] if kind == "string" else []
    if len(run) >= TABLE_RUN:
        out.update(run)
    return out


_EMPTY = Words(frozenset(), frozenset(), frozenset())
_file_cache: dict[tuple[str, int, int], Words] = {}
_file_lock = threading.Lock()


def _new_lock_in_child() -> None:
    global _file_lock
    _file_lock = threading.Lock()  # a fork may copy it held by the parent's worker


os.register_at_fork(after_in_child=_new_lock_in_child)


def words_of_file(filename: str) -> Words:
    """The words of a Python source file, cached by path, size and modification time."""
    try:
        info = os.stat(filename)
    except OSError:
        return _EMPTY
    key = (filename, info.st_size, info.st_mtime_ns)
    cached = _file_cache.get(key)
    if cached is not None:
        return cached
    if info.st_size > MAX_SOURCE:
        return _EMPTY
    try:
        with open(filename, encoding="utf-8", errors="replace") as f:
            found = words_of_source(f.read())
    except OSError:
        return _EMPTY
    with _file_lock:
        _file_cache[key] = found
    return found


# ---------------------------------------------------------------------------------------------
# Which modules count


def _source_file(module: Any) -> str | None:
    filename = ownership.stored(module, "__file__")
    if not isinstance(filename, str) or not filename.endswith(".py"):
        return None
    return filename


def defines(module: str, qualname: str) -> bool:
    """Whether known module ``module`` defines ``qualname`` (``Class.method``, ``f.<locals>.g``):
    the object is there (looked up without running any code), or else every name of it occurs in
    the module's source. A name that reached a report through a known module's name but that its
    code does not contain (a user's class made by ``exec``, code compiled under a library's file
    name) is the user's. A compiled module without Python source defines only what is reachable
    in it (``builtins`` included: a class made by ``exec`` without a ``__name__`` claims to live
    there)."""
    owner = ownership.owner_of_module(module)
    if not owner.known or not isinstance(qualname, str):
        return False
    parts = [p for p in qualname.split(".") if not (p.startswith("<") and p.endswith(">"))]
    if not parts:
        return True  # <module>, <lambda>, <listcomp>: CPython's names, nobody's data
    if module in ("builtins", "__builtin__"):  # the module itself: sys.modules empties at exit
        return _reachable(builtins, parts)
    if _reachable(sys.modules.get(module), parts):
        return True
    own = _source_file(sys.modules.get(module))
    if own is None:  # compiled: only what it really holds counts (code compiled under its file
        return False  # name, or a name it does not hold, is the user's)
    names = words_of_file(own).identifiers
    return all(p in names for p in parts)


def _reachable(namespace: Any, parts: list[str]) -> bool:
    """``namespace.a.b`` exists, found in ``__dict__`` only (no ``__getattr__``, no import)."""
    return _lookup(namespace, parts) is not None


def _lookup(namespace: Any, parts: list[str]) -> Any:
    """``namespace.a.b`` read as stored (:func:`ownership.stored`): no code runs."""
    for part in parts:
        namespace = ownership.stored(namespace, part)
        if namespace is None:
            return None
    return namespace


def known_class_name(qualname: str) -> bool:
    """Whether an exception class called ``qualname`` is a builtin or is held by a known loaded
    module (how a report names a user class's nearest known base, without its module)."""
    parts = qualname.split(".")
    found = _lookup(builtins, parts)
    if isinstance(found, type):
        return True
    for name, module in list(sys.modules.items()):
        found = _lookup(module, parts)
        if (isinstance(found, type) and issubclass(found, BaseException)
                and ownership.owner_of_module(name).known):
            return True
    return False


class KnownModules:
    """The module names known code has: the standard library's, and every loaded module that
    known code owns. Asked name by name, when a message holds a dotted name: building the whole
    set asked the owner of every loaded module (about 1,200 in a crawl), which was most of the
    worker's first report."""

    __slots__ = ()
    _STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self._STDLIB:
            return True
        return name in sys.modules and ownership.owner_of_module(name).known


_KNOWN_MODULES = KnownModules()
