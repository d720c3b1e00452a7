"""Message redaction: exception messages and notes keep only words known code could have written.

Two steps. First the typed detectors run, phase by phase in the order of :data:`PHASES` (each
phase is named after what it takes out; the order matters where one kind of data contains
another: a URL holds a host, a path may hold a user name). They only choose the placeholder a
piece of data becomes. Then the allowlist (:mod:`.allowlist`) judges every token left: only
known words stay. Long messages are cut after redaction, never instead of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .._record import Record
from .._text import without_controls
from . import allowlist
from .rules import Rule, content, emails, hosts, ips, local, numbers, paths, secrets, urls, values
from .rules.local import LocalNames
from .vocabulary import TOKEN, Vocabulary, vocabulary_for

MAX_MESSAGE = 1000  # below sentry-sdk's own value trimming, so Sentry never re-cuts our text
MAX_INPUT = 64 * 1024  # redaction cost stays bounded for megabyte-sized messages
ELLIPSIS = "…"
_VERSION = re.compile(r"\d{1,4}(?:\.\d{1,4})*")  # "3.11", "2.5", an issue number
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./\-]*")  # what a documentation page's path is made of


class Context(Record):
    """What a phase may depend on besides the text: this machine's names, the vocabulary."""

    __slots__ = ("local", "vocabulary")
    local: LocalNames | None
    vocabulary: Vocabulary

    def known_link(self, url: str) -> bool:
        """A documentation link of the code on the stack (pydantic's ``errors.pydantic.dev/…``):
        an http(s) URL to a host that code's literals link to, with only known words and version
        numbers in its path (a longer number is somebody's: an account, a phone, an order)."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
            return False
        if parts.netloc.lower() not in self.vocabulary.link_hosts:  # no user, password or port either
            return False
        if not _PLAIN_PATH.fullmatch(parts.path):  # "%70%61%73%73" spells "pass" in digits
            return False
        return all(_VERSION.fullmatch(t) or self.vocabulary.knows_word(t)
                   for t in TOKEN.findall(parts.path))


    def link_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the documentation links the URL phase kept sit in ``text``."""
        if not self.vocabulary.link_hosts or "://" not in text:
            return []
        spans = []
        for match in urls.WITH_SCHEME.finditer(text):
            url = match.group(0)
            url = url[: len(url) - len(urls.sentence_tail(url))]
            if self.known_link(url):
                spans.append((match.start(), match.start() + len(url)))
        return spans


class Phase(Record):
    """One named step of detection: its rules, fixed or made from the :class:`Context`."""

    __slots__ = ("name", "rules")
    name: str
    rules: tuple[Rule, ...] | Callable[[Context], tuple[Rule, ...]]

    def rules_for(self, context: Context) -> tuple[Rule, ...]:
        return self.rules(context) if callable(self.rules) else self.rules


PHASES: tuple[Phase, ...] = (
    Phase("home directories", lambda c: local.home_rules(c.local)),
    Phase("private keys", (secrets.PRIVATE_KEY,)),
    Phase("code blocks", (content.FENCED,)),
    Phase("markup", (content.MARKUP, content.ENTITIES)),
    Phase("credential headers", secrets.HEADERS),
    Phase("urls", lambda c: urls.rules(c.known_link)),
    Phase("markdown", (content.MARKDOWN,)),
    Phase("shaped secrets", secrets.SHAPED),
    Phase("credentials in addresses", urls.CREDENTIAL_RULES),
    Phase("e-mail addresses", emails.RULES),
    Phase("ids", (numbers.UUID,)),
    Phase("ip addresses", ips.RULES),
    Phase("percent-encoded text", urls.PERCENT_RULES),
    Phase("host names", hosts.RULES),
    Phase("paths", paths.RULES),
    Phase("colon chains", secrets.STRUCTURED),
    Phase("credential pairs", lambda c: secrets.pair_rules(c.vocabulary.knows_prefix)),
    Phase("unquoted values", values.UNQUOTED_RULES),
    Phase("assignments", lambda c: values.assignment_rules(c.vocabulary.knows_word)),
    Phase("memory addresses", (numbers.ADDRESS,)),
    Phase("quoted values", values.QUOTED_RULES),
    Phase("high-entropy tokens", secrets.ENTROPY),
    Phase("long numbers", (numbers.LONG_NUMBER,)),
    Phase("machine names", lambda c: local.name_rules(c.local)),
    Phase("prose", (content.PROSE,)),
)


def _detect(text: str, context: Context, removed: Counter[str] | None) -> str:
    for phase in PHASES:
        for rule in phase.rules_for(context):
            text, n = rule.run(text, text.lower())
            if n and removed is not None:
                removed[rule.kind] += n
    return text


def redact_text(
    text: Any,
    removed: Counter[str] | None = None,
    local: LocalNames | None = None,
    vocabulary: Vocabulary | None = None,
) -> str:
    """Known words kept; every piece of data replaced by ``<kind>``; cut after redaction.

    ``vocabulary`` is what the code on the report's stack could have written (default: Crawl4AI's
    own words and CPython's templates). Redaction repeats until nothing changes, so the result
    is a fixed point: redacting it again returns it unchanged (and a cut never shows half a
    secret)."""
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:
            return "<unprintable>"
    text = without_controls(text)  # no terminal escapes in a report (see _text)
    if len(text) > MAX_INPUT:
        # Drop the last, possibly cut, word too: half a token would no longer look like one.
        text = text[:MAX_INPUT].rsplit(None, 1)[0] + " " + ELLIPSIS
        _count(removed, "truncated")
    context = Context(local, vocabulary if vocabulary is not None else vocabulary_for())
    for _ in range(6):
        before = text
        text = _detect(text, context, removed)
        text = allowlist.keep_known(text, context.vocabulary, removed, context.link_spans(text))
        if len(text) > MAX_MESSAGE:
            cut = text[: MAX_MESSAGE - 1]
            if cut.rfind("<") > cut.rfind(">"):  # never leave half a placeholder behind
                cut = cut[: cut.rfind("<")]
            text = cut + ELLIPSIS
            _count(removed, "truncated")
        if text == before:
            break
    return text


def _count(removed: Counter[str] | None, kind: str, n: int = 1) -> None:
    if removed is not None and n:
        removed[kind] += n
