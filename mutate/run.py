"""`just mutate`: apply each mutation of :mod:`mutations` to a copy of the tree, run the tests that
must notice it, and report which the suite kills.

Why a copy, and how the copy is what runs: the working tree stays untouched (other runs may be
using it). The copy holds the repository's files (tracked and new, not ignored) and is put first
on ``PYTHONPATH``; the add-on's import hook extends ``crawl4ai.__path__`` with every folder on
``sys.path`` that holds ``crawl4ai/telemetry`` in ``sys.path`` order, so the copy's
``crawl4ai.telemetry`` wins over the editable install's. Before each run the mutated module is
imported in a fresh interpreter with the same environment and its file must be the copy's, with
the mutation in it: a run that would test the unmutated code is refused, not counted.

First the selected tests run once on the unmutated copy (the baseline): a mutation is "killed"
only when tests that pass without it fail with it. Bytecode is not written in the copy, so a
restored file is never shadowed by the mutant's cached bytecode.

Usage: python mutate/run.py [NAME-SUBSTRING ...]   (default: every mutation)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutations import MUTATIONS, Mutation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTEST = ("-x", "-q", "-rf", "-p", "no:randomly")
PARALLEL = ("-n", "2", "--dist", "loadgroup")  # for whole folders; a few files run faster alone
RUN_LIMIT = 1800  # seconds for one mutation's tests: a hang past the tests' own timeouts


def copy_tree(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def module_of(file: str) -> str:
    return file[: -len(".py")].replace("/", ".")


def imported_file(copy: Path, module: str) -> str:
    """The file ``module`` is imported from, in a fresh interpreter run the way the tests are."""
    result = subprocess.run([sys.executable, "-c", f"import {module} as m; print(m.__file__)"],
                            cwd=copy, env=environment(copy), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"cannot import {module} from the copy:\n{result.stderr}")
    return result.stdout.strip()


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[bool, str, float]:
    """(passed, first failing test or reason, seconds)."""
    started = time.monotonic()
    try:
        parallel = PARALLEL if any((copy / t).is_dir() for t in tests) else ()
        result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST, *parallel, *tests], cwd=copy,
                                env=environment(copy), capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=RUN_LIMIT)
    except subprocess.TimeoutExpired:
        return False, f"no result within {RUN_LIMIT} s (a hang)", time.monotonic() - started
    elapsed = time.monotonic() - started
    if result.returncode == 0:
        return True, "", elapsed
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)
    tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
    return False, failed[0] if failed else " | ".join(tail), elapsed


def apply(copy: Path, mutation: Mutation) -> str | None:
    """Mutate the copy's file; the original text, or None when the mutation is stale."""
    path = copy / mutation.file
    original = path.read_text() if path.exists() else ""
    if original.count(mutation.old) != 1:
        return None
    path.write_text(original.replace(mutation.old, mutation.new))
    return original


def check_mutant_is_imported(copy: Path, mutation: Mutation) -> None:
    file = imported_file(copy, module_of(mutation.file))
    expected = copy / mutation.file
    if Path(file).resolve() != expected.resolve():
        raise RuntimeError(f"the tests would import {file}, not the mutant {expected}")
    if mutation.new and mutation.new not in Path(file).read_text():
        raise RuntimeError(f"{file} does not hold the mutation")


def main(selected: list[str]) -> int:
    mutations = [m for m in MUTATIONS if not selected or any(s in m.name for s in selected)]
    with tempfile.TemporaryDirectory(prefix="c4t-mutate-") as temp:
        copy = Path(temp) / "tree"
        copy_tree(copy)
        tests = tuple(dict.fromkeys(t for m in mutations for t in m.tests))
        print(f"baseline: {len(tests)} test paths on the unmutated copy ...", flush=True)
        passed, why, seconds = run_tests(copy, tests)
        if not passed:
            print(f"baseline FAILED ({why}, {seconds:.0f} s): the suite is not green here; "
                  "no mutation can be judged", flush=True)
            return 2
        print(f"baseline green in {seconds:.0f} s", flush=True)
        rows = []
        for mutation in mutations:
            original = apply(copy, mutation)
            if original is None:
                rows.append((mutation, "STALE", "its text is not found exactly once", 0.0))
                print(f"STALE     {mutation.name}", flush=True)
                continue
            try:
                check_mutant_is_imported(copy, mutation)
                passed, why, seconds = run_tests(copy, mutation.tests)
            finally:
                (copy / mutation.file).write_text(original)
            verdict = "SURVIVED" if passed else "killed"
            rows.append((mutation, verdict, why, seconds))
            print(f"{verdict:9} {mutation.name} ({seconds:.0f} s){': ' + why if why else ''}", flush=True)
    survivors = [r for r in rows if r[1] != "killed"]
    print(f"\n{len(rows) - len(survivors)} of {len(rows)} mutations killed")
    for mutation, verdict, why, _ in survivors:
        print(f"  {verdict}: {mutation.name}: {mutation.why} ({mutation.file}; tests: "
              f"{', '.join(mutation.tests)}){': ' + why if why else ''}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
