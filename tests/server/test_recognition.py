"""Crawl4AI's image and server are recognised as they ship, from evidence only they give; any
other container, or a module merely called ``server``, is not ours (this machine has a
``/.dockerenv``: guessing from it would send reports from every test run).

Each case is a child Python with the add-on's hook installed, as in a real deployment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import child_env
from tests.server.image import IMAGE_ENV, app_folder

PROBE = """
import json, sys
from crawl4ai.telemetry import environment
print(json.dumps({"environment": environment.detect()}))
"""

# What the hook did after `import server` (the module gunicorn loads: `server:app`).
SERVER_PROBE = """
import json, sys
sys.path.insert(0, ".")
crawl4ai_before = "crawl4ai" in sys.modules
import server
from crawl4ai.telemetry import environment
from crawl4ai.telemetry.integrations.server import TelemetryMiddleware
from crawl4ai.telemetry.ownership import owner_of_file
app = getattr(server, "app", None)
print(json.dumps({
    "environment": environment.detect() if "crawl4ai" in sys.modules else None,
    "middleware": [m.cls.__name__ for m in getattr(app, "user_middleware", [])].count("TelemetryMiddleware"),
    "owner": owner_of_file(server.__file__, "server")._asdict(),
}))
"""

A_USERS_SERVER = """
import crawl4ai
from fastapi import FastAPI
app = FastAPI()
"""


def run(code: str, cwd: Path, home: Path, **env: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=child_env(home, **env),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return app_folder(tmp_path / "app")


def test_the_image_is_recognised_in_its_application_folder(app_dir, home):
    # `docker exec <container> crwl telemetry status` starts in the WORKDIR, /app.
    assert run(PROBE, app_dir, home, **IMAGE_ENV)["environment"] == "docker"


@pytest.mark.parametrize("case", ["variable_elsewhere", "folder_without_variable", "other_markers"])
def test_neither_half_of_the_image_evidence_is_enough(app_dir, tmp_path, home, case):
    others = {k: v for k, v in IMAGE_ENV.items() if k != "C4AI_VERSION"}
    cwd, env = {
        "variable_elsewhere": (tmp_path, IMAGE_ENV),          # C4AI_VERSION copied into a shell
        "folder_without_variable": (app_dir, {}),            # a checkout of deploy/docker
        "other_markers": (tmp_path, {**others, "GUNICORN_BIND": "127.0.0.1:11235"}),
    }[case]
    assert run(PROBE, cwd, home, **env)["environment"] not in ("docker", "api_server")


def test_the_server_application_is_set_up_when_it_is_imported(app_dir, home):
    # No variable of ours, no call in server.py: importing it is enough.
    result = run(SERVER_PROBE, app_dir, home, **IMAGE_ENV)
    assert result["environment"] == "api_server"
    assert result["middleware"] == 1
    assert result["owner"] == {"origin": "crawl4ai", "file": "deploy/docker/server.py"}


def test_the_hook_off_or_telemetry_off_sets_nothing_up(app_dir, home):
    for env in ({"CRAWL4AI_TELEMETRY_HOOK": "0"}, {"CRAWL4AI_TELEMETRY": "0"}, {"DO_NOT_TRACK": "1"}):
        result = run(SERVER_PROBE, app_dir, home, **IMAGE_ENV, **env)
        assert result["middleware"] == 0, env


def test_a_users_module_called_server_is_left_alone(tmp_path, home):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "server.py").write_text(A_USERS_SERVER)
    result = run(SERVER_PROBE, folder, home)
    assert result["middleware"] == 0
    assert result["environment"] != "api_server"
    assert result["owner"]["origin"] == "user"


def test_a_module_called_server_without_crawl4ai_imports_nothing(tmp_path, home):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "server.py").write_text("VALUE = 1\n")
    code = "import sys; sys.path.insert(0, '.'); import server, json; " \
           "print(json.dumps({'crawl4ai': 'crawl4ai' in sys.modules}))"
    assert run(code, folder, home) == {"crawl4ai": False}
