"""The real ``crwl telemetry`` in a real terminal: no verb opens the dashboard, a report exported
as a GitHub issue is copied with OSC 52, ``q`` quits.

A pseudo-terminal of a person's size, ``TERM`` as terminals set it, and no other variable that
would help: the dashboard must neither wait for answers to its terminal queries nor need them.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pexpect

from tests.conftest import child_env
from tests.tui.conftest import plant_fixed_reports

CRWL = Path(sys.executable).with_name("crwl")
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()=>][A-Z0-9]?|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


def test_crwl_telemetry_opens_the_dashboard_exports_an_issue_with_osc52_and_quits_with_q(home):
    plant_fixed_reports(home)
    output = io.StringIO()
    child = pexpect.spawn(str(CRWL), ["telemetry"], env=child_env(home, TERM="xterm-256color"),
                          encoding="utf-8", codec_errors="replace", timeout=90, dimensions=(24, 80))
    child.logfile_read = output
    try:
        child.expect("Quit")  # the footer is drawn last: the dashboard is up
        child.send("2")
        child.expect("Export issue")
        child.send("e")
        child.expect(r"\x1b\]52;c;")  # the clipboard request, as terminals expect it
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    drawn = ESCAPES.sub(" ", output.getvalue())
    for words in ("Crawl4AI telemetry is OFF", "Why:", "Your choice:", "1 Status",
                  "2 Reports", "Saved as a GitHub issue"):
        assert words in drawn
    assert len(list((home / ".crawl4ai" / "telemetry" / "exports").glob("*.md"))) == 1
