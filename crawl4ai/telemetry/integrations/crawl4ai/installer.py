"""Putting the capture table in place, and taking it out again.

:func:`install` iterates :data:`.points.CAPTURE_POINTS` (and :data:`.points.EXTENSION_POINTS`);
it holds no list of its own. Every patch is recorded so :func:`uninstall` restores the exact
original. Crawlers created before activation are reached by the class-level wrappers and
adopted the first time one of those sees them (``arun`` is bound per instance by crawl4ai).
"""

from __future__ import annotations

import inspect
import sys
import typing
from typing import Any

from ..._debug import internal_error
from ...settings import kill_switch
from . import state
from .points import CAPTURE_POINTS, EXTENSION_POINTS, CapturePoint, ExtensionPoint
from .wrappers import is_wrapped, wrap, wrap_user_override


def in_crawl4ai_package(cls: type) -> bool:
    """A class of the crawl4ai package that is loaded (this add-on's excluded), by its module's
    name: which classes to wrap is a question about the package in this process, asked while
    ``import crawl4ai`` runs. Asking :mod:`...ownership` here would build its distribution index
    during the user's import; reports and classification still ask it."""
    module = getattr(cls, "__module__", None)
    return (isinstance(module, str) and module.startswith("crawl4ai.")
            and not module.startswith("crawl4ai.telemetry"))


_patches: list[tuple[Any, str, Any, bool]] = []  # (owner, name, original, had_own_attribute)
_MAX_SUBCLASSES = 500


def _patch(owner: Any, name: str, replacement: Any, original: Any, *, own: bool = True) -> None:
    setattr(owner, name, replacement)
    _patches.append((owner, name, original, own))


def patch_point(owner: Any, point: CapturePoint) -> bool:
    original = owner.__dict__.get(point.method) if hasattr(owner, "__dict__") else None
    if original is None or is_wrapped(original) or getattr(original, "__isabstractmethod__", False):
        return False
    if not (callable(original) or isinstance(original, property)):
        return False
    _patch(owner, point.method, wrap(original, point), original)
    return True


def _subclasses(cls: type) -> list[type]:
    out, todo, found = [], [cls], {cls}
    while todo and len(out) < _MAX_SUBCLASSES:
        current = todo.pop()
        out.append(current)
        try:
            children = current.__subclasses__()
        except TypeError:
            children = []
        for child in children:
            if child not in found:
                found.add(child)
                todo.append(child)
    return out


def _owner_of(point: CapturePoint) -> Any:
    module = sys.modules.get(point.module)
    if module is None or point.owner is None:
        return module
    return getattr(module, point.owner, None)


def _install_point(point: CapturePoint) -> None:
    if point.per_instance or point.kind == "crwl_main":
        return
    owner = _owner_of(point)
    if owner is None:
        return
    if point.subclasses and isinstance(owner, type):
        for cls in _subclasses(owner):
            if in_crawl4ai_package(cls):
                patch_point(cls, point)
    else:
        patch_point(owner, point)


def wrap_class(cls: type) -> None:
    """Apply the ``subclasses`` rows to crawl4ai classes of ``cls``'s MRO (a strategy class from
    a crawl4ai module imported after activation)."""
    with state.lock:
        for point in CAPTURE_POINTS:
            if not point.subclasses:
                continue
            base = _owner_of(point)
            if not isinstance(base, type):
                continue
            for klass in cls.__mro__:
                if in_crawl4ai_package(klass) and issubclass(klass, base):
                    patch_point(klass, point)


def adopt(crawler: Any) -> None:
    """Wrap this crawler's per-instance methods (``arun``) and its strategy's class, once."""
    try:
        attrs = getattr(crawler, "__dict__", None)
        if not isinstance(attrs, dict):
            return
        for point in CAPTURE_POINTS:
            if not point.per_instance:
                continue
            bound = attrs.get(point.method)
            if bound is not None and not is_wrapped(bound) and inspect.iscoroutinefunction(bound):
                setattr(crawler, point.method, wrap(bound, point))
        strategy = attrs.get("crawler_strategy")
        if strategy is not None:
            wrap_class(type(strategy))
    except Exception:
        internal_error("adopting a crawler")


# -- users' overrides of extension points --------------------------------------------------------


def _expected_return(base: type, method: str) -> Any:
    try:
        return typing.get_type_hints(getattr(base, method)).get("return", typing.Any)
    except Exception:
        return typing.Any


