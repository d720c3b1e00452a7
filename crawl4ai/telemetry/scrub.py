"""Scrub: the privacy promise in code.

:func:`scrub_event` rebuilds a report from an allowlist (an unknown key is dropped, never passed)
and redacts every value that could carry data. It is a pure function: no I/O, no globals it
writes, the same answer for the same input, and idempotent (scrubbing a scrubbed report changes
nothing, which matters because it runs again as Sentry's ``before_send``). It runs before every
provider, so nothing reaches a provider unscrubbed. Each section of the report has one function
below, named after it; reading :func:`scrub_event` top to bottom reads the promise.

Messages keep the static text that explains an error and lose every piece of data, which is
replaced by a typed placeholder (``<url>``, ``<host>``, ``<email>``, ``<ip>``, ``<path>``,
``<secret>``, ``<str>``, ``<markup>``, ``<markdown>``, ``<text>``, ``<number>``, ``<id>``,
``<addr>``, ``<user>``). The same bug therefore reads the same whatever site it was crawling,
which is also what lets reports group. Long messages are cut after redaction, never instead of it.

What was removed is counted per category (never the values) in the ``removed`` counter the caller
may pass, so the dashboard can show what a report lost.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ._text import without_controls
from .ownership import owner_of_module

MAX_MESSAGE = 1000  # below sentry-sdk's own value trimming, so Sentry never re-cuts our text
MAX_INPUT = 64 * 1024  # redaction cost stays bounded for megabyte-sized messages
MAX_FRAMES = 60
MAX_VALUES = 10
LONG_SEGMENT = 200  # a run of prose this long is content, not an explanation
USER_CODE = "<user code>"
ELLIPSIS = "…"

# Context keys a caller may pass that are meant for telemetry; values are checked all the same.
ALLOWED_CONTEXT_KEYS = frozenset(
    {"operation", "component", "function", "module", "stage", "strategy", "source", "occurrences"}
)
ENVIRONMENTS = frozenset(
    {"cli", "library", "docker", "api_server", "jupyter", "colab", "ci", "container"}
)
PLACEHOLDERS = frozenset(
    {"url", "host", "email", "ip", "path", "secret", "str", "markup", "markdown", "text",
     "number", "id", "addr", "user", "unprintable"}
)
_PLACEHOLDER = r"<(?:" + "|".join(sorted(PLACEHOLDERS)) + r")>"


@dataclass(frozen=True)
class LocalNames:
    """This machine's own identifiers, handed in by the caller so the scrubber stays pure.

    ``homes`` are home-directory paths, ``users`` user names, ``hosts`` host names. They are
    replaced wherever they appear in a message, even when they do not look like data.
    """

    homes: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Message redaction: one redactor per kind of data, applied in this order (most specific first).
# ---------------------------------------------------------------------------------------------

_Redactor = Callable[[str], "tuple[str, int]"]


def _sub(pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> _Redactor:
    def redact(text: str) -> tuple[str, int]:
        return pattern.subn(repl, text)

    return redact


def _when(triggers: str | tuple[str, ...], redactor: _Redactor) -> _Redactor:
    """Run ``redactor`` only when one of ``triggers`` (lower case) occurs: most messages hold
    none of the data most redactors look for, and a substring test is far cheaper than a regex."""
    keys = (triggers,) if isinstance(triggers, str) else triggers

    def redact(text: str) -> tuple[str, int]:
        lower = text.lower()
        if any(k in lower for k in keys):
            return redactor(text)
        return text, 0

    return redact


def _counting(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str | None]) -> _Redactor:
    """``repl`` may return None to leave a match as it is (a validator said "not data")."""

    def redact(text: str) -> tuple[str, int]:
        count = 0

        def one(m: re.Match[str]) -> str:
            nonlocal count
            out = repl(m)
            if out is None:
                return m.group(0)
            count += 1
            return out

        return pattern.sub(one, text), count

    return redact


# -- secrets ----------------------------------------------------------------------------------

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)", re.S)
_SENSITIVE_HEADER = re.compile(
    r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|"
    r"x-auth-token|x-access-token|x-csrf-token|x-xsrf-token|x-amz-security-token|x-goog-api-key|"
    r"x-forwarded-for|x-real-ip|forwarded)(['\"]?\s*[:=]\s*)[^\n]*"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*")
_BASIC = re.compile(r"(?i)\b(basic|digest)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{6,}=*")
# A value after a name that only ever holds a secret ("password: x", "api_key=x", "'token': 'x'").
_SECRET_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])((?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|client[_-]?secret|access[_-]?token|refresh[_-]?token|"
    r"id[_-]?token|auth[_-]?token|session[_-]?id|sessionid|csrf[_-]?token|credentials?))"
    r"(['\"]?\s*[:=]\s*)(?!<(?:secret|str)>)(['\"]?)[^\s'\",;&}]+\3"
)
# Generic names whose value is a secret only in the key=value shape ("token=x", not "token at").
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9])(token|auth|key|sig|signature|session|sid|pass|ticket|jwt)(=|['\"]:\s*['\"]?)"
    r"(?!<(?:secret|str)>)[^\s'\",;&}]+"
)
_PROVIDER_TOKEN = re.compile(
    r"(?<![\w-])(?:"
    r"(?:sk|pk|rk)-(?:proj-|ant-(?:api\d+-)?|live-|test-)?[A-Za-z0-9_\-]{8,}"
    r"|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{8,}"
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{12,}"
    r"|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposrce]-[A-Za-z0-9\-]{8,}|xapp-[A-Za-z0-9\-]{8,}"
    r"|glpat-[A-Za-z0-9_\-]{12,}|AIza[0-9A-Za-z_\-]{30,}|ya29\.[0-9A-Za-z_\-]{20,}"
    r"|hf_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{20,}|pypi-[A-Za-z0-9_\-]{20,}"
    r"|sq0[a-z]{3}-[A-Za-z0-9_\-]{20,}|SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"
    r")"
)
# A masked key still shows its ends ("sk-abc12****wxyz"): drop it whole.
_MASKED = re.compile(r"(?<![\w-])[\w\-.]*\*{3,}[\w\-.]*(?:\*+[\w\-.]+)*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*)?")

# -- content: markup, markdown ----------------------------------------------------------------

_HTML_TAGS = (
    "html|head|body|title|meta|link|base|script|style|noscript|div|span|p|a|img|br|hr|ul|ol|li|"
    "table|thead|tbody|tfoot|tr|td|th|caption|form|input|button|select|option|textarea|label|"
    "iframe|frame|section|article|header|footer|nav|main|aside|h[1-6]|strong|em|b|i|u|small|pre|"
    "code|blockquote|svg|figure|figcaption|video|audio|source|picture|canvas|template|dl|dt|dd|"
    "abbr|cite|q|sup|sub|time|mark|center|font|object|embed|noframes|xml|rss|feed|entry|item"
)
_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|&lt;/?[A-Za-z][\s\S]{0,2000}?&gt;"
    r"|<!\[CDATA\[.*?(?:\]\]>|\Z)"
    r"|<![A-Za-z][^<>]*>"
    r"|<\?[A-Za-z][^<>]*\?>"
    r"|</[A-Za-z][\w:.-]*\s*>"
    r"|<(?:" + _HTML_TAGS + r")(?:\s[^<>]*)?/?>"
    r"|<[A-Za-z][\w:.-]*\s+[\w:.-]+\s*=[^<>]*>",
    re.I | re.S,
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MARKDOWN = re.compile(
    r"```.*?(?:```|\Z)"  # fenced blocks
    r"|!?\[[^\]\n]{0,300}\]\([^)\n]{0,1000}\)"  # links and images
    r"|^[ \t]{0,3}#{1,6}[ \t]+\S[^\n]*"  # headings
    r"|^[ \t]*\|[^\n]*\|[ \t]*$"  # table rows
    r"|(?<!\w)\*\*\w[^*\n]{0,500}?\w\*\*(?!\w)",  # bold runs
    re.S | re.M,
)

# -- addresses: URLs, e-mails, IPs, hosts --------------------------------------------------------

_SCHEME = r"[A-Za-z][A-Za-z0-9+.\-]{0,30}"
_URL_WITH_SCHEME = re.compile(
    r"(?<![\w+.\-])" + _SCHEME + r"(?::(?://|\\/\\/)|%3[Aa]%2[Ff]%2[Ff])[^\s'\"<>`]*"
)
_URL_OPAQUE = re.compile(r"(?i)(?<![\w.\-])(?:mailto|data|javascript|file|tel|sms|blob|about|urn):[^\s'\"<>`]+")
_URL_SCHEMELESS = re.compile(r"(?<![\w:/.<>])//(?=[^\s/]*[.\[])[^\s'\"<>`/]+(?:/[^\s'\"<>`]*)?")
_LABEL = r"(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?)"
_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w!#$%&'*+/=?^`{|}~\-](?:[\w.!#$%&'*+/=?^`{|}~\-]{0,126}[\w!#$%&'*+/=?^`{|}~\-])?"
    r"(?:@|%40)(?:" + _LABEL + r"\.)+(?:[^\W\d_]{2,63}|[xX][nN]--[a-zA-Z0-9\-]{1,59})(?![\w\-])"
)
_CREDENTIALS = re.compile(r"(?<![\w:/.\-])[^\s:/@'\"<>`]+:[^\s/@'\"<>`]*@[^\s'\"<>`]+")
_IPV4 = re.compile(
    r"(?<![\w.])\[?(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?\]?(?::\d{1,5})?(?![\w]|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:.])\[?(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[\w.\-]+)?(?:\](?::\d{1,5})?)?(?:/\d{1,3})?(?![\w:]|\.\d)"
)
_HOST = re.compile(
    r"(?<![\w.\-@/\\])((?:" + _LABEL + r"\.)+(?:[^\W\d_]{2,63}|[xX][nN]--[a-zA-Z0-9\-]{1,59}))"
    r"(?![\w\-]|\.[^\W_])(:\d{1,5})?((?:/[^\s'\"<>`]*)?)"
)
_HOST_KEYWORD = re.compile(
    r"(?i)\b(connect to host|host(?:name)?|server_hostname|proxy host|resolve host|"
    r"unknown host|no such host)(\s*[=:]\s*|\s+)(['\"]?)(?!<[a-z]+>)"
    r"([^\W_](?:[\w.\-]*[^\W_])?)(:\d{1,5})?\3(?![\w.\-])"
)
# Common words after "host"/"resolve" that are part of an explanation, not a name.
_HOST_KEYWORD_WORDS = frozenset(
    {"name", "names", "is", "was", "not", "and", "or", "the", "a", "an", "to", "for", "from",
     "header", "failed", "error", "unreachable", "down", "timed", "timeout", "lookup", "address",
     "key", "port", "in", "on", "at", "of", "with", "by", "closed", "refused", "reset", "ssl",
     "dns", "it", "this", "that", "must", "should", "cannot", "could", "did", "does"}
)

# Country-code TLDs, then generic ones that real crawls meet. A deliberately wide net: a dotted
# word that only looks like a host costs a placeholder; a missed host name leaks.
_CC_TLDS = frozenset(
    "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs "
    "bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee "
    "eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm "
    "hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb "
    "lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz "
    "na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs "
    "ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl "
    "tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw".split()
)
_G_TLDS = frozenset(
    "com net org edu gov mil biz pro aero coop museum mobi asia tel travel jobs cat arpa onion "
    "localhost localdomain internal intranet lan corp invalid app dev xyz site online tech store "
    "shop blog cloud club news website digital agency wiki academy studio systems science "
    "institute network software guru ninja rocks wtf io ai co tv ly gg fm".split()
)
# Endings that are also file extensions or attribute names ("setup.py", "README.md",
# "logger.info", "user.name"): with two labels they are code; "www.x.py", "a.b.info" are hosts.
_WORD_LIKE_TLDS = frozenset(
    "py md rs sh so cc ps mk id pm pt tf ml sc st in it is to do no at as be by me my us "
    "info name int page link click host hosting email codes media center zone group design test "
    "example local home today life live world space top global company solutions services".split()
)
# First labels that make a dotted word Python, not DNS ("asyncio.events", "self.page").
_CODE_ROOTS = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(
    "crawl4ai playwright patchright litellm pydantic bs4 lxml aiohttp httpx requests urllib3 "
    "sentry_sdk numpy np pandas pd torch nltk rich click typer fastapi starlette uvicorn "
    "aiosqlite aiofiles openai anthropic self cls obj result response request page browser "
    "context config crawler kwargs args e exc err ex".split()
)

# -- paths ---------------------------------------------------------------------------------------

_PATH_WINDOWS = re.compile(r"(?<![\w])[A-Za-z]:[\\/][^\s'\"<>|*?`]*")
_PATH_UNC = re.compile(r"(?<![\w\\])\\\\[^\s\\'\"<>`]+\\[^\s'\"<>`]*")
_PATH_HOME = re.compile(r"(?<![\w~])~[\w.\-]*/[^\s'\"<>`]*")
_PATH_ABSOLUTE = re.compile(r"(?<![\w.:/<>~\-])/(?=[^\s/'\"<>])[^\s'\"<>:;,()\[\]{}`]*")
_PATH_RELATIVE = re.compile(
    r"(?<![\w./<>\-])[\w.\-]+(?:/[\w.@%+~\-]+){2,}/?"
    r"|(?<![\w./<>\-])[\w.\-]+/[\w.\-]*\.[A-Za-z][A-Za-z0-9]{0,7}(?![\w/])"
)

# -- other data ------------------------------------------------------------------------------------

_COLON_CHAIN = re.compile(
    r"(?<![\w:<>])(?:" + _PLACEHOLDER + r"|[^\s:'\"<>()\[\]{},])+"
    r"(?::(?:" + _PLACEHOLDER + r"|[^\s:'\"<>()\[\]{},])+){2,}"
)
# name=value (form data, query strings, keyword reprs): the value is data unless it is a number,
# a constant or an enum member (``timeout=30``, ``verbose=True``, ``mode=CacheMode.BYPASS``).
_ASSIGNMENT = re.compile(r"(?<![\w.\-])([A-Za-z_][\w.\-\[\]]{0,40})=(?!['\"<])([^\s,;&)'\"\]}<>]+)")
_PLAIN_VALUE = re.compile(r"[-+]?\d{1,6}(?:\.\d+)?[a-z%]{0,3}|True|False|None|true|false|null|[A-Z]\w*\.[A-Z][A-Z0-9_]*")
_PERCENT_ENCODED = re.compile(
    r"(?<![\w<>])[^\s'\"<>`]*(?:%[0-9A-Fa-f]{2})[^\s'\"<>`]*%[0-9A-Fa-f]{2}[^\s'\"<>`]*"
)
_UUID = re.compile(r"(?i)(?<![\w-])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,16}\b")
_LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d(?:[\d\- ]{5,}\d)(?![\w.])")
_TOKEN = re.compile(r"(?<![\w+/=\-<])[A-Za-z0-9+/_=\-]{20,}(?![\w+/=\-])")
_QUOTED = re.compile(
    r"(?<![\w\\])([bBuUrRfF]{0,2})('(?:[^'\\]|\\.){0,20000}'|\"(?:[^\"\\]|\\.){0,20000}\""
    r"|\u2018[^\u2019]{0,20000}\u2019|\u201c[^\u201d]{0,20000}\u201d)",
    re.S,
)
# CPython's and crawl4ai's own message templates: the quoted names in them are code, not data.
_CODE_TEMPLATES = re.compile(
    r"'(?P<a>[\w.]+)' object (?:has no attribute '(?P<b>\w+)'|is not|does not|cannot)"
    r"|(?:No module named|module) '(?P<c>[\w.]+)'(?: has no attribute '(?P<d>\w+)')?"
    r"|(?:name|local variable) '(?P<e>\w+)' (?:is not defined|referenced before)"
    r"|cannot access local variable '(?P<f>\w+)'"
    r"|(?:unexpected keyword argument|multiple values for(?: keyword)? argument) '(?P<g>\w+)'"
    r"|required (?:positional |keyword-only )?arguments?: '(?P<h>\w+)'(?:(?:, | and )'(?P<i>\w+)')?"
    r"|operand type\(s\) for [^:'\n]{1,5}: '(?P<j>\w+)' and '(?P<k>\w+)'"
    r"|not supported between instances of '(?P<l>\w+)' and '(?P<m>\w+)'"
    r"|cannot import name '(?P<n>\w+)'(?: from '(?P<o>[\w.]+)')?"
    r"|(?:Setting|Getting) '(?P<p>\w+)' is deprecated"
    r"|can only concatenate \w+ \(not \"(?P<q>\w+)\"\)"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][\w]{0,63}(?:\.[A-Za-z_][\w]{0,63}){0,8}")
# Messages that end in a value taken from the input, unquoted: ``codecs.lookup`` says
# "unknown encoding: <whatever charset the site's header named>".
_UNQUOTED_VALUE = re.compile(
    r"(?i)\b((?:unknown|unsupported|invalid|bad) (?:encoding|charset|codec|locale(?: setting)?"
    r"|scheme|protocol|url type|content[- ]type|mime[- ]type)s?\s*:\s*)(?!<)([^\s,;'\"<>]+)"
)


def _url(m: re.Match[str]) -> str:
    """A URL stops before trailing punctuation that belongs to the sentence around it."""
    return "<url>" + _sentence_tail(m.group(0))


def _sentence_tail(text: str) -> str:
    tail = ""
    while text and text[-1] in ".,;:!?)]}":
        if text[-1] in ")]}" and text.count({")": "(", "]": "[", "}": "{"}[text[-1]]) >= text.count(text[-1]):
            break
        tail = text[-1] + tail
        text = text[:-1]
    return tail


def _credentials(m: re.Match[str]) -> str | None:
    host = m.group(0).rsplit("@", 1)[1]
    return "<url>" + _sentence_tail(m.group(0)) if host and (host[0].isalnum() or host[0] == "[") else None


def _masked(m: re.Match[str]) -> str | None:
    return "<secret>" + _sentence_tail(m.group(0)) if re.search(r"\w", m.group(0)) else None


def _email(m: re.Match[str]) -> str:
    # A quote before the address belongs to the text ('a@b.org'), unless the address has none after.
    text = m.group(0)
    if text.startswith("'") and m.string[m.end():m.end() + 1] == "'":
        return "'<email>"
    return "<email>"


def _ipv4(m: re.Match[str]) -> str | None:
    core = m.group(0).strip("[]").split("/")[0].split("]")[0].split(":")[0]
    return "<ip>" if all(int(part) <= 255 for part in core.split(".")) else None


def _ipv6(m: re.Match[str]) -> str | None:
    text = m.group(0)
    core = text[1:].split("]")[0] if text.startswith("[") else text.split("/")[0]
    if "]" in text and not text.startswith("["):
        return None
    core = core.split("%")[0]
    try:
        ipaddress.IPv6Address(core)
    except ValueError:
        return None
    return "<ip>"


def _is_host(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    tld = labels[-1]
    lower_tld = tld.lower()
    if labels[0].lower() == "www" and len(labels) > 2:
        return True
    if not tld.isascii() or lower_tld.startswith("xn--"):
        return True  # IDN top-level domains
    if any(not label.isascii() or label.lower().startswith("xn--") for label in labels):
        return lower_tld in _CC_TLDS or lower_tld in _G_TLDS or lower_tld in _WORD_LIKE_TLDS or len(labels) > 2
    if lower_tld not in _CC_TLDS and lower_tld not in _G_TLDS and lower_tld not in _WORD_LIKE_TLDS:
        return False
    if labels[0] in _CODE_ROOTS and lower_tld not in ("com", "net", "org", "edu", "gov", "mil"):
        return False
    if len(labels) == 2 and lower_tld in _WORD_LIKE_TLDS:
        return False
    return True


def _host(m: re.Match[str]) -> str | None:
    if not _is_host(m.group(1)):
        return None
    path = m.group(3)
    tail = _sentence_tail(path) if path else ""
    if path and len(path) - len(tail) > 1:
        return "<url>" + tail
    return "<host>" + tail


def _host_keyword(m: re.Match[str]) -> str | None:
    name = m.group(4)
    if name.lower() in _HOST_KEYWORD_WORDS or name.isdigit():
        return None
    return f"{m.group(1)}{m.group(2)}<host>"


def _colon_chain(m: re.Match[str]) -> str | None:
    parts = m.group(0).split(":")
    if all(part.isdigit() for part in parts):
        return None  # a time of day, not data
    return "<secret>"


def _assignment(m: re.Match[str]) -> str | None:
    return None if _PLAIN_VALUE.fullmatch(m.group(2)) else f"{m.group(1)}=<str>"


def _token(m: re.Match[str]) -> str | None:
    token = m.group(0)
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    uppers = sum(c.isupper() for c in token)
    if re.fullmatch(r"[0-9a-fA-F]{20,}", token) and digits:
        return "<secret>"  # hashes and ids
    if any(c in token for c in "+/=") and letters and len(token) >= 24:
        return "<secret>"  # base64
    parts = [p for p in re.split(r"[_\-]", token) if p]
    identifier_like = bool(parts) and all(
        len(p) <= 24 and sum(c.isdigit() for c in p) <= 2 and re.fullmatch(r"[A-Za-z0-9]+", p)
        for p in parts
    )
    if digits >= 3 and letters >= 3 and not identifier_like:
        return "<secret>"
    if uppers >= 3 and letters - uppers >= 3 and digits >= 1 and not identifier_like:
        return "<secret>"
    if len(token) >= 32 and not identifier_like:
        return "<secret>"
    if len(token) >= 48 and not re.fullmatch(r"[a-z_]+|[A-Z_]+", token):
        return "<secret>"
    return None


def _quoted(text: str) -> tuple[str, int]:
    keep: set[tuple[int, int]] = set()
    for m in _CODE_TEMPLATES.finditer(text):
        for name, value in m.groupdict().items():
            if value is not None:
                keep.add((m.start(name) - 1, m.end(name) + 1))
    count = 0

    def one(m: re.Match[str]) -> str:
        nonlocal count
        body = m.group(2)[1:-1]
        span = (m.start(2), m.end(2))
        if not body or re.fullmatch(_PLACEHOLDER, body):
            return m.group(0)
        if span in keep and _IDENTIFIER.fullmatch(body):
            return m.group(0)
        count += 1
        return "<str>"

    return _QUOTED.sub(one, text), count


def _markup(text: str) -> tuple[str, int]:
    """From the first tag to the last: crawled markup and the text between its tags."""
    tags = [m for m in _MARKUP.finditer(text) if not re.fullmatch(_PLACEHOLDER, m.group(0))]
    if not tags:
        return text, 0
    start, end = tags[0].start(), tags[-1].end()
    return text[:start] + "<markup>" + text[end:], len(tags)


def _long_segments(text: str) -> tuple[str, int]:
    """Prose longer than any explanation is content (crawled text, a model's answer…)."""
    count = 0
    lines = []
    for line in text.split("\n"):
        if len(line) > LONG_SEGMENT:
            parts = line.split(": ")
            for i, part in enumerate(parts):
                if len(re.sub(_PLACEHOLDER, "", part)) > LONG_SEGMENT:
                    parts[i] = "<text>"
                    count += 1
            line = ": ".join(parts)
        lines.append(line)
    return "\n".join(lines), count


@lru_cache(maxsize=8)
def _local_names(names: LocalNames) -> tuple[list[tuple[str, _Redactor]], list[tuple[str, _Redactor]]]:
    """(home redactors, user and host name redactors), longest first. Homes go first (a path
    under the home becomes ``~/…``), names last (after paths and URLs were taken whole)."""
    homes: list[tuple[str, _Redactor]] = []
    out: list[tuple[str, _Redactor]] = []
    for home in sorted({h.rstrip("/\\") for h in names.homes if len(h.rstrip("/\\")) > 1}, key=len, reverse=True):
        pattern = re.compile(re.escape(home) + r"(?![\w.\-])", re.I if "\\" in home else 0)
        homes.append(("path", _sub(pattern, "~")))
    words = [("user", u) for u in names.users] + [("host", h) for h in names.hosts]
    for kind, word in sorted({w for w in words if len(w[1]) > 1}, key=lambda w: -len(w[1])):
        pattern = re.compile(r"(?<![\w\-])" + re.escape(word) + r"(?![\w\-])", re.I)
        out.append((kind, _sub(pattern, f"<{kind}>")))
    return homes, out


_SECRET_WORDS = ("pass", "pwd", "secret", "key", "token", "session", "csrf", "credential")
_REDACTORS: tuple[tuple[str, _Redactor], ...] = (
    ("secret", _when("-----begin", _sub(_PRIVATE_KEY, "<secret>"))),
    ("markdown", _when("```", _sub(re.compile(r"```.*?(?:```|\Z)", re.S), "<markdown>"))),
    ("markup", _when(("<", "&lt;"), _markup)),
    ("markup", _when("&", _sub(_ENTITY, "<markup>"))),
    ("secret", _when(("auth", "cookie", "key", "token", "forward", "real-ip"),
                     _sub(_SENSITIVE_HEADER, r"\1\2<secret>"))),
    ("url", _when((":", "%3a"), _counting(_URL_WITH_SCHEME, _url))),
    ("url", _when(":", _counting(_URL_OPAQUE, _url))),
    ("url", _when("//", _counting(_URL_SCHEMELESS, _url))),
    ("markdown", _when(("[", "#", "|", "**"), _sub(_MARKDOWN, "<markdown>"))),
    ("secret", _when("***", _counting(_MASKED, _masked))),
    ("secret", _when("eyj", _sub(_JWT, "<secret>"))),
    ("secret", _when(("sk", "pk", "rk", "akia", "asia", "ag", "ai", "ar", "an", "gh", "xo", "xapp",
                      "glpat", "ya29", "hf_", "npm_", "pypi", "sq0", "sg."),
                     _sub(_PROVIDER_TOKEN, "<secret>"))),
    ("secret", _when("bearer", _sub(_BEARER, r"\1 <secret>"))),
    ("secret", _when(("basic", "digest"), _sub(_BASIC, r"\1 <secret>"))),
    ("secret", _when(_SECRET_WORDS, _sub(_SECRET_VALUE, r"\1\2<secret>"))),
    ("secret", _when(("=", ":"), _sub(_SECRET_ASSIGNMENT, r"\1\2<secret>"))),
    ("url", _when("@", _counting(_CREDENTIALS, _credentials))),
    ("email", _when(("@", "%40"), _counting(_EMAIL, _email))),
    ("id", _when("-", _sub(_UUID, "<id>"))),
    ("ip", _when(":", _counting(_IPV6, _ipv6))),
    ("ip", _when(".", _counting(_IPV4, _ipv4))),
    ("url", _when("%", _sub(_PERCENT_ENCODED, "<url>"))),
    ("host", _when(".", _counting(_HOST, _host))),
    ("host", _when("host", _counting(_HOST_KEYWORD, _host_keyword))),
    ("path", _when(":", _sub(_PATH_WINDOWS, "<path>"))),
    ("path", _when("\\\\", _sub(_PATH_UNC, "<path>"))),
    ("path", _when("~", _sub(_PATH_HOME, "<path>"))),
    ("path", _when("/", _sub(_PATH_ABSOLUTE, "<path>"))),
    ("path", _when("/", _sub(_PATH_RELATIVE, "<path>"))),
    ("secret", _when(":", _counting(_COLON_CHAIN, _colon_chain))),
    ("str", _when(("unknown", "unsupported", "invalid", "bad"), _sub(_UNQUOTED_VALUE, r"\1<str>"))),
    ("str", _when("=", _counting(_ASSIGNMENT, _assignment))),
    ("addr", _when("0x", _sub(_ADDRESS, "<addr>"))),
    ("str", _when(("'", '"', "\u2018", "\u201c"), _quoted)),
    ("secret", _counting(_TOKEN, _token)),
    ("number", _sub(_LONG_NUMBER, "<number>")),
    ("text", _long_segments),
)


def _redact_once(text: str, redactors: Iterable[tuple[str, _Redactor]], removed: Counter[str] | None) -> str:
    for kind, redactor in redactors:
        text, n = redactor(text)
        if n and removed is not None:
            removed[kind] += n
    return text


def redact_text(text: Any, removed: Counter[str] | None = None, local: LocalNames | None = None) -> str:
    """Static text kept; every piece of data replaced by ``<kind>``. Cut after redaction.

    Redaction is repeated until nothing changes, so the result is a fixed point: redacting it
    again returns it unchanged (and a cut can never expose half of a secret).
    """
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
    redactors = list(_REDACTORS)
    if local:
        homes, names = _local_names(local)
        redactors = [*homes, *redactors[:-1], *names, redactors[-1]]
    for _ in range(6):
        before = text
        text = _redact_once(text, redactors, removed)
        if len(text) > MAX_MESSAGE:
            cut = text[: MAX_MESSAGE - 1]
            # Never leave half a placeholder behind.
            if cut.rfind("<") > cut.rfind(">"):
                cut = cut[: cut.rfind("<")]
            text = cut + ELLIPSIS
            _count(removed, "truncated")
        if text == before:
            break
    return text


def _count(removed: Counter[str] | None, kind: str, n: int = 1) -> None:
    if removed is not None and n:
        removed[kind] += n


def _short(value: Any, limit: int = 128) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------
# The report, section by section.
# ---------------------------------------------------------------------------------------------


def scrub_event(
    event: dict[str, Any], removed: Counter[str] | None = None, *, local: LocalNames | None = None
) -> dict[str, Any]:
    """A new event holding only what the privacy promise allows. ``event`` is not modified.

    ``removed`` (optional) receives counts per category of what was dropped or redacted.
    ``local`` (optional) names this machine's home, user and host names to redact as well.
    """
    if not isinstance(event, dict):
        return {}
    out: dict[str, Any] = {}
    out.update(scrub_identity(event))
    out.update(scrub_release(event))
    exception = scrub_exception(event.get("exception"), removed, local)
    if exception:
        out["exception"] = exception
    out["contexts"] = scrub_contexts(event.get("contexts"), removed, local)
    out["tags"] = scrub_tags(event.get("tags"))
    user = scrub_user(event.get("user"), removed)
    if user:
        out["user"] = user
    fingerprint = scrub_fingerprint(event.get("fingerprint"))
    if fingerprint:
        out["fingerprint"] = fingerprint
    _count(removed, "field", len(set(event) - _TOP_LEVEL))
    return out


_TOP_LEVEL = frozenset(
    {"event_id", "timestamp", "platform", "level", "release", "environment", "exception",
     "contexts", "tags", "user", "fingerprint", "sdk"}
)


def scrub_identity(event: dict[str, Any]) -> dict[str, Any]:
    """Event id, time, platform, level, SDK name and version: what makes a report a report."""
    out: dict[str, Any] = {}
    event_id = event.get("event_id")
    if isinstance(event_id, str) and re.fullmatch(r"[0-9a-f]{32}", event_id):
        out["event_id"] = event_id
    timestamp = event.get("timestamp")
    if (isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool)) or (
        isinstance(timestamp, str) and re.fullmatch(r"[0-9T:.\-+Z ]{10,40}", timestamp)
    ):
        out["timestamp"] = timestamp
    out["platform"] = "python"
    level = event.get("level")
    out["level"] = level if level in ("fatal", "error", "warning") else "error"
    sdk = event.get("sdk")
    if isinstance(sdk, dict):
        clean = {k: sdk[k] for k in ("name", "version")
                 if isinstance(sdk.get(k), str) and re.fullmatch(r"[\w.+\-]{1,64}", sdk[k])}
        if clean:
            out["sdk"] = clean
    return out


