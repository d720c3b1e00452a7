"""Whose code a frame, a class or a value is, as this integration asks it.

A thin layer over the package-wide rule (:func:`crawl4ai.telemetry.build.classify_file`), adding
the one thing only the integration needs: telemetry's own frames are neither crawl4ai's nor the
user's (they are the plumbing around an error, never its origin).
"""

from __future__ import annotations

from typing import Any


def _module_of(frame: Any) -> str | None:
    module = frame.f_globals.get("__name__") if isinstance(frame.f_globals, dict) else None
    return module if isinstance(module, str) else None


def is_telemetry_module(module: str | None) -> bool:
    return module is not None and (module == "crawl4ai.telemetry" or module.startswith("crawl4ai.telemetry."))


def frame_origin(frame: Any) -> str:
    """``crawl4ai``, ``stdlib``, ``package`` or ``user`` (the notion the reports use);
    telemetry's own frames are ``telemetry``."""
    module = _module_of(frame)
    if is_telemetry_module(module):
        return "telemetry"
    from ...build import classify_file

    return classify_file(frame.f_code.co_filename, module)[0]


def code_origin(code: Any, module: str | None) -> str:
    if is_telemetry_module(module):
        return "telemetry"
    from ...build import classify_file

    return classify_file(code.co_filename, module)[0]


def is_crawl4ai_class(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return module.startswith("crawl4ai.") and not is_telemetry_module(module)


def is_user_class(cls: type) -> bool:
    """Defined in the user's code (not crawl4ai, an installed package or the stdlib)."""
    import sys

    module = getattr(cls, "__module__", None)
    if not isinstance(module, str) or module.startswith("crawl4ai"):
        return False
    mod = sys.modules.get(module)
    filename = getattr(mod, "__file__", None)
    if module == "__main__" and not filename:
        return True
    if not filename:
        return False
    from ...build import classify_file

    return classify_file(filename, module)[0] == "user"


def is_user_function(func: Any) -> bool:
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    module = getattr(func, "__module__", None)
    return code_origin(code, module if isinstance(module, str) else None) == "user"


def crawl4ai_class_name(obj: Any) -> str | None:
    """The first crawl4ai class of ``obj`` (never a name from the user's code)."""
    for cls in type(obj).__mro__:
        if is_crawl4ai_class(cls):
            return cls.__name__
    return None
