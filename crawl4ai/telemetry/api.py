"""What ``enable``/``disable``/``status`` do; the CLI verbs and the dashboard call these too.

Each returns the effective state as a :class:`Status` value; the public functions in
``crawl4ai.telemetry`` (and ``status --json``) hand out its documented dict form
(:meth:`Status.as_dict`). Kept out of ``__init__`` so importing the package stays free of I/O and
of these imports.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import consent as _consent
from . import environment as _environment
from . import outbox as _outbox
from . import settings
from ._record import Record
from ._version import __version__
from .pipeline import get_pipeline


class Status(Record):
    """The effective state: whether reports are made and sent, where to, why, and where each
    value came from. Its fields are the documented keys of ``telemetry.status()``.

    ``enabled``: reports are made; ``sends``: they also leave this machine on their own.
    ``sources``: where consent, email and destination came from ("file", "environment",
    "default", "this process", "runtime"). ``warning``: set when a choice could not be saved."""

    __slots__ = ("enabled", "consent", "email", "environment", "provider", "destination",
                 "keeps_locally", "sends", "local_only", "asks_again", "destination_id",
                 "agreed_destination", "reason", "source", "sources", "will_ask", "overrides",
                 "problems", "config_path", "config_problem", "sentry_sdk_installed", "outbox",
                 "pipeline", "repeated_kinds", "telemetry_version", "warning")
    _defaults = {"warning": None}
    enabled: bool
    consent: str
    email: str | None
    environment: str
    provider: str
    destination: str
    keeps_locally: bool
    sends: bool
    local_only: bool
    asks_again: bool
    destination_id: str
    agreed_destination: str | None
    reason: str
    source: str
    sources: dict[str, str]
    will_ask: bool
    overrides: list[str]
    problems: list[str]
    config_path: str
    config_problem: str | None
    sentry_sdk_installed: bool
    outbox: dict[str, Any]
    pipeline: dict[str, int]
    repeated_kinds: Any
    telemetry_version: str
    warning: str | None

    def as_dict(self) -> dict[str, Any]:
        """The public form: every field by name; ``warning`` only when there is one."""
        result = self._asdict()
        if not result["warning"]:
            del result["warning"]
        return result


def _persist(depth: int, **changes: Any) -> str | None:
    """Write the choice; on failure keep it for this process and say why (a warning)."""
    problem = _consent.save_choice(get_pipeline().store, **changes)
    if problem is None:
        return None
    message = f"{problem}; the choice holds for this process only"
    # The warning points at the caller's line: ``depth`` frames above the public wrapper.
    warnings.warn(f"crawl4ai.telemetry: {message}", RuntimeWarning, stacklevel=depth + 2)
    return message


def enable(email: str | None = None, always: bool = True, once: bool = False,
           local_only: bool = False) -> Status:
    """Consent to reports: every error, the next one only (``once``), or kept on this machine
    only (``local_only``)."""
    if once and local_only:
        raise ValueError("choose one: once or local_only")
    consent = (_consent.LOCAL_ONLY if local_only
               else _consent.ONCE if once or not always else _consent.ALWAYS)
    return choose(consent, email=email)


def disable() -> Status:
    return choose(_consent.DENIED)


#: What becomes of reports still waiting to be sent when a choice stops sending them.
_HOLD_PENDING = {
    _consent.DENIED: (_outbox.WITHHELD, "consent withdrawn before delivery"),
    _consent.LOCAL_ONLY: (_outbox.LOCAL, "kept on this machine: you chose local only"),
}


def choose(consent: str, email: str | None = None) -> Status:
    """Store the person's choice (one of :data:`consent.CHOICES`), optionally with an email:
    the one call under ``enable``/``disable``, the CLI verbs and the dashboard.

    ``denied`` withholds the reports still waiting to be sent; ``local_only`` keeps them on this
    machine (sendable one by one, never automatically). Raises ``ValueError`` for an unknown
    choice or an invalid email."""
    if consent not in _consent.CHOICES:
        raise ValueError(f"not a choice: {consent!r} (expected {', '.join(_consent.CHOICES)})")
    changes = _consent.binding(consent, get_pipeline().delivery.chosen_at_runtime())
    if email is not None:
        email = email.strip() if isinstance(email, str) else email
        if not (isinstance(email, str) and _consent.is_valid_email(email)):
            raise ValueError(f"not a valid email address: {email!r}")
        changes["email"] = email
    warning = _persist(3, **changes)  # choose <- enable <- wrapper
    if consent in _HOLD_PENDING:
        try:
            get_pipeline().outbox.withhold_pending(*_HOLD_PENDING[consent])
        except Exception:
            pass
    return status(warning=warning)


def clear_email() -> Status:
    return status(warning=_persist(2, email=None))


def use_provider(provider: Any) -> Status:
    """Route this process's reports to ``provider`` (None: back to the configured one)."""
    from . import providers

    providers.use(provider)
    return status()


