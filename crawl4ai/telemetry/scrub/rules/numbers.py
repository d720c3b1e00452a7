"""Identifiers and numbers that are data: UUIDs → ``<id>``, memory addresses → ``<addr>``,
long digit runs (phone numbers, account numbers) → ``<number>``. Every other number becomes
``<number>`` in the allowlist."""

from __future__ import annotations

import re

from . import Rule

UUID = Rule(
    "id",
    re.compile(r"(?i)(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])"),
    "<id>",
    ("-",),
)
ADDRESS = Rule("addr", re.compile(r"\b0x[0-9a-fA-F]{6,16}\b"), "<addr>", ("0x",))
LONG_NUMBER = Rule("number", re.compile(r"(?<![\w.])\+?\d(?:[\d\- ]{5,}\d)(?![\w.])"), "<number>")
