"""Crawl4AI integration: see crawl4ai's own bugs wherever a crawl runs, and nothing else.

crawl4ai turns almost every failure into ``CrawlResult(success=False)``, a log line, or an error
string inside a result, so the capture points are the places where a failure is still an
exception. One home each:

- :mod:`.points`      the capture table (module, class filter, method, mechanism, handled) and
                      the extension points users override; adding a capture point is one row
- :mod:`.wrappers`    one wrapper per ``kind`` of row, and :func:`seen`, where they report
- :mod:`.installer`   iterates the table: :func:`install`, :func:`uninstall`, adoption
- :mod:`.classification`    what a failure is (crawl4ai bug, site failure, environment, user code,
                      usage error); only crawl4ai bugs are reported
- :mod:`.provenance`  whether the value crawl4ai tripped over was the user's
- :mod:`.crwl`        the ``crwl telemetry`` mount and the process handlers of ``crwl``

One failure usually passes several capture points; it is classified once (the verdict is kept on
the exception) and the pipeline reports it once, always as the *original* exception, unwrapped
from crawl4ai's wrappers (``RuntimeError(f"Failed on navigating ACS-GOTO:\\n{e}")``, …).
"""

from __future__ import annotations

from .classification import (
    BUG,
    ELSEWHERE,
    ENVIRONMENT,
    SITE_FAILURE,
    USAGE_ERROR,
    USER_CODE,
    VERDICTS,
    classify,
    is_site_failure,
    raised_on_purpose_by_crawl4ai,
    unwrap,
    verdicts,
)
from .crwl import TELEMETRY_COMMAND, install_process_handlers, mount_cli
from .installer import install, is_installed, on_import, uninstall
from .points import CAPTURE_POINTS, EXTENSION_POINTS, CapturePoint
from .wrappers import seen

__all__ = [
    "BUG", "CAPTURE_POINTS", "ELSEWHERE", "ENVIRONMENT", "EXTENSION_POINTS", "SITE_FAILURE",
    "TELEMETRY_COMMAND", "USAGE_ERROR", "USER_CODE", "VERDICTS", "CapturePoint", "classify",
    "install", "install_process_handlers", "is_installed", "is_site_failure", "mount_cli",
    "on_import", "raised_on_purpose_by_crawl4ai", "seen", "uninstall", "unwrap", "verdicts",
]
