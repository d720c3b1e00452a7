"""Crawl4AI integration: see crawl4ai's own bugs wherever a crawl runs, and nothing else.

crawl4ai turns almost every failure into ``CrawlResult(success=False)``, so a wrapper around
``arun`` alone sees almost none of them. The capture points are the places where a failure is
still an exception:

================  ==========================================================================
mechanism         where
================  ==========================================================================
``crawl``         each crawl4ai crawler strategy's ``crawl()`` (patched on the class)
``aprocess_html`` ``AsyncWebCrawler.aprocess_html`` (patched on the class)
``arun``          the catch-all inside ``arun`` (its ``get_error_context`` call), and what
                  propagates out of a crawler's ``arun``
``deep_crawl``    what propagates out of a crawl4ai deep-crawl strategy's ``arun``, or out of
                  its result stream (``stream=True``)
``arun_many``     what propagates out of ``arun_many`` or its result stream (its dispatcher
                  calls ``arun``)
``scrap``         errors the scraping strategy logs and swallows (``_log("error", …)`` while
                  handling an exception): the page still comes back with ``success=True``
``excepthook``,   uncaught errors in the ``crwl`` process only (:func:`install_process_handlers`)
``threading``,
``asyncio``
================  ==========================================================================

One failure usually passes several of these; the pipeline reports it once (it marks the
exception it was given), and we always hand it the *original* exception, unwrapped from
crawl4ai's wrappers (``HTTPCrawlerError("HTTP request failed")``, the ``ValueError`` of the
scraping step, …).

:func:`classify` decides what a failure is: a bug in crawl4ai's code (reported); a failure of
the site, the network or the browser (refused, DNS, timeouts, HTTP errors, navigation errors);
the environment (disk full, permissions, memory); an exception raised in the user's own code
(a custom strategy, a hook); an error crawl4ai raises on purpose for bad input (an explicit
``raise ValueError(...)`` in crawl4ai); or something outside crawl4ai altogether. Only the first
is reported.

Transparency: every wrapper returns what the wrapped call returns and re-raises the very
exception it caught, with its own frame taken out of the traceback, so results, exceptions and
printed tracebacks are what they would be without the add-on. Crawlers created before
activation are reached by the class-level wrappers; their ``arun`` is wrapped the first time one
of those sees them.
"""

from __future__ import annotations

import errno
import functools
import inspect
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

from .. import chain
from .._debug import internal_error
from ..consent import env_kill_switch

# What a failure is (see classify()).
BUG = "crawl4ai_bug"
SITE_FAILURE = "site_failure"
ENVIRONMENT = "environment"
USER_CODE = "user_code"
USAGE_ERROR = "usage_error"
ELSEWHERE = "elsewhere"
VERDICTS = (BUG, SITE_FAILURE, ENVIRONMENT, USER_CODE, USAGE_ERROR, ELSEWHERE)

#: How many distinct failures this process saw, per verdict (seen, not sent).
verdicts: Counter[str] = Counter()

TELEMETRY_COMMAND = "telemetry"
_MARK = "__crawl4ai_telemetry_wrapped__"
_VERDICT_ATTR = "__crawl4ai_telemetry_verdict__"

