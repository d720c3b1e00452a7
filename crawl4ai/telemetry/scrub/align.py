"""A message kept by position: each line is aligned to a template of the code that wrote it.

The constant parts of the template stay, each hole becomes a typed placeholder *whatever it
holds* (a word some code contains, an English function word, a class name). A line no template
of the report's code covers keeps only the words of the reviewed list of text made outside
Python (:mod:`.templates`); everything else is a placeholder. So unknown text is safe by
construction: nothing stays because of what it is, only because of where the code put it.

Exceptions to "a hole is a placeholder", each proved by code, never by the word alone:

- a hole that holds the message of another exception of the same report (``f"Failed: {e}"``) is
  aligned to the templates in turn;
- an identifier hole of CPython's templates (``'{type}' object has no attribute '{name}'``) keeps a
  name the raising frame's own code uses (``.status_code``), a class the exception carries that
  known code defines (``AttributeError.obj``'s), one of CPython's builtin classes, or a module
  known code has; a number hole keeps a number the raising code itself writes (``int(x, 10)``).

Every piece of the result says why it is there (:class:`Span`): the template that kept it, as
``file:line`` of known code, or the rule that made the placeholder.
"""

from __future__ import annotations

import builtins
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from .._record import Record
from . import templates
from .formats import HOLE
from .rules import PLACEHOLDER, USER_CODE
from .templates import TOKEN, VALUE, Hole

#: The names of CPython's builtin classes: a fixed set CPython writes into its own messages
#: (``unsupported operand type(s) for +: 'int' and 'str'``), never the user's.
BUILTIN_TYPES = frozenset(name for name, value in vars(builtins).items() if isinstance(value, type)) | {
    "NoneType", "function", "method", "coroutine", "generator", "async_generator", "module",
    "builtin_function_or_method", "method-wrapper", "cell", "code", "frame", "traceback",
    "dict_keys", "dict_values", "dict_items", "mappingproxy", "ellipsis", "NotImplementedType",
    "getset_descriptor", "wrapper_descriptor", "classmethod", "staticmethod", "property"}

MAX_LINE = 2000  # a longer line is aligned to templates without holes only (bounded regex work)
MAX_DEPTH = 4  # a cause's message inside a cause's message inside …
MIN_EMBEDDED = 4  # a shorter message of another exception is not looked for inside a line
_MARK = "\x00"  # no message holds it: control characters are taken out before alignment
_MARKED = re.compile(_MARK + r"(\d+)" + _MARK)
_PLACEHOLDER = re.compile(re.escape(USER_CODE) + "|" + PLACEHOLDER)
_PIECE = re.compile(_PLACEHOLDER.pattern + "|" + TOKEN.pattern)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,_]\d+)*|0[xX][0-9a-fA-F]+")
_NUMBER_WITH_UNIT = re.compile(r"(\d+(?:\.\d+)?)([A-Za-z]{1,3})")
_HOSTLIKE = re.compile(r"[^\W\d_][\w\-]*(?:\.[\w\-]+)+")
# Between placeholders in a hole, short separators stay (``<host>:<number>``).
_SEPARATOR = re.compile(r"[ :,/@.\-=;()\[\]'\"~]{1,3}")
_ONLY_PLACEHOLDERS = re.compile(r"(?:" + _PLACEHOLDER.pattern + r"|[ :,/@.\-=;()\[\]'\"~])*")
_RUN = re.compile(r"<str>(?:[ \t\-]+<str>)+")
_WORD = re.compile(r"\w")
_PREFIX = re.compile(r"(?<![\w.\-])([A-Za-z][\w\-]*):(?=[^\s/:]|$)")
_NAME = r"(?:<user code>|[A-Za-z_]\w{0,99}(?:\.[A-Za-z_]\w{0,99}){0,8})"
_HOLE_PATTERN = {"value": r"(.*?)", "n": r"(\d+|<number>)", "name": f"({_NAME})", "func": f"({_NAME})",
                 "module": f"({_NAME})", "type": f"({_NAME})"}
