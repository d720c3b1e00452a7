"""Locks a forked child must not inherit, in one registry.

``fork`` copies one thread into the child, and every lock as it was at that instant: a lock one
of the parent's other threads held (our worker building a report, sentry-sdk's sender, a prompt)
stays held for ever in the child, where nobody will release it, and the child's first report
would wait on it. Each object that owns a lock registers it here once; in the child each is
replaced by a fresh one of the same kind before the child runs any code of its own.

(The worker, the pipeline, the code index and the known names reset their own state after a fork
as well: see ``after_fork_in_child`` there.)
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

_registered: list[tuple[weakref.ref[Any], tuple[str, ...]]] = []
_RLOCK = type(threading.RLock())


def renew_after_fork(owner: Any, *names: str) -> None:
    """In a forked child, give ``owner`` (an object or a module) a fresh lock under each of the
    attributes ``names`` (a Lock, RLock, Condition or Event, as it holds now)."""
    _registered.append((weakref.ref(owner), names))


def _fresh(old: Any) -> Any:
    if isinstance(old, threading.Condition):
        return threading.Condition()
    if isinstance(old, threading.Event):
        return threading.Event()
    if isinstance(old, _RLOCK):
        return threading.RLock()
    return threading.Lock()


def _renew_in_child() -> None:
    alive = []
    for ref, names in _registered:
        owner = ref()
        if owner is None:
            continue
        alive.append((ref, names))
        for name in names:
            try:
                setattr(owner, name, _fresh(getattr(owner, name)))
            except Exception:
                pass
    _registered[:] = alive


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_in_child)
