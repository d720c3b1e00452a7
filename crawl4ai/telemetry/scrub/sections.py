"""The report, section by section: :func:`scrub_event` rebuilds a report from :mod:`.schema`.

A field the schema does not list is dropped (counted, never passed); a value of the wrong shape is
dropped; messages keep only known words (:mod:`.message`); a frame keeps its names only if the
code it names is known (:mod:`..ownership`). Reading :func:`scrub_event` reads the promise.

A pure function of the report (and of which code is loaded): the same answer for the same input,
and idempotent, which matters because it runs again as Sentry's ``before_send``.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from .. import ownership
from .._record import Record
from . import code, schema
from .align import Aligner, Span
from .code import MAX_FRAMES, MAX_VALUES
from .known_names import defines, known_class_name
from .message import redact_text
from .rules import USER_CODE
from .rules.local import LocalNames
from .schema import DROP, Field


class MessageProvenance(Record):
    """Why each piece of one message of a report is there (see :class:`.align.Span`)."""

    __slots__ = ("field", "spans")
    field: str  # "exception.values[0].value"
    spans: tuple[Span, ...]


@dataclass
class Scrubbing:
    """One report's scrub: what was removed (counts per category), this machine's names, the
    templates of the code on the report's stack, and (if asked) why each message piece stayed."""

    removed: Counter[str] | None
    local: LocalNames | None
    aligner: Aligner
    types: set[str] = dataclass_field(default_factory=set)  # the exception types kept (the fingerprint's)
    provenance: list[MessageProvenance] | None = None
    value_index: int = 0  # which exception value is being scrubbed (for provenance)
    proven: frozenset[str] = frozenset()  # class names its objects prove (see code.PROVEN)

    def count(self, kind: str, n: int = 1) -> None:
        if self.removed is not None and n > 0:
            self.removed[kind] += n


def scrub_event(
    event: dict[str, Any], removed: Counter[str] | None = None, *, local: LocalNames | None = None,
    provenance: list[MessageProvenance] | None = None,
) -> dict[str, Any]:
    """A new event holding only what the privacy promise allows. ``event`` is not modified.

    ``removed`` (optional) receives counts per category of what was dropped or redacted.
    ``local`` (optional) names this machine's home, user and host names to redact as well.
    ``provenance`` (optional) receives, per message, why each of its pieces is there.
    """
    if not isinstance(event, dict):
        return {}
    state = Scrubbing(removed, local, code.aligner_for(event), provenance=provenance)
    out = _keep(schema.EVENT, event, state, "field")
    out["platform"] = "python"
    out.setdefault("level", "error")
    out["contexts"] = out.get("contexts") or {}
    out["tags"] = out.get("tags") or {}
    return out


def _keep(fields: tuple[Field, ...], section: Any, state: Scrubbing, kind: str) -> dict[str, Any]:
    """The fields of ``section`` the schema lists, each judged; everything else counted as ``kind``."""
    if not isinstance(section, dict):
        return {}
    out: dict[str, Any] = {}
    for field in fields:
        if field.name not in section:
            continue
        value = section[field.name]
        if isinstance(value, str) and type(value) is not str:
            value = str.__str__(value)  # its own __eq__/__hash__ must not pass an allowlist check
        kept = field.check(value) if callable(field.check) else _JUDGES[field.check](value, state)
        if kept is DROP:
            state.count(kind)
        elif kept not in ({}, [], None):  # an emptied section counted its own losses
            out[field.name] = kept
    state.count(kind, len(set(section) - {f.name for f in fields}))
    return out


# -- sections ----------------------------------------------------------------------------------


def scrub_sdk(sdk: Any, state: Scrubbing) -> dict[str, Any]:
    """The reporting library's name and version."""
    return _keep(schema.SDK, sdk, state, "field")


def scrub_exception(exception: Any, state: Scrubbing) -> dict[str, Any] | None:
    """Each exception of the chain (causes, contexts, groups): type, message, mechanism, frames."""
    values = exception.get("values") if isinstance(exception, dict) else None
    if not isinstance(values, list):
        return None
    kept = [v for v in values if isinstance(v, dict)]
    state.count("exception", len(kept) - min(len(kept), MAX_VALUES))
    out = []
    for i, value in enumerate(kept[-MAX_VALUES:]):
        state.value_index = i
        out.append(scrub_exception_value(value, state))
    return {"values": out}


