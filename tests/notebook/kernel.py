"""Execute notebook cells in a real Jupyter kernel (ipykernel, driven by nbclient).

The kernel is this interpreter (a kernelspec written for the test), started with the test's
home, the local Sentry server's DSN and no CI variables unless a test adds them, so the
environment it detects is ``jupyter`` (or ``colab``) for real.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.conftest import child_env

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNEL = "crawl4ai-telemetry-test"


def run_cells(cells: list[str], home: Path, **env: str) -> Any:
    """Run ``cells`` in order in one fresh kernel; returns the executed notebook (errors kept)."""
    spec_dir = home / "kernels" / KERNEL
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "crawl4ai-telemetry tests", "language": "python",
    }))
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in cells])
    km = KernelManager(kernel_name=KERNEL,
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(home / "kernels")]))
    client = NotebookClient(nb, km=km, timeout=60, allow_errors=True)
    client.execute(env=child_env(home, JUPYTER_PLATFORM_DIRS="1", **env))
    return nb


def outputs(nb: Any, index: int) -> list[Any]:
    return nb.cells[index].outputs


def text_of(nb: Any, index: int) -> str:
    """A cell's printed text, markdown and error names, as one string."""
    parts = []
    for out in outputs(nb, index):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        else:
            data = out.get("data", {})
            parts.append(data.get("text/markdown", "") or data.get("text/plain", ""))
    return "\n".join(parts)


def shows_widget(nb: Any, index: int) -> bool:
    return any(WIDGET_MIME in out.get("data", {}) for out in outputs(nb, index))


def shows_markdown(nb: Any, index: int) -> bool:
    return any("text/markdown" in out.get("data", {}) for out in outputs(nb, index))
