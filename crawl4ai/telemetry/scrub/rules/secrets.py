"""Secrets: keys, tokens, passwords, private keys, and credentials in headers → ``<secret>``.

Read this module on its own to review what counts as a secret. The name of a field that holds a
secret is kept ("password: <secret>") because it explains the error; its value never is.
Secrets that no rule here recognises (a short password under an unusual key) still go: the
allowlist keeps only words that known code contains.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from . import Rule, sentence_tail

PRIVATE_KEY = Rule(
    "secret",
    re.compile(r"-----BEGIN [A-Z0-9 ]*-----.*?(?:-----END [A-Z0-9 ]*-----|\Z)", re.S),
    "<secret>",
    ("-----begin",),
)

# A header that only ever carries credentials or identities: its whole value goes.
SENSITIVE_HEADER = Rule(
    "secret",
    re.compile(
        r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|"
        r"x-auth-token|x-access-token|x-csrf-token|x-xsrf-token|x-amz-security-token|x-goog-api-key|"
        r"x-forwarded-for|x-real-ip|forwarded)(['\"]?\s*[:=]\s*)[^\n]*"
    ),
    r"\1\2<secret>",
    ("auth", "cookie", "key", "token", "forward", "real-ip"),
)

# Any header or YAML key whose name says it holds a credential ("X-Api-Token: …", "otp_secret: …").
CREDENTIAL_KEY = Rule(
    "secret",
    re.compile(
        r"(?im)(?<![\w-])([\w-]{0,40}(?:token|api-?key|apikey|secret|passw\w*|credential|cookie)[\w-]{0,40})"
        r"(['\"]?[ \t]*+:[ \t]*+)(?!<(?:secret|str)>)[^\n]+"
    ),
    r"\1\2<secret>",
    ("token", "key", "secret", "pass", "credential", "cookie"),
)


def _masked(m: re.Match[str]) -> str | None:
    return "<secret>" + sentence_tail(m.group(0)) if re.search(r"\w", m.group(0)) else None


# A masked key still shows its ends ("sk-abc12****wxyz"): drop it whole.
MASKED = Rule("secret", re.compile(r"(?<![\w-])[\w\-.]*\*{3,}[\w\-.]*(?:\*+[\w\-.]+)*"), _masked, ("***",))

JWT = Rule(
    "secret",
    re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}(?:\.[A-Za-z0-9_\-]*)?"),
    "<secret>",
    ("eyj",),
)

# Keys of well-known providers, recognised by their prefixes.
PROVIDER_TOKEN = Rule(
    "secret",
    re.compile(
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
    ),
    "<secret>",
    ("sk", "pk", "rk", "akia", "asia", "ag", "ai", "ar", "an", "gh", "xo", "xapp", "glpat", "ya29",
     "hf_", "npm_", "pypi", "sq0", "sg."),
)

BEARER = Rule("secret", re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*"), r"\1 <secret>", ("bearer",))
BASIC = Rule(
    "secret",
    re.compile(r"(?i)\b(basic|digest)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{6,}=*"),
    r"\1 <secret>",
    ("basic", "digest"),
)

# A value after a name that only ever holds a secret ("password: x", "api_key=x", "'token': 'x'").
SECRET_VALUE = Rule(
    "secret",
    re.compile(
        r"(?i)(?<![A-Za-z0-9])((?:password|passwd|passphrase|pwd|secret|api[_-]?key|apikey|"
        r"access[_-]?key|private[_-]?key|client[_-]?secret|access[_-]?token|refresh[_-]?token|"
        r"id[_-]?token|auth[_-]?token|session[_-]?id|sessionid|csrf[_-]?token|credentials?|"
        r"pass|login|user(?:name)?|otp(?:[_-]?\w{1,20})?|seed|pin))"
        r"(['\"]?\s*[:=]\s*)(?!<(?:secret|str)>)(['\"]?)[^\s'\",;&}]+\3"
    ),
    r"\1\2<secret>",
    ("pass", "pwd", "secret", "key", "token", "session", "csrf", "credential", "login", "user", "otp",
     "seed", "pin"),
)

# Generic names whose value is a secret only in the key=value shape ("token=x", not "token at").
SECRET_ASSIGNMENT = Rule(
    "secret",
    re.compile(
        r"(?i)(?<![A-Za-z0-9])(token|auth|key|sig|signature|session|sid|pass|ticket|jwt)(=|['\"]:\s*['\"]?)"
        r"(?!<(?:secret|str)>)[^\s'\",;&}]+"
    ),
    r"\1\2<secret>",
    ("=", ":"),
)


def _colon_chain(m: re.Match[str]) -> str | None:
    parts = m.group(0).split(":")
    if all(part.isdigit() or part == "<number>" for part in parts):
        return None  # a time of day, not data
    return "<secret>"


# a:b:c chains (user:pass:host, otpauth seeds, cache keys).
COLON_CHAIN = Rule(
    "secret",
    re.compile(
        r"(?<![\w:<>])(?:<[a-z]+>|[^\s:'\"<>()\[\]{},])+"
        r"(?::(?:<[a-z]+>|[^\s:'\"<>()\[\]{},])+){2,}"
    ),
    _colon_chain,
    (":",),
)


# A lone ``user:password`` pair of words ("admin:root", a proxy's credentials without its host):
# both halves may be words known code writes, the pair is not, unless known code writes its left
# half right before a value ("ssl:default", "data:text/html" is a URL).
_PAIR = re.compile(r"(?<![\w.:/<>@\-])([A-Za-z][\w\-]*):([A-Za-z][\w\-]*)(?![\w:/@.<\-])")


def pair_rules(knows_prefix: Callable[[str], bool]) -> tuple[Rule, ...]:
    def replace(m: re.Match[str]) -> str | None:
        return None if knows_prefix(m.group(1)) else "<secret>"

    return (Rule("secret", _PAIR, replace, (":",)),)


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


# Long high-entropy runs: keys no prefix names.
TOKEN = Rule("secret", re.compile(r"(?<![\w+/=\-<])[A-Za-z0-9+/_=\-]{20,}(?![\w+/=\-])"), _token)

HEADERS = (SENSITIVE_HEADER, CREDENTIAL_KEY)
SHAPED = (MASKED, JWT, PROVIDER_TOKEN, BEARER, BASIC, SECRET_VALUE, SECRET_ASSIGNMENT)
STRUCTURED = (COLON_CHAIN,)
ENTROPY = (TOKEN,)
