"""The docs' provider section, run as written: each Python example is executed, the
entry-point example is installed as a real distribution, and the examples receive scrubbed
reports through the real pipeline."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

from crawl4ai import telemetry
from crawl4ai.telemetry import providers
from tests.conftest import run_python
from tests.privacy.canary import assert_absent, canary

DOCS = Path(__file__).resolve().parents[2] / "docs" / "md_v2" / "core" / "telemetry.md"


def section() -> str:
    text = DOCS.read_text()
    start = text.index("## Provider architecture")
    return text[start:text.index("\n## ", start + 1)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


@pytest.fixture(autouse=True)
def no_runtime_provider():
    yield
    providers.use(None)


def test_the_section_shows_both_shapes_the_entry_point_and_the_runtime_call():
    python = blocks("python")
    assert len(python) == 3 and len(blocks("toml")) == 1
    assert "def send_exception(self, exc, context=None)" in python[0]
    assert "def send_event(self, event" in python[1]
    assert "telemetry.use_provider(CustomProvider())" in python[2]


def test_the_examples_run_as_written_and_receive_scrubbed_reports(home, monkeypatch, capsys):
    monkeypatch.setenv("CRAWL4AI_TELEMETRY_ENVIRONMENT", "library")
    namespace: dict = {}
    shape_one, shape_two, runtime = blocks("python")
    exec(shape_one, namespace)  # noqa: S102 - the docs' own code
    received = []

    class Watched(namespace["CustomProvider"]):  # the docs' class, its method as written
        def send_exception(self, exc, context=None):
            received.append((exc, context))
            return super().send_exception(exc, context)

    # The runtime example imports the class from the package the entry-point example names.
    import types

    package, module = types.ModuleType("my_package"), types.ModuleType("my_package.telemetry")
    module.CustomProvider = Watched
    package.telemetry = module
    monkeypatch.setitem(sys.modules, "my_package", package)
    monkeypatch.setitem(sys.modules, "my_package.telemetry", module)
    exec(runtime, namespace)  # noqa: S102 - telemetry.use_provider(CustomProvider())
    telemetry.enable()  # a "yes" is bound to its receiver: given once the provider is in use
    secret = canary("tok")
    try:
        raise ValueError(f"login failed for https://example.com/?key={secret}")
    except ValueError as exc:
        telemetry.capture_exception(exc, {"operation": "login", "token": secret})
    assert telemetry.flush(10)
    [(exc, context)] = received
    assert type(exc).__name__ == "ValueError" and exc.__traceback__ is None
    assert_absent({"exc": repr((str(exc), exc.args, exc.event, context)).encode()}, secret)
    counts = telemetry.status()["outbox"]["counts"]
    assert {state: n for state, n in counts.items() if n} == {"sent": 1}

    exec(shape_two, namespace)  # noqa: S102
    shown = telemetry.use_provider(namespace["MyServiceProvider"]())
    assert shown["destination"] == "my service at collector.example.com"
    telemetry.enable()  # another receiver: a "yes" does not carry over, so agree again
    try:
        raise KeyError("k")
    except KeyError as exc:
        telemetry.capture_exception(exc)
    assert telemetry.flush(10)
    assert "would deliver KeyError" in capsys.readouterr().out


CRASH = r"""
from crawl4ai import telemetry
telemetry.enable()
try:
    raise RuntimeError("boom")
except RuntimeError as e:
    telemetry.capture_exception(e)
telemetry.flush(10)
status = telemetry.status()
print(json.dumps([status["provider"], status["outbox"]["counts"].get("sent", 0)]))
"""


def test_the_entry_point_example_registers_the_docs_provider(home, tmp_path):
    import tomllib

    [toml] = blocks("toml")
    group = tomllib.loads(toml)["project"]["entry-points"]["crawl4ai.telemetry.providers"]
    site = tmp_path / "site"
    dist = site / "my_package-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-package\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in group.items())
    (dist / "entry_points.txt").write_text(f"[crawl4ai.telemetry.providers]\n{lines}")
    package = site / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "telemetry.py").write_text(blocks("python")[0])
    result = run_python("import json\n" + textwrap.dedent(CRASH), home, PYTHONPATH=str(site),
                        CRAWL4AI_TELEMETRY_PROVIDER="custom",
                        CRAWL4AI_TELEMETRY_ENVIRONMENT="library")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == ["custom", 1]