# Text in a gap of symbols longer than this, of more than three kinds, is a value of its own.
MAX_PUNCTUATION = 6
_SYMBOLS = re.compile(r"[^\w\s]+")
_STRUCTURE = frozenset("()[]{}<>'\".,:;")

Piece = "str | Hole"


class Span(Record):
    """A piece of a redacted message: ``kept`` text of a template (``why`` is where the template
    is written, ``file:line``) or a placeholder (``why`` names the rule that made it)."""

    __slots__ = ("text", "kept", "why")
    text: str
    kept: bool
    why: str


def _no_module(name: str) -> bool:
    return False


class Proofs(Record):
    """What the report's code proves is code: names its raising frames use, classes its
    exceptions carry, numbers its raising frames write, modules known code has."""

    __slots__ = ("names", "types", "numbers", "modules")
    _defaults: Any = {"names": frozenset(), "types": frozenset(), "numbers": frozenset(), "modules": _no_module}
    names: frozenset[str]
    types: frozenset[str]
    numbers: frozenset[str]
    modules: Callable[[str], bool]


class _Line(Record):
    __slots__ = ("pieces", "where", "score", "trigger")
    pieces: tuple[str | Hole, ...]
    where: str
    score: int  # word characters of its constant text: the most specific template wins
    trigger: str  # its longest constant piece: the line must hold it for the regex to run


class Pool:
    """Templates split into lines (a message is aligned line by line), with where each is written."""

    def __init__(self, located: Iterable[tuple[tuple[str | Hole | None, ...], str]] = ()) -> None:
        self.exact: dict[str, str] = {}
        self.patterned: list[_Line] = []
        self.prefixes: set[str] = set()  # lower case: "ssl" of "ssl:{}", the left of a pair
        self._seen: set[tuple] = set()
        self.add(located)

    def add(self, located: Iterable[tuple[tuple[str | Hole | None, ...], str]]) -> None:
        for template, where in located:
            for line in _split_lines(template):
                if line in self._seen:
                    continue
                self._seen.add(line)
                self.prefixes.update(p.lower() for piece in line if isinstance(piece, str)
                                     for p in _PREFIX.findall(piece))
                score = sum(len(_WORD.findall(p)) for p in line if isinstance(p, str))
                words = [w.lower() for p in line if isinstance(p, str) for w in TOKEN.findall(p)]
                listed = any(isinstance(p, Hole) and p.kind == "listed" for p in line)  # names, not words
                if score == 0 or (not listed and all(w in templates.grammar_words() for w in words)):
                    continue  # punctuation or function words only ("{} or {}"): they keep nothing alone
                if len(line) == 1 and isinstance(line[0], str):
                    self.exact.setdefault(line[0], where)
                else:
                    trigger = max((p for p in line if isinstance(p, str)), key=len)
                    self.patterned.append(_Line(line, where, score, trigger))

    def best(self, line: str) -> tuple[_Line, re.Match[str] | None] | None:
        """The template line that covers ``line`` whole with the most constant text."""
        best: tuple[_Line, re.Match[str] | None] | None = None
        where = self.exact.get(line)
        if where is not None:
            best = (_Line((line,), where, len(_WORD.findall(line)), line), None)
        if len(line) > MAX_LINE:
            return best
        for candidate in self.patterned:
            if best is not None and candidate.score <= best[0].score:
                continue
            if candidate.trigger not in line:
                continue
            match = _regex(candidate.pieces).fullmatch(line)
            if match is not None:
                best = (candidate, match)
        return best


def _split_lines(template: tuple) -> list[tuple[str | Hole, ...]]:
    """A template's lines (a hole at a line break stays a hole on both sides)."""
    lines: list[list[str | Hole]] = [[]]
    for piece in template:
        if piece is HOLE or isinstance(piece, Hole):
            lines[-1].append(VALUE if piece is HOLE else piece)
            continue
        parts = piece.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append(part)
    return [tuple(line) for line in lines if line]


