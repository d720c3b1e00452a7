"""Telemetry's own traffic never shows up in the host's logs; the host's traffic still does.

urllib3 and sentry-sdk log through the host's logging setup. With the most common one
(``logging.basicConfig()``, level WARNING, on stderr), a report to an unreachable server printed
urllib3's "Retrying ... /api/1/envelope/" warnings on the host's stderr.
"""

from __future__ import annotations

import socket

from tests.hardening.watchdog import hung, run_guarded

# The host reports one error, then prints "FLUSHED" and whether the flush finished in time.
ONE_REPORT = """
telemetry.enable()
try:
    raise ValueError("a crawl failed")
except ValueError as exc:
    telemetry.capture_exception(exc)
print("FLUSHED", telemetry.flush(60), flush=True)
"""

HOST = """
import logging, sys
logging.basicConfig(format="HOSTLOG %(name)s %(levelname)s %(message)s")
from crawl4ai import telemetry

""" + ONE_REPORT + """
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


DEBUG_HOST = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, format="HOSTLOG %(name)s %(levelname)s %(message)s")
from crawl4ai import telemetry

""" + ONE_REPORT + """
import filelock, urllib3  # the host's own locking and requests are still logged, as before
with filelock.FileLock(sys.argv[1]):
    pass
urllib3.PoolManager().request("GET", sys.argv[2])
"""


def test_a_host_logging_everything_at_debug_sees_only_its_own_lines(home, sentry_server):
    """filelock logs every lock we take at DEBUG, urllib3 every connection we open: a host that
    turned on DEBUG for its own work must not read our outbox and config locking, nor our traffic."""
    result = run_guarded(DEBUG_HOST, home, bound=90,
                         args=(str(home / "host.lock"), f"http://127.0.0.1:{sentry_server.port}/host"),
                         CRAWL4AI_SENTRY_DSN=sentry_server.dsn, CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert not hung(result), result.stderr
    assert "FLUSHED True" in result.stdout, result.stderr
    assert len(sentry_server.wait_for_events(1, timeout=10)) == 1
    lines = result.stderr.splitlines()
    ours = [line for line in lines if ".crawl4ai" in line or "/api/42/" in line]
    assert ours == [], ours
    assert any(line.startswith("HOSTLOG filelock") and "host.lock" in line for line in lines), lines
    assert any(line.startswith("HOSTLOG urllib3") and "/host" in line for line in lines), lines


REPORT_ONE_AND_COUNT = """
from crawl4ai import telemetry

""" + ONE_REPORT + """print(telemetry.status()["outbox"]["counts"], flush=True)
"""


def _report_one_with_python_flags(home, server, *flags: str):
    import subprocess
    import sys

    from tests.conftest import child_env
    from tests.hardening.watchdog import WATCHDOG

    return subprocess.run(
        [sys.executable, *flags, "-c", WATCHDOG.format(bound=90) + REPORT_ONE_AND_COUNT], stdin=subprocess.DEVNULL,
        env=child_env(home, CRAWL4AI_SENTRY_DSN=server.dsn, CRAWL4AI_TELEMETRY_ENVIRONMENT="library"),
        capture_output=True, text=True, timeout=120)


def test_a_host_running_with_warnings_as_errors_still_gets_its_reports_delivered(home, sentry_server):
    """``python -W error`` (or pytest's ``filterwarnings = error``): a warning raised by our own
    use of a library became an exception on the worker, and no report was ever delivered."""
    result = _report_one_with_python_flags(home, sentry_server, "-W", "error")
    assert not hung(result), result.stderr
    assert "FLUSHED True" in result.stdout, result.stderr
    assert len(sentry_server.wait_for_events(1, timeout=10)) == 1
    assert "'sent': 1" in result.stdout, result.stdout


def test_a_host_showing_every_warning_sees_none_caused_by_telemetry(home, sentry_server):
    """``python -X dev`` shows every warning: those our own work causes are not the host's."""
    result = _report_one_with_python_flags(home, sentry_server, "-X", "dev")
    assert not hung(result), result.stderr
    assert "FLUSHED True" in result.stdout
    assert len(sentry_server.wait_for_events(1, timeout=10)) == 1
    assert result.stderr == ""


HOST_DEBUGS_ITS_OWN_SENTRY = """
import sys, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1], debug=True)  # the host's own Sentry, saying all it does
from crawl4ai import telemetry

""" + ONE_REPORT + """sentry_sdk.capture_message("the host's own message")
sentry_sdk.flush(30)
"""


def test_a_host_debugging_its_own_sentry_reads_only_its_own_clients_lines(home, sentry_server):
    """sentry-sdk's debug lines go through one logger for every client: those of our private
    client (setting up, sending to our project 42, flushing) are not the host's to read."""
    from tests.support.sentry_server import SentryServer

    with SentryServer() as hosts:
        hosts_dsn = f"http://hostkey@127.0.0.1:{hosts.port}/7"
        result = run_guarded(HOST_DEBUGS_ITS_OWN_SENTRY, home, bound=90, args=(hosts_dsn,),
                             CRAWL4AI_SENTRY_DSN=sentry_server.dsn,
                             CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
        assert not hung(result), result.stderr
        assert len(hosts.wait_for_events(1, timeout=10)) == 1
    assert "FLUSHED True" in result.stdout
    assert len(sentry_server.wait_for_events(1, timeout=10)) == 1
    lines = result.stderr.splitlines()
    assert any("project:7" in line for line in lines), lines  # the host's own, as before
    ours = [line for line in lines if "project:42" in line or "with default = False" in line]
    assert ours == [], ours
