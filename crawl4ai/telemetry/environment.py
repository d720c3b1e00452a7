"""Where are we running? The answer picks the consent default and fills the report's field.

Detection is cheap, done when first needed (never at import) and cached. It never imports IPython
or anything heavy: a notebook is recognised by modules already loaded.

Opt-out by default belongs only to Crawl4AI's own Docker image and API server, recognised by
evidence only they give, never by guessing from ``/.dockerenv`` or cgroups:

- ``api_server``: Crawl4AI's server application is loaded in this process (the post-import hook
  saw it, :func:`is_crawl4ai_server_folder`), ``init_server(app)`` was called
  (:func:`mark_api_server`), or ``CRAWL4AI_API_SERVER=true``.
- ``docker``: ``CRAWL4AI_DOCKER=true``, or the image as it ships (``unclecode/crawl4ai``,
  ``Dockerfile`` and ``deploy/docker/`` of the crawl4ai repository, v0.9.2): its Dockerfile sets
  ``ENV C4AI_VERSION=$C4AI_VER`` and ``WORKDIR ${APP_HOME}`` (``/app``), into which
  ``COPY deploy/docker/* ${APP_HOME}/`` puts the server application; ``supervisord.conf`` starts
  gunicorn with ``directory=/app``, and ``docker exec`` starts in the WORKDIR too. So: the
  variable ``C4AI_VERSION`` *and* a working folder holding the server application. Either alone
  is not ours (a variable can be copied into any environment; a checkout of the repository is a
  developer's). ``PYTHON_ENV=production``, ``REDIS_HOST`` and the entrypoint's ``GUNICORN_BIND``
  are set by many images and say nothing about whose image this is.

Any other container (``/.dockerenv``, cgroups) is reported as ``container`` and follows the
library/CLI rules: nothing is sent until a person says yes.
"""

from __future__ import annotations

import os
import sys

from . import settings

CLI = "cli"
LIBRARY = "library"
DOCKER = "docker"
API_SERVER = "api_server"
JUPYTER = "jupyter"
COLAB = "colab"
CI = "ci"
CONTAINER = "container"
ENVIRONMENTS = settings.ENVIRONMENTS  # the values CRAWL4AI_TELEMETRY_ENVIRONMENT accepts

# The environments where our own server runs and "no decision yet" means "on".
OPT_OUT_ENVIRONMENTS = frozenset({DOCKER, API_SERVER})

_cached: str | None = None
_api_server_marked = False


def mark_api_server() -> None:
    """Called by the server's init: this process is Crawl4AI's own API server."""
    global _api_server_marked, _cached
    _api_server_marked = True
    _cached = None


def reset() -> None:
    """Forget the cached answer (tests, or after the process changed its environment)."""
    global _cached, _api_server_marked
    _cached = None
    _api_server_marked = False


def detect() -> str:
    """The environment type of this process, one of :data:`ENVIRONMENTS`."""
    override = settings.environment_override()
    if override is not None:
        return override
    global _cached
    if _cached is None:
        _cached = _detect()
    return _cached


def _detect() -> str:
    if _api_server_marked or settings.marked_api_server():
        return API_SERVER
    if settings.marked_docker() or in_crawl4ai_image():
        return DOCKER
    if "google.colab" in sys.modules or settings.colab_marked():
        return COLAB
    if _in_notebook_kernel():
        return JUPYTER
    if is_ci():
        return CI
    if has_tty():
        return CLI
    if in_container():
        return CONTAINER
    return LIBRARY


# The files the image's application folder holds (``COPY deploy/docker/* ${APP_HOME}/``): the
# module gunicorn loads (supervisord.conf: ``... uvicorn.workers.UvicornWorker server:app``), the
# modules it imports from beside itself, its configuration and its supervisor file.
SERVER_FILES = ("server.py", "api.py", "crawler_pool.py", "mcp_bridge.py", "config.yml",
                "supervisord.conf")


def is_crawl4ai_server_folder(folder: str) -> bool:
    """Whether ``folder`` holds Crawl4AI's API server application (the image's ``/app``, or
    ``deploy/docker`` of the crawl4ai repository). A few ``stat`` calls, no file read."""
    try:
        return all(os.path.isfile(os.path.join(folder, name)) for name in SERVER_FILES)
    except (TypeError, ValueError, OSError):
        return False


def in_crawl4ai_image() -> bool:
    """Crawl4AI's Docker image as it ships: its ``C4AI_VERSION`` variable and, as the working
    folder, the image's application folder (see the module docstring for the source lines)."""
    if not settings.image_version():
        return False
    try:
        return is_crawl4ai_server_folder(os.getcwd())
    except OSError:  # the working folder was removed
        return False


def is_ci() -> bool:
    return settings.ci_variable() is not None


def has_tty() -> bool:
    """Both ends of the terminal are a person's: stdin to answer, stdout to see the question."""
    try:
        return bool(
            sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty()
        )
    except (ValueError, OSError, AttributeError):
        return False


def in_foreground() -> bool:
    """The terminal is this process's now: not a background job (``python crawl.py &``, or after
    Ctrl-Z and ``bg``). The kernel stops a background job that reads or sets up its terminal
    (SIGTTIN/SIGTTOU) until someone brings it back, so asking there would halt the program.
    Asked live, never cached: a job moves between foreground and background."""
    tcgetpgrp = getattr(os, "tcgetpgrp", None)
    if tcgetpgrp is None:  # no job control (Windows)
        return True
    try:
        return bool(tcgetpgrp(sys.stdin.fileno()) == os.getpgrp())
    except (AttributeError, OSError, ValueError):
        return False


def can_prompt_in_terminal() -> bool:
    """A terminal prompt may be shown: a TTY in the foreground, not CI, not our server."""
    return (has_tty() and not is_ci() and detect() not in OPT_OUT_ENVIRONMENTS
            and in_foreground())


def _in_notebook_kernel() -> bool:
    # Only look at what is already loaded: importing IPython costs ~90 ms.
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def in_container() -> bool:
    """Any container at all (report field only; never a reason to send)."""
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    try:
        with open("/proc/1/cgroup", encoding="utf-8", errors="replace") as f:
            text = f.read(4096)
    except OSError:
        return False
    return any(word in text for word in ("docker", "kubepods", "containerd", "lxc", "podman"))
