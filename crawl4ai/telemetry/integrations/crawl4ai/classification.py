"""What a failure seen at a capture point is: a crawl4ai bug (reported) or anything else (not).

A crawl4ai frame at the top of a traceback does not make a crawl4ai bug: crawl4ai trips over
values it was given. So the verdict asks, in this order, where the failure came from:

1. ``site_failure``  the site, the network or the browser (refused, DNS, TLS, timeouts, HTTP
                     errors, navigation errors) — anywhere in the chain of causes.
2. ``environment``   the machine: disk full, permissions, memory, a missing optional dependency.
3. ``usage_error``   input the user wrote that a library could not parse (a regex, a CSS
                     selector, an XPath, YAML), unless the text is a literal in crawl4ai's code;
                     or data that crawl4ai's deserialisers could not turn into config objects
                     (``CrawlerRunConfig.load``, ``BrowserConfig.load``,
                     ``from_serializable_dict``): a ``params`` that is not an object, an unknown
                     ``type``, an unknown enum value. That data is whoever handed it over (a
                     JSON request to the API server, a file): it can make them fail anywhere.
4. ``user_code``     the innermost crawl4ai-or-user frame is the user's (a custom strategy, a
                     hook, a scorer), or crawl4ai's call into a user's function failed (a hook
                     with the wrong signature).
5. ``elsewhere``     no crawl4ai frame at all.
6. ``usage_error``   crawl4ai raised it on purpose: a ``raise X(...)`` statement in crawl4ai's code
                     is where it comes from (rejected input, "CDP endpoint is not ready"); a
                     wrapped error is unwrapped first, so a bug it wraps is still a bug.
7. ``usage_error``   a bug is suspected, but the value crawl4ai tripped over came from the user:
                     a config object on the traceback holds a value of the wrong type for its
                     declared parameter (:mod:`.provenance`), or a user-defined strategy method
                     returned a value of the wrong type during this crawl.
8. ``crawl4ai_bug``  everything else: reported, with the original exception (unwrapped from
                     crawl4ai's ``raise RuntimeError(f"...{e}")`` wrappers).

Only step 8 is reported. Locals of traceback frames are read here, in the process, to decide;
nothing read here ever enters a report.
"""

from __future__ import annotations

import errno
from collections import Counter
from types import TracebackType
from typing import Any

from ... import chain
from ...ownership import owner_of_frame
from . import provenance

BUG = "crawl4ai_bug"
SITE_FAILURE = "site_failure"
ENVIRONMENT = "environment"
USER_CODE = "user_code"
USAGE_ERROR = "usage_error"
ELSEWHERE = "elsewhere"
VERDICTS = (BUG, SITE_FAILURE, ENVIRONMENT, USER_CODE, USAGE_ERROR, ELSEWHERE)

#: How many distinct failures this process saw, per verdict (seen, not sent).
verdicts: Counter[str] = Counter()

_VERDICT_ATTR = "__crawl4ai_telemetry_verdict__"
_MAX_FRAMES = 500

