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
    """Write the choice; on failure keep it for this process and say why."""
    store = get_pipeline().store
    try:
        store.update(**changes)
    except _consent.ConfigError as e:
        stored = store.load()
        _consent.set_session_choice(
            changes.get("consent", stored["consent"]), changes.get("email", stored["email"])
        )
        message = f"{e}; the choice holds for this process only"
        warnings.warn(f"crawl4ai.telemetry: {message}", RuntimeWarning, stacklevel=3)
        return message
    _consent.set_session_choice(None)
    return None


def enable(email: str | None = None, always: bool = True, once: bool = False) -> dict[str, Any]:
    changes: dict[str, Any] = {"consent": _consent.ONCE if once or not always else _consent.ALWAYS}
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
    from .providers import configured_dsn, selected_name, sentry_available

    pipeline = get_pipeline()
    env = _environment.detect()
    decision = _consent.decide(pipeline.store, env)
    provider_name = selected_name()
    if provider_name == "sentry" or (configured_dsn() and sentry_available()):
        from .providers.sentry import dsn_host

        destination = f"Sentry at {dsn_host(configured_dsn())}" if configured_dsn() else "nowhere (no DSN)"
    elif configured_dsn() and not sentry_available():
        destination = "local outbox only (sentry-sdk is not installed: pip install crawl4ai-telemetry[sentry])"
    elif provider_name == "local":
        destination = "local outbox only (no DSN configured)"
    else:
        destination = f"provider {provider_name!r}"
    overrides = []
    killed = _consent.env_kill_switch()
    if killed:
        overrides.append(killed)
    elif _consent.env_forces_on():
        overrides.append("CRAWL4AI_TELEMETRY=1 turns telemetry on for this process")
    if _consent.env_email():
        overrides.append("CRAWL4AI_TELEMETRY_EMAIL sets the email for this process")
    try:
        outbox = pipeline.outbox.summary()
    except Exception:
        outbox = {"directory": None, "counts": {}, "bytes": 0}
    result: dict[str, Any] = {
        "enabled": decision.send,
        "consent": decision.consent,
        "email": decision.email,
        "environment": env,
        "provider": provider_name,
        "destination": destination,
        "reason": decision.reason,
        "source": decision.source,
        "will_ask": decision.ask,
        "overrides": overrides,
        "problems": settings.problems(),
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