def counters() -> dict[str, Any]:
    """Errors seen, reported, deduplicated and dropped per kind: this run, and all runs."""
    pipeline = get_pipeline()
    this_run = pipeline.counters.by_kind()
    return {"this_run": this_run, "all_runs": pipeline.counters.all_runs()}


def status(warning: str | None = None) -> Status:
    """The effective state: whether reports are made and sent, where to, why, and where each value
    came from (``sources``: "file", "environment", "default", "this process", "runtime")."""
    from .providers import sentry_available

    pipeline = get_pipeline()
    env = _environment.detect()
    runtime = pipeline.delivery.chosen_at_runtime()
    decision = _consent.decide(pipeline.store, env, provider=runtime)
    provider, provider_problem = pipeline.delivery.current_provider()
    stored = pipeline.store.load()
    problems = [*settings.problems(), *stored["problems"]]
    problems += [p for p in (provider_problem, provider.problem()) if p]
    if decision.source == "this process" and not warning:
        # Not saved earlier (e.g. a read-only home): say so on every status, not only once.
        warning = ("your choice is not saved (the settings file could not be written); it holds "
                   "for this process only")
    try:
        outbox = pipeline.outbox.summary()
    except Exception:
        outbox = {"directory": None, "counts": {}, "bytes": 0}
    if outbox.get("problem"):
        problems.append(outbox["problem"])
    local_only = decision.local_only
    result: dict[str, Any] = {
        "enabled": decision.send or local_only,
        "consent": decision.consent,
        "email": decision.email,
        "environment": env,
        "provider": provider.name,
        "destination": provider.destination(),
        "keeps_locally": bool(provider.keeps_locally),
        "sends": decision.send and not provider.keeps_locally,
        "local_only": local_only,
        "asks_again": (decision.keep_locally and not local_only
                       and decision.consent != _consent.UNREADABLE),
        "destination_id": decision.destination,
        "agreed_destination": stored["destination"],
        "reason": decision.reason,
        "source": decision.source,
        "sources": _sources(decision, stored, runtime),
        "will_ask": decision.ask,
        "overrides": _overrides(decision),
        "problems": problems,
        "config_path": pipeline.store.path,
        "config_problem": pipeline.store.problem,
        "sentry_sdk_installed": sentry_available(),
        "outbox": outbox,
        "pipeline": pipeline.stats,
        "repeated_kinds": pipeline.repeated_kinds,
        "telemetry_version": __version__,
    }
    return Status(**result, warning=warning)


def _sources(decision: _consent.Decision, stored: dict[str, Any],
             provider: Any) -> dict[str, str]:
    """Where each value shown by ``status`` really came from."""
    if settings.email():
        email = "environment"
    elif decision.email and decision.source == "this process":
        email = "this process"
    else:
        email = "file" if stored["email"] else "default"
    if provider is not None:  # handed in at runtime (use_provider, or the pipeline's own)
        destination = "runtime"
    elif settings.read("CRAWL4AI_TELEMETRY_PROVIDER").raw or settings.read(
            "CRAWL4AI_SENTRY_DSN").raw:
        destination = "environment"
    else:
        destination = "default"
    consent = decision.source
    if consent == "environment" and not decision.send:  # off by env: show the stored consent
        consent = "file" if stored["consent"] != _consent.NOT_SET else "default"
    return {"consent": consent, "email": email, "destination": destination}


def _overrides(decision: _consent.Decision) -> list[str]:
    overrides = []
    if decision.source == "environment":
        overrides.append(decision.reason)
    elif settings.forces_on():
        overrides.append("CRAWL4AI_TELEMETRY=1 is ignored: a choice is stored, and the variable "
                         "only turns telemetry on where none is")
    if settings.email():
        overrides.append("CRAWL4AI_TELEMETRY_EMAIL sets the email for this process")
    return overrides