# Exception classes, by (module, qualified name) so nothing is imported to check them, that mean
# the site, the network or the browser failed rather than crawl4ai.
_SITE_FAILURE_CLASSES = frozenset(
    {
        ("socket", "gaierror"),
        ("socket", "herror"),
        ("ssl", "SSLError"),
        ("ssl", "CertificateError"),
        ("asyncio.exceptions", "TimeoutError"),
        ("concurrent.futures._base", "TimeoutError"),
        ("http.client", "HTTPException"),
        ("urllib.error", "URLError"),
        ("aiohttp.client_exceptions", "ClientError"),
        ("httpx", "HTTPError"),
        ("httpx", "StreamError"),
        ("requests.exceptions", "RequestException"),
        ("urllib3.exceptions", "HTTPError"),
        ("playwright._impl._errors", "Error"),
        ("patchright._impl._errors", "Error"),
        ("crawl4ai.async_crawler_strategy", "HTTPStatusError"),
        ("crawl4ai.async_crawler_strategy", "ConnectionTimeoutError"),
        # An LLM provider refusing, limiting or failing (litellm maps them all to these).
        ("openai", "APIError"),
        ("litellm.exceptions", "APIError"),
        ("litellm.exceptions", "APIConnectionError"),
        ("litellm.exceptions", "AuthenticationError"),
        ("litellm.exceptions", "RateLimitError"),
        ("litellm.exceptions", "ServiceUnavailableError"),
        ("litellm.exceptions", "Timeout"),
    }
)
_NETWORK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH",
                 "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "ENETRESET", "EPIPE")
    if hasattr(errno, name)
)
_ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EMFILE", "ENFILE", "ENOMEM")
    if hasattr(errno, name)
)
# Errors of a library parsing text it was given: a pattern, a selector, an XPath, YAML.
_PARSE_ERROR_CLASSES = frozenset(
    {
        ("re", "error"),
        ("sre_constants", "error"),
        ("regex._regex_core", "error"),
        ("soupsieve.util", "SelectorSyntaxError"),
        ("cssselect.parser", "SelectorError"),
        ("cssselect.xpath", "ExpressionError"),
        ("lxml.etree", "XPathError"),
        ("lxml.etree", "XPathSyntaxError"),
        ("yaml.error", "YAMLError"),
        ("jsonschema.exceptions", "SchemaError"),
    }
)
# crawl4ai's functions that turn data (JSON, a dict) into config objects: (module, function).
_DESERIALISERS = frozenset(
    ("crawl4ai.async_configs", name) for name in ("from_serializable_dict", "load", "from_kwargs")
)
# Names a parser keeps the text it failed on under (exception attribute or frame local).
_PATTERN_NAMES = ("pattern", "selector", "css", "xpath", "expression", "path")


def _innermost(tb: TracebackType) -> TracebackType:
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _entries(exc: BaseException) -> list[TracebackType]:
    out: list[TracebackType] = []
    tb = chain.traceback_of(exc)
    while tb is not None and len(out) < _MAX_FRAMES:
        out.append(tb)
        tb = tb.tb_next
    return out


def _raise_opcode() -> int:
    import opcode

    return opcode.opmap["RAISE_VARARGS"]


def raised_on_purpose_by_crawl4ai(exc: BaseException) -> bool:
    """True if a ``raise X(...)`` statement in crawl4ai's own code raised ``exc``.

    An explicit raise is crawl4ai saying something on purpose (wrapping another error, or
    rejecting bad input); a bug surfaces from an operation instead (``None.attr``, ``d[key]``,
    a call that fails). The innermost traceback entry tells which instruction raised.
    """
    tb = chain.traceback_of(exc)
    if tb is None:
        return False
    tb = _innermost(tb)
    if not owner_of_frame(tb.tb_frame).crawl4ai:
        return False
    code = tb.tb_frame.f_code.co_code
    i = tb.tb_lasti
    return 0 <= i < len(code) - 1 and code[i] == _raise_opcode() and code[i + 1] > 0


def _mistaken_for_a_result(exc: BaseException) -> BaseException | None:
    """The exception crawl4ai took for a result: ``gather(return_exceptions=True)`` hands it back
    as a value, and the next attribute read on it fails (``'TypeError' object has no attribute
    'result'``). The real cause is that exception, in no chain of the secondary one."""
    if isinstance(exc, AttributeError):
        obj = provenance.attribute_error_object(exc)
        if isinstance(obj, BaseException):
            return obj
    return None


def unwrap(exc: BaseException) -> list[BaseException]:
    """``[exc, …, original]``: the one chain walk (:func:`...chain.line`), following the
    context of an exception crawl4ai raised on purpose while handling another one (how it wraps
    errors; also when it suppressed the context with ``from None``), then into an exception
    crawl4ai mistook for a result. :data:`...chain.MAX_CHAIN` exceptions at most."""
    links = chain.line(exc, context=raised_on_purpose_by_crawl4ai)
    while len(links) < chain.MAX_CHAIN:
        mistaken = _mistaken_for_a_result(links[-1])
        if mistaken is None or any(mistaken is seen for seen in links):
            break
        links.extend(chain.line(mistaken, context=raised_on_purpose_by_crawl4ai))
    return links[: chain.MAX_CHAIN]


def _is_one_of(exc: BaseException, classes: frozenset[tuple[str, str]]) -> bool:
    return any((getattr(cls, "__module__", None), getattr(cls, "__qualname__", None)) in classes
               for cls in type(exc).__mro__)


