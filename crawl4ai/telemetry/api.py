"""What ``enable``/``disable``/``status`` do; the CLI verbs and the dashboard call these too.

Kept out of ``__init__`` so importing the package stays free of I/O and of these imports.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import consent as _consent
from . import environment as _environment
from . import settings
from ._version import __version__
from .pipeline import get_pipeline


def _persist(**changes: Any) -> str | None:
    """Write the choice; on failure keep it for this process and say why (a warning)."""
    problem = _consent.save_choice(get_pipeline().store, **changes)
    if problem is None:
        return None
    message = f"{problem}; the choice holds for this process only"
    warnings.warn(f"crawl4ai.telemetry: {message}", RuntimeWarning, stacklevel=3)
    return message


def enable(email: str | None = None, always: bool = True, once: bool = False) -> dict[str, Any]:
    consent = _consent.ONCE if once or not always else _consent.ALWAYS
    changes = _consent.binding(consent, get_pipeline().provider_in_use)
    if email is not None:
        email = email.strip()
        if not _consent.is_valid_email(email):
            raise ValueError(f"not a valid email address: {email!r}")
        changes["email"] = email
    return status(warning=_persist(**changes))


def disable() -> dict[str, Any]:
    warning = _persist(consent=_consent.DENIED)
    try:
        get_pipeline().outbox.withhold_pending()
    except Exception:
        pass
    return status(warning=warning)


def clear_email() -> dict[str, Any]:
    return status(warning=_persist(email=None))


def status(warning: str | None = None) -> dict[str, Any]:
    """The effective state: whether reports are sent, where to, why, and where each value came
    from (``sources``: "file", "environment", "default", "this process", "runtime")."""
    from .providers import problem as provider_problem
    from .providers import selected_name, sentry_available

    pipeline = get_pipeline()
    env = _environment.detect()
    provider = pipeline.provider_in_use
    decision = _consent.decide(pipeline.store, env, provider=provider)
    stored = pipeline.store.load()
    destination_id = _consent.current_destination(provider)
    problems = [*settings.problems(), *stored["problems"]]
    # The environment's provider choice (what is in use, or its local fallback): can it deliver?
    created_from_env = provider is None or getattr(provider, "name", "") in ("sentry", "local")
    trouble = provider_problem() if created_from_env else None
    if trouble:
        problems.append(f"{trouble}: reports are kept on this machine")
    try:
        outbox = pipeline.outbox.summary()
    except Exception:
        outbox = {"directory": None, "counts": {}, "bytes": 0}
    result: dict[str, Any] = {
        # "enabled": reports are made; "sends": they also leave this machine.
        "enabled": decision.send,
        "sends": decision.send and not trouble and destination_id != _consent.LOCAL_ONLY,
        "keeps_locally": decision.keep_locally or (decision.send and (
            bool(trouble) or destination_id == _consent.LOCAL_ONLY)),
        "consent": decision.consent,
        "email": decision.email,
        "environment": env,
        "provider": getattr(provider, "name", None) or selected_name(),
        "destination": _consent.describe_destination(
            _consent.LOCAL_ONLY if trouble else destination_id),
        "destination_id": destination_id,
        "agreed_destination": stored["destination"],
        "reason": decision.reason,
        "source": decision.source,
        "sources": _sources(decision, stored, provider),
        "will_ask": decision.ask,
        "overrides": _overrides(decision),
        "problems": problems,
        "config_path": pipeline.store.path,
        "config_problem": pipeline.store.problem,
        "sentry_sdk_installed": sentry_available(),
        "outbox": outbox,
        "pipeline": dict(pipeline.stats),
        "rate_limited_kinds": dict(pipeline.rate_limited_kinds),
        "telemetry_version": __version__,
    }
    if warning:
        result["warning"] = warning
    return result


def _sources(decision: _consent.Decision, stored: dict[str, Any], provider: Any) -> dict[str, str]:
    """Where each value shown by ``status`` really came from."""
    if settings.email():
        email = "environment"
    elif decision.email and decision.source == "this process":
        email = "this process"
    else:
        email = "file" if stored["email"] else "default"
    if provider is not None and getattr(provider, "name", "") not in ("sentry", "local"):
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
