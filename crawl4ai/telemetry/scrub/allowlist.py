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
# Symbols between tokens: a run of them longer than this, of more than three kinds, is a value.
_SYMBOLS = re.compile(r"[^\w\s]+")
MAX_PUNCTUATION = 6
# ... unless it is only the structure of a repr or a sentence: brackets, quotes, separators.
_STRUCTURE = frozenset("()[]{}<>'\".,:;")
# This many one-character tokens in a row spell something (``s e c r e t``): they go as one.
SPELLED_RUN = 3


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
    """Each token judged (:func:`_judge_token`), each gap between tokens too (:func:`_judge_gap`);
    then a run of single characters (``h u n t e r``) goes whole: each character may be known,
    the word they spell is not."""
    pieces: list[tuple[str, bool]] = []  # (text, is a one-character token)
    position = 0
    for match in _PIECE.finditer(text):
        pieces.append((_judge_gap(text[position:match.start()], removed), False))
        token = match.group(0)
        pieces.append((_judge_token(token, vocabulary, removed), len(token) == 1))
        position = match.end()
    pieces.append((_judge_gap(text[position:], removed), False))
    return "".join(_without_spelled_runs(pieces, removed))


def _judge_token(token: str, vocabulary: Vocabulary, removed: Counter[str] | None) -> str:
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


def _judge_gap(gap: str, removed: Counter[str] | None) -> str:
    """Punctuation between tokens stays while it reads as punctuation (``) -> (``, ``...``,
    ``'}]})``); a longer mix of symbols (``!@#$%^&*``) is a value of its own."""

    def judge(match: re.Match[str]) -> str:
        symbols = match.group(0)
        kinds = set(symbols)
        if len(kinds) == 1 or kinds <= _STRUCTURE or (len(symbols) <= MAX_PUNCTUATION and len(kinds) <= 3):
            return symbols
        _count(removed, "str")
        return "<str>"

    return _SYMBOLS.sub(judge, gap) if gap.strip() else gap


def _without_spelled_runs(pieces: list[tuple[str, bool]], removed: Counter[str] | None) -> list[str]:
    """Pieces with every run of :data:`SPELLED_RUN` or more one-character tokens (separated by
    short gaps on one line) replaced by one ``<str>``."""
    out: list[str] = []
    run: list[str] = []  # the current run: token, gap, token, … (ends with a token)
    pending_gap: str | None = None

    def close() -> None:
        singles = (len(run) + 1) // 2
        if singles >= SPELLED_RUN:
            out.append("<str>")
            _count(removed, "str")
        else:
            out.extend(run)
        run.clear()

    for text, single in pieces:
        if single:
            if run and pending_gap is not None:
                run.append(pending_gap)
            run.append(text)
            pending_gap = None
        elif run and pending_gap is None and len(text) <= 3 and "\n" not in text and "<" not in text:
            pending_gap = text  # may sit between two single characters
        else:
            close()
            if pending_gap is not None:
                out.append(pending_gap)
                pending_gap = None
            out.append(text)
    close()
    if pending_gap is not None:
        out.append(pending_gap)
    return out


def _count(removed: Counter[str] | None, kind: str) -> None:
    if removed is not None:
        removed[kind] += 1
