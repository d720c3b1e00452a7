"""Private files written whole or not at all: the settings file and the outbox both need it."""

from __future__ import annotations

import os
import tempfile


def write_private(path: str, data: bytes, *, durable: bool = False) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600. ``durable`` also fsyncs."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o600)
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
