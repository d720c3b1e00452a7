"""The design documents name only what exists: every file or folder, and every ``module.name``
of the add-on, that ``docs/architecture.md`` and ``CONTRIBUTING.md`` cite in backticks.

A newcomer follows these pages to the code; a renamed module or a removed function must fail
here, not send them looking for it (docs/architecture.md: "where this page and the code
disagree, the code is right and this page is a bug").
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "crawl4ai" / "telemetry"
DOCS = ("docs/architecture.md", "CONTRIBUTING.md")
# Where a cited path may be relative to: the repository, the package, the crawl4ai integration.
BASES = (REPO, PACKAGE, PACKAGE / "integrations" / "crawl4ai", PACKAGE / "scrub")
_PATH = re.compile(r"[\w.\-]+(?:/[\w.\-]*)*(?:\.(?:py|md|txt|toml)|/)")
_DOTTED = re.compile(r"[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def _cited(text: str) -> list[str]:
    return re.findall(r"`([^`\s]+?)(?:\(\))?`", text)


def _path_exists(token: str) -> bool:
    if token.startswith(".venv/"):
        return True  # made by `just setup`, not part of the tree
    if any((base / token).exists() for base in BASES):
        return True
    if "/" not in token:  # a file named by itself: somewhere in the package or the dashboard
        return any(PACKAGE.rglob(token)) or any((REPO / "tui").rglob(token))
    return False


def _resolves(token: str) -> bool | None:
    """True or False for a ``module.name`` of the add-on; None for anything else (``os.environ``)."""
    parts = token.split(".")
    for split in range(len(parts), 0, -1):
        module_name = "crawl4ai.telemetry." + ".".join(parts[:split])
        if not (PACKAGE.joinpath(*parts[:split]).with_suffix(".py").exists()
                or PACKAGE.joinpath(*parts[:split], "__init__.py").exists()):
            continue
        target = importlib.import_module(module_name)
        for attribute in parts[split:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return None


def _problems(text: str) -> list[str]:
    problems = []
    for token in _cited(text):
        if _PATH.fullmatch(token) and ("/" in token or token.endswith(".py")):
            if not _path_exists(token):
                problems.append(f"no such file or folder: {token}")
        elif _DOTTED.fullmatch(token) and _resolves(token) is False:
            problems.append(f"no such name: {token}")
    return problems


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_and_name_the_design_docs_cite_exists(doc):
    assert _problems((REPO / doc).read_text(encoding="utf-8")) == []


def test_the_check_sees_a_stale_file_and_a_stale_name():
    stale = "`scrub/allowlist.py`, `scrub.vocabulary.defines`, `settings.NO_SUCH_TIMEOUT`"
    assert _problems(stale) == ["no such file or folder: scrub/allowlist.py",
                                "no such name: scrub.vocabulary.defines",
                                "no such name: settings.NO_SUCH_TIMEOUT"]
    assert _problems("`scrub/known_names.py`, `settings.EXIT_KEEP_GRACE`, `os.environ`") == []