def scrub_release(event: dict[str, Any]) -> dict[str, Any]:
    """Release (``crawl4ai@version``) and environment type, only in their known shapes."""
    out: dict[str, Any] = {}
    release = event.get("release")
    if isinstance(release, str) and re.fullmatch(r"crawl4ai@[\w.+\-]{1,40}", release):
        out["release"] = release
    env = event.get("environment")
    if env in ENVIRONMENTS:
        out["environment"] = env
    return out


def scrub_exception(
    exception: Any, removed: Counter[str] | None, local: LocalNames | None = None
) -> dict[str, Any] | None:
    """Each exception of the chain (causes, contexts, groups): type, message, mechanism, frames."""
    values = exception.get("values") if isinstance(exception, dict) else None
    if not isinstance(values, list):
        return None
    kept = [v for v in values if isinstance(v, dict)]
    _count(removed, "exception", len(kept) - min(len(kept), MAX_VALUES))
    return {"values": [scrub_exception_value(v, removed, local) for v in kept[-MAX_VALUES:]]}


def scrub_exception_value(
    value: dict[str, Any], removed: Counter[str] | None, local: LocalNames | None = None
) -> dict[str, Any]:
    """One exception: its type, its redacted message (notes included), how it was caught, frames."""
    out: dict[str, Any] = {"type": _exception_type(value.get("type"))}
    module = value.get("module")
    if isinstance(module, str) and re.fullmatch(r"[A-Za-z_][\w.]{0,127}", module):
        out["module"] = module
    if isinstance(value.get("value"), str):
        out["value"] = redact_text(value["value"], removed, local)
    mechanism = scrub_mechanism(value.get("mechanism"))
    if mechanism:
        out["mechanism"] = mechanism
    stacktrace = value.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    if isinstance(frames, list):
        out["stacktrace"] = {"frames": scrub_frames(frames, removed)}
    _count(removed, "field", len(set(value) - {"type", "module", "value", "mechanism", "stacktrace"}))
    return out