# Exception classes, by (module, qualified name) so nothing is imported to check them, that mean
# the site, the network or the browser failed rather than crawl4ai.
_SITE_FAILURE_CLASSES = frozenset(
    {
        ("socket", "gaierror"),
        ("socket", "herror"),
        ("ssl", "SSLError"),
        ("ssl", "CertificateError"),
        ("asyncio.exceptions", "TimeoutError"),
        ("concurrent.futures._base", "TimeoutError"),
        ("http.client", "HTTPException"),
        ("urllib.error", "URLError"),
        ("aiohttp.client_exceptions", "ClientError"),
        ("httpx", "HTTPError"),
        ("httpx", "StreamError"),
        ("requests.exceptions", "RequestException"),
        ("urllib3.exceptions", "HTTPError"),
        ("playwright._impl._errors", "Error"),
        ("patchright._impl._errors", "Error"),
        ("crawl4ai.async_crawler_strategy", "HTTPStatusError"),
        ("crawl4ai.async_crawler_strategy", "ConnectionTimeoutError"),
    }
)
_NETWORK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ETIMEDOUT", "EHOSTUNREACH",
                 "ENETUNREACH", "ENETDOWN", "EHOSTDOWN", "ENETRESET", "EPIPE")
    if hasattr(errno, name)
)
_ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EMFILE", "ENFILE", "ENOMEM")
    if hasattr(errno, name)
)
# Errors about input the user wrote (a CSS selector, an XPath, a YAML config), not crawl4ai bugs.
_INPUT_ERROR_CLASSES = frozenset(
    {
        ("cssselect.parser", "SelectorError"),
        ("cssselect.xpath", "ExpressionError"),
        ("lxml.etree", "XPathError"),
        ("yaml.error", "YAMLError"),
    }
)
# Types crawl4ai raises on purpose (explicitly, in its own code) to say the input is wrong.
_USAGE_TYPES = (ValueError, TypeError, LookupError, NotImplementedError, ImportError, OSError)

# ---------------------------------------------------------------------------------------------
# Classification


def _frame_origin(frame: Any) -> str:
    """crawl4ai, telemetry, library, stdlib or user: :mod:`..ownership` decides."""
    from ..ownership import owner_of_frame

    return owner_of_frame(frame).origin


def _innermost(tb: TracebackType) -> TracebackType:
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _raise_opcode() -> int:
    import opcode

    return opcode.opmap["RAISE_VARARGS"]


def raised_on_purpose_by_crawl4ai(exc: BaseException) -> bool:
    """True if a ``raise X(...)`` statement in crawl4ai's own code raised ``exc``.

    An explicit raise is crawl4ai saying something on purpose (wrapping another error, or
    rejecting bad input); a bug surfaces from an operation instead (``None.attr``, ``d[key]``,
    a call that fails). The innermost traceback entry tells which instruction raised.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    tb = _innermost(tb)
    if _frame_origin(tb.tb_frame) != "crawl4ai":
        return False
    code = tb.tb_frame.f_code.co_code
    i = tb.tb_lasti
    return 0 <= i < len(code) - 1 and code[i] == _raise_opcode() and code[i + 1] > 0


def unwrap(exc: BaseException) -> list[BaseException]:
    """``[exc, …, original]``: follows explicit causes, and the context of an exception crawl4ai
    raised on purpose while handling another one (that is how it wraps errors)."""
    # A context counts also when crawl4ai suppressed it (``from None``).
    return chain.line(exc, context=raised_on_purpose_by_crawl4ai)


def _is_one_of(exc: BaseException, classes: frozenset[tuple[str, str]]) -> bool:
    return any((getattr(cls, "__module__", None), getattr(cls, "__qualname__", None)) in classes
               for cls in type(exc).__mro__)


def is_site_failure(exc: BaseException) -> bool:
    """The site, the network or the browser failed: refused, DNS, timeouts, HTTP errors,
    TLS, navigation errors."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return True
    return _is_one_of(exc, _SITE_FAILURE_CLASSES)


def _is_environment(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS
    )


def _origin(exc: BaseException) -> str | None:
    """Who raised ``exc``: the innermost frame of crawl4ai's or the user's code on its traceback.
    Frames of the standard library and of installed packages belong to whoever called them."""
    origin = None
    tb = exc.__traceback__
    hops = 0
    while tb is not None and hops < 500:
        kind = _frame_origin(tb.tb_frame)
        if kind in ("crawl4ai", "user"):
            origin = kind
        tb = tb.tb_next
        hops += 1
    return origin


def _defined_in_crawl4ai(cls: type) -> bool:
    from ..ownership import owner_of_class

    return owner_of_class(cls).crawl4ai


