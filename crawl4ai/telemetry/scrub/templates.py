"""Message templates written outside Python source: CPython's own (its C code) and, for text made
outside Python, Chromium's network errors, the Playwright driver's and pydantic-core's messages.

Both come from reviewed data files beside this module (``data/*.txt``): each line is a template
whose holes are in braces. A hole's kind says what may stay in it (see :mod:`.align`):
``{name}`` ``{func}`` ``{module}`` an identifier, ``{type}`` a class name, ``{n}`` a number,
``{value}`` anything: each becomes a placeholder unless the report's code proves it is code.

``outside_python.txt`` is also *the reviewed list*: where no template can be known for a line (a
compiled extension, the Playwright driver), only its code-shaped names may stay. ``grammar.txt``'s function
words never keep a word by themselves; they stay only beside a word of the reviewed list.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .._record import Record

_DATA = Path(__file__).resolve().parent / "data"
_HOLE = re.compile(r"\{(name|type|func|module|n|value|listed)\}")
#: How text splits into words: runs of word characters (any non-ASCII character counts as one),
#: joined by ``'``, ``.``, ``-`` or ``::`` ("can't", "utf-8", "net::ERR_FAILED").
WORD_CHAR = r"(?:\w|[^\x00-\x7f\s])"
TOKEN = re.compile(WORD_CHAR + r"+(?:(?:['.\-]|::)" + WORD_CHAR + r"+)*")


class Hole(Record):
    """A hole of a template, and what kind of value CPython or the library writes there."""

    __slots__ = ("kind",)
    kind: str  # "value", "name", "type", "func", "module", "n" or "listed"


VALUE = Hole("value")


def _lines(name: str) -> list[tuple[int, str]]:
    text = (_DATA / name).read_text(encoding="utf-8")
    # Leading spaces are part of a template (pydantic indents its lines), trailing ones are not.
    return [(number, line.rstrip()) for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.startswith("#")]


def _pieces(line: str) -> tuple[str | Hole, ...]:
    out: list[str | Hole] = []
    position = 0
    for hole in _HOLE.finditer(line):
        if hole.start() > position:
            out.append(line[position:hole.start()])
        out.append(Hole(hole.group(1)))
        position = hole.end()
    if position < len(line):
        out.append(line[position:])
    return tuple(out)


@lru_cache(maxsize=1)
def data_templates() -> tuple[tuple[tuple[str | Hole, ...], str], ...]:
    """Every reviewed template with where it is written (``scrub/data/<file>:<line>``)."""
    out = []
    for name in ("cpython_templates.txt", "outside_python.txt"):
        for number, line in _lines(name):
            out.append((_pieces(line), f"crawl4ai/telemetry/scrub/data/{name}:{number}"))
    return tuple(out)


_CODE_SHAPED = re.compile(r".*(?:::|[._]|[a-z][A-Z]).*")


@lru_cache(maxsize=1)
def reviewed_words() -> frozenset[str]:
    """The names of the reviewed list of text made outside Python, lower case: code-shaped
    tokens only (``net::ERR_FAILED``, ``Page.goto``). Its plain English words ("visit", "page",
    "select") stay only inside their whole template: alone, any of them could be a user's word."""
    return frozenset(t.lower() for _, line in _lines("outside_python.txt")
                     for t in TOKEN.findall(_HOLE.sub(" ", line)) if _CODE_SHAPED.fullmatch(t))


@lru_cache(maxsize=1)
def grammar_words() -> frozenset[str]:
    """English's function words (lower case): they name nothing, and keep nothing alone."""
    return frozenset(t.lower() for _, line in _lines("grammar.txt") for t in TOKEN.findall(line))
