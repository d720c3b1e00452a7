"""Report operations: the one API under the ``crwl telemetry`` report verbs and the dashboard.

Everything a person can do with the reports on their machine lives here, so the command line
(``reports``, ``show``, ``send``, ``delete``, ``preview``) and the Textual dashboard behave the
same way:

- list the local outbox and open one report: its exact bytes, what the scrubber removed (counts
  per kind, never the values) and its delivery history;
- send one report or every pending one now (through :meth:`Pipeline.resend`: same bytes, same
  event id), delete one, clear all;
- export one as a GitHub issue (Markdown), for people who would rather file an issue than turn
  sending on;
- the sample: a synthetic crawl4ai crash shown raw beside its redacted report, and the
  playground: any text run through the real scrubber.

Consent changes are not here: they are :mod:`crawl4ai.telemetry.api` (``enable``/``disable``).
Text that came from outside (report content, exception names, pasted text) is returned passed
through :func:`crawl4ai.telemetry._text.printable`, ready for any surface to show.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from typing import Any

from . import outbox as _outbox
from ._files import parse_json
from ._record import Record
from ._text import printable
from .pipeline import get_pipeline

SEND_TIMEOUT = 10.0
#: The outbox states in words where the short name would mislead ("local" is not a place).
STATE_LABELS = {_outbox.LOCAL: "kept locally"}
# The sample is never sent: its id and time are fixed so that it reads the same every time.
SAMPLE_EVENT_ID = "5a3b1e0000000000000000000000c4a1"
SAMPLE_TIMESTAMP = "2026-01-01T12:00:00Z"

class ReportRow(Record):
    """One line of the outbox listing."""

    __slots__ = ("event_id", "created", "exception_type", "where", "crawl4ai_version", "state",
                 "size", "attempts", "occurrences", "carried")
    _defaults = {"occurrences": 1, "carried": 0}
    event_id: str
    created: float
    exception_type: str
    where: str
    crawl4ai_version: str
    state: str
    size: int
    attempts: int
    #: Errors the report's bytes stand for (``contexts.telemetry.occurrences``), and errors of
    #: the same bug counted after it was sent (the bug's next report carries them).
    occurrences: int
    carried: int

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def times(self) -> str:
        """The count beside the exception's name: "" for one error, "×50", "×50 +7"."""
        if self.occurrences == 1 and not self.carried:
            return ""
        return f"×{self.occurrences}" + (f" +{self.carried}" if self.carried else "")

    @property
    def times_sentence(self) -> str:
        """The count in words (``show``, the dashboard's report screen)."""
        said = f"{self.occurrences} time{'s' if self.occurrences != 1 else ''} in this report"
        if self.carried:
            said += (f"; {self.carried} more since it was sent (the next report of this bug "
                     "carries them)")
        return said

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.event_id, "created": self.created, "exception_type": self.exception_type,
                "where": self.where, "crawl4ai_version": self.crawl4ai_version, "state": self.state,
                "size": self.size, "attempts": self.attempts, "occurrences": self.occurrences,
                "carried": self.carried}


class ReportDetail(Record):
    """One report as kept: the exact bytes, what was removed, and what happened to it."""

    __slots__ = ("row", "payload", "removed", "history", "provider", "detail")
    row: ReportRow
    payload: bytes
    removed: dict[str, int]
    history: list[tuple[float, str, str]]
    provider: str
    detail: str

    def event(self) -> dict[str, Any]:
        try:
            value = parse_json(self.payload)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def pretty(self) -> str:
        """The bytes, pretty-printed (same JSON value), with control characters made visible."""
        event = self.event()
        text = json.dumps(event, indent=2, ensure_ascii=False) if event else self.payload.decode(
            "utf-8", "replace")
        return printable(text, multiline=True)

    def as_dict(self) -> dict[str, Any]:
        return {**self.row.as_dict(), "removed": self.removed, "provider": self.provider,
                "detail": self.detail, "report": self.event(),
                "history": [{"time": t, "state": s, "detail": d} for t, s, d in self.history]}


class SendOutcome(Record):
    __slots__ = ("event_id", "state", "sent", "reason")
    _defaults = {"reason": ""}
    event_id: str
    state: str  # the outbox state after the attempt
    sent: bool
    reason: str


# -- reading ---------------------------------------------------------------------------------


def _box() -> _outbox.LocalOutbox:
    return get_pipeline().outbox


