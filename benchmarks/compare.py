"""Side by side with an older tree: ``just bench-compare [REF] [ROUNDS] [MEASURE,...]``.

Every measure of ``just bench`` (the same functions, from this tree's ``benchmarks/``) runs
against this tree and against REF (default ``a81b90f``, the last round's base), each in a fresh
child process, the two trees taking turns, ROUNDS times (first captures more often: one sample
per process). The median of each tree and their ratio (this / REF) are printed, so the shared
machine's load falls on both alike, and the best run of each (a first capture starts a thread:
on a busy machine the new thread may wait a scheduler time slice, ~5 ms, whichever the tree).
Nothing here is part of the test suite.

REF is checked out with ``git worktree`` into a temporary folder (removed at the end). A child
imports ``crawl4ai.telemetry`` from its tree first on ``PYTHONPATH`` (the activation hook finds
the add-on's folders in ``sys.path`` order), and the activation hook from that tree too: a copy
of its ``_hook.py`` is put first, where the installed ``.pth`` line imports it from.
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_REF = "a81b90f"
#: The scripts whose measures mean something across trees. The others' budgets are absolute and
#: their reference is already beside them in one run (the host's own exit, the server with the
#: add-on off, the dashboard with five reports): ``just bench`` alone shows them.
SCRIPTS = ("bench_core", "bench_hook", "bench_scrub")
#: One sample per process: run these more often per round.
SAMPLES = {"first_capture": 5, "first_capture_stored": 5, "first_capture_crawling": 5}
#: A ratio above this counts as slower (below its inverse, as faster); between them, the noise.
NOISE = 1.10


def measures(only: list[str] | None = None) -> list[tuple[str, str]]:
    """(script, measure) for every measure of every benchmark script, or of those in ``only``."""
    sys.path.insert(0, str(HERE))
    out = []
    for script in SCRIPTS:
        module = __import__(script)
        out += [(script, name) for name in getattr(module, "MEASURES", {})
                if not only or name in only]
    return out


class Tree:
    """One tree under test: where its add-on is, and the environment its children get."""

    def __init__(self, label: str, root: Path, scratch: Path) -> None:
        self.label, self.root = label, root
        overlay = scratch / f"hook-{label}"
        overlay.mkdir()
        hook = overlay / "_crawl4ai_telemetry_hook.py"
        shutil.copy(root / "crawl4ai" / "telemetry" / "_hook.py", hook)
        py_compile.compile(str(hook))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "crawl4ai")],
                       stdout=subprocess.DEVNULL, check=False)
        self.scratch = scratch
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CRAWL4AI_TELEMETRY", "CI", "PYTHONPATH"))}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.update(PYTHONPATH=f"{overlay}{os.pathsep}{root}", LITELLM_LOCAL_MODEL_COST_MAP="True")

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(dir=self.scratch) as home:  # a fresh user each time
            env = {**self.env, "HOME": home, "CRAWL4_AI_BASE_DIRECTORY": home}
            return subprocess.run([sys.executable, *args], env=env, cwd=self.scratch,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True)

    def check(self) -> None:
        probe = self.run(["-c", "import crawl4ai.telemetry as t, _crawl4ai_telemetry_hook as h; "
                                "print(t.__file__); print(h.__file__)"])
        found = probe.stdout.split()
        if probe.returncode or len(found) != 2 or not found[0].startswith(str(self.root)) \
                or not found[1].startswith(str(self.scratch)):
            raise SystemExit(f"{self.label}: the child does not import this tree's add-on: "
                             f"{probe.stdout}{probe.stderr}")

    def measure(self, script: str, name: str) -> list[list[object]] | str:
        result = self.run([str(HERE / f"{script}.py"), "--only", name, "--json"])
        lines = result.stdout.strip().splitlines()
        if result.returncode or not lines:
            return (result.stderr.strip().splitlines() or ["failed"])[-1]
        return json.loads(lines[-1])


def compare(ref: str, rounds: int, only: list[str] | None = None) -> int:
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    old_root = scratch / "ref"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old_root), ref],
                   check=True)
    try:
        trees = [Tree(ref, old_root, scratch), Tree("this", ROOT, scratch)]
        for tree in trees:
            tree.check()
        values: dict[tuple[str, str], list[float]] = {}
        rows: dict[str, tuple[str, str]] = {}
        failed: dict[tuple[str, str], str] = {}
        for r in range(rounds):
            for script, name in measures(only):
                order = trees if r % 2 == 0 else trees[::-1]
                for _ in range(SAMPLES.get(name, 1)):
                    for tree in order:
                        got = tree.measure(script, name)
                        if isinstance(got, str):
                            failed[(tree.label, name)] = got
                            continue
                        for label, ours, _ref, unit, _budget in got:
                            rows.setdefault(label, (unit, name))
                            values.setdefault((tree.label, label), []).append(ours)
            print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
        report(ref, trees, rows, values, failed)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_root)],
                       check=False)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def report(ref: str, trees: list[Tree], rows: dict[str, tuple[str, str]],
           values: dict[tuple[str, str], list[float]], failed: dict[tuple[str, str], str]) -> None:
    old, new = (t.label for t in trees)
    print(f"{'measure (median of runs)':<46} {ref:>12} {'this tree':>12}      ratio"
          "          best of runs: REF, this")
    for label, (unit, _name) in rows.items():
        a, b = values.get((old, label)), values.get((new, label))
        if not a or not b:
            print(f"{label:<46} {'n/a' if not a else f'{statistics.median(a):.3f}':>12} "
                  f"{'n/a' if not b else f'{statistics.median(b):.3f}':>12} {unit:<3}  (one side only)")
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = mb / ma if ma else float("nan")
        verdict = "SLOWER" if ratio > NOISE else "faster" if ratio < 1 / NOISE else "same"
        print(f"{label:<46} {ma:>12.3f} {mb:>12.3f} {unit:<3} {ratio:6.2f}  {verdict:<6}  "
              f"(n={len(a)}/{len(b)})  {min(a):.3f}, {min(b):.3f}")
    for (label, name), why in sorted(failed.items()):
        print(f"{name} on {label}: not measured ({why[:100]})")


if __name__ == "__main__":
    ref = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_REF
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    only = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else None
    sys.exit(compare(ref, rounds, only))
