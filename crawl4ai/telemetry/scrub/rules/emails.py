"""E-mail addresses → ``<email>``, also percent-encoded (``%40``). Obfuscated forms
(``name [at] domain [dot] com``) hold no ``@``: their words are judged by the allowlist."""

from __future__ import annotations

import re

from . import Rule
from .hosts import LABEL

PATTERN = re.compile(
    r"(?<![\w.+\-])[\w!#$%&'*+/=?^`{|}~\-](?:[\w.!#$%&'*+/=?^`{|}~\-]{0,126}[\w!#$%&'*+/=?^`{|}~\-])?"
    r"(?:@|%40)(?:" + LABEL + r"\.)+(?:[^\W\d_]{2,63}|[xX][nN]--[a-zA-Z0-9\-]{1,59})(?![\w\-])"
)


def _email(m: re.Match[str]) -> str:
    # A quote before the address belongs to the text ('a@b.org'), unless the address has none after.
    if m.group(0).startswith("'") and m.string[m.end():m.end() + 1] == "'":
        return "'<email>"
    return "<email>"


RULES = (Rule("email", PATTERN, _email, ("@", "%40")),)
