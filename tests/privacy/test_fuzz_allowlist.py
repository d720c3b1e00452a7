"""Message templates, fuzzed: messages made of real library message templates (Crawl4AI, httpx,
aiohttp, Playwright, pydantic, redis-style and CPython errors) whose holes and surroundings are
filled with random pronounceable words, random hosts under random labels, random ``key: value``
pairs, short random secrets, random names and documentation links carrying a random query or
fragment, in every position and quoting style, nested in causes, contexts, exception groups and
notes. No random token may appear anywhere in the report's bytes: as is, lower-cased,
percent-encoded, JSON-escaped or base64 (see ``canary.find_leak``).

Thousands of cases per run (``PRIVACY_FUZZ`` sets how many; the default keeps the test around a
minute on a loaded machine). The messages are raised here (the user's code), so no template of
known code wrote them: every planted token must go, whatever word it happens to be.
"""

from __future__ import annotations

import builtins
import json
import os
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawl4ai.telemetry.raw_event import build_event
from crawl4ai.telemetry.scrub import scrub_event
from tests.privacy.canary import find_leak

CASES = int(os.environ.get("PRIVACY_FUZZ", "2000"))
ExceptionGroup = getattr(builtins, "ExceptionGroup", None)  # noqa: A001

# Real message templates, "{}" marks a hole the library fills with data.
TEMPLATES = (
    # crawl4ai
    "Failed on navigating ACS-GOTO:\n{}",
    "Error in _handle_http: {}",
    "Invalid proxy string format: {}",
    "Unexpected error in _crawl_web at line {} in {} ({}):\n  Error: {}",
    "Failed to extract content from {}: {}",
    # httpx
    "Client error '{} {}' for url '{}'",
    "All connection attempts failed",
    "Redirect response '{}' for url '{}'",
    # aiohttp
    "Cannot connect to host {}:{} ssl:default [{}]",
    "{}, message='{}', url='{}'",
    "Server disconnected",
    # playwright
    "Page.goto: net::ERR_NAME_NOT_RESOLVED at {}",
    "Page.goto: Timeout 30000ms exceeded.\nCall log:\n  - navigating to \"{}\", waiting until \"load\"",
    "Locator.click: Target page, context or browser has been closed",
    # pydantic
    "1 validation error for {}\n{}\n  Field required [type=missing, input_value={}, input_type=dict]",
    # redis-style
    "Error {} connecting to {}:{}. {}.",
    "AUTH failed: {}",
    # CPython
    "'{}' object has no attribute '{}'",
    "cannot import name '{}' from '{}'",
    "{}() takes 2 positional arguments but 3 were given",
    "[Errno 2] No such file or directory: '{}'",
    "invalid literal for int() with base 10: '{}'",
    "unknown encoding: {}",
    "{}",
)
QUOTES = (("", ""), ("'", "'"), ('"', '"'), ("\u2018", "\u2019"), ("\u201c", "\u201d"),
          ("\u300c", "\u300d"), ("\u00ab", "\u00bb"), ("(", ")"), ("[", "]"), ("<", ">"), ("`", "`"))
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "kl", "sn")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_TLDS = ("svc", "consul", "local", "internal", "lan", "corp", "io", "co.uk", "com.br", "dev", "zz",
         "cluster.local", "africa", "museum")
DOC_LINK = "https://errors.pydantic.dev/2.11/v/int_parsing"  # kept whole when bare
_KEYS = ("login", "pass", "otp_seed", "X-Api-Token", "user", "db", "Host", "owner", "pin", "note")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(4, 5)))


def _secret(rng: random.Random) -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(7, 10)))


def _filler(rng: random.Random, planted: list[str]) -> str:
    """One piece of data, with every random token it contains recorded in ``planted``."""
    a, b, c = _word(rng), _word(rng), _word(rng)
    kind = rng.randrange(11)
    if kind == 0:
        planted.append(a)
        return a
    if kind == 1:
        planted.extend([a, b])
        return f"{a}.{b}.{rng.choice(_TLDS)}"
    if kind == 2:
        planted.append(a)
        return f"name_{a}_{rng.randint(1, 9)}:{rng.choice((6379, 5432, 27017, 8080))}"
    if kind == 3:
        planted.extend([a, b])
        return f"git@{a}:{b}/repo.git"
    if kind == 4:
        secret = _secret(rng)
        planted.append(secret)
        return f"{rng.choice(_KEYS)}: {secret}"
    if kind == 5:
        planted.extend([a, b])
        return f"{a.capitalize()} {b.capitalize()}"
    if kind == 6:
        planted.append(b)
        return f"crawl-{b}-chrome-{rng.randint(1, 9)}"
    if kind == 7:  # spelled out: each letter alone may be a known word
        spelled = rng.choice((" ", ", ", "-", ".")).join(a)
        planted.extend([spelled, spelled[: len(spelled) // 2]])
        return spelled
    if kind == 8:  # symbols only: no word for the allowlist to judge
        symbols = "".join(rng.sample("!@#$%^&*+=?|~", 8))
        planted.append(symbols)
        return symbols
    if kind == 9:  # a real documentation link (its host is known) with a value after ? or #
        secret = _secret(rng)
        planted.append(secret)
        tail = rng.choice(("#{}", "?{}", "?input={}", "?type=int#{}", "/?q=1&v={}"))
        return DOC_LINK + tail.format(secret)
    planted.extend([a, b, c])
    return f"{a} {b} {c}"


def _message(rng: random.Random, planted: list[str]) -> str:
    template = rng.choice(TEMPLATES)
    holes = []
    for _ in range(template.count("{}")):
        left, right = rng.choice(QUOTES)
        holes.append(left + _filler(rng, planted) + right)
    text = template.format(*holes)
    if rng.random() < 0.5:  # data around the template too
        left, right = rng.choice(QUOTES)
        text = rng.choice(("{} ", "{}: ", "{}\n")).format(left + _filler(rng, planted) + right) + text
    if rng.random() < 0.3:
        text += rng.choice((" ({})", "; {}", "\n{}")).format(_filler(rng, planted))
    return text


def _error(rng: random.Random, planted: list[str], depth: int = 0) -> BaseException:
    exc_type = rng.choice((ValueError, RuntimeError, KeyError, ConnectionError, TypeError, OSError))
    try:
        raise exc_type(_message(rng, planted))
    except BaseException as caught:  # noqa: BLE001 - a real traceback, as errors have
        exc = caught
    if sys.version_info >= (3, 11) and rng.random() < 0.3:
        exc.add_note(_message(rng, planted))
    if depth < 2 and rng.random() < 0.4:
        shape = rng.randrange(3)
        inner = _error(rng, planted, depth + 1)
        if shape == 0:
            exc.__cause__ = inner
        elif shape == 1:
            exc.__context__ = inner
        elif ExceptionGroup is not None:
            exc = ExceptionGroup(_message(rng, planted), [inner, exc])
    return exc


@pytest.mark.timeout(600)
@settings(max_examples=CASES, deadline=None, database=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_no_random_token_survives_anywhere_in_the_report(rng):
    planted: list[str] = []
    exc = _error(rng, planted)
    raw = build_event(exc, environment="library")
    payload = json.dumps(scrub_event(raw), ensure_ascii=False).encode()
    leaks = [leak for s in planted if (leak := find_leak(s, {"report": payload}))]
    assert not leaks, "\n".join(leaks)
