"""The activation hook's budget (docs/architecture.md, "Budgets"): <= 0.5 ms of interpreter
start-up.

- the installed ``.pth`` line, executed exactly as ``site`` executes it, in a fresh interpreter
  (``-S``, then the line by hand), vs the same interpreter doing nothing, vs the whole start-up
- what ``-X importtime`` says the hook module costs in a normal start-up (where it is the first
  import from site-packages, so it also pays that folder's listing)
- the finder's cost on every other import (one set lookup)
- what the crawl4ai integration adds to ``import crawl4ai`` (loading it, then patching: in all,
  and per patched method), vs importing crawl4ai itself

The hook measured is the one ``import _crawl4ai_telemetry_hook`` finds: the installed one, or
the one ``compare.py`` puts first on ``PYTHONPATH`` for an older tree.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

RUNS = 15


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import main, row  # noqa: E402


def child(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def hook_dir() -> Path:
    """Where ``import _crawl4ai_telemetry_hook`` finds the hook (found, not imported)."""
    from importlib.util import find_spec

    spec = find_spec("_crawl4ai_telemetry_hook")
    return Path(spec.origin).parent if spec and spec.origin else site_packages()


CHILD = """
import importlib.util, sys, time
hook_dir, floor_dir, pth = sys.argv[1:4]
sys.path += [hook_dir, floor_dir]
importlib.util.find_spec("__no_such_module__")  # the folder listings, paid by any first import
line = open(pth).read().strip()
floor_line = line.replace("_crawl4ai_telemetry_hook", "empty_pth_module")
t = time.perf_counter(); exec(floor_line); floor = time.perf_counter() - t
t = time.perf_counter(); exec(line); ours = time.perf_counter() - t
assert "_crawl4ai_telemetry_hook" in sys.modules
print(ours * 1e6, floor * 1e6)
"""


def bench_pth_line() -> None:
    # A fresh interpreter without site, then exactly what site does with our line: exec it.
    # Beside it, in the same interpreter, the floor any .pth activation pays: the same line
    # importing an empty module.
    with tempfile.TemporaryDirectory() as tmp:
        import py_compile

        Path(tmp, "empty_pth_module.py").write_text("")
        py_compile.compile(str(Path(tmp, "empty_pth_module.py")))
        Path(tmp, "child.py").write_text(CHILD)
        args = ["-S", str(Path(tmp, "child.py")), str(hook_dir()), tmp,
                str(site_packages() / "crawl4ai_telemetry.pth")]
        runs = [tuple(map(float, child(args).stdout.split())) for _ in range(RUNS)]
    ours = [r[0] for r in runs]
    floor = [r[1] for r in runs]
    row("the .pth line, as site runs it (median)", statistics.median(ours), 500.0, "us", "<= 500 us")
    row("  best of runs (the machine's noise removed)", min(ours), 500.0, "us", "<= 500 us")
    row("  vs the floor: the line importing an empty module", statistics.median(ours),
        statistics.median(floor), "us", "-")
    startup = []
    for _ in range(RUNS):
        t = time.perf_counter()
        child(["-c", "pass"])
        startup.append((time.perf_counter() - t) * 1e6)
    row("  share of a whole `python -c pass`", statistics.median(ours), statistics.median(startup),
        "us", "small")


def bench_importtime() -> None:
    costs = []
    for _ in range(RUNS):
        err = child(["-X", "importtime", "-c", "pass"]).stderr
        match = re.search(r"import time:\s+(\d+) \|\s+(\d+) \|\s+_crawl4ai_telemetry_hook", err)
        if match:
            costs.append(int(match.group(2)))
    if not costs:
        print("-X importtime: the hook module was not imported (is the add-on installed?)")
        return
    # In a real start-up the hook is the first import from site-packages, so this includes the
    # one listing of that folder, which the next .pth or import would pay otherwise.
    row("hook module, -X importtime (+ first listing)", statistics.median(costs), 500.0, "us", "info")


def bench_finder() -> None:
    code = ("import sys, timeit, _crawl4ai_telemetry_hook as h; "
            "f=[x for x in sys.meta_path if type(x).__name__=='_Crawl4aiFinder'][0]; "
            "n=200000; print(timeit.timeit(lambda: f.find_spec('json'), number=n)/n*1e9, "
            "timeit.timeit(lambda: None, number=n)/n*1e9)")
    ours, noop = map(float, child(["-c", code]).stdout.split())
    row("finder, per unrelated import", ours, noop, "ns", "a set lookup")


PATCHING = """
import sys, time
t = time.perf_counter(); import crawl4ai; whole = time.perf_counter() - t
t = time.perf_counter()
from crawl4ai.telemetry.integrations import crawl4ai as integration
loaded = time.perf_counter() - t
t = time.perf_counter(); integration.install(); patched = time.perf_counter() - t
# The list of patches made (a module of the integration package, or the integration module in
# older trees): how much work "patching" was.
owner = sys.modules.get(integration.__name__ + ".installer", integration)
print(whole * 1e3, loaded * 1e3, patched * 1e3, len(getattr(owner, "_patches", ())))
"""


def bench_patching() -> None:
    # What the activation hook adds to `import crawl4ai`: loading the integration, then patching
    # (the hook off here, so that each part is timed on its own, in the order the hook runs them).
    runs = [tuple(map(float, child(["-c", PATCHING], CRAWL4AI_TELEMETRY_HOOK="0").stdout.split()))
            for _ in range(RUNS)]
    whole = statistics.median(r[0] for r in runs)
    loaded = statistics.median(r[1] for r in runs)
    patched = statistics.median(r[2] for r in runs)
    methods = int(runs[0][3]) or 1
    row("crawl4ai integration: load + patch, vs import", loaded + patched, whole, "ms",
        f"<= 1 % and <= 10 ms ({(loaded + patched) / whole * 100:.2f} %)")
    row("  patching crawl4ai, vs importing it", patched, whole, "ms",
        f"negligible ({methods} methods)")
    row("  per patched method", patched / methods * 1e3, whole * 1e3, "us", "-")


def fresh_bytecode() -> None:
    # Measure what users run: pip compiles installed modules, so start-up reads the .pyc.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    import py_compile

    try:
        py_compile.compile(str(hook_dir() / "_crawl4ai_telemetry_hook.py"), doraise=True)
    except (OSError, py_compile.PyCompileError) as e:
        print(f"(could not compile the installed hook: {e})")


MEASURES = {"pth_line": bench_pth_line, "importtime": bench_importtime, "finder": bench_finder,
            "patching": bench_patching}

if __name__ == "__main__":
    fresh_bytecode()
    sys.exit(main(MEASURES))