def _where(event: dict[str, Any]) -> str:
    """The innermost Crawl4AI frame of the report, as module:function ("" when none)."""
    values = (event.get("exception") or {}).get("values") or []
    for value in reversed(values):
        frames = ((value or {}).get("stacktrace") or {}).get("frames") or []
        for frame in reversed(frames):
            module = str(frame.get("module") or "")
            if module == "crawl4ai" or module.startswith("crawl4ai."):
                return f"{module}:{frame.get('function') or '?'}"
    return ""


def _crawl4ai_version(event: dict[str, Any]) -> str:
    return str(((event.get("contexts") or {}).get("crawl4ai") or {}).get("version") or "")


def _load(box: _outbox.LocalOutbox, entry: _outbox.OutboxEntry) -> tuple[ReportRow, bytes]:
    try:
        payload = box.read(entry.event_id)
        event = parse_json(payload)
        event = event if isinstance(event, dict) else {}
    except (OSError, ValueError):
        payload, event = b"", {}
    row = ReportRow(entry.event_id, entry.created, entry.exception_type, _where(event),
                    _crawl4ai_version(event), entry.state, entry.size, entry.attempts,
                    occurrences=entry.occurrences, carried=entry.carried)
    return row, payload


def list_reports(state: str | None = None) -> list[ReportRow]:
    """The outbox, newest first (optionally only reports in ``state``)."""
    box = _box()
    return [_load(box, entry)[0] for entry in box.entries(state)]


def report_ids(state: str | None = None) -> list[str]:
    """The ids of the outbox's reports, newest first: their delivery records only, no report
    read (a listing of thousands shows its count at once, then reads rows a page at a time)."""
    return [entry.event_id for entry in _box().entries(state)]


def rows(event_ids: list[str]) -> list[ReportRow]:
    """The listing rows of these reports, in this order (one gone meanwhile is left out)."""
    box = _box()
    entries = (box.get(event_id) for event_id in event_ids)
    return [_load(box, entry)[0] for entry in entries if entry is not None]


def resolve(ref: str) -> str:
    """The full id of the report ``ref`` names (its id or a unique prefix of it).

    Raises ``LookupError`` when no report, or more than one, matches."""
    ref = (ref or "").strip().lower()
    ids = [entry.event_id for entry in _box().entries()]
    matches = [i for i in ids if i == ref] or [i for i in ids if ref and i.startswith(ref)]
    if len(matches) != 1:
        problem = "no report" if not matches else f"{len(matches)} reports"
        raise LookupError(f"{problem} with the id {printable(ref)!r}")
    return matches[0]


def get(ref: str) -> ReportDetail:
    """One report: exact bytes, removed counts, history. Raises ``LookupError`` if unknown."""
    box = _box()
    event_id = resolve(ref)
    entry = box.get(event_id)
    if entry is None:
        raise LookupError(f"no report with the id {event_id!r}")
    row, payload = _load(box, entry)
    history = [(float(t), str(s), str(d)) for t, s, d in entry.history]
    return ReportDetail(row, payload, dict(entry.removed), history, entry.provider, entry.detail)


# -- acting ----------------------------------------------------------------------------------


def send(ref: str, timeout: float = SEND_TIMEOUT) -> SendOutcome:
    """Send one kept report now, as it is (same bytes, same event id), and wait for the result.

    A person's explicit request for this one report: the stored consent is not asked, the
    environment's kill switch still wins."""
    event_id = resolve(ref)
    pipeline = get_pipeline()
    if getattr(pipeline.provider, "keeps_locally", False):
        return SendOutcome(event_id, _state(event_id), False,
                           "no destination is configured: reports stay on this machine")
    if not pipeline.resend(event_id):
        return SendOutcome(event_id, _state(event_id), False,
                           "telemetry is switched off by the environment")
    pipeline.flush(timeout)
    state = _state(event_id)
    sent = state == _outbox.SENT
    return SendOutcome(event_id, state, sent,
                       "" if sent else f"not delivered; it stays {STATE_LABELS.get(state, state)}")


def send_pending(timeout: float = SEND_TIMEOUT) -> list[SendOutcome]:
    """Send every pending report now; one outcome each."""
    deadline = time.monotonic() + timeout
    return [send(row.event_id, max(0.5, deadline - time.monotonic()))
            for row in list_reports(_outbox.PENDING)]


def _state(event_id: str) -> str:
    entry = _box().get(event_id)
    return entry.state if entry else "deleted"