_TYPE_NAME = r"[A-Za-z_][\w]{0,127}(?:\.[A-Za-z_][\w]{0,127}){0,8}"
_TYPE = re.compile(rf"{_TYPE_NAME}|<user code>(?:\({_TYPE_NAME}\))?")


def _exception_type(value: Any) -> str:
    if isinstance(value, str) and _TYPE.fullmatch(value):
        return value
    return "<unknown>"


def scrub_mechanism(mechanism: Any) -> dict[str, Any]:
    """How the error was seen (decorator, context, excepthook…), handled or not, its place in a chain."""
    if not isinstance(mechanism, dict):
        return {}
    out: dict[str, Any] = {}
    if isinstance(mechanism.get("type"), str) and re.fullmatch(r"[a-z_]{1,32}", mechanism["type"]):
        out["type"] = mechanism["type"]
    for key in ("handled", "is_exception_group"):
        if isinstance(mechanism.get(key), bool):
            out[key] = mechanism[key]
    for key in ("exception_id", "parent_id"):
        if isinstance(mechanism.get(key), int) and not isinstance(mechanism.get(key), bool):
            out[key] = mechanism[key]
    source = mechanism.get("source")
    if isinstance(source, str) and re.fullmatch(r"__cause__|__context__|exceptions\[\d{1,4}\]", source):
        out["source"] = source
    return out


