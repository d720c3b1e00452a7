"""Property-based proof of the message redactor: generated secrets (URLs in every form, e-mails,
IPv4/IPv6, host names, tokens and keys) in the hole of a generated template never survive, the
template's static words around them do, and redacting twice changes nothing."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawl4ai.telemetry.scrub import MAX_MESSAGE, PLACEHOLDERS, scrub_event, templates
from tests.privacy.crawl_words import redact_text

# A bounded number of examples keeps the suite fast; PRIVACY_EXAMPLES=5000 digs deeper on demand.
EXAMPLES = int(os.environ.get("PRIVACY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Ordinary words of error messages: none of them is data, so all of them must survive.
WORDS = ("failed", "to", "parse", "crawl", "page", "timeout", "while", "loading", "element",
         "selector", "unexpected", "value", "at", "line", "column", "error", "could", "not",
         "find", "retry", "after", "waiting", "for", "response", "status", "invalid", "missing",
         "the", "in", "on", "extraction", "strategy", "returned", "empty", "result", "browser",
         "closed", "navigation", "aborted", "schema", "field", "chunk", "markdown", "generator")
TLDS = ("com", "org", "net", "io", "de", "co.uk", "dev", "app", "fr", "com.br", "ai", "xyz", "info")

# A template of function words alone keeps nothing ("{} or {}"): each names what failed.
words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).filter(
    lambda ws: any(w not in templates.grammar_words() for w in ws)).map(" ".join)
label = st.from_regex(r"[a-z][a-z0-9]{5,11}", fullmatch=True)
idn_label = st.text(alphabet="abcdeéüößçñøåжд", min_size=6, max_size=10).filter(lambda s: not s.isascii())
secret_word = st.from_regex(r"[a-z]{7,12}", fullmatch=True)


@st.composite
def urls(draw) -> tuple[str, list[str]]:
    """(a URL in one of its forms, the distinctive parts that must not survive)."""
    host_labels = draw(st.lists(st.one_of(label, idn_label), min_size=1, max_size=3))
    host = ".".join(host_labels) + "." + draw(st.sampled_from(TLDS))
    path = draw(st.lists(secret_word, max_size=3))
    query = draw(st.lists(st.tuples(secret_word, secret_word), max_size=2))
    user, password = draw(secret_word), draw(secret_word)
    with_credentials = draw(st.booleans())
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    scheme = draw(st.sampled_from(["https://", "http://", "ftp://", "ws://", "//", ""]))
    netloc = (f"{user}:{password}@" if with_credentials else "") + host + (f":{port}" if port else "")
    url = scheme + netloc
    if path or query or not scheme:
        url += "/" + "/".join(path)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query)
    parts = [*host_labels, *path, *(v for _, v in query)]
    if with_credentials:
        parts += [user, password]
    form = draw(st.sampled_from(["plain", "percent", "quoted"]))
    if form == "percent" and scheme.endswith("://"):
        url = quote(url, safe="")
    elif form == "quoted":
        url = repr(url)
    return url, [p for p in parts if len(p) >= 6]


@st.composite
def tokens(draw) -> str:
    body = draw(st.from_regex(r"[A-Za-z0-9]{24,40}", fullmatch=True))
    kind = draw(st.sampled_from(["sk", "proj", "akia", "ghp", "xox", "jwt", "bearer", "basic", "entropy", "hex"]))
    if kind == "sk":
        return "sk-" + body
    if kind == "proj":
        return "sk-proj-" + body
    if kind == "akia":
        return "AKIA" + body.upper()[:16]
    if kind == "ghp":
        return "ghp_" + body
    if kind == "xox":
        return f"xox{draw(st.sampled_from('bpas'))}-{draw(st.integers(1000, 99999))}-{body}"
    if kind == "jwt":
        segment = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")  # noqa: E731
        return f"{segment({'alg': 'HS256'})}.{segment({'sub': body})}.{body[:20]}"
    if kind == "bearer":
        return "Bearer " + body
    if kind == "basic":
        return "Basic " + base64.b64encode(f"user:{body}".encode()).decode()
    if kind == "hex":
        return draw(st.from_regex(r"[0-9a-f]{32,64}", fullmatch=True).filter(lambda s: any(c.isdigit() for c in s)))
    # A long high-entropy string: digits, upper and lower case mixed.
    return draw(st.from_regex(r"[A-Za-z0-9_\-]{32,64}", fullmatch=True).filter(
        lambda s: sum(c.isdigit() for c in s) >= 3 and sum(c.isupper() for c in s) >= 3 and sum(c.islower() for c in s) >= 3))


def _embed(prefix: str, secret: str, suffix: str, sep: str = ": ") -> str:
    return f"{prefix} {secret}{sep}{suffix}"


def _redact_embedded(prefix: str, secret: str, suffix: str, sep: str = ": ") -> str:
    """The message as the code with the template ``f"{prefix} {{value}}{sep}{suffix}"`` wrote it."""
    return redact_text(_embed(prefix, secret, suffix, sep), template=(prefix + " ", None, sep + suffix))


def _assert_static_kept(prefix: str, suffix: str, out: str, sep: str = ": ") -> None:
    """The words around the secret survive, and the secret became placeholders."""
    assert out.startswith(prefix + " "), out
    assert out.endswith(sep + suffix), out
    middle = out[len(prefix) + 1: len(out) - len(sep + suffix)]
    assert "<" in middle and ">" in middle, out


@SETTINGS
@given(words, urls(), words)
def test_generated_urls_are_redacted(prefix, url_parts, suffix):
    url, parts = url_parts
    out = _redact_embedded(prefix, url, suffix)
    assert url not in out
    for part in parts:
        assert part.lower() not in out.lower(), (url, out)
    _assert_static_kept(prefix, suffix, out)


@SETTINGS
@given(words, st.emails(), words)
def test_generated_emails_are_redacted(prefix, email, suffix):
    # ", " rather than ": ": "<email>: word" is a key: value pair, whose value the allowlist withholds.
    out = _redact_embedded(prefix, email, suffix, sep=", ")
    domain = email.rsplit("@", 1)[1]
    assert email.lower() not in out.lower() and domain.lower() not in out.lower(), out
    _assert_static_kept(prefix, suffix, out, sep=", ")


@SETTINGS
@given(words, st.ip_addresses().map(str), st.sampled_from(["{}", "[{}]:8443", "{}:8080", "'{}'"]), words)
def test_generated_ip_addresses_are_redacted(prefix, ip, shape, suffix):
    if ":" in ip and shape == "{}:8080":
        shape = "[{}]:8080"
    out = _redact_embedded(prefix, shape.format(ip), suffix, sep=", ")
    assert ip not in out, out
    _assert_static_kept(prefix, suffix, out, sep=", ")


@SETTINGS
@given(words, tokens(), words)
def test_generated_tokens_and_keys_are_redacted(prefix, token, suffix):
    out = _redact_embedded(prefix, token, suffix)
    secret = token.split()[-1]
    assert secret not in out and secret[4:24] not in out, out
    _assert_static_kept(prefix, suffix, out)


@SETTINGS
@given(st.lists(st.one_of(words, urls().map(lambda u: u[0]), st.emails(), st.ip_addresses().map(str), tokens()),
                min_size=1, max_size=8).map(" ".join))
def test_redaction_is_idempotent_on_generated_messages(message):
    once = redact_text(message)
    assert redact_text(once) == once


@settings(max_examples=2 * EXAMPLES, deadline=None, database=None)
@given(st.text(max_size=300))
def test_redaction_is_idempotent_on_any_text(text):
    once = redact_text(text)
    assert redact_text(once) == once


@SETTINGS
@given(st.integers(0, MAX_MESSAGE + 40), urls())
def test_long_messages_are_cut_after_redaction(filler, url_parts):
    url, parts = url_parts
    message = "x " * (filler // 2) + url + " trailing words " * 20
    out = redact_text(message)
    assert len(out) <= MAX_MESSAGE
    for part in parts:
        assert part.lower() not in out.lower()
    # Nothing half cut: every "<" opens a whole placeholder.
    for piece in out.split("<")[1:]:
        assert piece.split(">")[0] in PLACEHOLDERS, out[-60:]


@SETTINGS
@given(st.lists(st.one_of(words, urls().map(lambda u: u[0]), tokens()), min_size=1, max_size=5).map(" ".join))
def test_scrub_event_is_pure_and_idempotent(message):
    event = {"event_id": "a" * 32, "exception": {"values": [{"type": "ValueError", "value": message}]},
             "contexts": {"telemetry": {"operation": message[:60], "url": message}}, "extra": {"m": message}}
    snapshot = json.dumps(event, sort_keys=True)
    removed: Counter[str] = Counter()
    once = scrub_event(event, removed)
    assert json.dumps(event, sort_keys=True) == snapshot  # the input is not touched
    assert scrub_event(once) == once
    assert removed["field"] == 1 and removed["context"] >= 1
