"""This machine's own names: the home folder → ``~``, the user's login names → ``<user>``, the
host's names → ``<host>``, wherever they appear, even where they do not look like data.

The caller hands them in (:class:`LocalNames`) so the scrubber stays a pure function.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..._record import Record
from . import Rule


class LocalNames(Record):
    """``homes`` are home-directory paths, ``users`` user names, ``hosts`` host names."""

    __slots__ = ("homes", "users", "hosts")
    _defaults = {"homes": (), "users": (), "hosts": ()}
    homes: tuple[str, ...]
    users: tuple[str, ...]
    hosts: tuple[str, ...]


@lru_cache(maxsize=8)
def home_rules(names: LocalNames | None) -> tuple[Rule, ...]:
    """The home folders, longest first: a path under a home becomes ``~/…``."""
    if names is None:
        return ()
    homes = sorted({h.rstrip("/\\") for h in names.homes if len(h.rstrip("/\\")) > 1}, key=len, reverse=True)
    return tuple(
        Rule("path", re.compile(re.escape(home) + r"(?![\w.\-])", re.I if "\\" in home else 0), "~")
        for home in homes
    )


@lru_cache(maxsize=8)
def name_rules(names: LocalNames | None) -> tuple[Rule, ...]:
    """The user and host names, longest first, as whole words."""
    if names is None:
        return ()
    words = {("user", u) for u in names.users if len(u) > 1} | {("host", h) for h in names.hosts if len(h) > 1}
    return tuple(
        Rule(kind, re.compile(r"(?<![\w\-])" + re.escape(word) + r"(?![\w\-])", re.I), f"<{kind}>")
        for kind, word in sorted(words, key=lambda w: -len(w[1]))
    )
