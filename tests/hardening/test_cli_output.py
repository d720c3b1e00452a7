"""The verbs' output may have nowhere to go: a full disk, a reader that went away. One clear line
(or, for a closed pipe, silence), never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import child_env

CRWL = str(Path(sys.executable).with_name("crwl"))
VERBS = [["status"], ["status", "--json"], ["preview"], ["--help"]]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_full_output_is_one_line_on_stderr(home, verb):
    with open("/dev/full", "w") as full:
        result = subprocess.run([CRWL, "telemetry", *verb], env=child_env(home), stdout=full,
                                stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "Error: No space left on device"


def test_a_reader_that_went_away_ends_it_quietly(home):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already exited: every write is EPIPE
    try:
        result = subprocess.run([sys.executable, "-m", "crawl4ai.telemetry", "preview"],
                                env=child_env(home), stdout=write_end, stdin=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 1, result.stderr  # nothing was shown: not a success
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert "Error" not in result.stderr
