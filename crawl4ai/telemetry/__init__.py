"""Crawl4AI telemetry: privacy-first crash reports, sent only with consent.

This module is the whole public surface. Importing it does no I/O, installs no hook and imports
nothing heavy; the pipeline, sentry-sdk and the prompts load when first needed.

    from crawl4ai import telemetry
    telemetry.enable(email="you@example.com")   # or once=True, or telemetry.disable()
    telemetry.status()

What a report may hold, and what it never holds, is listed in ``docs/md_v2/core/telemetry.md``
and enforced by :mod:`crawl4ai.telemetry.scrub`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._version import __version__

if TYPE_CHECKING:
    from .base import TelemetryProvider
    from .report_builder import Report

__all__ = [
    "__version__",
    "enable",
    "disable",
    "clear_email",
    "status",
    "capture_exception",
    "flush",
    "telemetry_decorator",
    "async_telemetry_decorator",
    "telemetry_context",
    "async_telemetry_context",
    "build_report",
    "install",
    "use_provider",
    "counters",
]

F = TypeVar("F", bound=Callable[..., Any])


_pipeline_module: Any = None


def _capture(exc: BaseException, context: dict[str, Any] | None, mechanism: str) -> None:
    global _pipeline_module
    try:
        if _pipeline_module is None:
            from . import pipeline

            _pipeline_module = pipeline
        _pipeline_module.get_pipeline().capture(exc, context, mechanism=mechanism)
    except Exception:
        pass


def capture_exception(exc: BaseException, context: dict[str, Any] | None = None) -> None:
    """Report ``exc`` if consent allows. Never raises, never blocks.

    ``context`` may carry telemetry keys (``operation``, ``component``, …); anything else
    (``url``, ``headers``, ``html``, …) is dropped by the scrubber before a report is made.
    """
    _capture(exc, context, "manual")


def flush(timeout: float = 2.0) -> bool:
    """Wait at most ``timeout`` seconds for pending reports. True if none is left."""
    try:
        from .pipeline import current

        pipeline = current()
        return pipeline.flush(timeout) if pipeline is not None else True
    except Exception:
        return False


def telemetry_decorator(func: F | None = None, /, **context: Any) -> Any:
    """Report exceptions escaping ``func`` (always re-raised). ``@telemetry_decorator`` or
    ``@telemetry_decorator(operation="extract")``. Coroutine functions, generators, async
    generators, ``functools.partial`` objects, classmethods and staticmethods keep their shape
    (see :mod:`._wrapping`)."""

    def decorate(f: F) -> F:
        from ._wrapping import wrap

        return wrap(f, context, _capture)  # type: ignore[no-any-return]

    return decorate(func) if func is not None else decorate


def async_telemetry_decorator(func: F | None = None, /, **context: Any) -> Any:
    """The async form of :func:`telemetry_decorator` (the same decorator: the wrapper follows
    what ``func`` really is, so it also fits a sync function or an async generator)."""
    return telemetry_decorator(func, **context) if func is not None else telemetry_decorator(**context)


class telemetry_context:  # noqa: N801 - a context manager named like the seed's function
    """``with telemetry_context("extraction"):`` reports an exception leaving the block (and
    lets it propagate). A class, not a generator: entering and leaving must cost next to nothing."""

    __slots__ = ("operation", "context")

    def __init__(self, operation: str | None = None, **context: Any) -> None:
        self.operation = operation
        self.context = context

    def __enter__(self) -> telemetry_context:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc_type is not None and issubclass(exc_type, Exception):
            self._report(exc)
        return False

    def _report(self, exc: Any) -> None:
        context = dict(self.context)
        if self.operation is not None:
            context["operation"] = self.operation
        _capture(exc, context, "context")


class async_telemetry_context(telemetry_context):  # noqa: N801
    """``async with async_telemetry_context("crawl"):``, the async form."""

    __slots__ = ()

    async def __aenter__(self) -> async_telemetry_context:
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc_type is not None and issubclass(exc_type, Exception):
            self._report(exc)
        return False


def enable(email: str | None = None, always: bool = True, once: bool = False,
           local_only: bool = False) -> dict[str, Any]:
    """Consent to reports: every error (``always``), the next one only (``once=True``), or kept
    on this machine only (``local_only=True``: reports are made and kept in the local outbox,
    and none is sent unless you send it yourself, whatever destination is configured).

    Raises ``ValueError`` for an invalid email. If the settings file cannot be written the choice
    holds for this process and ``status()["warning"]`` says why.
    """
    from . import api

    return api.enable(email=email, always=always, once=once, local_only=local_only).as_dict()


def disable() -> dict[str, Any]:
    """Withdraw consent: nothing is sent, and reports still waiting are withheld."""
    from . import api

    return api.disable().as_dict()


def clear_email() -> dict[str, Any]:
    """Forget the stored email."""
    from . import api

    return api.clear_email().as_dict()


def status() -> dict[str, Any]:
    """The effective state and why: consent, email, environment, provider, outbox, overrides."""
    from . import api

    return api.status().as_dict()


def use_provider(provider: TelemetryProvider | None) -> dict[str, Any]:
    """Send this process's reports to ``provider``, an instance of a
    :class:`~crawl4ai.telemetry.base.TelemetryProvider` subclass (``None``: back to the
    configured one). Consent rules are unchanged: it receives scrubbed reports only when they
    may be sent. Returns :func:`status`, whose ``destination`` is now the provider's."""
    from . import api

    return api.use_provider(provider).as_dict()


def counters() -> dict[str, Any]:
    """What happened to the errors telemetry saw, per kind (exception type):
    ``{"this_run": {kind: counts}, "all_runs": {"runs", "since", "kinds": {kind: counts}}}``,
    where counts are ``seen``, ``reported`` (made a report), ``repeated`` (counted into the
    report of the same bug, ``contexts.telemetry.occurrences``), ``deduplicated``, ``queue_full``
    and ``lost_at_exit`` (those two are dropped) and ``not_consented``. Past runs are kept in the
    telemetry folder."""
    from . import api

    return api.counters()


def build_report(exc: BaseException, context: dict[str, Any] | None = None) -> Report:
    """The exact scrubbed report ``exc`` would produce, without sending anything. Raises
    ``TypeError`` for anything that is not an exception."""
    if not isinstance(exc, BaseException):
        raise TypeError(f"build_report() takes an exception, not {type(exc).__name__}")
    from .report_builder import build_report as _build

    return _build(exc, context)


def install() -> bool:
    """Activate the crawl4ai integration explicitly (for those who switched the hook off)."""
    try:
        from .integrations.crawl4ai import install as _install

        return bool(_install())
    except Exception:
        from ._debug import internal_error

        internal_error("install")
        return False
