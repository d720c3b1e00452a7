"""Third parties add a provider through the entry-point group, and it only sees scrubbed reports."""

from __future__ import annotations

import json

from crawl4ai.telemetry.base import TelemetryProvider
from tests.conftest import run_python

PROVIDER_MODULE = r'''
import json, os
from crawl4ai.telemetry.base import TelemetryProvider

class FileProvider(TelemetryProvider):
    name = "acme"
    def send_event(self, event):
        with open(os.environ["ACME_OUT"], "a") as f:
            f.write(json.dumps(event) + "\n")
        return True
'''

CRASH = r"""
from crawl4ai import telemetry
telemetry.enable()
try:
    raise ValueError("token=ghp_0123456789abcdefABCDEF0123 at https://intranet.acme.test/x")
except ValueError as e:
    telemetry.capture_exception(e, {"operation": "sync", "cookies": "sid=SECRET-COOKIE"})
telemetry.flush(10)
print(telemetry.status()["provider"])
"""


def test_entry_point_provider_receives_scrubbed_reports(home, tmp_path):
    site = tmp_path / "site"
    dist = site / "acme_telemetry-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-telemetry\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[crawl4ai.telemetry.providers]\nacme = acme_telemetry:FileProvider\n"
    )
    (site / "acme_telemetry.py").write_text(PROVIDER_MODULE)
    out = tmp_path / "events.jsonl"
    result = run_python(CRASH, home, PYTHONPATH=str(site), ACME_OUT=str(out),
                        CRAWL4AI_TELEMETRY_PROVIDER="acme", CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "acme"
    raw = out.read_text()
    [event] = [json.loads(line) for line in raw.splitlines()]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    for secret in ("ghp_0123456789abcdefABCDEF0123", "intranet.acme.test", "SECRET-COOKIE", "cookies"):
        assert secret not in raw


def test_the_documented_send_exception_example_works():
    class CustomProvider(TelemetryProvider):
        def __init__(self):
            self.sent = []

        def send_event(self, event):
            self.sent.append(event)
            return True

    provider = CustomProvider()
    try:
        raise RuntimeError("contact me at someone@example.com")
    except RuntimeError as exc:
        assert provider.send_exception(exc, {"operation": "extract"}) is True
    [event] = provider.sent
    assert "someone@example.com" not in json.dumps(event)
    assert event["contexts"]["telemetry"] == {"operation": "extract"}


def test_a_provider_overriding_only_send_exception_is_usable():
    class Legacy(TelemetryProvider):
        def send_exception(self, exc, context=None):
            return True

    assert Legacy().send_exception(ValueError("x")) is True
