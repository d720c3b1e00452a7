"""The core's budgets (docs/architecture.md, "Budgets"), each measured beside its reference in
one run.

Run alone it prints its table; ``benchmarks/compare.py`` runs each measure (``--only NAME
--json``) against this tree and an older one, alternating, and prints the ratios.

- import crawl4ai.telemetry over an interpreter that already imported crawl4ai
- a decorated call vs a plain pass-through wrapper; telemetry_context vs nullcontext
- what a capture costs its caller (median, and the very first one)
- exit with nothing pending
- a storm of 50,000 exceptions of 5 kinds vs a no-op capture
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import main, row  # noqa: E402


def child(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def bench_import() -> None:
    # The activation hook may already have loaded parts of telemetry with crawl4ai: forget them,
    # so that what is timed is the import a user's `import crawl4ai.telemetry` costs.
    code = ("import sys, time, crawl4ai; "
            "[sys.modules.pop(m) for m in list(sys.modules) if m.startswith('crawl4ai.telemetry')]; "
            "t=time.perf_counter(); import {m}; print(time.perf_counter()-t)")
    # The activation hook would import telemetry together with crawl4ai: switch it off here
    # so the import itself is what is measured.
    ours = statistics.median(float(child(code.format(m="crawl4ai.telemetry"), CRAWL4AI_TELEMETRY_HOOK="0"))
                             for _ in range(7))
    ref = statistics.median(float(child(code.format(m="json"), CRAWL4AI_TELEMETRY_HOOK="0")) for _ in range(7))
    row("import crawl4ai.telemetry (after crawl4ai)", ours * 1e3, ref * 1e3, "ms", "<= 3 ms over bare")
    heavy = child("import sys, crawl4ai; before=set(sys.modules); import crawl4ai.telemetry; "
                  "print(sorted(m for m in set(sys.modules)-before if m.split('.')[0] in "
                  "('sentry_sdk','IPython','textual','questionary','typer','prompt_toolkit','ipywidgets')))")
    print(f"{'heavy modules imported by it':<44} {heavy}")


def side_by_side(ours, reference, number: int, rounds: int = 9) -> tuple[float, float]:
    """The best time of each over ``rounds``, the two taking turns: a burst of load on the shared
    machine then slows both sides, not one."""
    best_ours = best_ref = float("inf")
    for _ in range(rounds):
        best_ref = min(best_ref, timeit.timeit(reference, number=number))
        best_ours = min(best_ours, timeit.timeit(ours, number=number))
    return best_ours, best_ref


def bench_success_path() -> None:
    from crawl4ai.telemetry import telemetry_context, telemetry_decorator

    def work(x):
        return x + 1

    def passthrough(f):
        @functools.wraps(f)
        def wrapper(*a, **k):
            return f(*a, **k)
        return wrapper

    plain, ours = passthrough(work), telemetry_decorator(work)
    n = 200_000
    t_ours, t_plain = side_by_side(lambda: ours(1), lambda: plain(1), n)
    row("decorated call", t_ours / n * 1e9, t_plain / n * 1e9, "ns", "ratio <= 1.05")

    def with_ctx():
        with telemetry_context("x"):
            pass

    def with_null():
        with contextlib.nullcontext():
            pass

    t_ctx, t_null = side_by_side(with_ctx, with_null, n)
    row("telemetry_context", t_ctx / n * 1e9, t_null / n * 1e9, "ns", "ratio <= 1.2")


def one(i: int, f) -> float:
    """How long ``f`` takes to capture a fresh error, timed around the call only."""
    try:
        raise ValueError(i)
    except ValueError as e:
        t = time.perf_counter()
        f(e)
        return time.perf_counter() - t


def bench_first_capture() -> None:
    # The first capture of this process (every measure runs in a fresh one).
    from crawl4ai import telemetry

    os.environ["CRAWL4AI_TELEMETRY"] = "1"
    os.environ["CRAWL4AI_TELEMETRY_ENVIRONMENT"] = "library"
    first = one(0, telemetry.capture_exception)
    noop = statistics.median(one(i, lambda e: None) for i in range(1000))
    row("first capture (caller's cost)", first * 1e3, noop * 1e3, "ms", "<= 2 ms")
    telemetry.flush(5)


def bench_first_capture_stored() -> None:
    # The same for someone who said "always" earlier (the common case): the stored choice is
    # read, and where reports would go is named (the consent is bound to it).
    child("from crawl4ai import telemetry; telemetry.enable()")  # an earlier run said "always"
    from crawl4ai import telemetry

    first = one(0, telemetry.capture_exception)
    noop = statistics.median(one(i, lambda e: None) for i in range(1000))
    row("first capture, consent stored (caller's cost)", first * 1e3, noop * 1e3, "ms", "<= 2 ms")
    telemetry.flush(5)


def bench_first_capture_crawling() -> None:
    # The first capture of a run that crawls: a crawler was made first (no browser started),
    # which is where the integration loads what a crawl's errors need.
    from crawl4ai import telemetry

    os.environ["CRAWL4AI_TELEMETRY"] = "1"
    os.environ["CRAWL4AI_TELEMETRY_ENVIRONMENT"] = "library"
    from crawl4ai import AsyncWebCrawler

    crawler = AsyncWebCrawler()
    # Making it asked the worker to deliver earlier runs' pending reports; a crawl's first error
    # comes after a browser start (hundreds of ms), by when that is done.
    telemetry.flush(5)
    first = one(0, telemetry.capture_exception)
    noop = statistics.median(one(i, lambda e: None) for i in range(1000))
    row("first capture, a crawler made (caller's cost)", first * 1e3, noop * 1e3, "ms", "<= 2 ms")
    telemetry.flush(5)
    del crawler


def bench_capture() -> None:
    # A home of its own: the earlier measures' reports of the same bugs would count this run's
    # first errors as their repeats (one report per bug across processes), hiding "every kind".
    home = tempfile.mkdtemp(prefix="bench-storm-")
    atexit.register(shutil.rmtree, home, True)  # before telemetry's exit hook: runs after it
    os.environ.update(HOME=home, CRAWL4_AI_BASE_DIRECTORY=home)
    from crawl4ai import telemetry

    os.environ["CRAWL4AI_TELEMETRY"] = "1"
    os.environ["CRAWL4AI_TELEMETRY_ENVIRONMENT"] = "library"

    one(0, telemetry.capture_exception)  # the first one is bench_first_capture's
    times = [one(i, telemetry.capture_exception) for i in range(20_000)]
    noop = [one(i, lambda e: None) for i in range(20_000)]
    row("capture, median (caller's cost)", statistics.median(times) * 1e6,
        statistics.median(noop) * 1e6, "us", "<= 50 us")

    kinds = [ValueError, KeyError, TypeError, OSError, RuntimeError]

    def storm(f) -> float:
        t = time.process_time()
        for i in range(50_000):
            try:
                raise kinds[i % 5](i)
            except Exception as e:
                f(e)
        return time.process_time() - t

    ours, ref = storm(telemetry.capture_exception), storm(lambda e: None)
    row("storm 50k x 5 kinds, CPU", ours, ref, "s", f"<= 0.2 s above no-op (+{ours - ref:.3f} s)")
    telemetry.flush(5)
    st = telemetry.status()
    print(f"{'storm: reported / counted as repeats':<44} {st['pipeline'].get('reported', 0)} / "
          f"{st['pipeline'].get('repeated', 0)}  kinds {sorted(st['repeated_kinds'])}")


def bench_exit() -> None:
    code = ("import atexit, time, json; m={{}}; "
            "atexit.register(lambda: print(time.perf_counter()-m['t'])); "
            "import crawl4ai{extra}; m['t']=time.perf_counter()")
    ours = statistics.median(float(child(code.format(extra=", crawl4ai.telemetry"))) for _ in range(5))
    ref = statistics.median(float(child(code.format(extra=""))) for _ in range(5))
    row("exit, nothing pending", ours * 1e3, ref * 1e3, "ms", "<= 3 ms")


MEASURES = {"import": bench_import, "success_path": bench_success_path,
            "first_capture": bench_first_capture,
            "first_capture_stored": bench_first_capture_stored,
            "first_capture_crawling": bench_first_capture_crawling, "capture": bench_capture,
            "exit": bench_exit}

if __name__ == "__main__":
    sys.exit(main(MEASURES))
