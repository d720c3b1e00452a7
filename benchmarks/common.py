"""What every ``bench_*.py`` shares: a row of its table, and how it is run.

``python bench_x.py`` runs every measure of the script, each in a fresh interpreter (a "first
capture" is then really the process's first), and prints the table: each row is telemetry
beside its reference, measured in the same run, with the ratio and the budget. ``--only NAME``
runs one measure in this process, ``--json`` prints the rows as one JSON line at the end (what
``compare.py`` reads when it runs the same measure against two trees).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable

_rows: list[list[object]] = []
_quiet = False


def row(name: str, ours: float, reference: float, unit: str, budget: str) -> None:
    _rows.append([name, ours, reference, unit, budget])
    if not _quiet:
        ratio = ours / reference if reference else float("nan")
        print(f"{name:<44} {ours:>10.3f} {unit:<3} vs {reference:>10.3f} {unit:<3} ratio {ratio:6.2f}  budget {budget}")


def main(measures: dict[str, Callable[[], None]]) -> int:
    global _quiet
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(measures), action="append")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line")
    args = parser.parse_args()
    _quiet = args.json
    if not args.json and not args.only:
        print(json.dumps({"python": sys.version.split()[0]}))
    if not args.only:
        failed = 0
        for name in measures:
            child = subprocess.run([sys.executable, sys.argv[0], "--only", name], check=False,
                                   stdin=subprocess.DEVNULL)
            failed += child.returncode != 0
        return 1 if failed else 0
    for name in args.only:
        measures[name]()
    if args.json:
        print(json.dumps(_rows))
    return 0