def is_site_failure(exc: BaseException) -> bool:
    """The site, the network or the browser failed: refused, DNS, timeouts, HTTP errors,
    TLS, navigation errors, an LLM provider's refusal."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return True
    return _is_one_of(exc, _SITE_FAILURE_CLASSES)


def _is_environment(exc: BaseException) -> bool:
    return isinstance(exc, (MemoryError, ImportError)) or (
        isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS
    )


def _parsed_text(exc: BaseException) -> str | None:
    """The text a parser failed on: the exception's own attribute, else a local of the
    parser's innermost frame that holds it."""
    for name in _PATTERN_NAMES:
        value = getattr(exc, name, None)
        if isinstance(value, (str, bytes)):
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    for tb in reversed(_entries(exc)):
        local = tb.tb_frame.f_locals
        for name in _PATTERN_NAMES:
            value = local.get(name)
            if isinstance(value, str):
                return value
        owner = local.get("self")
        for name in _PATTERN_NAMES:
            value = getattr(owner, name, None) if owner is not None else None
            if isinstance(value, str):
                return value
    return None


def _is_crawl4ai_literal(text: str, exc: BaseException) -> bool:
    """Whether ``text`` is a string constant in the code of a crawl4ai frame on the traceback."""
    for tb in _entries(exc):
        if owner_of_frame(tb.tb_frame).crawl4ai and text in _constants(tb.tb_frame.f_code):
            return True
    return False


def _constants(code: Any) -> set[str]:
    out: set[str] = set()
    stack = [code]
    while stack and len(out) < 10_000:
        current = stack.pop()
        for const in current.co_consts:
            if isinstance(const, str):
                out.add(const)
            elif hasattr(const, "co_consts"):
                stack.append(const)
    return out


def _is_users_text_unparsable(exc: BaseException) -> bool:
    """A parse error (regex, selector, XPath, YAML) of text that is not crawl4ai's own literal."""
    if not _is_one_of(exc, _PARSE_ERROR_CLASSES):
        return False
    text = _parsed_text(exc)
    return text is None or not _is_crawl4ai_literal(text, exc)


def _failed_deserialising(exc: BaseException) -> bool:
    """``exc`` escaped one of crawl4ai's deserialisers (:data:`_DESERIALISERS`)."""
    for tb in _entries(exc):
        frame = tb.tb_frame
        module = frame.f_globals.get("__name__")
        if (module, frame.f_code.co_name) in _DESERIALISERS and owner_of_frame(frame).crawl4ai:
            return True
    return False


def _origin(exc: BaseException) -> str | None:
    """Who raised ``exc``: the innermost frame of crawl4ai's or the user's code on its traceback.
    Frames of the standard library and of installed packages belong to whoever called them."""
    origin = None
    for tb in _entries(exc):
        kind = owner_of_frame(tb.tb_frame).origin
        if kind in ("crawl4ai", "user"):
            origin = kind
    return origin


def classify(exc: BaseException) -> tuple[str, BaseException]:
    """(verdict, original exception). Only :data:`BUG` is reported."""
    chain = unwrap(exc)
    original = chain[-1]
    if any(is_site_failure(e) for e in chain):
        return SITE_FAILURE, original
    if _is_environment(original):
        return ENVIRONMENT, original
    if _is_users_text_unparsable(original) or _failed_deserialising(original):
        return USAGE_ERROR, original
    origin = _origin(original)
    if origin == "user" or provenance.failed_calling_user_code(original):
        return USER_CODE, original
    if origin != "crawl4ai":
        return ELSEWHERE, original
    if raised_on_purpose_by_crawl4ai(original):
        return USAGE_ERROR, original
    if provenance.bad_value_from_user(original):
        return USAGE_ERROR, original
    return BUG, original


def verdict_of(exc: BaseException) -> tuple[str, BaseException]:
    """:func:`classify`, remembered on the exception: one failure passes several capture points."""
    cached = getattr(exc, _VERDICT_ATTR, None)
    if cached is not None:
        return cached
    result = classify(exc)
    if getattr(result[1], _VERDICT_ATTR, None) is None:  # not a failure already counted
        verdicts[result[0]] += 1
    for target in (exc, result[1]):
        try:
            setattr(target, _VERDICT_ATTR, result)
        except Exception:
            pass
    return result