def scrub_frames(frames: list[Any], removed: Counter[str] | None) -> list[dict[str, Any]]:
    """Public frames keep module, function, line, package-relative file; user frames keep nothing."""
    out = []
    for frame in frames[-MAX_FRAMES:]:
        if not isinstance(frame, dict):
            continue
        filename = frame.get("filename")
        if filename == USER_CODE or not _is_relative_public_file(filename):
            out.append({"filename": USER_CODE, "in_app": False})
            if filename != USER_CODE:
                _count(removed, "path")
            _count(removed, "frame_data", len(set(frame) - {"filename", "in_app"}))
            continue
        clean: dict[str, Any] = {"filename": filename, "in_app": frame.get("in_app") is True}
        if isinstance(frame.get("module"), str) and re.fullmatch(r"[A-Za-z_][\w.]{0,199}", frame["module"]):
            clean["module"] = frame["module"]
        if isinstance(frame.get("function"), str) and re.fullmatch(r"[<>\w.]{1,200}", frame["function"]):
            clean["function"] = frame["function"]
        if isinstance(frame.get("lineno"), int) and not isinstance(frame.get("lineno"), bool):
            clean["lineno"] = frame["lineno"]
        _count(removed, "frame_data", len(set(frame) - {"filename", "in_app", "module", "function", "lineno"}))
        out.append(clean)
    return out


