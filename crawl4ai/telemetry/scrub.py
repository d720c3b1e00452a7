"""Scrub: the privacy promise in code.

:func:`scrub_event` rebuilds a report from an allowlist (an unknown key is dropped, never passed)
and redacts every value that could carry data. It is a pure function: no I/O, no globals it
writes, the same answer for the same input. It runs as Sentry's ``before_send`` and before every
other provider, so nothing reaches a provider unscrubbed. Each section of the report has one
function below, named after it; reading :func:`scrub_event` top to bottom reads the promise.

What it removed is counted per category (never the values) in the ``removed`` counter the caller
may pass, so the dashboard can show what a report lost.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

MAX_MESSAGE = 1024
MAX_FRAMES = 60
MAX_VALUES = 10
USER_CODE = "<user code>"

# Context keys a caller may pass that are meant for telemetry; values are redacted all the same.
ALLOWED_CONTEXT_KEYS = frozenset(
    {"operation", "component", "function", "module", "stage", "strategy", "source", "occurrences"}
)
ENVIRONMENTS = frozenset(
    {"cli", "library", "docker", "api_server", "jupyter", "colab", "ci", "container"}
)

# Redactors, most specific first. Each replaces a match with a typed placeholder.
_REDACTORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("html", re.compile(r"<(?:!doctype|html|head|body|div|span|p|a|script|style|meta|title|table|tr|td|li|ul|img|form|input|iframe|h[1-6])\b[^>]*>.*?(?:</[a-z0-9]+>|$)", re.I | re.S)),
    ("secret", re.compile(r"(?i)\b(?:bearer|basic|token|api[_-]?key|apikey|secret|password|passwd|pwd|authorization|cookie|set-cookie|session(?:id)?)\b\s*[:=]\s*\S+")),
    ("secret", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")),
    ("secret", re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|\bAKIA[0-9A-Z]{12,}|\bgh[pousr]_[A-Za-z0-9]{16,}|\bxox[abposr]-[A-Za-z0-9-]{8,}")),
    ("url", re.compile(r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s'\"<>]*")),
    ("email", re.compile(r"(?i)\b[A-Z0-9._%+\-]+(?:@|%40)[A-Z0-9.\-]+\.[A-Z]{2,}\b")),
    ("ip", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b")),
    ("ip", re.compile(r"(?i)\[?\b(?:[0-9a-f]{1,4}:){2,7}(?::|[0-9a-f]{1,4})\b\]?")),
    ("path", re.compile(r"(?:~|\b[A-Za-z]:)?(?:[/\\][^\s/\\'\"<>:]+){2,}[/\\]?")),
    ("url", re.compile(r"(?i)\b(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:com|net|org|io|ai|dev|app|co|edu|gov|info|biz|xyz|site|online|local|internal|invalid|test|localhost|[a-z]{2})\b(?::\d+)?(?:/[^\s'\"<>]*)?")),
    ("str", re.compile(r"'[^']*'|\"[^\"]*\"")),
    ("secret", re.compile(r"\b[A-Za-z0-9+/_\-]{32,}={0,2}")),
)


def redact_text(text: str, removed: Counter[str] | None = None) -> str:
    """Static text kept; every piece of data replaced by ``<kind>``. Cut after redaction."""
    if not isinstance(text, str):
        text = str(text)
    for kind, pattern in _REDACTORS:
        text, n = pattern.subn(f"<{kind}>", text)
        if n and removed is not None:
            removed[kind] += n
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "…"
        if removed is not None:
            removed["truncated"] += 1
    return text


def _count(removed: Counter[str] | None, kind: str, n: int = 1) -> None:
    if removed is not None and n:
        removed[kind] += n


def _short(value: Any, limit: int = 128) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def scrub_event(event: dict[str, Any], removed: Counter[str] | None = None) -> dict[str, Any]:
    """A new event holding only what the privacy promise allows."""
    if not isinstance(event, dict):
        return {}
    out: dict[str, Any] = {}
    out.update(scrub_identity(event))
    out.update(scrub_release(event))
    exception = scrub_exception(event.get("exception"), removed)
    if exception:
        out["exception"] = exception
    out["contexts"] = scrub_contexts(event.get("contexts"), removed)
    out["tags"] = scrub_tags(event.get("tags"))
    user = scrub_user(event.get("user"), removed)
    if user:
        out["user"] = user
    fingerprint = scrub_fingerprint(event.get("fingerprint"))
    if fingerprint:
        out["fingerprint"] = fingerprint
    dropped = set(event) - _TOP_LEVEL
    _count(removed, "field", len(dropped))
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
    if isinstance(timestamp, (int, float)) or (
        isinstance(timestamp, str) and re.fullmatch(r"[0-9T:.\-+Z ]{10,40}", timestamp)
    ):
        out["timestamp"] = timestamp
    out["platform"] = "python"
    level = event.get("level")
    out["level"] = level if level in ("fatal", "error", "warning") else "error"
    sdk = event.get("sdk")
    if isinstance(sdk, dict):
        out["sdk"] = {k: _short(sdk.get(k), 64) for k in ("name", "version") if _short(sdk.get(k), 64)}
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


def scrub_exception(exception: Any, removed: Counter[str] | None) -> dict[str, Any] | None:
    """Each exception of the chain: type, redacted message, mechanism, frames."""
    values = exception.get("values") if isinstance(exception, dict) else None
    if not isinstance(values, list):
        return None
    return {"values": [scrub_exception_value(v, removed) for v in values[-MAX_VALUES:] if isinstance(v, dict)]}


def scrub_exception_value(value: dict[str, Any], removed: Counter[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _exception_type(value.get("type"))}
    module = value.get("module")
    if isinstance(module, str) and re.fullmatch(r"[A-Za-z_][\w.]{0,127}", module):
        out["module"] = module
    if isinstance(value.get("value"), str):
        out["value"] = redact_text(value["value"], removed)
    mechanism = scrub_mechanism(value.get("mechanism"))
    if mechanism:
        out["mechanism"] = mechanism
    stacktrace = value.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    if isinstance(frames, list):
        out["stacktrace"] = {"frames": scrub_frames(frames, removed)}
    return out


def _exception_type(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"(<user code>\()?[A-Za-z_][\w.]{0,127}\)?|<user code>", value):
        return value
    return "<unknown>"


def scrub_mechanism(mechanism: Any) -> dict[str, Any]:
    if not isinstance(mechanism, dict):
        return {}
    out: dict[str, Any] = {}
    if isinstance(mechanism.get("type"), str) and re.fullmatch(r"[a-z_]{1,32}", mechanism["type"]):
        out["type"] = mechanism["type"]
    for key in ("handled", "is_exception_group"):
        if isinstance(mechanism.get(key), bool):
            out[key] = mechanism[key]
    for key in ("exception_id", "parent_id"):
        if isinstance(mechanism.get(key), int):
            out[key] = mechanism[key]
    source = mechanism.get("source")
    if isinstance(source, str) and re.fullmatch(r"__cause__|__context__|exceptions\[\d+\]", source):
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
            continue
        clean: dict[str, Any] = {"filename": filename, "in_app": bool(frame.get("in_app"))}
        for key in ("module", "function"):
            if isinstance(frame.get(key), str) and re.fullmatch(r"[<>\w.]{1,200}", frame[key]):
                clean[key] = frame[key]
        if isinstance(frame.get("lineno"), int):
            clean["lineno"] = frame["lineno"]
        dropped = set(frame) - {"filename", "in_app", "module", "function", "lineno"}
        _count(removed, "frame_data", len(dropped))
        out.append(clean)
    return out


def _is_relative_public_file(filename: Any) -> bool:
    if not isinstance(filename, str) or not filename:
        return False
    if filename.startswith("<frozen "):
        return True
    return (
        not filename.startswith(("/", "\\", "~"))
        and not re.match(r"^[A-Za-z]:", filename)
        and re.fullmatch(r"[\w.\-/]+\.py", filename) is not None
    )


def scrub_contexts(contexts: Any, removed: Counter[str] | None) -> dict[str, Any]:
    """Runtime, OS, crawl4ai versions and environment; the caller's context by allowlist."""
    contexts = contexts if isinstance(contexts, dict) else {}
    out: dict[str, Any] = {}
    runtime = contexts.get("runtime")
    if isinstance(runtime, dict):
        out["runtime"] = {k: _short(runtime.get(k), 32) for k in ("name", "version") if _short(runtime.get(k), 32)}
    os_ctx = contexts.get("os")
    if isinstance(os_ctx, dict):
        out["os"] = {k: _short(os_ctx.get(k), 64) for k in ("name", "release") if _short(os_ctx.get(k), 64)}
    c4a = contexts.get("crawl4ai")
    if isinstance(c4a, dict):
        clean = {k: _short(c4a.get(k), 40) for k in ("version", "telemetry_version") if _short(c4a.get(k), 40)}
        if c4a.get("environment") in ENVIRONMENTS:
            clean["environment"] = c4a["environment"]
        out["crawl4ai"] = clean
    telemetry = scrub_caller_context(contexts.get("telemetry"), removed)
    if telemetry:
        out["telemetry"] = telemetry
    dropped = set(contexts) - {"runtime", "os", "crawl4ai", "telemetry"}
    _count(removed, "context", len(dropped))
    return out


def scrub_caller_context(context: Any, removed: Counter[str] | None) -> dict[str, Any]:
    """Only keys meant for telemetry survive (``url``, ``headers``, ``html``… never do)."""
    if not isinstance(context, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in context.items():
        if key not in ALLOWED_CONTEXT_KEYS:
            _count(removed, "context")
            continue
        if isinstance(value, bool) or isinstance(value, int):
            out[key] = value
        elif isinstance(value, str):
            out[key] = redact_text(value[:200], removed)
        else:
            _count(removed, "context")
    return out


def scrub_tags(tags: Any) -> dict[str, str]:
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
    dropped = set(user) - {"email"}
    _count(removed, "user", len(dropped))
    if isinstance(email, str) and re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,190}", email):
        return {"email": email}
    return {}


def scrub_fingerprint(fingerprint: Any) -> list[str]:
    if not isinstance(fingerprint, list):
        return []
    return [f for f in fingerprint[:64] if isinstance(f, str) and re.fullmatch(r"[<>()\w.:]{1,200}", f)]
