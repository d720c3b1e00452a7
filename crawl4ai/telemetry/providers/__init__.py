"""Provider registry: built-in providers plus any registered under an entry point.

A third-party package declares, in its own ``pyproject.toml``::

    [project.entry-points."crawl4ai.telemetry.providers"]
    myservice = "my_package.telemetry:MyProvider"

and users select it with ``CRAWL4AI_TELEMETRY_PROVIDER=myservice``. Nothing is imported until
a provider is really needed.
"""

from __future__ import annotations

from .. import settings
from ..base import TelemetryProvider

ENTRY_POINT_GROUP = "crawl4ai.telemetry.providers"

_BUILTIN = {
    "sentry": "crawl4ai.telemetry.providers.sentry:SentryProvider",
    "local": "crawl4ai.telemetry.providers.local:LocalProvider",
    "memory": "crawl4ai.telemetry.providers.memory:MemoryProvider",
}


def configured_dsn() -> str:
    return settings.dsn()


def sentry_available() -> bool:
    from importlib.util import find_spec

    try:
        return find_spec("sentry_sdk") is not None
    except (ImportError, ValueError):
        return False


def selected_name() -> str:
    """The provider that will deliver: explicit choice, else Sentry when it can, else local."""
    name = settings.provider_name()
    if name:
        return name
    if configured_dsn() and sentry_available():
        return "sentry"
    return "local"


def load_class(name: str) -> type[TelemetryProvider]:
    """The provider class registered as ``name`` (built-in or entry point)."""
    target = _BUILTIN.get(name)
    if target is None:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                cls = ep.load()
                break
        else:
            raise LookupError(f"no telemetry provider named {name!r}")
    else:
        import importlib

        module, _, attr = target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, TelemetryProvider)):
        raise TypeError(f"{name!r} is not a TelemetryProvider")
    return cls


def create(name: str | None = None) -> TelemetryProvider:
    """The provider to deliver with. One that cannot be found or built falls back to the local
    provider: reports are kept on this machine, never lost (``status`` names the problem)."""
    try:
        return load_class(name or selected_name())()
    except Exception:
        from .local import LocalProvider

        return LocalProvider()


def problem() -> str | None:
    """Why the selected provider cannot deliver, in words (reports are then kept locally)."""
    name = selected_name()
    try:
        load_class(name)
    except Exception as e:
        return f"CRAWL4AI_TELEMETRY_PROVIDER={name!r}: {e}"
    if name == "sentry" and not configured_dsn():
        return "the sentry provider has no DSN (set CRAWL4AI_SENTRY_DSN)"
    if name == "sentry" and not sentry_available():
        return "sentry-sdk is not installed (pip install 'crawl4ai-telemetry[sentry]')"
    if configured_dsn() and name != "sentry" and not sentry_available():
        return ("CRAWL4AI_SENTRY_DSN is set but sentry-sdk is not installed "
                "(pip install 'crawl4ai-telemetry[sentry]')")
    return None
