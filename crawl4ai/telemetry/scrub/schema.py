"""The report's fields, declared: every field a report may carry, the shape its value must have,
and the item of the docs' "What is collected" list it belongs to (``promise``).

:mod:`.sections` walks a report with these tables (a field not listed is dropped, a value of the
wrong shape is dropped) and the docs test checks the docs against :data:`PROMISES`, so the docs,
the schema and the scrubber cannot drift apart. Values that need more than a shape (messages,
frames, the caller's context) name the function of :mod:`.sections` that judges them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .._record import Record
from ..settings import ENVIRONMENTS

DROP = object()
#: The most errors one report says it stands for (``contexts.telemetry.occurrences``).
MAX_OCCURRENCES = 10**9
Check = Callable[[Any], Any]


class Field(Record):
    __slots__ = ("name", "check", "promise")
    name: str
    check: Check | str  # a shape check, or the name of the function in .sections that judges it
    promise: str


def shape(pattern: str) -> Check:
    """A string matching ``pattern`` whole."""
    compiled = re.compile(pattern)
    return lambda v: v if isinstance(v, str) and compiled.fullmatch(v) else DROP


def one_of(*values: Any) -> Check:
    allowed = frozenset(values)
    return lambda v: v if isinstance(v, str) and v in allowed else DROP


def boolean(v: Any) -> Any:
    return v if isinstance(v, bool) else DROP


def integer(v: Any) -> Any:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 else DROP


def occurrence_count(v: Any) -> Any:
    """How many errors a report stands for: a plain count, nothing bigger than a count can be
    (no timestamp, no id, no port rides here)."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_OCCURRENCES else DROP


