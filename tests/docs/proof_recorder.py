"""A pytest plugin for the docs test: records, per test, whether it passed and how often it
searched what was sent for planted secrets (calls of ``canary.assert_absent``).

Loaded with ``-p tests.docs.proof_recorder`` before any test module is imported, so the tests'
own ``from tests.privacy.canary import assert_absent`` picks up the recording function. Each
process appends JSON lines to the file named by ``PROOF_RECORD``.
"""

from __future__ import annotations

import json
import os

from tests.privacy import canary

_original = canary.assert_absent
_current: list[str] = [""]


def _recording(blobs, *secrets):
    _original(blobs, *secrets)
    _write({"nodeid": _current[0], "searched": 1})


canary.assert_absent = _recording


def _write(record: dict) -> None:
    with open(os.environ["PROOF_RECORD"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def pytest_runtest_setup(item):
    _current[0] = item.nodeid


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome == "failed":
        _write({"nodeid": report.nodeid, "outcome": report.outcome})
