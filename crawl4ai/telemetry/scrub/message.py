"""Message redaction: an exception message or note keeps text only where its code's templates
put it.

Each line is aligned to a template of the code that wrote it (:mod:`.align`): the constant parts
stay, each hole becomes a typed placeholder. The typed detectors choose that placeholder's name:
they run phase by phase in the order of :data:`PHASES` (each phase is named after what it takes
out; the order matters where one kind of data contains another: a URL holds a host, a path may
hold a user name) over what no template accounts for. This machine's names are taken out of the
result last, wherever they are. Long messages are cut after redaction, never instead of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .._record import Record
from .._text import without_controls
from . import templates
from .align import Aligner, Pool, Span, render
from .rules import Rule, content, emails, hosts, ips, local, numbers, paths, secrets, urls, values
from .rules.local import LocalNames

MAX_MESSAGE = 1000  # below sentry-sdk's own value trimming, so Sentry never re-cuts our text
MAX_INPUT = 64 * 1024  # redaction cost stays bounded for megabyte-sized messages
ELLIPSIS = "…"


def _nothing(_: str) -> bool:
    return False


class Context(Record):
    """What a phase may depend on besides the text: this machine's names, and which ``word:``
    the report's templates write before a value. Text the detectors see is no template's
    constant text, so no word or link in it is known code's."""

    __slots__ = ("local", "knows_prefix")
    _defaults = {"knows_prefix": _nothing}
    local: LocalNames | None
    knows_prefix: Callable[[str], bool]

    def known_link(self, url: str) -> bool:
        return False


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
    Phase("credential pairs", lambda c: secrets.pair_rules(c.knows_prefix)),
    Phase("unquoted values", values.UNQUOTED_RULES),
    Phase("assignments", lambda c: values.assignment_rules(_nothing)),
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


@lru_cache(maxsize=1)
def base_pool() -> Pool:
    """CPython's templates and the reviewed list's: what any message may be aligned to."""
    return Pool(templates.data_templates())


def redact_text(
    text: Any,
    removed: Counter[str] | None = None,
    local: LocalNames | None = None,
    aligner: Aligner | None = None,
    spans: list[Span] | None = None,
) -> str:
    """Template text kept; every piece of data replaced by ``<kind>``; cut after redaction.

    ``aligner`` holds the templates of the code on the report's stack (default: CPython's and the
    reviewed list's only). ``spans``, when given, receives the result piece by piece, each
    saying why it is there. The result is a fixed point: redacting it again with the same code
    returns it unchanged (a placeholder in a hole stays itself)."""
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
    base = aligner if aligner is not None else Aligner((base_pool(),))
    context = Context(local, base.knows_prefix)
    aligner = Aligner(base.pools, base.proofs, base.messages,
                      lambda t, counter: _detect(t, context, counter), removed)
    pieces = _without_local_names(aligner.align(text), context, removed)
    out = render(pieces)
    if len(out) > MAX_MESSAGE:
        out, pieces = _cut(pieces)
        _count(removed, "truncated")
    if spans is not None:
        spans.extend(pieces)
    return out


def _without_local_names(spans: list[Span], context: Context, removed: Counter[str] | None) -> list[Span]:
    """This machine's home, user and host names go wherever they are, template text included."""
    if context.local is None:
        return spans
    rules = (*local.home_rules(context.local), *local.name_rules(context.local))
    out = []
    for span in spans:
        text = span.text
        for rule in rules:
            text, n = rule.run(text, text.lower())
            if n and removed is not None:
                removed[rule.kind] += n
        out.append(span if text == span.text else Span(text, False, "this machine's names"))
    return out


def _cut(spans: list[Span]) -> tuple[str, list[Span]]:
    """At most :data:`MAX_MESSAGE` characters, never half a placeholder, then the cut mark."""
    out: list[Span] = []
    size = 0
    for span in spans:
        room = MAX_MESSAGE - 1 - size
        if len(span.text) > room:
            if span.kept and room > 0:
                out.append(Span(span.text[:room], True, span.why))
            break
        out.append(span)
        size += len(span.text)
    out.append(Span(ELLIPSIS, True, "cut"))
    return render(out), out


def _count(removed: Counter[str] | None, kind: str, n: int = 1) -> None:
    if removed is not None and n:
        removed[kind] += n
