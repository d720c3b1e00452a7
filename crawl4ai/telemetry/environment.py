"""Where are we running? The answer picks the consent default and fills the report's field.

Detection is cheap, done when first needed (never at import) and cached. It never imports IPython
or anything heavy: a notebook is recognised by modules already loaded.

Opt-out by default belongs only to Crawl4AI's own Docker image and API server, recognised by an
explicit marker (``CRAWL4AI_DOCKER=true``, ``CRAWL4AI_API_SERVER=true`` or :func:`mark_api_server`).
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
    if settings.marked_docker():
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
