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

CLI = "cli"
LIBRARY = "library"
DOCKER = "docker"
API_SERVER = "api_server"
JUPYTER = "jupyter"
COLAB = "colab"
CI = "ci"
CONTAINER = "container"
ENVIRONMENTS = (CLI, LIBRARY, DOCKER, API_SERVER, JUPYTER, COLAB, CI, CONTAINER)

#: Overrides detection, e.g. ``CRAWL4AI_TELEMETRY_ENVIRONMENT=library``.
OVERRIDE_ENV = "CRAWL4AI_TELEMETRY_ENVIRONMENT"

# The environments where our own server runs and "no decision yet" means "on".
OPT_OUT_ENVIRONMENTS = frozenset({DOCKER, API_SERVER})

_CI_VARIABLES = (
    "CI",
    "CONTINUOUS_INTEGRATION",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "TF_BUILD",
    "TEAMCITY_VERSION",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
    "APPVEYOR",
)
_FALSY = ("", "0", "false", "no", "off")

_cached: str | None = None
_api_server_marked = False


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSY


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
    override = os.environ.get(OVERRIDE_ENV, "").strip().lower()
    if override in ENVIRONMENTS:
        return override
    global _cached
    if _cached is None:
        _cached = _detect()
    return _cached


def _detect() -> str:
    if _api_server_marked or _truthy("CRAWL4AI_API_SERVER"):
        return API_SERVER
    if _truthy("CRAWL4AI_DOCKER"):
        return DOCKER
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
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
    return any(_truthy(name) for name in _CI_VARIABLES)


def has_tty() -> bool:
    """Both ends of the terminal are a person's: stdin to answer, stdout to see the question."""
    try:
        return bool(
            sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty()
        )
    except (ValueError, OSError, AttributeError):
        return False


def can_prompt_in_terminal() -> bool:
    """A terminal prompt may be shown: a TTY, not CI, not our server."""
    return has_tty() and not is_ci() and detect() not in OPT_OUT_ENVIRONMENTS


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
