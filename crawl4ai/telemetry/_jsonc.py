"""JSON as people write it by hand: ``//``, ``#`` and ``/* */`` comments and trailing commas.

``~/.crawl4ai/config.json`` is edited by hand (Crawl4AI's docs say to), and a person's edit is
rarely strict JSON: a comma left after the last key, a comment saying why. Refusing such a file
would throw away a choice the person made. This reader blanks comments and trailing commas out
(each character replaced by a space, line ends kept), so the result is read by :mod:`json` and
an error still points at the line and column of the file as the person sees it. Nothing else is
relaxed: unquoted keys or single quotes are still an error, reported where they are.
"""

from __future__ import annotations

import json
from typing import Any


class JSONCError(ValueError):
    """The text is not JSON even with comments and trailing commas: where and why."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line}, column {column}")
        self.message = message
        self.line = line
        self.column = column


def loads(text: str) -> Any:
    """``text`` parsed as JSON after comments and trailing commas are blanked out."""
    try:
        return json.loads(_blank_trailing_commas(_blank_comments(text)))
    except json.JSONDecodeError as e:
        raise JSONCError(e.msg, e.lineno, e.colno) from None
    except RecursionError:
        raise JSONCError("nested too deeply", 1, 1) from None


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] not in "\r\n":
            chars[i] = " "


def _blank_comments(text: str) -> str:
    chars = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
        elif c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            _blank(chars, i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2  # unclosed: the rest is the comment (then an error)
            _blank(chars, i, end)
            i = end
        else:
            i += 1
    return "".join(chars)


def _blank_trailing_commas(text: str) -> str:
    chars = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = _string_end(text, i)
            continue
        if c == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                chars[i] = " "
        i += 1
    return "".join(chars)


def _string_end(text: str, start: int) -> int:
    """The index just past the string opening at ``start`` (or the text's end)."""
    i, n = start + 1, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text[i] == "\n":  # JSON strings never span lines: let the parser say where
            return i
        else:
            i += 1
    return n