def classify(exc: BaseException) -> tuple[str, BaseException]:
    """(verdict, original exception). Only :data:`BUG` is reported."""
    chain = unwrap(exc)
    original = chain[-1]
    if any(is_site_failure(e) for e in chain):
        return SITE_FAILURE, original
    if _is_environment(original):
        return ENVIRONMENT, original
    if _is_one_of(original, _INPUT_ERROR_CLASSES):
        return USAGE_ERROR, original
    origin = _origin(original)
    if origin == "user":
        return USER_CODE, original
    if origin != "crawl4ai":
        return ELSEWHERE, original
    if raised_on_purpose_by_crawl4ai(original) and (
        isinstance(original, _USAGE_TYPES) or _defined_in_crawl4ai(type(original))
    ):
        return USAGE_ERROR, original
    return BUG, original


def _verdict_of(exc: BaseException) -> tuple[str, BaseException]:
    """:func:`classify`, remembered on the exception: one failure passes several capture points."""
    cached = getattr(exc, _VERDICT_ATTR, None)
    if cached is not None:
        return cached
    result = classify(exc)
    verdicts[result[0]] += 1
    for target in (exc, result[1]):
        try:
            setattr(target, _VERDICT_ATTR, result)
        except Exception:
            pass
    return result


def seen(exc: BaseException, mechanism: str, *, handled: bool, component: str | None = None) -> None:
    """A capture point saw ``exc``: report it if it is a crawl4ai bug. Never raises."""
    if not isinstance(exc, Exception) or not _active_or_owned() or env_kill_switch():
        return
    try:
        verdict, original = _verdict_of(exc)
        if verdict != BUG:
            return
        from ..pipeline import get_pipeline

        context: dict[str, Any] = {"operation": mechanism}
        if component:
            context["component"] = component
        get_pipeline().capture(original, context, mechanism=mechanism, handled=handled)
    except Exception:
        internal_error(f"crawl4ai integration ({mechanism})")


# ---------------------------------------------------------------------------------------------
# Wrappers


