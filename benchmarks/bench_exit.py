"""Exit: at most 0.5 s over the host's own exit, in every case (issue 21's budget).

Each case is one program run twice, alternating: with telemetry, and as the host alone (the
add-on's hook off, nothing captured). The program prints the wall-clock time when its main code
is done; the process's end is taken here, when it has exited. The row is the median of
``end - main done`` for each side, and the budget is on the difference.

- a hung server (accepts, never answers), one error captured just before exit
- errors raised in threads while the interpreter shuts down (non-daemon threads still running
  when the main code ends, each failing then)
- the process's first report still being built at exit (a fresh home: nothing cached)
- a thousand errors raised in a host's exit hook that runs after telemetry's (each a new kind of
  error, so each is built on the host's thread: no worker runs once exit began)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import main, row  # noqa: E402

RUNS = 5

_PRELUDE = """
import json, sys, threading, time
USE = sys.argv[1] == "1"
if USE:
    from crawl4ai import telemetry
    telemetry.enable()
    capture = telemetry.capture_exception
else:
    import crawl4ai
    capture = lambda exc: None

def fail(i):
    try:
        json.loads("{not json %d" % i)
    except ValueError as exc:
        capture(exc)
"""

HUNG = _PRELUDE + """
fail(0)
print(time.time(), flush=True)
"""

THREADS_AT_SHUTDOWN = _PRELUDE + """
def late(i):
    time.sleep(0.2)  # the main code is done by now: the interpreter is shutting down
    fail(i)
    raise RuntimeError("a thread's own error at shutdown %d" % i)

threading.excepthook = lambda args: capture(args.exc_value) if args.exc_value else None
for i in range(3):
    threading.Thread(target=late, args=(i,)).start()
print(time.time(), flush=True)
"""

FIRST_REPORT = _PRELUDE + """
fail(0)
print(time.time(), flush=True)
"""

AFTER_OUR_EXIT_HOOK = _PRELUDE.replace("import json,", "import atexit, json,") + """
def many_bugs():  # registered before telemetry's exit hook: runs after it
    for i in range(1000):
        try:
            raise type("HostError%d" % i, (Exception,), {})(i)
        except Exception as exc:
            capture(exc)

atexit.register(many_bugs)
fail(0)
print(time.time(), flush=True)
"""


def exit_after_main(program: str, use: bool, env: dict[str, str]) -> float:
    child = subprocess.Popen([sys.executable, "-c", program, "1" if use else "0"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    out, _err = child.communicate(timeout=120)
    ended = time.time()
    return ended - float(out.split()[0])


def case(name: str, program: str, *, fresh_home: bool, **extra: str) -> None:
    ours, ref = [], []
    with tempfile.TemporaryDirectory() as shared:
        for _ in range(RUNS):
            for use, out in ((False, ref), (True, ours)):
                with tempfile.TemporaryDirectory() as fresh:
                    home = fresh if fresh_home else shared
                    env = {**os.environ, "HOME": home, "CRAWL4_AI_BASE_DIRECTORY": home, **extra}
                    if not use:
                        env["CRAWL4AI_TELEMETRY_HOOK"] = "0"
                    out.append(exit_after_main(program, use, env))
    over = statistics.median(ours) - statistics.median(ref)
    row(f"exit, {name}", statistics.median(ours), statistics.median(ref), "s",
        f"<= 0.5 s over the host's (+{over:.3f} s)")


def bench_hung_server() -> None:
    from tests.support.sentry_server import SentryServer

    with SentryServer(mode="hang") as server:
        case("server hung", HUNG, fresh_home=False, CRAWL4AI_SENTRY_DSN=server.dsn)


def bench_threads_at_shutdown() -> None:
    from tests.support.sentry_server import SentryServer

    with SentryServer(mode="hang") as server:
        case("errors in threads at shutdown", THREADS_AT_SHUTDOWN, fresh_home=False,
             CRAWL4AI_SENTRY_DSN=server.dsn)


def bench_first_report_at_exit() -> None:
    case("first report still being built", FIRST_REPORT, fresh_home=True)


def bench_errors_after_our_exit_hook() -> None:
    case("a thousand errors in an exit hook after ours", AFTER_OUR_EXIT_HOOK, fresh_home=False)


MEASURES = {"hung_server": bench_hung_server, "threads_at_shutdown": bench_threads_at_shutdown,
            "first_report_at_exit": bench_first_report_at_exit,
            "errors_after_our_exit_hook": bench_errors_after_our_exit_hook}

if __name__ == "__main__":
    sys.exit(main(MEASURES))
