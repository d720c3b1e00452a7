"""Typed detectors: one module per kind of data, each a list of :class:`Rule` values.

A rule only *names* what it finds (``<url>``, ``<secret>``, …). Whatever no rule names is still
judged by the allowlist (:mod:`..allowlist`): a token survives only if known code could have
written it. So a rule that misses data costs a less precise placeholder, never a leak.

A rule keeps its pattern, its trigger words (a cheap substring test before the regex: most
messages hold none of the data most rules look for), its validator and its placeholder side by
side. A privacy reviewer reads one module to review one kind of data.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..._record import Record

#: Every placeholder a rule or the allowlist may write.
PLACEHOLDERS = frozenset(
    {"url", "host", "email", "ip", "path", "secret", "str", "markup", "markdown", "text",
     "number", "id", "addr", "user", "unprintable"}
)
PLACEHOLDER = r"<(?:" + "|".join(sorted(PLACEHOLDERS)) + r")>"
USER_CODE = "<user code>"

Replacement = str | Callable[[re.Match[str]], "str | None"]
Apply = Callable[[str], "tuple[str, int]"]


class Rule(Record):
    """Replace what ``pattern`` matches with ``replacement`` (a template such as ``r"\\1<secret>"``,
    or a validator returning the replacement, or None for "not data, leave it").

    ``kind`` is the category counted in ``removed``; ``triggers`` (lower case) must occur in the
    text for the rule to run at all. ``apply``, when given, replaces the pattern logic whole (for
    rules that look at the text as a whole: markup runs, long prose)."""

    __slots__ = ("kind", "pattern", "replacement", "triggers", "apply")
    _defaults = {"pattern": None, "replacement": "", "triggers": (), "apply": None}
    kind: str
    pattern: re.Pattern[str] | None
    replacement: Replacement
    triggers: tuple[str, ...]
    apply: Apply | None

    def run(self, text: str, lower: str) -> tuple[str, int]:
        if self.triggers and not any(t in lower for t in self.triggers):
            return text, 0
        if self.apply is not None:
            return self.apply(text)
        assert self.pattern is not None
        if isinstance(self.replacement, str):
            return self.pattern.subn(self.replacement, text)
        validate = self.replacement
        count = 0

        def one(m: re.Match[str]) -> str:
            nonlocal count
            out = validate(m)
            if out is None:
                return m.group(0)
            count += 1
            return out

        return self.pattern.sub(one, text), count


def sentence_tail(text: str) -> str:
    """Trailing punctuation that belongs to the sentence around a match, not to the match."""
    tail = ""
    while text and text[-1] in ".,;:!?)]}":
        if text[-1] in ")]}" and text.count({")": "(", "]": "[", "}": "{"}[text[-1]]) >= text.count(text[-1]):
            break
        tail = text[-1] + tail
        text = text[:-1]
    return tail