def _wrap_override(cls: type, point: ExtensionPoint, base: type) -> None:
    func = cls.__dict__.get(point.method)
    if func is None or not callable(func) or is_wrapped(func):
        return
    _patch(cls, point.method, wrap_user_override(func, _expected_return(base, point.method)), func)


def _hook_subclass_creation(base: type, point: ExtensionPoint) -> None:
    """Users' subclasses defined later get their override wrapped when the class is created."""
    previous = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        if previous is not None:
            previous.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        if state.installed and not in_crawl4ai_package(cls):
            try:
                with state.lock:
                    for p in EXTENSION_POINTS:
                        owner = _owner_of(p)
                        if isinstance(owner, type) and issubclass(cls, owner):
                            _wrap_override(cls, p, owner)
            except Exception:
                internal_error("wrapping a user's strategy")

    if previous is not None and getattr(previous.__func__, "__crawl4ai_telemetry_hook__", False):
        return
    __init_subclass__.__crawl4ai_telemetry_hook__ = True  # type: ignore[attr-defined]
    _patch(base, "__init_subclass__", classmethod(__init_subclass__), previous,
           own=previous is not None)


def _install_extension_point(point: ExtensionPoint) -> None:
    base = _owner_of(point)
    if not isinstance(base, type):
        return
    for cls in _subclasses(base):
        if not in_crawl4ai_package(cls):
            _wrap_override(cls, point, base)
    _hook_subclass_creation(base, point)


# -- install / uninstall -------------------------------------------------------------------------


def install(*, import_crawl4ai: bool = True) -> bool:
    """Put the capture points in place (idempotent). False, patching nothing, while telemetry is
    off by env (``CRAWL4AI_TELEMETRY=0``, ``DO_NOT_TRACK=1``) or if crawl4ai is not there."""
    if kill_switch():
        return False
    with state.lock:
        if state.installed:
            return True
        if "crawl4ai.async_webcrawler" not in sys.modules:
            if not import_crawl4ai:
                return False
            import importlib

            importlib.import_module("crawl4ai.async_webcrawler")
        state.set_adopter(adopt)
        for point in CAPTURE_POINTS:
            try:
                _install_point(point)
            except Exception:
                internal_error(f"capture point {point.module}:{point.target}")
        for extension in EXTENSION_POINTS:
            try:
                _install_extension_point(extension)
            except Exception:
                internal_error(f"extension point {extension.module}:{extension.owner}")
        state.installed = True
    _load_capture_path()
    return True


def _load_capture_path() -> None:
    """Every capture reports through the pipeline: load its caller's side now, while crawl4ai
    itself is imported (a second or more), so the process's first error does not pay for those
    imports on its own thread. Only modules load: no thread, no file, no I/O. What only a crawl's
    errors need (the classifier, code ownership) waits for a crawler (wrappers._crawler_made).
    tests/pipeline/test_import_hygiene.py lists what may load here."""
    try:
        import codecs

        from ... import _files, _jsonc, pipeline, providers  # noqa: F401 - the settings file and the destination
        codecs.lookup("utf-8-sig")  # what the settings file is decoded with
    except Exception:
        internal_error("loading the capture path")


def uninstall() -> None:
    """Undo :func:`install` (crawlers already adopted keep an inert wrapper)."""
    with state.lock:
        while _patches:
            owner, name, original, own = _patches.pop()
            if own:
                setattr(owner, name, original)
            else:
                try:
                    delattr(owner, name)
                except AttributeError:
                    pass
        state.installed = False


def is_installed() -> bool:
    return state.installed


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


def mount_cli(cli_module: Any = None) -> bool:
    """Add ``telemetry`` to crwl's click group (crwl's ``main()`` treats an unknown first word as
    a URL, so the verb must be a real command) and wrap ``main`` for the process handlers.

    The command is mounted even while telemetry is off by env: it changes no crawl and it is how
    a person sees that telemetry is off."""
    from . import crwl

    module = cli_module if cli_module is not None else sys.modules.get("crawl4ai.cli")
    group = getattr(module, "cli", None)
    if not isinstance(getattr(group, "commands", None), dict) or not hasattr(group, "add_command"):
        return False
    try:
        if crwl.TELEMETRY_COMMAND not in group.commands:
            group.add_command(crwl.telemetry_command())
            crwl.mention_in_help(group)
        if not kill_switch():
            with state.lock:
                patch_point(module, crwl.MAIN_POINT)
        return True
    except Exception:
        internal_error("mounting crwl telemetry")
        return False
