"""Run a small Python program on a real pseudo-terminal (pexpect) and talk to its prompt.

The program gets this test's home, the local Sentry server's DSN and no CI variables, so the
environment is a person's terminal (detected as ``cli``) unless a test says otherwise.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import pexpect

from tests.conftest import child_env

# What a person's terminal looks like: a real TERM, and (like many IDE consoles and multiplexers)
# no reply to cursor-position requests: pexpect answers nothing, and no variable hides that.
TERMINAL = {"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")

HEADER = "Crawl4AI Error Detection"
QUESTION = "Send a crash report?"
EMAIL = "Email for follow-up"
CTRL_C, CTRL_D, CTRL_U, ENTER = "\x03", "\x04", "\x15", "\r"

# A crawl4ai user's script: one failing call per argument given, each caught by the script.
SYNC_SCRIPT = """
    import sys
    from crawl4ai import telemetry

    @telemetry.telemetry_decorator(operation="parse")
    def parse(url):
        raise ValueError(f"cannot parse {url}")

    for attempt in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
        try:
            parse("https://secret-host.example/private?token=SECRET123")
        except ValueError:
            print(f"CAUGHT {attempt}", flush=True)
    print("FLUSHED", telemetry.flush(10), flush=True)
    print("DONE", flush=True)
"""


def spawn(code: str, home: Path, *args: str, timeout: float = 30, columns: int = 160,
          **env: str | None) -> pexpect.spawn:
    """``code`` run on a PTY of 50 rows and ``columns`` columns; a variable given as None is unset."""
    script = home / "program.py"
    script.write_text(textwrap.dedent(code))
    merged = child_env(home, **{**TERMINAL, **env})
    child = pexpect.spawn(
        sys.executable, [str(script), *args],
        env={k: v for k, v in merged.items() if v is not None},
        encoding="utf-8", codec_errors="replace", timeout=timeout, dimensions=(50, columns),
    )
    child.transcript = []  # type: ignore[attr-defined]
    child.logfile_read = _Transcript(child.transcript)  # type: ignore[attr-defined]
    return child


def spawn_shell(command: str, home: Path, timeout: float = 30, **env: str) -> pexpect.spawn:
    """A shell command line on the PTY (e.g. a program whose stdout is piped)."""
    child = pexpect.spawn("bash", ["-c", command], env=child_env(home, **{**TERMINAL, **env}),
                          encoding="utf-8", codec_errors="replace", timeout=timeout,
                          dimensions=(50, 160))
    child.transcript = []  # type: ignore[attr-defined]
    child.logfile_read = _Transcript(child.transcript)  # type: ignore[attr-defined]
    return child


class _Transcript:
    def __init__(self, parts: list[str]) -> None:
        self.parts = parts

    def write(self, data: str) -> None:
        self.parts.append(data)

    def flush(self) -> None:
        pass


def screen_text(child: pexpect.spawn) -> str:
    """Everything the program wrote to the terminal, without escape sequences."""
    return ANSI.sub("", "".join(child.transcript))  # type: ignore[attr-defined]


def choose(child: pexpect.spawn, number: int) -> None:
    """Pick the numbered choice of the open select prompt (shortcut key, then Enter)."""
    child.expect_exact("Use shortcuts")
    child.send(str(number))
    child.send(ENTER)


def finish(child: pexpect.spawn) -> str:
    """Wait for the program to end; its whole output as plain text."""
    child.expect(pexpect.EOF)
    child.close()
    return screen_text(child)