def chain_index(v: Any) -> Any:
    """An exception's place in its chain (a report holds a handful, never a big number)."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1000 else DROP


def timestamp(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v if 0 <= v < 10**10 else DROP  # seconds since 1970: no other number rides here
    return shape(r"[0-9T:.\-+Z ]{10,40}")(v)


_PUBLIC_VERSION = re.compile(r"\d{1,6}(?:\.\d{1,6}){0,5}(?:\.?(?:a|b|rc|post|dev)\d{0,6}){0,3}")


def version(v: Any) -> Any:
    """A version number, its public part only: a local label (``0.9.5+acme.laptop``, a custom
    build's ``3.13.0+``) is whatever its builder wrote."""
    if not isinstance(v, str):
        return DROP
    number = _PUBLIC_VERSION.match(v)
    return number.group(0) if number else DROP


def release(v: Any) -> Any:
    """``crawl4ai@<version>``."""
    if not isinstance(v, str) or not v.startswith("crawl4ai@"):
        return DROP
    number = version(v[len("crawl4ai@"):])
    return DROP if number is DROP else "crawl4ai@" + number


MODULE = r"[A-Za-z_][\w.]{0,199}"
TYPE_NAME = r"[A-Za-z_]\w{0,127}(?:\.[A-Za-z_]\w{0,127}){0,8}"
EXCEPTION_TYPE = rf"{TYPE_NAME}|<user code>(?:\({TYPE_NAME}\))?"
PUBLIC_FILE = r"<frozen [\w.]{1,100}>|<built-in [\w.]{1,100}>|[A-Za-z_][\w.\-]*(?:/[A-Za-z_][\w.\-]*){0,30}\.pyx?"
EMAIL = r"[^@\s]{1,64}@[^@\s]{1,190}"

EVENT = (
    Field("event_id", shape(r"[0-9a-f]{32}"), "a random report id"),
    Field("timestamp", timestamp, "a random report id"),
    Field("platform", one_of("python"), "a random report id"),
    Field("level", one_of("fatal", "error", "warning"), "how the error was seen"),
    Field("release", release, "crawl4ai version"),
    Field("environment", one_of(*ENVIRONMENTS), "environment type"),
    Field("sdk", "scrub_sdk", "telemetry version"),
    Field("exception", "scrub_exception", "exception type and traceback"),
    Field("contexts", "scrub_contexts", "python version"),
    Field("tags", "scrub_tags", "crawl4ai version"),
    Field("user", "scrub_user", "your email"),
    Field("fingerprint", "scrub_fingerprint", "exception type and traceback"),
)
SDK = (
    Field("name", one_of("crawl4ai.telemetry"), "telemetry version"),
    Field("version", version, "telemetry version"),
)
EXCEPTION_VALUE = (
    Field("type", "exception_type", "exception type and traceback"),
    Field("module", "exception_module", "exception type and traceback"),
    Field("value", "redact_message", "the exception message"),
    Field("mechanism", "scrub_mechanism", "how the error was seen"),
    Field("stacktrace", "scrub_stacktrace", "exception type and traceback"),
)
# How an error was seen: the public API's ways, Sentry's process-wide integrations, and the
# crawl4ai capture points' own names (a test holds ``CAPTURE_POINTS`` to this list).
CAPTURE_POINT_NAMES = frozenset(
    {"aprocess_html", "arun", "arun_many", "browser", "chunking", "content_filter", "crawl",
     "deep_crawl", "dispatcher", "extraction", "lifecycle", "llm", "logged", "markdown", "result",
     "scrap", "session"}
)
MECHANISMS = CAPTURE_POINT_NAMES | {"generic", "chained", "manual", "decorator", "context", "asgi",
                                    "excepthook", "threading", "asyncio"}
MECHANISM = (
    Field("type", one_of(*MECHANISMS), "how the error was seen"),
    Field("handled", boolean, "how the error was seen"),
    Field("is_exception_group", boolean, "how the error was seen"),
    Field("exception_id", chain_index, "how the error was seen"),
    Field("parent_id", chain_index, "how the error was seen"),
    Field("source", shape(r"__cause__|__context__|exceptions\[\d{1,4}\]"), "how the error was seen"),
)
# A frame of known code; a user's frame keeps only {"filename": "<user code>", "in_app": False}.
FRAME = (
    Field("filename", shape(PUBLIC_FILE), "exception type and traceback"),
    Field("in_app", boolean, "exception type and traceback"),
    Field("module", shape(MODULE), "exception type and traceback"),
    Field("function", shape(r"[<>\w.]{1,200}"), "exception type and traceback"),
    Field("lineno", integer, "exception type and traceback"),
)
CONTEXTS = (
    Field("runtime", "scrub_runtime", "python version"),
    Field("os", "scrub_os", "operating system name and release"),
    Field("crawl4ai", "scrub_crawl4ai_context", "crawl4ai version"),
    Field("telemetry", "scrub_caller_context", "the telemetry context"),
)
RUNTIME = (
    Field("name", one_of("CPython", "PyPy", "GraalVM", "GraalPy", "IronPython", "Jython", "MicroPython"),
          "python version"),
    Field("version", version, "python version"),
)
# A kernel's release is free text where someone built their own ("6.1.0-alice-laptop"): it keeps
# its version number and the labels of known builds (distribution, cloud, WSL, architecture).
# A build number has at most five digits ("5.15.0-1051-azure"); a longer run is someone's number.
_RELEASE_LABEL = re.compile(
    r"\d{1,5}|(?:fc|el|amzn|arch|deb|ubuntu|rc|lts|android|wsl)\d*|x86_64|aarch64|amd64|arm64|i686"
    r"|generic|microsoft|standard|azure|aws|gcp|gke|cloud|lowlatency|rt|default|virtual|kvm"
    r"|linuxkit|orbstack|darwin|windows|nt", re.I)


def os_release(v: Any) -> Any:
    if not isinstance(v, str):
        return DROP
    number = re.match(r"\d{1,6}(?:\.\d{1,6}){0,4}", v)
    if number is None:
        return DROP
    labels = [p for p in re.split(r"[^A-Za-z0-9_]+", v[number.end():])[:12] if p]
    kept = [p for p in labels if _RELEASE_LABEL.fullmatch(p)]
    return "-".join([number.group(0), *kept])[:64]


OS = (
    Field("name", one_of("Linux", "Darwin", "Windows", "Java", "FreeBSD", "OpenBSD", "NetBSD",
                         "SunOS", "AIX", "Emscripten", "WASI", "iOS", "Android"),
          "operating system name and release"),
    Field("release", os_release, "operating system name and release"),
)
CRAWL4AI_CONTEXT = (
    Field("version", version, "crawl4ai version"),
    Field("telemetry_version", version, "telemetry version"),
    Field("environment", one_of(*ENVIRONMENTS), "environment type"),
)
TAGS = (
    Field("crawl4ai_version", version, "crawl4ai version"),
    Field("telemetry_version", version, "telemetry version"),
    Field("python_version", version, "python version"),
    Field("environment", one_of(*ENVIRONMENTS), "environment type"),
)
USER = (Field("email", shape(EMAIL), "your email"),)

# The caller's context (``capture_exception(exc, context=…)``, decorators): enumerated values
# only. A free string or a number under an allowed key goes, whatever it holds.
OPERATIONS = CAPTURE_POINT_NAMES | frozenset(
    {"request", "sample", "excepthook", "threading", "asyncio", "extract", "scraping", "scrape",
     "fetch", "parse", "screenshot", "pdf", "filter", "dispatch"}
)
STAGES = frozenset({"fetch", "scrape", "extract", "markdown", "chunk", "filter", "screenshot", "pdf",
                    "setup", "teardown"})
SOURCES = frozenset({"decorator", "context", "manual", "excepthook", "threading", "asyncio", "arun",
                     "crawl", "server"})
COMPONENTS = frozenset({"asgi", "dispatcher", "server", "cli", "browser", "scraper", "crawler"})
CALLER_CONTEXT = (
    Field("operation", one_of(*OPERATIONS), "the telemetry context"),
    Field("stage", one_of(*STAGES), "the telemetry context"),
    Field("source", one_of(*SOURCES), "the telemetry context"),
    Field("component", "crawl4ai_name", "the telemetry context"),
    Field("strategy", "crawl4ai_name", "the telemetry context"),
    Field("module", "crawl4ai_module", "the telemetry context"),
    Field("function", "crawl4ai_function", "the telemetry context"),
    Field("occurrences", occurrence_count, "the telemetry context"),
)

ALL: dict[str, tuple[Field, ...]] = {
    "event": EVENT, "sdk": SDK, "exception value": EXCEPTION_VALUE, "mechanism": MECHANISM,
    "frame": FRAME, "contexts": CONTEXTS, "runtime": RUNTIME, "os": OS,
    "crawl4ai context": CRAWL4AI_CONTEXT, "tags": TAGS, "user": USER, "caller context": CALLER_CONTEXT,
}
#: Every item of the docs' "What is collected" list some field belongs to.
PROMISES = frozenset(f.promise for fields in ALL.values() for f in fields)
