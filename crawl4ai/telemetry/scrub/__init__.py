"""Scrub: the privacy promise in code. Every report passes here before it is stored or sent.

The report's structure is kept by allowlist: :mod:`.schema` lists every field a report may carry
and :func:`scrub_event` (:mod:`.sections`) rebuilds the report from it, one function per section.

Its messages are kept by position: a piece of an exception message or note survives only where a
template of the code that wrote it puts that piece (:mod:`.align`). The templates are read from
the code objects of the report's frames and of its exception classes (:mod:`.formats`,
:mod:`.code`: f-strings as compiled, ``%`` and ``str.format`` templates, literals), CPython's
own messages and a reviewed list for text made outside Python (:mod:`.templates`). Each hole
becomes a typed placeholder whatever it holds; typed detectors (:mod:`.rules`, one module per kind
of data: secrets, URLs, e-mails, IPs, hosts, paths, content, values, numbers, this machine's
names) only choose what it is called (``<url>``, ``<secret>``…). So the same bug reads the same
whatever site it was crawling, and text no template accounts for cannot get out. Every piece can
say why it is there (``provenance``).

What was removed is counted per category (never the values) in the ``removed`` counter the caller
may pass, so the dashboard can show what a report lost.

Layout: ``rules/`` (what data looks like) → ``formats.py``/``code.py``/``templates.py`` (where
templates come from) → ``align.py`` (a message against its templates) → ``message.py`` (the named
detection phases, the cut) → ``sections.py`` (the report, section by section, driven by
``schema.py``).
"""

from __future__ import annotations

from .align import Span, explain
from .code import aligner_for_modules
from .message import ELLIPSIS, MAX_INPUT, MAX_MESSAGE, PHASES, redact_text
from .rules import PLACEHOLDERS, USER_CODE
from .rules.local import LocalNames
from .schema import CALLER_CONTEXT
from .sections import (
    MAX_FRAMES,
    MAX_VALUES,
    MessageProvenance,
    scrub_event,
)

#: Context keys a caller may pass that are meant for telemetry (their values are enumerated).
ALLOWED_CONTEXT_KEYS = frozenset(f.name for f in CALLER_CONTEXT)

__all__ = [
    "ALLOWED_CONTEXT_KEYS", "ELLIPSIS", "MAX_FRAMES", "MAX_INPUT", "MAX_MESSAGE", "MAX_VALUES",
    "PHASES", "PLACEHOLDERS", "USER_CODE", "LocalNames", "MessageProvenance", "Span", "aligner_for_modules",
    "explain", "redact_text", "scrub_event",
]
