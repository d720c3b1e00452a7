"""Files in the user's folder: written whole or not at all, and never trusted as found.

The settings file and the outbox live in a folder other programs (and, on a shared machine,
other users) may have touched first. So every path we read or write goes through here:

- Folders we create are 0700 at every level (``os.makedirs`` gives the mode to the last level
  only); folders of ours found with a looser mode are tightened, and ones that are a symbolic
  link, not a folder, or owned by someone else are refused (:class:`UnsafePath`).
- Reads never block and never follow a link they should not: a FIFO or device where a file
  should be is refused instead of waiting for a writer that never comes.
- Writes go to a fresh temporary file (``O_EXCL``: a planted link is never followed) that
  atomically replaces the target, mode 0600.
- JSON read back is parsed by :func:`parse_json`: nesting too deep for the parser is bad JSON
  like any other (a ``RecursionError`` would slip past every ``except ValueError``).
- Locks are ``filelock`` locks (every platform) on a lock file inside the telemetry folder; a
  lock file that is a link is refused, and waiting for a lock is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from typing import Any

# A lock is held for a few file operations; waiting longer means something is wrong.
LOCK_TIMEOUT = 10.0
_POSIX_OWNERS = hasattr(os, "geteuid")
# What :func:`write_private` leaves behind if the process dies mid-write (pruning removes it):
# ``.<name>.<writer's pid>.<random>.tmp``, so pruning can tell a dead writer's from a live one's.
TEMP_PREFIX, TEMP_SUFFIX = ".", ".tmp"


class UnsafePath(OSError):
    """A path we will not use as found: a link, not a regular file/folder, or someone else's."""


def _owner_ok(st: os.stat_result) -> bool:
    return not _POSIX_OWNERS or st.st_uid == os.geteuid()