def _is_relative_public_file(filename: Any) -> bool:
    if not isinstance(filename, str) or not filename or len(filename) > 300:
        return False
    if re.fullmatch(r"<frozen [\w.]{1,100}>", filename):
        return True
    return re.fullmatch(r"[A-Za-z_][\w.\-]*(?:/[A-Za-z_][\w.\-]*)*\.pyx?", filename) is not None and ".." not in filename


def scrub_contexts(
    contexts: Any, removed: Counter[str] | None, local: LocalNames | None = None
) -> dict[str, Any]:
    """Runtime, OS, crawl4ai versions and environment; the caller's context by allowlist."""
    contexts = contexts if isinstance(contexts, dict) else {}
    out: dict[str, Any] = {}
    runtime = contexts.get("runtime")
    if isinstance(runtime, dict):
        out["runtime"] = _version_fields(runtime, ("name", "version"))
    os_ctx = contexts.get("os")
    if isinstance(os_ctx, dict):
        out["os"] = _version_fields(os_ctx, ("name", "release"))
    c4a = contexts.get("crawl4ai")
    if isinstance(c4a, dict):
        clean = _version_fields(c4a, ("version", "telemetry_version"))
        if c4a.get("environment") in ENVIRONMENTS:
            clean["environment"] = c4a["environment"]
        out["crawl4ai"] = clean
    telemetry = scrub_caller_context(contexts.get("telemetry"), removed, local)
    if telemetry:
        out["telemetry"] = telemetry
    _count(removed, "context", len(set(contexts) - {"runtime", "os", "crawl4ai", "telemetry"}))
    return out


