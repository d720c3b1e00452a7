"""Telemetry's own traffic never shows up in the host's logs; the host's traffic still does.

urllib3 and sentry-sdk log through the host's logging setup. With the most common one
(``logging.basicConfig()``, level WARNING, on stderr), a report to an unreachable server printed
urllib3's "Retrying ... /api/1/envelope/" warnings on the host's stderr.
"""

from __future__ import annotations

import socket

from tests.hardening.watchdog import hung, run_guarded

HOST = """
import logging, sys
logging.basicConfig(format="HOSTLOG %(name)s %(levelname)s %(message)s")
from crawl4ai import telemetry

telemetry.enable()
try:
    raise ValueError("a crawl failed")
except ValueError as exc:
    telemetry.capture_exception(exc)
telemetry.flush(30)
print("FLUSHED", flush=True)

import urllib3  # the host's own request to the same dead address is still logged, as before
try:
    urllib3.PoolManager().request("GET", sys.argv[1], retries=urllib3.Retry(1))
except Exception:
    pass
"""


def test_a_dead_server_leaves_the_hosts_log_alone(home):
    with socket.socket() as closed:  # bound, never listening: every connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = run_guarded(HOST, home, bound=90, args=(f"http://127.0.0.1:{port}/host",),
                             CRAWL4AI_SENTRY_DSN=f"http://key@127.0.0.1:{port}/1",
                             CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert not hung(result), result.stderr
    assert "FLUSHED" in result.stdout
    ours = [line for line in result.stderr.splitlines() if "/api/1/envelope/" in line]
    assert ours == [], ours
    assert any("Retrying" in line and "/host" in line for line in result.stderr.splitlines()), \
        result.stderr
