"""The last phase of message redaction: a token survives only if it is in the vocabulary.

After the typed detectors have named what they recognise, every remaining token is judged on
its own: a placeholder stays; a number becomes ``<number>``; a word known code contains stays;
a name in one of CPython's templates stays if known code defines it and becomes ``<user code>``
otherwise; anything else becomes ``<str>`` (``<host>`` when it is dotted like a host name). A
token no rule was written for therefore cannot survive: unknown input is safe by construction.
Spaces and ASCII punctuation between tokens are kept, so the message still reads as a sentence.
"""

from __future__ import annotations

import re
from collections import Counter

from . import templates
from .rules import PLACEHOLDER, USER_CODE
from .vocabulary import TOKEN, Vocabulary

_PIECE = re.compile(re.escape(USER_CODE) + "|" + PLACEHOLDER + "|" + TOKEN.pattern)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,_]\d+)*|0[xX][0-9a-fA-F]+")
_NUMBER_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]{1,3})")
_HOSTLIKE = re.compile(r"[^\W\d_][\w\-]*(?:\.[\w\-]+)+")
# Unknown tokens next to each other (a name, a title) become one placeholder.
_RUN = re.compile(r"<str>(?:[ \t\-]+<str>)+")


def keep_known(
    text: str,
    vocabulary: Vocabulary,
    removed: Counter[str] | None = None,
    links: list[tuple[int, int]] = (),  # type: ignore[assignment]
) -> str:
    """``text`` with every token that is not known replaced (see the module docstring).
    ``links`` are the spans of documentation links the URL phase kept: they stay whole."""
    spans = sorted([(start, end, "name") for start, end in templates.name_spans(text)]
                   + [(start, end, "link") for start, end in links])
    out: list[str] = []
    position = 0
    for start, end, kind in spans:
        if start < position:
            continue  # overlapping spans: the first decided
        out.append(_judge_tokens(text[position:start], vocabulary, removed))
        piece = text[start:end]
        if kind == "link" or piece == USER_CODE or vocabulary.knows_name(piece):
            out.append(piece)
        else:
            out.append(USER_CODE)
            _count(removed, "code")
        position = end
    out.append(_judge_tokens(text[position:], vocabulary, removed))
    return _RUN.sub("<str>", "".join(out))


def _judge_tokens(text: str, vocabulary: Vocabulary, removed: Counter[str] | None) -> str:
    def judge(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("<"):
            return token
        if _NUMBER.fullmatch(token):
            _count(removed, "number")
            return "<number>"
        if vocabulary.knows_word(token):
            return token
        unit = _NUMBER_WITH_UNIT.fullmatch(token)
        if unit and vocabulary.knows_word(unit.group(2)):
            _count(removed, "number")
            return "<number>" + unit.group(2)
        if _HOSTLIKE.fullmatch(token) and not token.endswith("."):
            _count(removed, "host")
            return "<host>"
        _count(removed, "str")
        return "<str>"

    return _PIECE.sub(judge, text)


def _count(removed: Counter[str] | None, kind: str) -> None:
    if removed is not None:
        removed[kind] += 1
