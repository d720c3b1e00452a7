"""Crawl4AI's Docker image as it ships, reproduced here: its application folder, its environment
and its command lines, read from the vendored files (crawl4ai_server/, see its README.md).

- ``IMAGE_ENV``: the variables the image's ``Dockerfile`` sets (``ENV`` lines), plus what
  ``entrypoint.sh`` exports (``REDIS_PASSWORD``, ``GUNICORN_BIND``) and supervisord's
  ``environment=PYTHONUNBUFFERED=1``. No telemetry variable: the image sets none.
- :func:`gunicorn_command`: the ``[program:gunicorn]`` command line of ``supervisord.conf``.
- :func:`app_folder`: a copy of the image's ``/app`` (``COPY deploy/docker/* ${APP_HOME}/``).
- :func:`install_browser`: Debian's Chromium where the image's ``playwright install`` puts its
  browser (``~/.cache/ms-playwright``), since Playwright's own build cannot be downloaded here.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
from pathlib import Path

SERVER_SOURCE = Path(__file__).parent / "crawl4ai_server"

# Dockerfile (v0.9.2): `ENV C4AI_VERSION=$C4AI_VER` (ARG C4AI_VER=0.9.2), the `ENV PYTHON...`
# block with REDIS_HOST/REDIS_PORT, and `ENV PYTHON_ENV=production`.
IMAGE_ENV = {
    "C4AI_VERSION": "0.9.2",
    "PYTHONFAULTHANDLER": "1",
    "PYTHONHASHSEED": "random",
    "PYTHONUNBUFFERED": "1",
    "PIP_NO_CACHE_DIR": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_DEFAULT_TIMEOUT": "100",
    "DEBIAN_FRONTEND": "noninteractive",
    "REDIS_HOST": "localhost",
    "REDIS_PORT": "6379",
    "PYTHON_ENV": "production",
}


def app_folder(destination: Path) -> Path:
    """A copy of the image's ``/app`` at ``destination``."""
    shutil.copytree(SERVER_SOURCE, destination, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def gunicorn_command(gunicorn: str, bind: str) -> list[str]:
    """supervisord.conf's gunicorn command line, with ``%(ENV_GUNICORN_BIND)s`` resolved as
    supervisord does and ``/usr/local/bin/gunicorn`` being this environment's gunicorn."""
    conf = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    conf.read(SERVER_SOURCE / "supervisord.conf")
    line = conf.get("program:gunicorn", "command").replace("%(ENV_GUNICORN_BIND)s", bind)
    argv = shlex.split(line)
    assert argv[0] == "/usr/local/bin/gunicorn" and argv[-1] == "server:app", argv
    return [gunicorn, *argv[1:]]


def image_env(base: dict[str, str], *, redis_port: int, redis_password: str, bind: str,
              **extra: str) -> dict[str, str]:
    """The gunicorn process's environment in the image: ``base`` (the test's clean environment),
    the Dockerfile's variables, entrypoint.sh's exports and supervisord's."""
    env = {**base, **IMAGE_ENV}
    env.update(REDIS_PORT=str(redis_port), REDIS_PASSWORD=redis_password, GUNICORN_BIND=bind)
    env.update(extra)
    return env


def install_browser(home: Path) -> bool:
    """Debian's Chromium as Playwright's headless shell under ``home`` (where the image keeps the
    browser ``playwright install`` downloaded: ``/home/appuser/.cache/ms-playwright``). False
    if there is no Chromium here."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    import playwright

    browsers = json.loads((Path(playwright.__file__).parent / "driver" / "package" / "browsers.json")
                          .read_text())["browsers"]
    revision = next(b["revision"] for b in browsers if b["name"] == "chromium-headless-shell")
    target = (home / ".cache" / "ms-playwright" / f"chromium_headless_shell-{revision}"
              / "chrome-headless-shell-linux64")
    target.mkdir(parents=True, exist_ok=True)
    link = target / "chrome-headless-shell"
    if not link.exists():
        os.symlink(chromium, link)
    return True
