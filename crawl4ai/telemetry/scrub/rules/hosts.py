"""Host names → ``<host>`` (``<url>`` with a path): dotted names ending in a top-level domain,
and the word after "host"/"hostname"/"resolve host" in whatever shape.

A dotted word that only looks like a host costs a placeholder; a missed host name still goes,
since no host name is a word known code contains (cluster names such as ``redis.svc`` or
``db_1:6379`` are caught by the allowlist, not here).
"""

from __future__ import annotations

import re
import sys

from . import Rule, sentence_tail

LABEL = r"(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?)"
_HOST = re.compile(
    r"(?<![\w.\-@/\\])((?:" + LABEL + r"\.)+(?:[^\W\d_]{2,63}|[xX][nN]--[a-zA-Z0-9\-]{1,59}))"
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
    tail = sentence_tail(path) if path else ""
    if path and len(path) - len(tail) > 1:
        return "<url>" + tail
    return "<host>" + tail


def _host_keyword(m: re.Match[str]) -> str | None:
    name = m.group(4)
    if name.lower() in _HOST_KEYWORD_WORDS or name.isdigit():
        return None
    return f"{m.group(1)}{m.group(2)}<host>"



RULES = (
    Rule("host", _HOST, _host, (".",)),
    Rule("host", _HOST_KEYWORD, _host_keyword, ("host",)),
)
