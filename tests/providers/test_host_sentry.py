"""A host application's own Sentry is left alone: each side receives exactly its own events."""

from __future__ import annotations

import json

from tests.conftest import run_python
from tests.support.sentry_server import SentryServer

HOST_APP = r"""
import json, sys
import sentry_sdk

host_seen = []
def host_before_send(event, hint):
    host_seen.append(event["exception"]["values"][-1]["value"])
    return event

sentry_sdk.init(dsn=sys.argv[1] if len(sys.argv) > 1 else HOST_DSN, before_send=host_before_send,
                release="host-app@1.0")
sentry_sdk.set_tag("host_tag", "host-only")
sentry_sdk.set_user({"id": "host-user-7"})

from crawl4ai import telemetry
telemetry.enable()

try:
    raise ValueError("host error")
except ValueError as e:
    sentry_sdk.capture_exception(e)

try:
    raise RuntimeError("read operation timed out")
except RuntimeError as e:
    telemetry.capture_exception(e)

telemetry.flush(10)
sentry_sdk.flush(10)
client = sentry_sdk.get_client()
print(json.dumps({"host_seen": host_seen, "host_release": client.options["release"],
                  "host_dsn": client.options["dsn"]}))
"""


def test_host_and_telemetry_each_receive_their_own(home):
    with SentryServer() as host, SentryServer() as ours:
        code = HOST_APP.replace("HOST_DSN", repr(host.dsn))
        result = run_python(code, home, CRAWL4AI_SENTRY_DSN=ours.dsn,
                            CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
        assert result.returncode == 0, result.stderr
        info = json.loads(result.stdout.strip().splitlines()[-1])
        host_events = host.wait_for_events(1)
        our_events = ours.wait_for_events(1)
        assert [e["exception"]["values"][-1]["value"] for e in host_events] == ["host error"]
        assert [e["exception"]["values"][-1]["value"] for e in our_events] == ["<str>"]  # the host's own message: no template
        # The host's client, options and before_send are untouched by ours.
        assert info == {"host_seen": ["host error"], "host_release": "host-app@1.0", "host_dsn": host.dsn}
        # Nothing of the host's scope leaks into our report.
        raw = b"".join(ours.raw_bodies())
        assert b"host-only" not in raw and b"host-user-7" not in raw and b"host-app" not in raw
        assert host_events[0]["tags"]["host_tag"] == "host-only"


GLOBAL_HOOKS = r"""
import sentry_sdk
sentry_sdk.init(dsn=HOST_DSN)
from crawl4ai.telemetry.providers.sentry import install_global_integrations
print("INSTALLED" if install_global_integrations(lambda exc, mech: None) else "LEFT-ALONE")
print(sentry_sdk.get_client().options["dsn"] == HOST_DSN)
"""


def test_global_integrations_are_not_installed_over_a_host_client(home):
    with SentryServer() as host:
        result = run_python(GLOBAL_HOOKS.replace("HOST_DSN", repr(host.dsn)), home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["LEFT-ALONE", "True"]