def _check_own_dir(path: str) -> None:
    """``path`` must be a real folder of ours: tighten a loose mode, refuse anything else."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePath(f"{path} is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{path} is not a folder")
    if not _owner_ok(st):
        raise UnsafePath(f"{path} belongs to another user")
    if _POSIX_OWNERS and st.st_mode & 0o077:
        os.chmod(path, 0o700)


def _check_shared_dir(path: str) -> None:
    """A folder above ours (``~/.crawl4ai``): others must not be able to swap our folder in it."""
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{path} is not a folder")
    if _POSIX_OWNERS and st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        if not _owner_ok(st):
            raise UnsafePath(f"{path} is writable by other users")
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o022)


def private_dirs(path: str, *, shared_from: str, ours_from: str) -> str:
    """Create ``path`` (0700 at every level we create) and check the levels we rely on.

    Levels from ``ours_from`` down are ours (see :func:`_check_own_dir`); levels from
    ``shared_from`` down to above ``ours_from`` are shared with crawl4ai (see
    :func:`_check_shared_dir`); levels above ``shared_from`` are only created if missing."""
    path = os.path.abspath(path)
    ours_from = os.path.abspath(ours_from)
    shared_from = os.path.abspath(shared_from)
    levels = []
    level = path
    while True:
        levels.append(level)
        parent = os.path.dirname(level)
        if parent == level:
            break
        level = parent
    for level in reversed(levels):
        created = False
        if not os.path.lexists(level):
            try:
                os.mkdir(level, 0o700)
                created = True
            except FileExistsError:
                pass
        if _within(level, ours_from):
            _check_own_dir(level)
        elif _within(level, shared_from) and not created:
            _check_shared_dir(level)
    return path


def own_folder_of(path: str) -> str:
    """The folder holding ``path`` (``~/.crawl4ai/telemetry``), created or checked as ours before
    anything is written there; its parent (``~/.crawl4ai``) is the shared level. Every file of
    ours goes through this, so none is ever written through a planted link."""
    folder = os.path.dirname(os.path.abspath(path))
    return private_dirs(folder, shared_from=os.path.dirname(folder), ours_from=folder)


def _within(level: str, top: str) -> bool:
    return level == top or level.startswith(top.rstrip(os.sep) + os.sep)


def is_own_regular(path: str) -> bool:
    """``path`` itself (not a link's target) is a regular file of the current user."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and _owner_ok(st)


def read_regular(path: str, *, follow_links: bool, own: bool, limit: int) -> bytes:
    """The bytes of a regular file, without ever blocking on what is found at ``path``.

    Refused (:class:`UnsafePath`): a FIFO, device or folder; a link when ``follow_links`` is
    False; a file of another user when ``own`` is True; a file over ``limit`` bytes.
    FileNotFoundError when nothing is there."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    if not follow_links:
        if os.path.islink(path):
            raise UnsafePath(f"{path} is a symbolic link")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"{path} is not a regular file")
        if own and not _owner_ok(st):
            raise UnsafePath(f"{path} belongs to another user")
        if st.st_size > limit:
            raise UnsafePath(f"{path} is too large ({st.st_size} bytes)")
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnsafePath(f"{path} is too large")
        return data
    finally:
        os.close(fd)


def write_private(path: str, data: bytes, *, durable: bool = False) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600. ``durable`` also fsyncs.

    The replacement is a new file (``mkstemp`` uses ``O_EXCL``), so a link planted at ``path``
    is replaced, never written through."""
    directory = os.path.dirname(path) or "."
    prefix = f"{TEMP_PREFIX}{os.path.basename(path)}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=TEMP_SUFFIX)
    try:
        # Plain os calls (os.fdopen imports io): this also runs at interpreter shutdown.
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise



def temp_of(name: str) -> tuple[str, int | None] | None:
    """For a temporary file :func:`write_private` names (``.config.json.123.x1y2.tmp``): the
    name of the file it was replacing and its writer's pid (None for an older name without
    one); None for any other name."""
    if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
        return None
    parts = name[len(TEMP_PREFIX):-len(TEMP_SUFFIX)].split(".")
    if len(parts) >= 4 and parts[-2].isdigit():
        return ".".join(parts[:-2]), int(parts[-2])
    return ".".join(parts[:-1]), None


def parse_json(raw: bytes | str) -> Any:
    """``json.loads`` for what was found on disk: whatever is wrong with it is a ValueError,
    nesting deeper than the parser goes included."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def compact_json(value: Any) -> bytes:
    """The one way a report is written as bytes: compact, UTF-8, keys in the order built."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_imported: dict[str, Any] = {}


def _filelock() -> Any:
    # Imported on first use, then kept: a lock taken at interpreter shutdown cannot import.
    if "filelock" not in _imported:
        import filelock

        from ._logs import our_work

        _imported["our_work"] = our_work
        _imported["filelock"] = filelock
    return _imported["filelock"]


_exit_deadline: list[float] = []


def bound_lock_waits(deadline: float) -> None:
    """Exit began: from now on no lock is waited for past ``deadline`` (``time.monotonic()``),
    whoever holds it (another process, or our own worker abandoned mid-write)."""
    _exit_deadline[:] = [deadline]


if hasattr(os, "register_at_fork"):  # a child forked at exit is a new process with its own exit
    os.register_at_fork(after_in_child=_exit_deadline.clear)


@contextlib.contextmanager
def locked(path: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the exclusive lock ``path`` (its folder must already be checked as ours).

    A lock file that is a link is refused; waiting longer than ``timeout`` (or, once exit
    began, past its deadline: :func:`bound_lock_waits`) raises :class:`UnsafePath` (an
    OSError), so no caller waits for ever."""
    if _exit_deadline:
        timeout = min(timeout, max(0.0, _exit_deadline[0] - time.monotonic()))
    filelock = _filelock()
    our_work = _imported["our_work"]
    if os.path.islink(path):
        raise UnsafePath(f"{path} is a symbolic link")
    lock = filelock.FileLock(path, timeout=timeout, mode=0o600)
    with our_work():  # filelock's "Lock … acquired" lines are not the host's
        try:
            lock.acquire()
        except filelock.Timeout:
            raise UnsafePath(f"{path} stayed locked for over {timeout:g} s") from None
    _held.add(lock)
    try:
        yield
    finally:
        _held.discard(lock)
        with our_work():
            lock.release()


# Locks held now (by any of our threads). A child forked meanwhile inherits their open files, and
# with them the lock itself: if the parent then died holding it, the child's copy would keep it
# held for ever against the child's own reports. The child closes its copies (the parent's
# stay open: the parent still holds and releases its lock).
_held: set[Any] = set()


def _close_inherited_locks() -> None:
    for lock in list(_held):
        fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)
