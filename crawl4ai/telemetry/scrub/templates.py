"""Message templates written outside Python source: CPython's own (its C code) and, for text made
outside Python, Chromium's network errors and the Playwright driver's messages.

Both come from reviewed data files beside this module (``data/*.txt``), with English's
function words ("did not", "you can"), which hold any sentence together whoever wrote it. Their
words join the vocabulary. CPython's templates also have holes for names (``'{type}' object has no attribute
'{name}'``): the name in such a hole is code, so it is kept only when it is a known identifier
(defined in known code, or a builtin) and becomes ``<user code>`` otherwise.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
NAME_HOLES = ("name", "type", "func", "module")
# A name in a hole: dotted identifiers (``Foo.bar``), or what an earlier pass already wrote there.
_NAME = r"(?:<user code>|[A-Za-z_]\w{0,99}(?:\.[A-Za-z_]\w{0,99}){0,8})"
_HOLE = re.compile(r"\{(name|type|func|module|n|value)\}")


def _lines(name: str) -> list[str]:
    text = (_DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _compile(line: str, number: int) -> str:
    parts: list[str] = []
    position = 0
    for hole in _HOLE.finditer(line):
        parts.append(re.escape(line[position:hole.start()]))
        kind = hole.group(1)
        if kind in NAME_HOLES:
            parts.append(f"(?P<t{number}_{len(parts)}>{_NAME})")
        elif kind == "n":
            parts.append(r"(?:\d+|<number>)")
        else:
            parts.append(r".{0,200}?")
        position = hole.end()
    parts.append(re.escape(line[position:]))
    return "".join(parts)


@lru_cache(maxsize=1)
def name_templates() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """CPython's templates that hold a name, longest first (the most specific wins), each with
    its longest literal piece (lower case): a template runs only where that piece occurs."""
    lines = sorted((line for line in _lines("cpython_templates.txt")
                    if any(f"{{{hole}}}" in line for hole in NAME_HOLES)), key=len, reverse=True)
    out = []
    for i, line in enumerate(lines):
        trigger = max(_HOLE.split(line), key=len).strip().lower()
        out.append((trigger, re.compile(_compile(line, i))))
    return tuple(out)


@lru_cache(maxsize=1)
def template_text() -> str:
    """Every template line, holes removed: the words CPython, Chromium and Playwright write, and
    English's function words (``grammar.txt``)."""
    lines = _lines("cpython_templates.txt") + _lines("outside_python.txt") + _lines("grammar.txt")
    return "\n".join(_HOLE.sub(" ", line) for line in lines)


def name_spans(text: str) -> list[tuple[int, int]]:
    """Where the names in CPython templates sit in ``text`` (start, end), in order."""
    if "'" not in text and "(" not in text and '"' not in text:
        return []
    lower = text.lower()
    spans: set[tuple[int, int]] = set()
    for trigger, pattern in name_templates():
        if trigger in lower:
            for match in pattern.finditer(text):
                spans.update(match.span(group) for group, value in match.groupdict().items() if value is not None)
    return sorted(spans)
