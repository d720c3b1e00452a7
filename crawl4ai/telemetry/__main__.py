"""``python -m crawl4ai.telemetry``: the ``crwl telemetry`` verbs without the ``crwl`` front end."""

from __future__ import annotations

import sys

from .cli import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], prog_name="python -m crawl4ai.telemetry"))