def scrub_exception_value(value: dict[str, Any], state: Scrubbing) -> dict[str, Any]:
    """One exception: its type, its redacted message (notes included), how it was caught, frames."""
    proven, first = code.proven_types(value)
    state.proven = proven
    out = _keep(schema.EXCEPTION_VALUE, {k: v for k, v in value.items() if k != code.PROVEN}, state, "field")
    if first and proven and isinstance(out.get("value"), str) and isinstance(value.get("type"), str):
        code.remember_proof(value["type"], code.raising_key(value), out["value"], proven)
    type_name = out.pop("type", "<unknown>")
    if type_name != "<unknown>" and not _names_known_type(type_name, out.get("module")):
        state.count("code")  # a name no known code defines is a piece of the user's source
        type_name = USER_CODE
        out.pop("module", None)
    state.types.add(type_name)
    return {"type": type_name, **out}


def exception_type(value: Any, state: Scrubbing) -> str:
    """A type name; a user's class shows only as ``<user code>(NearestKnownBase)``."""
    return value if schema.shape(schema.EXCEPTION_TYPE)(value) is not DROP else "<unknown>"


def exception_module(value: Any, state: Scrubbing) -> Any:
    """The module of a known exception type (a user's module is never named)."""
    if not isinstance(value, str) or not ownership.owner_of_module(value).known:
        return DROP
    return value


def _names_known_type(type_name: str, module: str | None) -> bool:
    """Whether known code defines the type a report names: ``module``'s class (a builtin without
    a module), or for ``<user code>(Base)`` a ``Base`` some known loaded module defines. Build
    decides this from the class itself; checked here again so that no name reaches a report on
    build's word alone."""
    if type_name == USER_CODE:
        return True
    if type_name.startswith(USER_CODE + "("):
        return known_class_name(type_name[len(USER_CODE) + 1:-1])
    return defines(module or "builtins", type_name)


def redact_message(value: Any, state: Scrubbing) -> Any:
    """The message and notes: template text only (see :mod:`.message`)."""
    if not isinstance(value, str):
        return DROP
    spans: list[Span] | None = [] if state.provenance is not None else None
    text = redact_text(value, state.removed, state.local, state.aligner.with_types(state.proven), spans)
    if state.provenance is not None and spans is not None:
        state.provenance.append(MessageProvenance(f"exception.values[{state.value_index}].value", tuple(spans)))
    return text


def scrub_mechanism(mechanism: Any, state: Scrubbing) -> dict[str, Any]:
    """How the error was seen (decorator, context, excepthook…), handled or not, its place in a chain."""
    return _keep(schema.MECHANISM, mechanism, state, "field")


def scrub_stacktrace(stacktrace: Any, state: Scrubbing) -> dict[str, Any]:
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    if not isinstance(frames, list):
        return {}
    return {"frames": scrub_frames(frames, state)}


def scrub_frames(frames: list[Any], state: Scrubbing) -> list[dict[str, Any]]:
    """Known frames keep module, function, line, package-relative file; user frames keep nothing."""
    out = []
    for frame in frames[-MAX_FRAMES:]:
        if not isinstance(frame, dict):
            continue
        clean = _keep(schema.FRAME, frame, state, "frame_data")
        if not _known_frame(clean):
            if frame.get("filename") != USER_CODE:
                state.count("path")
            out.append({"filename": USER_CODE, "in_app": False})
            continue
        clean["in_app"] = clean.get("in_app") is True
        out.append(clean)
    return out


def _known_frame(frame: dict[str, Any]) -> bool:
    """A frame names known code only if all of it agrees: its module is known, its file is that
    module's own file, and that module defines its function. Anything less is the user's."""
    module, filename = frame.get("module"), frame.get("filename")
    if module is None or "function" not in frame:
        return False
    owner = ownership.owner_of_module(module)
    return (owner.known and filename in (owner.file, f"<frozen {module}>")
            and defines(module, frame["function"]))


def scrub_contexts(contexts: Any, state: Scrubbing) -> dict[str, Any]:
    """Runtime, OS, crawl4ai versions and environment; the caller's context by allowlist."""
    return _keep(schema.CONTEXTS, contexts, state, "context")


