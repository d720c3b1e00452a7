"""The integration's process state: whether capture points are installed, whether the process
is ours (``crwl``), and the adoption seam wrappers call when they meet a crawler.

A leaf module: the wrappers read it, the installer and the ``crwl`` handlers write it.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..._debug import internal_error
from ..._fork import renew_after_fork

lock = threading.RLock()
renew_after_fork(sys.modules[__name__], "lock")
installed = False
process_owned = False
asyncio_per_loop = False
crawler_made = False  # a crawler was made in this process: see wrappers._crawler_made
_patched_loops: weakref.WeakSet[Any] = weakref.WeakSet()
_adopter: Callable[[Any], None] | None = None


def watching() -> bool:
    return installed or process_owned


def set_adopter(adopter: Callable[[Any], None]) -> None:
    global _adopter
    _adopter = adopter


def adopt(obj: Any) -> None:
    """Wrap what crawl4ai binds per instance on this crawler (see :func:`.installer.adopt`)."""
    if installed and obj is not None and _adopter is not None:
        _adopter(obj)


def enable_asyncio_for_loop() -> None:
    """Sentry's AsyncioIntegration patches only a loop running when it is set up; crwl starts a
    loop per command (``asyncio.run``), so the first crawl step inside each loop enables it."""
    if not asyncio_per_loop:
        return
    try:
        import asyncio

        loop = asyncio.get_running_loop()
        if loop in _patched_loops:
            return
        _patched_loops.add(loop)
        from ...providers import watch_running_loop

        watch_running_loop()
    except Exception:
        internal_error("asyncio integration")