def delete(ref: str) -> str:
    """Delete one report (its bytes and its record); returns its id."""
    event_id = resolve(ref)
    _box().delete(event_id)
    return event_id


def clear() -> int:
    """Delete every report in the outbox; returns how many there were."""
    box = _box()
    entries = box.entries()
    for entry in entries:
        box.delete(entry.event_id)
    return len(entries)


# -- export as a GitHub issue ----------------------------------------------------------------


def _fence(text: str, lang: str = "") -> str:
    """A Markdown code block whose fence no run of backticks in ``text`` can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _traceback_lines(event: dict[str, Any]) -> str:
    lines = []
    for value in (event.get("exception") or {}).get("values") or []:
        for frame in ((value or {}).get("stacktrace") or {}).get("frames") or []:
            where = frame.get("module") or frame.get("filename") or "<user code>"
            lines.append(f"  {where}:{frame.get('function') or '?'} line {frame.get('lineno') or '?'}")
        lines.append(f"{value.get('type') or '?'}: {value.get('value') or ''}")
    return printable("\n".join(lines), multiline=True)


def issue_markdown(ref: str) -> str:
    """The report as a GitHub issue body: a summary, the traceback and the exact redacted JSON."""
    report = get(ref)
    event = report.event()
    runtime = (event.get("contexts") or {}).get("runtime") or {}
    os_ = (event.get("contexts") or {}).get("os") or {}
    facts = [
        ("Exception", report.row.exception_type or "?"),
        ("Where in Crawl4AI", report.row.where or "not in Crawl4AI's own frames"),
        ("Crawl4AI", report.row.crawl4ai_version or "?"),
        ("Python", runtime.get("version") or "?"),
        ("OS", " ".join(str(v) for v in (os_.get("name"), os_.get("release")) if v) or "?"),
        ("Environment", event.get("environment") or "?"),
        ("Report id", report.row.event_id),
    ]
    table = "\n".join(f"| {k} | {printable(str(v)).replace('|', '/')} |" for k, v in facts)
    return "\n\n".join([
        f"## Crash report: {printable(report.row.exception_type or 'error')} in Crawl4AI",
        "<!-- What were you doing when it happened? (No URLs or secrets are needed.) -->",
        "| | |\n|---|---|\n" + table,
        "### Traceback (redacted)\n\n" + _fence(_traceback_lines(event)),
        "<details><summary>The full redacted report (exactly what telemetry keeps)</summary>\n\n"
        + _fence(report.pretty(), "json") + "\n\n</details>",
        "_Exported by `crwl telemetry` from the local outbox. Secrets, URLs, paths and names were "
        "replaced by placeholders such as `<url>` before the report was stored._",
    ]) + "\n"


def export_issue(ref: str, directory: str | None = None) -> str:
    """Save :func:`issue_markdown` to a file (``~/.crawl4ai/telemetry/exports/``); its path."""
    from ._files import write_private
    from .settings import base_dir

    event_id = resolve(ref)
    directory = directory or os.path.join(base_dir(), "telemetry", "exports")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"crawl4ai-crash-{event_id[:12]}.md")
    write_private(path, issue_markdown(event_id).encode("utf-8"))
    return path


# -- the sample and the playground -----------------------------------------------------------

# A realistic crash, made of two made-up sources so that it reads the same on every machine: a
# user's script (with a token, a URL with a password, a home path and a user name) calling a
# Crawl4AI step that fails while navigating. The step is compiled as a file of the installed
# crawl4ai (so the report treats it as Crawl4AI's, as it would a real one); the raw side shows
# it where it would be on Alice's machine.
_SAMPLE_SITE = "/home/alice/.venv/lib/python3.12/site-packages"
_SAMPLE_CRAWL4AI_FILE = "crawl4ai/browser_navigation.py"  # made up: no real source lines
_SAMPLE_CRAWL4AI = '''
def _navigate(url, profile):
    try:
        raise ConnectionError("net::ERR_CONNECTION_RESET at " + url)
    except ConnectionError as e:
        raise RuntimeError(
            "Failed on navigating ACS-GOTO: Page.goto: net::ERR_CONNECTION_RESET at " + url
            + " (browser profile " + profile + ", proxy http://scraper:Pa55w0rd@10.20.0.7:3128)"
        ) from e

def crawl(url, profile):
    return _navigate(url, profile)
'''
_SAMPLE_USER_FILE = "/home/alice/projects/shop-scraper/crawl_shop.py"
_SAMPLE_USER = '''
API_TOKEN = "sk-live-4f9c2b7e1d8a6b3c5e0f9a7d"

def crawl_account_page():
    url = "https://alice:hunter2@shop.example.com/account/orders?session=" + API_TOKEN
    return crawl(url, "/home/alice/.crawl4ai/profiles/alice@example.com")

crawl_account_page()
'''


class Sample(Record):
    """The synthetic crash as Python prints it (raw) and the report it would produce."""

    __slots__ = ("raw", "report", "removed")
    raw: str
    report: dict[str, Any]
    removed: dict[str, int]

    def pretty(self) -> str:
        return printable(json.dumps(self.report, indent=2, ensure_ascii=False), multiline=True)


def _run_fake_file(source: str, filename: str, module: str, namespace: dict[str, Any]) -> None:
    namespace["__name__"] = module
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own constant source


def sample() -> Sample:
    """The sample crash, raw beside its redacted report (built by the real scrubber)."""
    import crawl4ai

    from .report_builder import build_report

    site = os.path.dirname(os.path.dirname(os.path.abspath(crawl4ai.__file__)))
    strategy: dict[str, Any] = {}
    _run_fake_file(_SAMPLE_CRAWL4AI, os.path.join(site, _SAMPLE_CRAWL4AI_FILE),
                   "crawl4ai.browser_navigation", strategy)
    try:
        _run_fake_file(_SAMPLE_USER, _SAMPLE_USER_FILE, "__main__", {"crawl": strategy["crawl"]})
    except RuntimeError as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # start at the fake script: this module is not part of the story
        raw = "".join(traceback.format_exception(type(exc), exc, tb)).replace(site, _SAMPLE_SITE)
        report = build_report(exc, {"operation": "arun"}, environment="cli", traceback=tb)
    else:  # pragma: no cover - the fake source always raises
        raise AssertionError("the sample crash did not raise")
    event = dict(report.event, event_id=SAMPLE_EVENT_ID, timestamp=SAMPLE_TIMESTAMP)
    return Sample(printable(raw, multiline=True), event, dict(report.removed))


class Redaction(Record):
    """Pasted text as the scrubber leaves it, what it removed (counts per kind), and why each
    piece is there (``(text, kept, why)``: the template that kept it, or the rule that made it)."""

    __slots__ = ("text", "removed", "why")
    _defaults = {"why": ()}
    text: str
    removed: dict[str, int]
    why: tuple[tuple[str, bool, str], ...]


#: The code the playground aligns pasted text to: where most of Crawl4AI's messages are written.
PLAYGROUND_MODULES = ("crawl4ai.async_webcrawler", "crawl4ai.async_crawler_strategy", "crawl4ai.async_configs",
                      "crawl4ai.utils")


def redact(text: str) -> Redaction:
    """What a report would keep of ``text`` had Crawl4AI's code written it as an error message.

    The text is aligned to the templates of Crawl4AI's main modules (:data:`PLAYGROUND_MODULES`:
    the same alignment a report's messages get, with those modules as its code): text of one of
    their format strings stays, each hole becomes a placeholder. Text your own code writes keeps
    nothing at all in a real report."""
    import importlib
    from collections import Counter

    from .report_builder import local_names
    from .scrub import aligner_for_modules, explain, redact_text

    for name in PLAYGROUND_MODULES:
        importlib.import_module(name)
    removed: Counter[str] = Counter()
    spans: list[Any] = []
    out = redact_text(text, removed, local_names(), aligner_for_modules(PLAYGROUND_MODULES), spans)
    return Redaction(printable(out, multiline=True), dict(removed),
                     tuple((printable(t), kept, printable(why)) for t, kept, why in explain(spans)))


def why(ref: str) -> list[tuple[str, list[tuple[str, bool, str]]]]:
    """For each message of report ``ref``: ``(field, [(text, kept, why), …])``, read again
    through the scrubber: which template keeps each piece (``file:line``), or which rule made it."""
    from .scrub import explain, scrub_event

    detail = get(ref)
    event = parse_json(detail.payload)
    provenance: list[Any] = []
    scrub_event(event if isinstance(event, dict) else {}, provenance=provenance)
    return [(p.field, [(printable(t), kept, printable(w)) for t, kept, w in explain(p.spans)])
            for p in provenance]
