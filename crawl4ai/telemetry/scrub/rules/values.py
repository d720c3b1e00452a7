"""Values taken from the input → ``<str>``: quoted text (any quote style, typographic included),
``name=value`` pairs whose value is not a plain constant, and the unquoted value that ends
messages such as codecs' ``unknown encoding: <the charset a site named>``.

These rules run on text no template of the report's code accounts for (a template's hole, a line
no template covers): a quoted name a template puts there is judged by the alignment itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import PLACEHOLDER, Rule

QUOTED = re.compile(
    r"(?<![\w\\])([bBuUrRfF]{0,2})('(?:[^'\\]|\\.){0,20000}'|\"(?:[^\"\\]|\\.){0,20000}\""
    r"|\u2018[^\u2019]{0,20000}\u2019|\u201c[^\u201d]{0,20000}\u201d"
    r"|\u300c[^\u300d]{0,20000}\u300d|\u300e[^\u300f]{0,20000}\u300f|\u00ab[^\u00bb]{0,20000}\u00bb)",
    re.S,
)


def _quoted(text: str) -> tuple[str, int]:
    count = 0

    def one(m: re.Match[str]) -> str:
        nonlocal count
        body = m.group(2)[1:-1]
        if not body or re.fullmatch(PLACEHOLDER + "|<user code>", body):
            return m.group(0)
        count += 1
        return "<str>"

    return QUOTED.sub(one, text), count


# name=value (form data, query strings, keyword reprs): the value is data unless it is a number,
# a constant or an enum member (``timeout=30``, ``verbose=True``, ``mode=CacheMode.BYPASS``).
ASSIGNMENT = re.compile(r"(?<![\w.\-])([A-Za-z_][\w.\-\[\]]{0,40})=(?!['\"<])([^\s,;&)'\"\]}<>]+)")
_PLAIN_VALUE = re.compile(
    r"[-+]?\d{1,6}(?:\.\d+)?[a-z%]{0,3}|True|False|None|true|false|null|[A-Z]\w*\.[A-Z][A-Z0-9_]*"
)


def _assignment(knows_code_word: Callable[[str], bool]) -> Callable[[re.Match[str]], str | None]:
    """A code word known code writes (``type=int_parsing``) is left to the allowlist."""

    def replace(m: re.Match[str]) -> str | None:
        value = m.group(2)
        if _PLAIN_VALUE.fullmatch(value) or ("_" in value and knows_code_word(value)):
            return None
        return f"{m.group(1)}=<str>"

    return replace


# Messages that end in a value taken from the input, unquoted: ``codecs.lookup`` says
# "unknown encoding: <whatever charset the site's header named>".
UNQUOTED_VALUE = re.compile(
    r"(?i)\b((?:unknown|unsupported|invalid|bad) (?:encoding|charset|codec|locale(?: setting)?"
    r"|scheme|protocol|url type|content[- ]type|mime[- ]type)s?\s*:\s*)(?!<)([^\s,;'\"<>]+)"
)

UNQUOTED_RULES = (Rule("str", UNQUOTED_VALUE, r"\1<str>", ("unknown", "unsupported", "invalid", "bad")),)


def assignment_rules(knows_code_word: Callable[[str], bool]) -> tuple[Rule, ...]:
    return (Rule("str", ASSIGNMENT, _assignment(knows_code_word), ("=",)),)


QUOTED_RULES = (Rule("str", triggers=("'", '"', "\u2018", "\u201c", "\u300c", "\u300e", "\u00ab"), apply=_quoted),)
