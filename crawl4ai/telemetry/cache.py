"""On-disk caches: work one process did that the next one, in the same environment, can reuse.

Some of a report's work depends only on what is installed (which files belong to which
distribution, the words a library's code contains) and takes tens of milliseconds each start.
This module keeps such results between processes. It is the one place that writes them:

- ``load(name) -> value | None`` and ``store(name, value) -> bool``; ``value`` is JSON (dicts,
  lists, strings, numbers, booleans, None). Never pickle or marshal of code: a file that a
  tamperer can edit must never be able to run code when read. A miss (no file, another
  environment, a file we do not trust) is ``None``: the caller computes and stores again.
- One file per name, ``<telemetry folder>/cache/<name>.json``, mode 0600 in 0700 folders (see
  :mod:`._files`); a file that is a link, not a regular file, someone else's, readable by others
  or too large is ignored (and replaced by the next ``store``).
- Each file is bound to the environment it was computed in: the interpreter (version and
  executable), this add-on's version, the import path and the distributions installed on it
  with their versions (the names of the ``*.dist-info``/``*.egg-info`` folders, read with one
  folder listing per import-path folder, redone only when a folder changed). Installing,
  removing or upgrading anything makes every cache miss once.
- Content is checked on read: a SHA-256 over the environment key, the name and the payload
  heads the file, so a truncated, edited or foreign file is a miss. Callers still check the
  shape of what they get back (a cache is only ever a shortcut, never a source of truth).

Callers keep names few and stable (one per kind of result, e.g. ``code-index``), and call this
from the worker thread only: scrubbing and the ownership rule stay pure functions of what they
are given, and the worker loads before and stores after them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from typing import Any

from ._files import private_dirs, read_regular, write_private
from ._version import __version__

__all__ = ["load", "store", "environment_key", "path_of", "folder"]

#: Bump when the file layout changes: older files then simply miss.
FORMAT = 1
#: A cache larger than this is not ours (the code index is ~20 KB).
MAX_BYTES = 8 * 1024 * 1024
_MAGIC = b"crawl4ai-telemetry-cache"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_METADATA_DIRS = (".dist-info", ".egg-info")

# Import-path folder -> (its modification time, the metadata folders in it): listed again only
# when the folder changed (installing or removing a distribution changes it).
_listings: dict[str, tuple[int, tuple[str, ...]]] = {}


def load(name: str) -> Any:
    """The value stored under ``name`` in this environment, or None (a miss)."""
    try:
        path = path_of(name)
        raw = read_regular(path, follow_links=False, own=True, limit=MAX_BYTES)
        if _loose(path):
            return None
        header, _, payload = raw.partition(b"\n")
        magic, _, digest = header.partition(b" ")
        if magic != _MAGIC or digest.decode("ascii") != _digest(environment_key(), name, payload):
            return None
        return json.loads(payload)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def store(name: str, value: Any) -> bool:
    """Keep ``value`` (JSON) under ``name`` for later processes in this environment. Never raises:
    False when it could not be kept (a read-only home costs time, never correctness)."""
    try:
        payload = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        if len(payload) > MAX_BYTES - 200:
            return False
        path = path_of(name)
        _folder()
        header = _MAGIC + b" " + _digest(environment_key(), name, payload).encode("ascii")
        write_private(path, header + b"\n" + payload)
        return True
    except (OSError, ValueError, TypeError, RecursionError):
        return False


def path_of(name: str) -> str:
    """Where ``name`` is kept (ValueError for a name that is not a plain lower-case word)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"not a cache name: {name!r}")
    from .settings import telemetry_dir

    return os.path.join(telemetry_dir(), "cache", name + ".json")


def folder() -> str:
    """The caches' folder (not created)."""
    from .settings import telemetry_dir

    return os.path.join(telemetry_dir(), "cache")


def _folder() -> str:
    from .settings import base_dir, telemetry_dir

    return private_dirs(folder(), shared_from=base_dir(), ours_from=telemetry_dir())


def _loose(path: str) -> bool:
    """Readable or writable by others: someone else may have written it."""
    try:
        return hasattr(os, "geteuid") and bool(stat.S_IMODE(os.lstat(path).st_mode) & 0o077)
    except OSError:
        return True


def _digest(key: str, name: str, payload: bytes) -> str:
    digest = hashlib.sha256(f"{FORMAT}\0{key}\0{name}\0".encode())
    digest.update(payload)
    return digest.hexdigest()


def environment_key() -> str:
    """A digest of what cached results depend on: interpreter, this add-on's version, the import
    path and the distributions (name and version) installed on it."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{sys.executable}\0{__version__}\0".encode())
    for entry in list(sys.path):
        if not isinstance(entry, str):
            continue
        digest.update(f"{entry}\0".encode())
        digest.update("\0".join(_metadata_folders(entry or ".")).encode())
        digest.update(b"\1")
    return digest.hexdigest()


def _metadata_folders(folder: str) -> tuple[str, ...]:
    try:
        mtime = os.stat(folder).st_mtime_ns
    except OSError:
        return ()
    known = _listings.get(folder)
    if known is not None and known[0] == mtime:
        return known[1]
    try:
        with os.scandir(folder) as entries:
            names = tuple(sorted(e.name for e in entries if e.name.endswith(_METADATA_DIRS)))
    except OSError:  # a zip file on the path, a folder we may not list
        names = ()
    _listings[folder] = (mtime, names)
    return names


def _forget_for_tests() -> None:
    _listings.clear()