def _version_fields(section: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    """Names and versions only in their usual shape (``CPython``, ``3.11.7``, ``6.5.0-1-amd64``)."""
    return {
        k: section[k] for k in keys
        if isinstance(section.get(k), str) and re.fullmatch(r"[\w.+\-]{1,64}", section[k])
    }


def scrub_caller_context(
    context: Any, removed: Counter[str] | None, local: LocalNames | None = None
) -> dict[str, Any]:
    """Only keys meant for telemetry survive (``url``, ``headers``, ``html``… never do).

    ``module`` and ``function`` name code: they are kept for crawl4ai's own code only, since the
    name of a user's function is a piece of the user's source. Other values must be short names
    (``extract``, ``LLMExtractionStrategy``); anything else is redacted like a message.
    """
    if not isinstance(context, dict):
        return {}
    out: dict[str, Any] = {}
    module = context.get("module")
    public = owner_of_module(module).crawl4ai
    for key, value in context.items():
        if key not in ALLOWED_CONTEXT_KEYS:
            _count(removed, "context")
            continue
        if isinstance(value, bool):
            out[key] = value
        elif isinstance(value, int):
            out[key] = value
        elif not isinstance(value, str):
            _count(removed, "context")
        elif key in ("module", "function"):
            if public and re.fullmatch(r"[<>\w.]{1,200}", value):
                out[key] = value
            else:
                out[key] = USER_CODE
                _count(removed, "context")
        elif re.fullmatch(r"[A-Za-z_][\w.\-]{0,63}", value) or value == USER_CODE:
            redacted = redact_text(value, removed, local)
            out[key] = redacted
        else:
            out[key] = redact_text(value[:200], removed, local)
    return out


def scrub_tags(tags: Any) -> dict[str, str]:
    """Versions and environment type, the facets maintainers filter reports by."""
    tags = tags if isinstance(tags, dict) else {}
    out = {}
    for key in ("crawl4ai_version", "telemetry_version", "python_version"):
        if isinstance(tags.get(key), str) and re.fullmatch(r"[\w.+\-]{1,40}", tags[key]):
            out[key] = tags[key]
    if tags.get("environment") in ENVIRONMENTS:
        out["environment"] = tags["environment"]
    return out


def scrub_user(user: Any, removed: Counter[str] | None) -> dict[str, str]:
    """Only the email the user chose to give; no id, no IP, no user name."""
    if not isinstance(user, dict):
        return {}
    email = user.get("email")
    _count(removed, "user", len(set(user) - {"email"}))
    if isinstance(email, str) and re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,190}", email):
        return {"email": email}
    return {}


_FINGERPRINT_PART = re.compile(
    rf"{_TYPE.pattern}|[A-Za-z_][\w.]{{0,199}}:[<>\w.]{{1,200}}"
)


def scrub_fingerprint(fingerprint: Any) -> list[str]:
    """Exception types and ``module:function`` of public frames; anything else is dropped."""
    if not isinstance(fingerprint, list):
        return []
    return [f for f in fingerprint[:64] if isinstance(f, str) and _FINGERPRINT_PART.fullmatch(f)]
