"""Scrub: the privacy promise in code. Every report passes here before it is stored or sent.

The report's structure is kept by allowlist: :mod:`.schema` lists every field a report may carry
and :func:`scrub_event` (:mod:`.sections`) rebuilds the report from it, one function per section.

Its messages are kept by allowlist too: a word of an exception message or note survives only if
the code that could have written it contains that word (:mod:`.vocabulary`: the modules on the
report's stack, Crawl4AI's own, CPython's message templates, a reviewed list for text made
outside Python). Typed detectors (:mod:`.rules`, one module per kind of data: secrets, URLs,
e-mails, IPs, hosts, paths, content, values, numbers, this machine's names) only choose what a
piece of data is called (``<url>``, ``<secret>``…); the vocabulary decides what may stay
(:mod:`.allowlist`). So the same bug reads the same whatever site it was crawling, and a kind of
data nobody wrote a rule for still cannot get out.

What was removed is counted per category (never the values) in the ``removed`` counter the caller
may pass, so the dashboard can show what a report lost.

Layout: ``rules/`` (what data looks like) → ``message.py`` (the named phases, then the
allowlist) → ``sections.py`` (the report, section by section, driven by ``schema.py``).
"""

from __future__ import annotations

from .message import ELLIPSIS, MAX_INPUT, MAX_MESSAGE, PHASES, redact_text
from .rules import PLACEHOLDERS, USER_CODE
from .rules.local import LocalNames
from .schema import CALLER_CONTEXT
from .sections import (
    MAX_FRAMES,
    MAX_VALUES,
    scrub_event,
)

#: Context keys a caller may pass that are meant for telemetry (their values are enumerated).
ALLOWED_CONTEXT_KEYS = frozenset(f.name for f in CALLER_CONTEXT)

__all__ = [
    "ALLOWED_CONTEXT_KEYS", "ELLIPSIS", "MAX_FRAMES", "MAX_INPUT", "MAX_MESSAGE", "MAX_VALUES",
    "PHASES", "PLACEHOLDERS", "USER_CODE", "LocalNames", "redact_text", "scrub_event",
]
