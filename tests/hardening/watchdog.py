"""Run a scenario in a fresh interpreter that cannot hang the suite.

Each program starts with ``faulthandler.dump_traceback_later``: if it is still running after
``bound`` seconds, every thread's stack is printed to stderr and the process exits, so a hang
fails the test with the place it happened instead of a bare timeout. A bound detects a hang, not
slowness: keep it generous (the first report of a fresh home builds the scrubber's code index,
which takes many seconds on a loaded shared machine).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import child_env

WATCHDOG = "import faulthandler; faulthandler.dump_traceback_later({bound}, exit=True)\n"


def run_guarded(code: str, home: Path, *, bound: float = 30, args: tuple[str, ...] = (),
                **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (no TTY); a hang longer than ``bound`` s ends it with every stack printed."""
    program = WATCHDOG.format(bound=bound) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", program, *args], env=child_env(home, **env),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=bound + 30,
    )


def start_guarded(code: str, home: Path, *, bound: float = 30, args: tuple[str, ...] = (),
                  **env: str) -> subprocess.Popen[str]:
    """Like :func:`run_guarded`, started in the background (for several processes at once)."""
    program = WATCHDOG.format(bound=bound) + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", program, *args], env=child_env(home, **env),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def hung(result: subprocess.CompletedProcess[str]) -> bool:
    """True if the watchdog had to end the program."""
    return "Timeout (" in result.stderr and "Thread" in result.stderr
