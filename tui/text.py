"""Outside text on screen: always plain ``Text`` (never markup), control characters made visible,
and the scrubber's placeholders (``<url>``, ``<secret>``, …) highlighted."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widget import Widget

from crawl4ai.telemetry import settings
from crawl4ai.telemetry._text import printable

PLACEHOLDER = re.compile(r"<[a-z][a-z0-9_ -]*>")


def safe(value: str, *, multiline: bool = False) -> Text:
    """``value`` as plain text: no markup is read, no control character reaches the terminal."""
    return Text(printable(str(value), multiline=multiline))


def report_text(widget: Widget, value: str) -> Text:
    """A report (or redacted text) with each placeholder in the widget's ``placeholder`` style
    (a component class: its look is in ``dashboard.tcss``)."""
    text = safe(value, multiline=True)
    text.highlight_regex(PLACEHOLDER, widget.get_component_rich_style("placeholder"))
    return text


def home_as_tilde(value: str) -> str:
    """Paths under the home folder as ``~/…``: shorter, and the same on every machine."""
    home = settings.home_dir()
    return value.replace(home, "~") if home not in ("", "/") else value
