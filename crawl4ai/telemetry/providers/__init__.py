"""Provider registry: every provider, built-in or not, is an entry point; plus one runtime slot.

Built-ins are declared in this project's own ``pyproject.toml``, exactly as a third-party
package declares its own::

    [project.entry-points."crawl4ai.telemetry.providers"]
    myservice = "my_package.telemetry:MyProvider"

Users select one with ``CRAWL4AI_TELEMETRY_PROVIDER=myservice``; without a choice it is Sentry
when a DSN is configured and sentry-sdk is installed, else the local outbox. A program may also
hand an instance in at runtime with :func:`crawl4ai.telemetry.use_provider`, which wins over
both for this process. Nothing is imported until a provider is really needed.

The contract a provider implements is :mod:`crawl4ai.telemetry.providers.base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import settings
from .destinations import THIS_MACHINE, configured_dsn, sentry_available, sentry_destination_id

if TYPE_CHECKING:
    from .base import DeliveryResult, ScrubbedException, TelemetryProvider

__all__ = ["TelemetryProvider", "DeliveryResult", "ScrubbedException", "ENTRY_POINT_GROUP",
           "THIS_MACHINE", "configured_dsn", "sentry_available", "selected_name", "destination_id",
           "load_class", "create", "use", "runtime", "resolve"]

ENTRY_POINT_GROUP = "crawl4ai.telemetry.providers"
#: The provider that always works: reports stay in the outbox on this machine.
FALLBACK = "local"

_runtime: TelemetryProvider | None = None
_classes: dict[str, type[TelemetryProvider]] = {}
_CONTRACT = ("TelemetryProvider", "DeliveryResult", "ScrubbedException")


def __getattr__(name: str) -> Any:
    # The contract's names, loaded when first used: deciding where a report would go (on the
    # caller's thread, for a stored consent) needs only the functions below.
    if name in _CONTRACT:
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def selected_name() -> str:
    """The provider that will deliver: runtime instance, explicit choice, else Sentry when it
    can, else local."""
    if _runtime is not None:
        return _runtime.name
    name = settings.provider_name()
    if name:
        return name
    if configured_dsn() and sentry_available():
        return "sentry"
    return FALLBACK


def destination_id(provider: TelemetryProvider | None = None) -> str:
    """Who would receive a report now (what a "yes" is bound to): ``provider``'s own answer, or
    the runtime instance's, or that of the provider the settings select, known without making
    it (this runs on the caller's thread)."""
    provider = provider if provider is not None else _runtime
    if provider is not None:
        return provider.destination_id()
    name = selected_name()
    if name == FALLBACK:
        return THIS_MACHINE
    if name == "sentry":
        return sentry_destination_id(configured_dsn())
    return name  # another provider's default identity (TelemetryProvider.destination_id)


def install_process_integrations(capture: Any) -> bool:
    """In a process we own (``crwl``): sentry-sdk's process-wide handlers (uncaught errors in the
    main thread, threads and asyncio tasks), their errors routed to ``capture(exc, mechanism)``
    and never sent by sentry-sdk itself. False, changing nothing, when the host runs its own
    Sentry; ImportError without sentry-sdk."""
    from .sentry import install_global_integrations

    return install_global_integrations(capture)


def watch_running_loop() -> None:
    """After :func:`install_process_integrations`: also watch the asyncio loop running now."""
    from .sentry import enable_asyncio_in_running_loop

    enable_asyncio_in_running_loop()


def load_class(name: str) -> type[TelemetryProvider]:
    """The provider class registered under ``name`` in the entry-point group."""
    cls = _classes.get(name)
    if cls is None:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == name:
                cls = ep.load()
                break
        else:
            raise LookupError(f"no telemetry provider named {name!r}")
        from .base import TelemetryProvider

        if not (isinstance(cls, type) and issubclass(cls, TelemetryProvider)):
            raise TypeError(f"{name!r} is not a TelemetryProvider")
        _classes[name] = cls
    return cls


def create(name: str | None = None) -> TelemetryProvider:
    return load_class(name or selected_name())()


def resolve() -> tuple[TelemetryProvider, str | None]:
    """The provider reports go to now, and a sentence when the chosen one could not be made
    (then the local outbox keeps reports: nothing is lost, nothing leaves by surprise)."""
    if _runtime is not None:
        return _runtime, None
    name = selected_name()
    try:
        return create(name), None
    except Exception as e:
        from .local import LocalProvider

        return LocalProvider(), f"provider {name!r} could not be loaded ({e}); reports stay local"


def use(provider: TelemetryProvider | None) -> None:
    """Route this process's reports to ``provider`` (None: back to the configured one)."""
    global _runtime
    from .base import TelemetryProvider

    if provider is not None and not isinstance(provider, TelemetryProvider):
        raise TypeError("use_provider() takes a TelemetryProvider instance (or None)")
    _runtime = provider


def runtime() -> TelemetryProvider | None:
    """The instance handed in with ``use_provider``, if any."""
    return _runtime
