"""Text we did not write never drives the terminal: status, the prompt and reports neutralise it."""

from __future__ import annotations

import json

from crawl4ai.telemetry import consent
from crawl4ai.telemetry._text import printable, without_controls
from crawl4ai.telemetry.pipeline import Capture, Pipeline
from crawl4ai.telemetry.prompts import terminal
from crawl4ai.telemetry.prompts._request import ConsentRequest
from crawl4ai.telemetry.report_builder import build_report
from tests.hardening.watchdog import run_guarded

# A window title, a screen clear, a C1 CSI, a bell, a direction override.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _clean(text: str) -> bool:
    return not any(ch in text for ch in RAW)


def test_printable_shows_every_control_as_an_escape():
    shown = printable(HOSTILE)
    assert _clean(shown)
    assert "\\x1b]0;pwned\\x07" in shown and "\\x9b" in shown and "\\u202e" in shown
    assert printable("a\nb\tc", multiline=True) == "a\nb\tc"
    assert printable("a\nb") == "a\\x0ab"
    assert without_controls("line 1\nline\t2" + HOSTILE) == "line 1\nline\t2]0;pwned[2J31mevil"


def test_status_prints_planted_text_neutralised(home):
    base = home / f"base{HOSTILE}"
    base.mkdir()
    result = run_guarded("from crawl4ai.telemetry.cli import main; main()", home,
                         CRAWL4_AI_BASE_DIRECTORY=str(base))
    assert result.returncode == 0, result.stderr
    assert "\\x1b]0;pwned" in result.stdout
    assert _clean(result.stdout)


def test_undecodable_bytes_in_a_path_are_shown_as_escapes_not_a_crash(home):
    # A home folder named in Latin-1 ("Jos\xe9"), read by Python as a lone surrogate, printed
    # by a terminal whose encoding is strict UTF-8 (what a desktop's UTF-8 locale gives).
    base = home / "Jos\udce9"
    base.mkdir()
    assert printable("Jos\udce9") == "Jos\\udce9" and without_controls("Jos\udce9") == "Jos"
    result = run_guarded("from crawl4ai.telemetry.cli import main; main()", home,
                         CRAWL4_AI_BASE_DIRECTORY=str(base), PYTHONIOENCODING="utf-8:strict")
    assert result.returncode == 0, result.stderr
    assert "Jos\\udce9" in result.stdout and "Traceback" not in result.stderr


def _request(exc: BaseException) -> ConsentRequest:
    decision = consent.Decision(consent.ASK, consent.DEFAULT_ASK, consent.NOT_SET, None, "default")
    return ConsentRequest(Pipeline(), Capture(exc), decision, terminal.SURFACE)


def test_prompt_header_and_report_view_neutralise_the_exception(capsys):
    hostile_type = type(f"Boom{HOSTILE}", (RuntimeError,), {})
    try:
        raise hostile_type(f"message {HOSTILE}")
    except RuntimeError as exc:
        request = _request(exc)
    terminal._say(terminal._header(request))
    terminal._say(terminal._report_text(request))
    out = capsys.readouterr().out
    assert "Boom" in out and _clean(out)


def test_reports_carry_no_control_characters():
    try:
        raise ValueError(f"cannot parse {HOSTILE} at line\n2")
    except ValueError as exc:
        report = build_report(exc, {"operation": f"crawl{HOSTILE}"}, environment="cli")
    text = json.dumps(report.event, ensure_ascii=False)
    assert _clean(text)
    value = report.event["exception"]["values"][-1]["value"]
    assert not [ch for ch in value if (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) and ch not in "\n\t"]
