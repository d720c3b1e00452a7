"""The question for a terminal that cannot draw a menu: numbered choices, answered a line at a time.

Emacs's ``M-x shell``, IDE consoles and some CI log viewers say ``TERM=dumb`` (or say nothing):
a menu drawn there with cursor movement and colours shows as escape codes and cannot be moved
through. So the menu is drawn only where the terminal's own description (terminfo) says it can
move the cursor (:func:`can_draw_menu`); everywhere else the question is plain text and the
answer is read as the terminal gives it, a whole line at a time (it echoes and edits the line
itself). Nothing here writes an escape code.

A line that does not come within the question's limit closes it (:class:`Unanswered`); end of
input (Ctrl-D) is :class:`EOFError`, as for the menu.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time

from .. import settings

_menu: bool | None = None


class Unanswered(Exception):
    """Nobody answered within the question's limit."""


def can_draw_menu() -> bool:
    """The terminal can move its cursor (terminfo's ``cup``): a menu can be drawn and moved
    through. Unknown is no. Asked once per process."""
    global _menu
    if _menu is None:
        _menu = _terminal_moves_its_cursor()
    return _menu


def _terminal_moves_its_cursor() -> bool:
    term = (settings.terminal_type() or "").strip()
    if term.lower() in ("", "dumb", "unknown"):
        # Windows' console sets no TERM and draws menus (prompt_toolkit drives it directly).
        return os.name == "nt" and term.lower() != "dumb"
    try:
        import curses

        curses.setupterm(term, sys.stdout.fileno())  # reads the terminfo entry; writes nothing
        return bool(curses.tigetstr("cup"))
    except Exception:  # no curses, no terminfo entry, no stdout
        return False


class LineReader:
    """Reads answers from the terminal (standard input) a line at a time, each within
    ``limit`` seconds; :meth:`close` (from another thread) ends the wait with EOFError."""

    def __init__(self, limit: float) -> None:
        self._limit = limit
        self._closed = threading.Event()
        self._fd = sys.stdin.fileno()

    def close(self) -> None:
        self._closed.set()

    def ask(self, prompt: str) -> str:
        """Show ``prompt`` and return the line typed (without its end)."""
        sys.stdout.write(prompt)
        sys.stdout.flush()
        deadline = time.monotonic() + self._limit
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                sys.stdout.write("\n")
                raise Unanswered()
            if self._closed.is_set():
                raise EOFError()
            # Short slices: a close() from another thread is seen within a quarter second.
            ready, _, _ = select.select([self._fd], [], [], min(remaining, 0.25))
            if not ready:
                continue
            chunk = os.read(self._fd, 1024)
            if not chunk:
                raise EOFError()
            line += chunk
        return line.decode("utf-8", "replace").rstrip("\r\n")
