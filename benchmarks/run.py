"""Run every ``bench_*.py`` beside this file, each in its own interpreter, and print its table.

Each benchmark measures telemetry and its reference side by side in one run and prints the
ratio next to the budget from docs/architecture.md, so a noisy shared machine shifts both sides alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = 0
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CRAWL4AI_TELEMETRY", "CI"))}
        env.update(HOME=home, CRAWL4_AI_BASE_DIRECTORY=home, LITELLM_LOCAL_MODEL_COST_MAP="True")
        # Measure what users run: installed packages come with their bytecode compiled.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(here.parent / "crawl4ai")],
                       env=env, stdout=subprocess.DEVNULL, check=False)
        for script in sorted(here.glob("bench_*.py")):
            print(f"== {script.stem}", flush=True)
            result = subprocess.run([sys.executable, str(script)], env=env, stdin=subprocess.DEVNULL)
            failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
