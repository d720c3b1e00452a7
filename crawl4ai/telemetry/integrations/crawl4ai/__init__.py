"""Crawl4AI integration: see crawl4ai's own bugs wherever a crawl runs, and nothing else.

crawl4ai turns almost every failure into ``CrawlResult(success=False)``, a log line, or an error
string inside a result, so the capture points are the places where a failure is still an
exception. One home each:

- :mod:`.points`      the capture table (module, class filter, method, mechanism, handled) and
                      the extension points users override; adding a capture point is one row
- :mod:`.wrappers`    one wrapper per ``kind`` of row
- :mod:`.seen`        :func:`seen`, where the wrappers and the process handlers report
- :mod:`.installer`   iterates the table: :func:`install`, :func:`uninstall`, adoption, and
                      mounts ``crwl telemetry`` (:func:`mount_cli`)
- :mod:`.classification`    what a failure is (crawl4ai bug, site failure, environment, user code,
                      usage error); only crawl4ai bugs are reported
- :mod:`.provenance`  whether the value crawl4ai tripped over was the user's
- :mod:`.crwl`        the ``crwl telemetry`` command and the process handlers of ``crwl``

One failure usually passes several capture points; it is classified once (the verdict is kept on
the exception) and the pipeline reports it once, always as the *original* exception, unwrapped
from crawl4ai's wrappers (``RuntimeError(f"Failed on navigating ACS-GOTO:\\n{e}")``, …).
"""

from __future__ import annotations

from typing import Any

from .installer import install, is_installed, mount_cli, on_import, uninstall
from .points import CAPTURE_POINTS, EXTENSION_POINTS, CapturePoint
from .seen import seen

# The classifier (with code ownership) and the crwl mount load when first
# used, not while crawl4ai is imported: a crawler's construction loads the classifier, crwl's
# import the mount. The names stay importable from here.
_LAZY = {
    **dict.fromkeys(("BUG", "ELSEWHERE", "ENVIRONMENT", "SITE_FAILURE", "USAGE_ERROR",
                     "USER_CODE", "VERDICTS", "classify", "is_site_failure",
                     "raised_on_purpose_by_crawl4ai", "unwrap", "verdicts"), "classification"),
    **dict.fromkeys(("TELEMETRY_COMMAND", "install_process_handlers"), "crwl"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BUG", "CAPTURE_POINTS", "ELSEWHERE", "ENVIRONMENT", "EXTENSION_POINTS", "SITE_FAILURE",
    "TELEMETRY_COMMAND", "USAGE_ERROR", "USER_CODE", "VERDICTS", "CapturePoint", "classify",
    "install", "install_process_handlers", "is_installed", "is_site_failure", "mount_cli",
    "on_import", "raised_on_purpose_by_crawl4ai", "seen", "uninstall", "unwrap", "verdicts",
]
