"""Text we did not write, made safe to print and to keep.

An exception's class name and message, a value in the environment, a field of a file found in
the outbox: any of them can hold terminal control sequences (``ESC]0;…BEL`` retitles the window,
``ESC[2J`` clears the screen, C1 controls such as U+009B act as ``ESC[`` on many terminals) or
Unicode direction overrides that make a line read differently from what it holds. Every surface
that prints such text passes it through :func:`printable`; the scrubber passes every message
through :func:`without_controls` so reports never carry them.

One table decides what counts as a control, so the terminal, the prompts, the dashboard and the
reports agree. It also holds the lone surrogates that stand for undecodable bytes: printed they
raise ``UnicodeEncodeError``, kept they make a report that cannot be encoded.
"""

from __future__ import annotations

_CONTROLS = (
    *range(0x00, 0x20),  # C0, including ESC, BEL, CR, backspace
    0x7F,  # DEL
    *range(0x80, 0xA0),  # C1, including CSI (U+009B) and OSC (U+009D)
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),  # direction marks
    0x2028, 0x2029,  # line and paragraph separators
    # Lone surrogates: how Python holds the undecodable bytes of a path or variable (a home
    # folder named in Latin-1). A UTF-8 terminal's strict encoder refuses them mid-print.
    *range(0xD800, 0xE000),
)
_LAYOUT = (0x09, 0x0A)  # tab and newline: harmless where a caller allows several lines


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_VISIBLE = {code: _escape(code) for code in _CONTROLS}
_VISIBLE_MULTILINE = {code: v for code, v in _VISIBLE.items() if code not in _LAYOUT}
_DROPPED = {code: None for code in _CONTROLS if code not in _LAYOUT}


def printable(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so printing it
    cannot move the cursor, retitle the window or reorder the line. ``multiline`` keeps newlines
    and tabs."""
    return str(text).translate(_VISIBLE_MULTILINE if multiline else _VISIBLE)


def without_controls(text: str) -> str:
    """``text`` with control characters removed (newlines and tabs kept): what a report keeps."""
    return text.translate(_DROPPED)
