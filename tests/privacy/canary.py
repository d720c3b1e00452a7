"""Planted secrets ("canaries") and the one assertion every privacy test ends with.

A canary is a random lower-case word: if the scrubber failed to recognise the data around it, it
would pass through as ordinary text, so a test can only pass because the rule it targets worked.
:func:`assert_absent` searches bytes for the canary in every form it could take on the way out:
as is, lower/upper-cased, percent-encoded, JSON- and HTML-escaped, hex, and base64 (at each of
the three alignments a substring can have inside a longer base64 text).
"""

from __future__ import annotations

import base64
import html
import json
import random
import re
import string
from pathlib import Path
from urllib.parse import quote, quote_plus

_rng = random.SystemRandom()


def canary(prefix: str = "cn") -> str:
    """A unique word that occurs nowhere else: letters only, so no token rule masks it."""
    return prefix + "".join(_rng.choice(string.ascii_lowercase) for _ in range(12))


def _base64_forms(raw: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for k in range(3):
        core = raw[k:]
        core = core[: len(core) // 3 * 3]
        if len(core) >= 6:
            out[f"base64[{k}]"] = base64.b64encode(core)
            out[f"base64url[{k}]"] = base64.urlsafe_b64encode(core)
    return out


def variants(secret: str) -> dict[str, bytes]:
    """Every encoding of ``secret`` that could carry it out of the machine."""
    forms = {
        "plain": secret,
        "percent": quote(secret, safe=""),
        "percent-plus": quote_plus(secret),
        "json": json.dumps(secret)[1:-1],
        "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1],
        "json-slash": secret.replace("/", "\\/"),
        "html": html.escape(secret),
        "hex": secret.encode().hex(),
    }
    out = {name: form.encode() for name, form in forms.items()}
    for text in {secret, secret.lower(), secret.upper()}:
        out.update({f"{k}/{'lower' if text == secret.lower() else 'as-is'}": v
                    for k, v in _base64_forms(text.encode()).items()})
    return out


def find_leak(secret: str, blobs: dict[str, bytes]) -> str | None:
    """A description of where a variant of ``secret`` was found, or None."""
    for variant, needle in variants(secret).items():
        case_blind = not variant.startswith("base64")
        for name, blob in blobs.items():
            haystack = blob.lower() if case_blind else blob
            at = haystack.find(needle.lower() if case_blind else needle)
            if at >= 0:
                around = blob[max(0, at - 80): at + len(needle) + 80]
                return f"{variant} form of {secret!r} in {name}: …{around!r}…"
    return None


def assert_absent(blobs: dict[str, bytes], *secrets: str) -> None:
    """No variant of any of ``secrets`` in any of ``blobs``."""
    assert blobs, "nothing was collected to search: the test would prove nothing"
    leaks = [leak for s in secrets if (leak := find_leak(s, blobs))]
    assert not leaks, "planted secrets left the machine:\n" + "\n".join(leaks)


def word_count(word: str, blob: bytes) -> int:
    """How often ``word`` occurs as a whole word (for names like a host name that may be short)."""
    pattern = rb"(?<![A-Za-z0-9])" + re.escape(word.encode()) + rb"(?![A-Za-z0-9])"
    return len(re.findall(pattern, blob, re.I))


def outbox_blobs(home: Path) -> dict[str, bytes]:
    """Every file of the local outbox (reports and their delivery records). Not the on-disk
    caches (``cache/``): they hold what installed code contains (its message templates, which
    file is whose), never a report's data (test_template_positions checks that on its own)."""
    root = home / ".crawl4ai" / "telemetry"
    if not root.exists():
        return {}
    return {f"outbox:{p.relative_to(root).as_posix()}": p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and "cache" not in p.relative_to(root).parts[:1]}


def cache_blobs(home: Path) -> dict[str, bytes]:
    """Every file of telemetry's on-disk caches."""
    root = home / ".crawl4ai" / "telemetry" / "cache"
    return {f"cache:{p.name}": p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}


def server_blobs(server) -> dict[str, bytes]:
    """Every request the Sentry server received: path, headers and decompressed body."""
    out = {}
    for i, request in enumerate(list(server.requests)):
        head = request["path"] + "\n" + "\n".join(f"{k}: {v}" for k, v in request["headers"].items())
        out[f"server[{i}]:headers"] = head.encode()
        out[f"server[{i}]:body"] = request["raw"]
    return out


_NOT_PLACEHOLDER_WORD = re.compile(r"(?<![<\w])(?!(?:user code|url|host|email|ip|path|secret|str|markup|markdown"
                                   r"|text|number|id|addr|user|unprintable)>)[A-Za-z]\w*")


def assert_only_placeholders(message: str) -> None:
    """A message raised by the user's own code keeps no word of it: no template of known code
    wrote it, so its static text is the user's source and goes like any value."""
    words = _NOT_PLACEHOLDER_WORD.findall(message)
    assert not words, f"words of the user's message kept: {words} in {message!r}"

