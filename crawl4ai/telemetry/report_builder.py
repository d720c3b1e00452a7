"""A report, built and scrubbed in one call, without sending it.

:mod:`.raw_event` turns the exception into an event, :mod:`.scrub` redacts it, and the
:class:`Report` here is the result. (What a person does with reports already kept, listing,
sending, deleting them, is :mod:`.reports`.) The pipeline, the prompts ("see the exact report")
and the dashboard all use :func:`build_report`, so what a person is shown is byte for byte what
would be sent.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from functools import lru_cache
from types import TracebackType
from typing import Any

from . import environment as _environment
from . import settings
from ._files import compact_json
from ._record import Record
from .raw_event import build_event
from .scrub import LocalNames, scrub_event


@lru_cache(maxsize=1)
def _account() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(homes, users, hosts) from the system: looked up once, on the worker thread."""
    homes: set[str] = set()
    users: set[str] = set()
    hosts: set[str] = set()
    try:
        import pwd

        entry = pwd.getpwuid(os.getuid())
        homes.add(entry.pw_dir)
        users.add(entry.pw_name)
    except Exception:  # no pwd on Windows, or an unnamed uid in a container
        pass
    try:
        import getpass

        users.add(getpass.getuser())
    except Exception:
        pass
    try:
        import socket

        name = socket.gethostname()
        hosts.update({name, name.split(".")[0]})
    except Exception:
        pass
    return tuple(homes), tuple(users), tuple(hosts)


def local_names() -> LocalNames:
    """This machine's home directories, user names and host names, for the scrubber to redact."""
    homes, users, hosts = _account()
    env_homes, env_users = settings.account_names()
    return LocalNames(
        homes=tuple(h for h in {*homes, *env_homes} if h and h not in ("/", "\\")),
        users=tuple(u for u in {*users, *env_users} if u),
        hosts=tuple(h for h in hosts if h),
    )


class Report(Record):
    """A built and scrubbed report: the event and what the scrubber removed (counts per kind)."""

    __slots__ = ("event", "removed")
    event: dict[str, Any]
    removed: Counter[str]

    @property
    def event_id(self) -> str:
        return self.event.get("event_id", "")

    @property
    def exception_type(self) -> str:
        try:
            return self.event["exception"]["values"][-1]["type"]
        except (KeyError, IndexError, TypeError):
            return ""

    @property
    def bug(self) -> str:
        """Which bug this is, as 32 hex digits: the report's fingerprint (exception type and
        crawl4ai frames, never the message) and Crawl4AI release. Reports of one bug count as
        one (see :meth:`crawl4ai.telemetry.outbox.LocalOutbox.keep`)."""
        key = compact_json([self.event.get("fingerprint"), self.event.get("release")])
        return hashlib.sha256(key).hexdigest()[:32]

    def payload(self) -> bytes:
        """The report's bytes, as stored in the outbox and sent."""
        return compact_json(self.event)


def build_report(
    exc: BaseException,
    context: dict[str, Any] | None = None,
    *,
    environment: str | None = None,
    email: str | None = None,
    mechanism: str = "generic",
    handled: bool = True,
    occurrences: int = 1,
    traceback: TracebackType | None = None,
) -> Report:
    """Build and scrub the report ``exc`` would produce. No consent check, no I/O, not sent.

    ``traceback``: ``exc``'s traceback as captured (default: as it is now)."""
    raw = build_event(
        exc, context, environment=environment or _environment.detect(), email=email,
        mechanism=mechanism, handled=handled, occurrences=occurrences, traceback=traceback,
    )
    removed: Counter[str] = Counter()
    return Report(scrub_event(raw, removed, local=local_names()), removed)