def scrub_runtime(section: Any, state: Scrubbing) -> dict[str, Any]:
    return _keep(schema.RUNTIME, section, state, "context")


def scrub_os(section: Any, state: Scrubbing) -> dict[str, Any]:
    return _keep(schema.OS, section, state, "context")


def scrub_crawl4ai_context(section: Any, state: Scrubbing) -> dict[str, Any]:
    return _keep(schema.CRAWL4AI_CONTEXT, section, state, "context")


def scrub_caller_context(context: Any, state: Scrubbing) -> dict[str, Any]:
    """Only keys meant for telemetry, and only enumerated values under them: an operation from a
    fixed list, a class name Crawl4AI defines, crawl4ai's own module and function names. A free
    string or a number under an allowed key goes (``url``, ``headers``, ``html``… never pass)."""
    if not isinstance(context, dict):
        return {}
    kept = _keep(schema.CALLER_CONTEXT, context, state, "context")
    if "function" in kept and kept["function"] != USER_CODE and not defines(kept.get("module"), kept["function"]):
        kept["function"] = USER_CODE  # a name crawl4ai's module does not define is the caller's
        state.count("context")
    return kept


def crawl4ai_name(value: Any, state: Scrubbing) -> Any:
    """One of telemetry's own component names, or a class Crawl4AI's code defines
    (``LLMExtractionStrategy``)."""
    if not isinstance(value, str) or not value.isidentifier():
        return DROP
    if value in schema.COMPONENTS:
        return value
    for name, module in list(sys.modules.items()):
        if name == "crawl4ai" or name.startswith("crawl4ai."):
            candidate = ownership.stored(module, value)
            if isinstance(candidate, type) and ownership.is_crawl4ai_class(candidate):
                return value
    return DROP


def crawl4ai_module(value: Any, state: Scrubbing) -> Any:
    """Crawl4AI's own module names; any other module is the user's."""
    if not isinstance(value, str):
        return DROP
    return value if ownership.owner_of_module(value).crawl4ai else USER_CODE


def crawl4ai_function(value: Any, state: Scrubbing) -> Any:
    if not isinstance(value, str):
        return DROP
    return value if schema.shape(r"[<>\w.]{1,200}")(value) is not DROP else USER_CODE


def scrub_tags(tags: Any, state: Scrubbing) -> dict[str, Any]:
    """Versions and environment type, the facets maintainers filter reports by."""
    return _keep(schema.TAGS, tags, state, "field")


def scrub_user(user: Any, state: Scrubbing) -> dict[str, Any]:
    """Only the email the user chose to give; no id, no IP, no user name."""
    return _keep(schema.USER, user, state, "user")


def scrub_fingerprint(fingerprint: Any, state: Scrubbing) -> list[str]:
    """The exception types the report names and ``module:function`` of known code; anything
    else is dropped."""
    if not isinstance(fingerprint, list):
        return []
    out = []
    for part in fingerprint[:64]:
        if not isinstance(part, str):
            continue
        part = str.__str__(part)
        module, _, function = part.partition(":")
        if part in state.types or (
            function and schema.shape(schema.MODULE)(module) is not DROP
            and schema.shape(r"[<>\w.]{1,200}")(function) is not DROP
            and defines(module, function)
        ):
            out.append(part)
    return out


_JUDGES = {
    "scrub_sdk": scrub_sdk, "scrub_exception": scrub_exception, "scrub_contexts": scrub_contexts,
    "scrub_tags": scrub_tags, "scrub_user": scrub_user, "scrub_fingerprint": scrub_fingerprint,
    "exception_type": exception_type, "exception_module": exception_module, "redact_message": redact_message,
    "scrub_mechanism": scrub_mechanism, "scrub_stacktrace": scrub_stacktrace,
    "scrub_runtime": scrub_runtime, "scrub_os": scrub_os, "scrub_crawl4ai_context": scrub_crawl4ai_context,
    "scrub_caller_context": scrub_caller_context, "crawl4ai_name": crawl4ai_name,
    "crawl4ai_module": crawl4ai_module, "crawl4ai_function": crawl4ai_function,
}