@lru_cache(maxsize=8192)
def _regex(pieces: tuple[str | Hole, ...]) -> re.Pattern[str]:
    return re.compile("".join(_hole_pattern(p.kind) if isinstance(p, Hole) else re.escape(p) for p in pieces),
                      re.DOTALL)


def _hole_pattern(kind: str) -> str:
    if kind == "listed":  # only a listed name fits: any other text means another template
        names = sorted(templates.reviewed_words(), key=len, reverse=True)
        return "((?i:" + "|".join(re.escape(n) for n in names) + "))"
    return _HOLE_PATTERN[kind]


def _as_is(text: str, counter: Counter[str]) -> str:
    return text


class Aligner:
    """Aligns one report's messages: its template pools (CPython's, the reviewed list's, one per
    code object of the report), its proofs, the messages of its exceptions (a hole holding one
    of them is aligned in turn), and the typed detectors that name what a placeholder stands for.
    It counts what it removed while it aligns: not a value, a worker."""

    def __init__(self, pools: tuple[Pool, ...], proofs: Proofs | None = None,
                 messages: frozenset[str] = frozenset(),
                 detect: Callable[[str, Counter[str]], str] = _as_is,
                 removed: Counter[str] | None = None) -> None:
        self.pools = pools
        self.proofs = proofs if proofs is not None else Proofs()
        self.messages = messages
        self.detect = detect
        self.removed = removed
        self._counter: Counter[str] = Counter()
        self._nested = 0  # template text kept inside embedded messages, for choosing an alignment

    def with_types(self, types: frozenset[str]) -> Aligner:
        """The same aligner, for a message whose exception's objects prove these class names."""
        return Aligner(self.pools, self.proofs._replace(types=types), self.messages, self.detect, self.removed)

    def knows_prefix(self, word: str) -> bool:
        """A template of the report's code writes ``word:`` before a value (``ssl:{}``): such a
        pair is not a ``user:password``."""
        return any(word.lower() in pool.prefixes for pool in self.pools)

    def align(self, text: str) -> list[Span]:
        """``text`` aligned twice: as it is, and after the typed detectors read it whole (a
        header name, ``password=``, a key over several lines is context a hole alone lacks).
        The alignment keeping more template text wins; either way every hole is a placeholder."""
        best: tuple[int, list[Span], Counter[str]] | None = None
        for candidate in (text, None):
            counter: Counter[str] = Counter()
            self._counter = counter
            if candidate is None:
                candidate = self.detect(text, counter)
                if candidate == text and best is not None:
                    continue
            score, spans = 0, []
            for i, line in enumerate(candidate.split("\n")):
                if i:
                    spans.append(Span("\n", True, "line break"))
                line_score, line_spans = self.line(line, 0)
                score += line_score
                spans.extend(line_spans)
            score += self._nested
            self._nested = 0
            if best is None or score >= best[0]:
                best = (score, spans, counter)
        assert best is not None
        if self.removed is not None:
            self.removed.update(best[2])
        return best[1]

    def line(self, line: str, depth: int) -> tuple[int, list[Span]]:
        if not line:
            return 0, []
        return self._aligned(line, depth)

    def _aligned(self, line: str, depth: int) -> tuple[int, list[Span]]:
        line, embedded = self._mask(line)
        best = None
        for pool in self.pools:
            found = pool.best(line)
            if found is not None and (best is None or found[0].score > best[0].score):
                best = found
        if best is None:
            return 0, self._unmasked(line, embedded, None, "", depth)
        template, match = best
        if match is None:
            return template.score, [Span(line, True, template.where)]
        out: list[Span] = []
        group = 1
        for piece in template.pieces:
            if isinstance(piece, Hole):
                out.extend(self._unmasked(match.group(group), embedded, piece, template.where, depth))
                group += 1
            else:
                out.append(Span(piece, True, template.where))
        return template.score, out

    def _mask(self, line: str) -> tuple[str, list[str]]:
        """``line`` with each other message of the report it holds replaced by a mark no template
        contains: a template can then put it in a hole whole, never split it across pieces."""
        embedded: list[str] = []
        if _MARK in line:
            line = line.replace(_MARK, "")
        for message in sorted(self.messages, key=len, reverse=True):
            if len(message) >= MIN_EMBEDDED and message != line and message in line:
                embedded.append(message)
                line = line.replace(message, f"{_MARK}{len(embedded) - 1}{_MARK}")
        return line, embedded

    def _unmasked(self, content: str, embedded: list[str], hole: Hole | None, where: str,
                  depth: int) -> list[Span]:
        """A hole's content (``hole`` None: a line no template covers) with the messages it
        embeds aligned in turn."""

        def judge(part: str) -> list[Span]:
            return self.unknown(part) if hole is None else self.hole(part, hole, where, depth)

        if not embedded or _MARK not in content:
            return judge(content)
        out: list[Span] = []
        for i, part in enumerate(_MARKED.split(content)):
            if i % 2 == 0:
                out.extend(judge(part) if part else [])
            elif depth < MAX_DEPTH:
                nested_score, nested = self.line(embedded[int(part)], depth + 1)  # its own templates
                self._nested += nested_score
                out.extend(nested)
            else:
                out.extend(self.typed(embedded[int(part)], f"hole of {where}"))
        return out

    def hole(self, content: str, hole: Hole, where: str, depth: int) -> list[Span]:
        if not content:
            return []
        if hole.kind in ("name", "func", "module", "type"):
            return [self._name(content, hole.kind, where)]
        if hole.kind == "listed":
            if content.lower() in templates.reviewed_words():
                return [Span(content, True, "a name of the reviewed list of text made outside Python")]
            return [self._placeholder("<str>", "str", f"hole of {where}")]
        if hole.kind == "n":
            if content in self.proofs.numbers:
                return [Span(content, True, "a number the raising code writes")]
            return [self._placeholder("<number>", "number", f"hole of {where}")]
        if content in self.messages and depth < MAX_DEPTH:
            return self.line(content, depth + 1)  # another exception's message: its own templates
        return self.typed(content, f"hole of {where}")

    def _name(self, content: str, kind: str, where: str) -> Span:
        if content == USER_CODE:
            return Span(content, False, f"hole of {where}: a name of the user's code")
        proofs = self.proofs
        if kind == "type" and content in proofs.types:
            return Span(content, True, "the class of an object the exception carries, defined by known code")
        if kind == "type" and content in BUILTIN_TYPES:
            return Span(content, True, "one of CPython's builtin classes")
        if kind in ("name", "func") and content in proofs.names:
            return Span(content, True, "a name the raising code uses")
        if kind in ("name", "func") and content in _builtin_names():
            return Span(content, True, "one of CPython's builtins")
        if kind == "module" and proofs.modules(content):
            return Span(content, True, "a module known code has")
        self._count("code")
        return Span(USER_CODE, False, f"hole of {where}: a name no known code is proved to have")

    def typed(self, content: str, why: str) -> list[Span]:
        """A hole's content as one placeholder (or a few, with short separators kept between
        them: ``<host>:<number>``), named by the typed detectors."""
        if _ONLY_PLACEHOLDERS.fullmatch(content):
            return [Span(content, False, why)]
        detected = self.detect(content, self._counter)
        parts: list[str] = []
        position = 0
        for match in _PIECE.finditer(detected):
            gap = detected[position:match.start()]
            parts.append(gap if _SEPARATOR.fullmatch(gap) or not gap else (" " if gap.isspace() else ""))
            parts.append(self._token_placeholder(match.group(0)))
            position = match.end()
        tail = detected[position:]
        parts.append(tail if _SEPARATOR.fullmatch(tail) or not tail else "")
        text = _RUN.sub("<str>", "".join(parts))
        return [Span(text, False, why)] if text else []

    def _token_placeholder(self, token: str) -> str:
        if _PLACEHOLDER.fullmatch(token):
            return token
        if _NUMBER.fullmatch(token) or _NUMBER_WITH_UNIT.fullmatch(token):
            self._count("number")
            return "<number>"
        if _HOSTLIKE.fullmatch(token) and not token.endswith("."):
            self._count("host")
            return "<host>"
        self._count("str")
        return "<str>"

    def unknown(self, line: str) -> list[Span]:
        """A line no template covers: the reviewed list's words stay, a function word beside
        one of them too; everything else is a placeholder."""
        detected = line if _ONLY_PLACEHOLDERS.fullmatch(line) else self.detect(line, self._counter)
        tokens: list[tuple[str, str]] = []  # (gap before, token)
        position = 0
        for match in _PIECE.finditer(detected):
            tokens.append((detected[position:match.start()], match.group(0)))
            position = match.end()
        tail = detected[position:]
        reviewed = templates.reviewed_words()
        grammar = templates.grammar_words()
        # A function word never vouches for another: only a content word of the list does.
        known = [t.lower() in reviewed for _, t in tokens]
        content = [k and t.lower() not in grammar for k, (_, t) in zip(known, tokens, strict=True)]
        out: list[Span] = []
        for i, (gap, token) in enumerate(tokens):
            if gap:
                out.append(self._gap(gap))
            lower = token.lower()
            if _PLACEHOLDER.fullmatch(token):
                out.append(Span(token, False, "typed detectors"))
            elif lower in grammar:
                if (i > 0 and content[i - 1]) or (i + 1 < len(tokens) and content[i + 1]):
                    out.append(Span(token, True, "a function word beside a word of the reviewed list"))
                else:
                    out.append(Span(self._token_placeholder(token), False, "a function word alone keeps nothing"))
            elif known[i]:
                out.append(Span(token, True, "the reviewed list of text made outside Python"))
            else:
                placeholder = self._token_placeholder(token)
                out.append(Span(placeholder, False, "no template of the report's code covers this line"))
        if tail:
            out.append(self._gap(tail))
        return _merge_runs(out)

    def _gap(self, gap: str) -> Span:
        """Punctuation between words stays while it reads as punctuation; a longer mix of
        symbols (``!@#$%^&*``) is a value of its own."""

        def judge(match: re.Match[str]) -> str:
            symbols = match.group(0)
            kinds = set(symbols)
            if len(kinds) == 1 or kinds <= _STRUCTURE or (len(symbols) <= MAX_PUNCTUATION and len(kinds) <= 3):
                return symbols
            self._count("str")
            return "<str>"

        text = _SYMBOLS.sub(judge, gap)
        return Span(text, text == gap, "punctuation" if text == gap else "symbols")

    def _placeholder(self, text: str, kind: str, why: str) -> Span:
        self._count(kind)
        return Span(text, False, why)

    def _count(self, kind: str) -> None:
        self._counter[kind] += 1


def _merge_runs(spans: list[Span]) -> list[Span]:
    """Unknown words next to each other (a name, a title) become one placeholder."""
    out: list[Span] = []
    for span in spans:
        if (span.text == "<str>" and len(out) >= 2 and out[-1].text.strip(" \t-") == ""
                and out[-1].text and out[-2].text == "<str>"):
            out.pop()
            continue
        out.append(span)
    return out


def render(spans: Iterable[Span]) -> str:
    return "".join(span.text for span in spans)


def explain(spans: Iterable[Span]) -> list[tuple[str, bool, str]]:
    """``(text, kept, why)`` for each piece of a message: neighbouring pieces with the same
    reason joined, line breaks and bare punctuation between them left out."""
    out: list[tuple[str, bool, str]] = []
    for span in spans:
        if span.why in ("line break", "punctuation") or not span.text.strip():
            continue
        if out and out[-1][1] == span.kept and out[-1][2] == span.why:
            out[-1] = (out[-1][0] + span.text, span.kept, span.why)
        else:
            out.append((span.text, span.kept, span.why))
    return out


@lru_cache(maxsize=1)
def _builtin_names() -> frozenset[str]:
    import builtins

    return frozenset(dir(builtins))
