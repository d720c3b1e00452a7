"""URLs in every form → ``<url>``: with a scheme (also percent-encoded or JSON-escaped), opaque
schemes (``mailto:``, ``data:``…), scheme-relative (``//cdn…``), with credentials
(``user:pass@host``) and runs of percent-encoding. Host names without a scheme live in
:mod:`.hosts`.

A documentation link that the code on the stack itself contains (pydantic's
``https://errors.pydantic.dev/…``) is not data: the allowlist's vocabulary names such hosts, and
:func:`known_link` keeps a URL whose host and path words are all in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import Rule, sentence_tail

__all__ = ["CREDENTIAL_RULES", "PERCENT_RULES", "WITH_SCHEME", "rules", "sentence_tail"]

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]{0,30}"
WITH_SCHEME = re.compile(r"(?<![\w+.\-])" + _SCHEME + r"(?::(?://|\\/\\/)|%3[Aa]%2[Ff]%2[Ff])[^\s'\"<>`]*")
OPAQUE = re.compile(r"(?i)(?<![\w.\-])(?:mailto|data|javascript|file|tel|sms|blob|about|urn):[^\s'\"<>`]+")
SCHEMELESS = re.compile(r"(?<![\w:/.<>])//(?=[^\s/]*[.\[])[^\s'\"<>`/]+(?:/[^\s'\"<>`]*)?")
CREDENTIALS = re.compile(r"(?<![\w:/.\-])[^\s:/@'\"<>`]+:[^\s/@'\"<>`]*@[^\s'\"<>`]+")
PERCENT_ENCODED = re.compile(r"(?<![\w<>])[^\s'\"<>`]*(?:%[0-9A-Fa-f]{2})[^\s'\"<>`]*%[0-9A-Fa-f]{2}[^\s'\"<>`]*")


def _url(keep: Callable[[str], bool]) -> Callable[[re.Match[str]], str | None]:
    def replace(m: re.Match[str]) -> str | None:
        tail = sentence_tail(m.group(0))
        url = m.group(0)[: len(m.group(0)) - len(tail)]
        return None if keep(url) else "<url>" + tail

    return replace


def _credentials(m: re.Match[str]) -> str | None:
    host = m.group(0).rsplit("@", 1)[1]
    return "<url>" + sentence_tail(m.group(0)) if host and (host[0].isalnum() or host[0] == "[") else None


def rules(keep: Callable[[str], bool]) -> tuple[Rule, ...]:
    """The URL rules; ``keep(url)`` says a URL is a known documentation link."""
    return (
        Rule("url", WITH_SCHEME, _url(keep), (":", "%3a")),
        Rule("url", OPAQUE, _url(lambda url: False), (":",)),
        Rule("url", SCHEMELESS, _url(lambda url: False), ("//",)),
    )


CREDENTIAL_RULES = (Rule("url", CREDENTIALS, _credentials, ("@",)),)
PERCENT_RULES = (Rule("url", PERCENT_ENCODED, "<url>", ("%",)),)