def _hide_frame(exc: BaseException, code: CodeType) -> None:
    """Take the wrapper's own entry out of the traceback before re-raising."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is code:
        try:
            exc.__traceback__ = tb.tb_next
        except Exception:
            pass


def _crawl4ai_class_name(obj: Any) -> str | None:
    """The first crawl4ai class of ``obj`` (never a name from the user's code)."""
    for cls in type(obj).__mro__:
        if _defined_in_crawl4ai(cls):
            return cls.__name__
    return None


def _wrap_async(func: Callable[..., Any], mechanism: str, *, handled: bool,
                component: str | None = None, adopt: bool = False) -> Callable[..., Any]:
    """An async wrapper that reports what escapes ``func``; ``component`` None: from ``self``."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if adopt:
            _adopt(args[0] if args else None)
            _adopt(kwargs.get("crawler"))
        if _asyncio_per_loop:
            _enable_asyncio_for_loop()
        name = component if component is not None else (
            _crawl4ai_class_name(args[0]) if args else None)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            seen(exc, mechanism, handled=handled, component=name)
            _hide_frame(exc, wrapper.__code__)
            raise
        if inspect.isasyncgen(result):  # stream=True: the failures come while iterating
            return _watch_stream(result, mechanism, handled, name)
        return result

    setattr(wrapper, _MARK, func)
    return wrapper


async def _watch_stream(stream: Any, mechanism: str, handled: bool, component: str | None) -> Any:
    """The results of a streaming crawl (``arun_many``/deep crawl with ``stream=True``), item
    for item; what the stream raises is seen like what the call itself raises."""
    try:
        async for item in stream:
            yield item
    except Exception as exc:
        seen(exc, mechanism, handled=handled, component=component)
        _hide_frame(exc, _watch_stream.__code__)
        raise
    finally:
        await stream.aclose()


def _wrap_init(init: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except BaseException as exc:
            _hide_frame(exc, __init__.__code__)
            raise
        _adopt(self)

    setattr(__init__, _MARK, init)
    return __init__


def _wrap_error_context(original: Callable[..., Any]) -> Callable[..., Any]:
    """``arun``'s catch-all calls ``get_error_context(sys.exc_info())`` on every failure it turns
    into ``success=False``: the one place that sees all of them, for every crawler."""

    @functools.wraps(original)
    def get_error_context(exc_info: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            exc = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) > 1 else None
        except Exception:
            exc = None
        if isinstance(exc, BaseException):
            seen(exc, "arun", handled=True, component="AsyncWebCrawler")
        try:
            return original(exc_info, *args, **kwargs)
        except BaseException as error:
            _hide_frame(error, get_error_context.__code__)
            raise

    setattr(get_error_context, _MARK, original)
    return get_error_context


def _wrap_scrape_log(log: Callable[..., Any]) -> Callable[..., Any]:
    """The scraping strategy logs an error and carries on when one of its steps fails (a link,
    an image, the metadata…): the error is still being handled when ``_log`` runs."""

    @functools.wraps(log)
    def _log(self: Any, level: Any, *args: Any, **kwargs: Any) -> Any:
        if level == "error":
            exc = sys.exc_info()[1]
            if exc is not None:
                seen(exc, "scrap", handled=True, component=_crawl4ai_class_name(self))
        return log(self, level, *args, **kwargs)

    setattr(_log, _MARK, log)
    return _log


def _wrap_main(main: Callable[..., Any]) -> Callable[..., Any]:
    """``crwl``'s entry point: the process is ours, so uncaught errors are watched too."""

    @functools.wraps(main)
    def crwl_main(*args: Any, **kwargs: Any) -> Any:
        if sys.argv[1:2] != [TELEMETRY_COMMAND]:
            install_process_handlers()
        try:
            return main(*args, **kwargs)
        except BaseException as exc:
            _hide_frame(exc, crwl_main.__code__)
            raise

    setattr(crwl_main, _MARK, main)
    return crwl_main


# ---------------------------------------------------------------------------------------------
# Installing

_lock = threading.RLock()
_patches: list[tuple[Any, str, Any]] = []
_active = False
_process_owned = False
_asyncio_per_loop = False
_patched_loops: weakref.WeakSet[Any] = weakref.WeakSet()


def _active_or_owned() -> bool:
    return _active or _process_owned


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> bool:
    original = owner.__dict__.get(name) if hasattr(owner, "__dict__") else None
    if original is None or hasattr(original, _MARK):
        return False
    setattr(owner, name, make(original))
    _patches.append((owner, name, original))
    return True


def _wrap_strategy_class(cls: type) -> None:
    """Wrap ``crawl()`` of crawl4ai's crawler strategy classes (never a user's class)."""
    for klass in cls.__mro__:
        if not _defined_in_crawl4ai(klass):
            continue
        crawl = klass.__dict__.get("crawl")
        if (crawl is None or hasattr(crawl, _MARK) or not inspect.iscoroutinefunction(crawl)
                or getattr(crawl, "__isabstractmethod__", False)):
            continue
        with _lock:
            _patch(klass, "crawl", lambda f: _wrap_async(f, "crawl", handled=True))


def _adopt(crawler: Any) -> None:
    """Wrap this crawler's ``arun`` (crawl4ai rebinds it per instance in ``__init__``) and its
    strategy's ``crawl``, once. Crawlers created before activation are adopted lazily."""
    if not _active or crawler is None:
        return
    try:
        attrs = getattr(crawler, "__dict__", None)
        if not isinstance(attrs, dict):
            return
        arun = attrs.get("arun")
        if arun is not None and not hasattr(arun, _MARK) and inspect.iscoroutinefunction(arun):
            crawler.arun = _wrap_async(arun, "arun", handled=False,
                                       component=_crawl4ai_class_name(crawler) or "AsyncWebCrawler")
        strategy = attrs.get("crawler_strategy")
        if strategy is not None:
            _wrap_strategy_class(type(strategy))
    except Exception:
        internal_error("adopting a crawler")


def install(*, import_crawl4ai: bool = True) -> bool:
    """Put the capture points in place (idempotent). False, patching nothing, while telemetry is
    off by env (``CRAWL4AI_TELEMETRY=0``, ``DO_NOT_TRACK=1``) or if crawl4ai is not there."""
    global _active
    if env_kill_switch():
        return False
    with _lock:
        if _active:
            return True
        module = sys.modules.get("crawl4ai.async_webcrawler")
        if module is None:
            if not import_crawl4ai:
                return False
            import importlib

            module = importlib.import_module("crawl4ai.async_webcrawler")
        crawler_cls = module.AsyncWebCrawler
        _patch(crawler_cls, "__init__", _wrap_init)
        _patch(crawler_cls, "aprocess_html",
               lambda f: _wrap_async(f, "aprocess_html", handled=True, adopt=True))
        _patch(crawler_cls, "arun_many",
               lambda f: _wrap_async(f, "arun_many", handled=False, adopt=True))
        _patch(module, "get_error_context", _wrap_error_context)
        _active = True
        deep = sys.modules.get("crawl4ai.deep_crawling")
        deep_base = getattr(deep, "DeepCrawlStrategy", None)
        for obj in list(vars(deep).values()) if isinstance(deep_base, type) else ():
            if isinstance(obj, type) and issubclass(obj, deep_base) and _defined_in_crawl4ai(obj):
                _patch(obj, "arun", lambda f: _wrap_async(f, "deep_crawl", handled=False, adopt=True))
        scraping = sys.modules.get("crawl4ai.content_scraping_strategy")
        for obj in list(vars(scraping).values()) if scraping is not None else ():
            if isinstance(obj, type) and _defined_in_crawl4ai(obj) and "_log" in obj.__dict__:
                _patch(obj, "_log", _wrap_scrape_log)
        strategies = sys.modules.get("crawl4ai.async_crawler_strategy")
        base = getattr(strategies, "AsyncCrawlerStrategy", None)
        if isinstance(base, type):
            for obj in list(vars(strategies).values()):
                if isinstance(obj, type) and issubclass(obj, base):
                    _wrap_strategy_class(obj)
    return True


def uninstall() -> None:
    """Undo :func:`install` (crawlers already adopted keep an inert wrapper)."""
    global _active
    with _lock:
        while _patches:
            owner, name, original = _patches.pop()
            setattr(owner, name, original)
        _active = False


def is_installed() -> bool:
    return _active


def on_import(name: str) -> None:
    """Called by the post-import hook right after a watched crawl4ai module has run."""
    if name == "crawl4ai":
        if "crawl4ai.async_webcrawler" in sys.modules:
            install(import_crawl4ai=False)
    elif name == "crawl4ai.async_webcrawler":
        # Inside crawl4ai's own __init__: the "crawl4ai" step installs once the package is whole.
        spec = getattr(sys.modules.get("crawl4ai"), "__spec__", None)
        if not getattr(spec, "_initializing", False):
            install(import_crawl4ai=False)
    elif name == "crawl4ai.cli":
        install(import_crawl4ai=False)
        mount_cli(sys.modules.get(name))


# ---------------------------------------------------------------------------------------------
# crwl


def _telemetry_command() -> Any:
    """A thin click command on crwl's own click group that hands its arguments to the Typer app
    (Typer ≥ 0.26 vendors its own click, so the app itself cannot be mounted)."""
    import click

    @click.command(
        TELEMETRY_COMMAND,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                          "allow_interspersed_args": False, "help_option_names": []},
        add_help_option=False,
        short_help="Crash reports: see what is sent and decide (status, enable, disable).",
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def telemetry(ctx: Any, args: tuple[str, ...]) -> None:
        """Crash reports for Crawl4AI: status, enable [--email E] [--once], disable."""
        from ..cli import run

        ctx.exit(run(list(args), prog_name="crwl telemetry"))

    return telemetry


#: Shown at the end of ``crwl --help`` (which is the ``crawl`` command's help) and ``crwl``'s own.
CRWL_HELP_NOTE = ("Crash reports: `crwl telemetry status` shows whether Crawl4AI errors are "
                  "reported and where; `crwl telemetry --help` lists the verbs.")


def _mention_in_help(group: Any) -> None:
    """Make ``crwl telemetry`` discoverable from ``crwl --help`` (crwl routes a bare ``--help``
    to its ``crawl`` command, so the note goes there as well as on the group)."""
    for command in (group, group.commands.get("crawl")):
        if command is not None and CRWL_HELP_NOTE not in (command.epilog or ""):
            command.epilog = f"{command.epilog}\n\n{CRWL_HELP_NOTE}" if command.epilog \
                else CRWL_HELP_NOTE


def mount_cli(cli_module: Any = None) -> bool:
    """Add ``telemetry`` to crwl's click group (crwl's ``main()`` treats an unknown first word as
    a URL, so the verb must be a real command) and wrap ``main`` for the process handlers.

    The command is mounted even while telemetry is off by env: it changes no crawl and it is how
    a person sees that telemetry is off."""
    module = cli_module if cli_module is not None else sys.modules.get("crawl4ai.cli")
    group = getattr(module, "cli", None)
    if not isinstance(getattr(group, "commands", None), dict) or not hasattr(group, "add_command"):
        return False
    try:
        if TELEMETRY_COMMAND not in group.commands:
            group.add_command(_telemetry_command())
            _mention_in_help(group)
        if not env_kill_switch():
            with _lock:
                _patch(module, "main", _wrap_main)
        return True
    except Exception:
        internal_error("mounting crwl telemetry")
        return False


# ---------------------------------------------------------------------------------------------
# Uncaught errors, in processes we own (crwl)


def _capture_uncaught(exc: BaseException, mechanism: str) -> None:
    if mechanism not in ("excepthook", "threading", "asyncio"):
        mechanism = "excepthook"
    seen(exc, mechanism, handled=False)


def _install_plain_hooks() -> bool:
    """Without sentry-sdk: chain ``sys.excepthook`` and ``threading.excepthook``."""
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
        _capture_uncaught(exc, "excepthook")
        previous_hook(exc_type, exc, tb)

    def thread_excepthook(args: Any) -> None:
        _capture_uncaught(args.exc_value, "threading")
        previous_thread_hook(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return True


def install_process_handlers() -> bool:
    """Watch uncaught errors of this whole process (threads and asyncio tasks included).

    For processes we own only (``crwl``). Nothing is installed while telemetry is off by env,
    when the stored choice says no or nobody could be asked (no import of sentry-sdk for
    nothing), or when the host already runs its own Sentry client."""
    global _process_owned, _asyncio_per_loop
    if env_kill_switch():
        return False
    with _lock:
        if _process_owned:
            return True
        try:
            from ..consent import decide
            from ..pipeline import get_pipeline

            decision = decide(get_pipeline().store)
            if not (decision.send or decision.ask):
                return False
            try:
                from ..providers.sentry import install_global_integrations
            except ImportError:
                _process_owned = _install_plain_hooks()
                return _process_owned
            _process_owned = bool(install_global_integrations(_capture_uncaught))
            _asyncio_per_loop = _process_owned
        except Exception:
            internal_error("process handlers")
        return _process_owned


def _enable_asyncio_for_loop() -> None:
    """Sentry's AsyncioIntegration patches only a loop running when it is set up; crwl starts a
    loop per command (``asyncio.run``), so the first crawl step inside each loop enables it."""
    try:
        import asyncio

        loop = asyncio.get_running_loop()
        if loop in _patched_loops:
            return
        _patched_loops.add(loop)
        from ..providers.sentry import enable_asyncio_in_running_loop

        enable_asyncio_in_running_loop()
    except Exception:
        internal_error("asyncio integration")
