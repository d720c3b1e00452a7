"""Every knob of telemetry in one table: environment variables, paths and timeouts.

Why one module: a setting read in several places drifts (four "truthy" parsers used to disagree
on their word lists). Here each environment variable is one row of :data:`SETTINGS` — its name,
its parser, its default, what it means, and what an unrecognised value falls back to — and there
is one word table for yes/no (:data:`TRUE_WORDS`, :data:`FALSE_WORDS`). Everything else in the
package, the tests and the demo read these rows instead of ``os.environ``.

A value that a row does not recognise never crashes anything and never silently turns sending
on: it falls back to the row's safe value and is listed by :func:`problems`, which ``status``
shows. :func:`read` returns the raw text beside the parsed value for the same reason.

This is a leaf module (it imports nothing of ours, and only ``os`` at import time) because it
sits on the capture path: :func:`kill_switch` runs on every error and costs two dict look-ups.
"""

from __future__ import annotations

import os
from typing import Any

from ._record import Record

#: The one yes/no vocabulary (compared after ``strip().lower()``); "" means "not set".
TRUE_WORDS = frozenset({"1", "true", "yes", "on", "enabled"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "disabled"})
#: ``CRAWL4AI_TELEMETRY``'s third word: reports are made and kept on this machine, none is sent.
LOCAL_WORDS = frozenset({"local", "local_only", "local-only"})

#: Values of ``CRAWL4AI_TELEMETRY_ENVIRONMENT`` (the environment types a report may carry).
ENVIRONMENTS = ("cli", "library", "docker", "api_server", "jupyter", "colab", "ci", "container")

#: The DSN the project's maintainers receive reports at. Empty: reports stay in the local outbox
#: until a DSN is configured, so nothing leaves a machine by surprise.
DEFAULT_DSN = ""

# -- timeouts (seconds) --------------------------------------------------------------------------
#: Exit waits at most this long for pending reports (``CRAWL4AI_TELEMETRY_EXIT_TIMEOUT``): a
#: report not sent by then stays pending in the outbox and the next start sends it...
EXIT_TIMEOUT = 0.3
#: ...and never longer than this, whatever the variable says.
EXIT_TIMEOUT_MAX = 30.0
#: Errors captured on their own thread after exit's bound (an exit hook of the host's that runs
#: after ours, a ``__del__`` at finalisation) are still kept in the outbox until keeping them has
#: taken this long in all: keeping is local work, a few milliseconds each, never a wait (no lock
#: is waited for past the bound). Later ones are counted lost.
EXIT_KEEP_GRACE = 0.05
#: ``telemetry.flush()``'s default wait.
FLUSH_TIMEOUT = 2.0
#: The longest one provider call may take to say whether a report was accepted.
DELIVERY_TIMEOUT = 10.0
#: A new report waits this long in the outbox before it is sent, so the repeats of its bug that
#: follow at once (a retried call, one hit per field or per URL) are counted into it; ``flush()``
#: and exit send it at once.
GATHER_SECONDS = 2.0
#: ``CRAWL4AI_TELEMETRY_REPEAT_WINDOW``'s default and its cap (seconds).
REPEAT_WINDOW = 24 * 3600.0
REPEAT_WINDOW_MAX = 30 * 24 * 3600.0


class Setting(Record):
    """One environment variable: how to read it and what it means (a row of :data:`SETTINGS`).

    ``parse(text)`` returns ``(value, recognised)``; an unrecognised text yields ``unrecognised``
    (the row's safe fallback)."""

    __slots__ = ("name", "parse", "default", "meaning", "unrecognised", "expected")
    name: str
    parse: Any
    default: Any
    meaning: str
    unrecognised: Any
    expected: str

    def __init__(self, name: str, parse: Any, default: Any, meaning: str, *,
                 unrecognised: Any = None, expected: str = "") -> None:
        super().__init__(name, parse, default, meaning,
                         default if unrecognised is None else unrecognised, expected)

    def __repr__(self) -> str:
        return f"Setting({self.name!r})"


class Reading(Record):
    """What one variable holds now: the raw text (None when unset), the value telemetry uses,
    and, when the text was not recognised, a sentence saying so."""

    __slots__ = ("setting", "raw", "value", "problem")
    setting: Setting
    raw: str | None
    value: Any
    problem: str | None

    def __repr__(self) -> str:
        return f"Reading({self.setting.name!r}, raw={self.raw!r}, value={self.value!r})"


# -- parsers: text (stripped, not empty) -> (value, recognised) ----------------------------------


def parse_flag(text: str) -> tuple[bool | None, bool]:
    """The one truthy/falsy parser of the package."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True, True
    if word in FALSE_WORDS:
        return False, True
    return None, False


def is_valid_email(email: str) -> bool:
    """Syntax only, by the maintained ``email-validator`` (RFC 5321/5322 and internationalised
    addresses): telemetry never looks an address or its domain up (no DNS)."""
    email = email.strip() if isinstance(email, str) else ""
    if not 0 < len(email) <= 254:
        return False
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _email(text: str) -> tuple[str | None, bool]:
    text = text.strip()
    return (text, True) if is_valid_email(text) else (None, False)


def _dsn(text: str) -> tuple[str, bool]:
    from urllib.parse import urlsplit

    text = text.strip()
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and bool(parts.username)
        ok = ok and parts.path.strip("/") != ""
    except ValueError:
        ok = False
    return (text, True) if ok else ("", False)


def _name(text: str) -> tuple[str, bool]:
    name = text.strip().lower()
    ok = name.replace("_", "").replace("-", "").replace(".", "").isalnum()
    return (name, True) if ok else (None, False)


def _environment(text: str) -> tuple[str | None, bool]:
    name = text.strip().lower()
    return (name, True) if name in ENVIRONMENTS else (None, False)


def _seconds(text: str) -> tuple[float | None, bool]:
    try:
        value = float(text.strip())
    except ValueError:
        return None, False
    if value != value or value < 0:  # NaN, negative
        return None, False
    return min(value, EXIT_TIMEOUT_MAX), True


_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _duration(text: str) -> tuple[float | None, bool]:
    """A length of time: a number of hours (``24``), or a number with ``s``, ``m``, ``h`` or
    ``d`` (``90m``, ``1d``); in seconds, at most :data:`REPEAT_WINDOW_MAX`."""
    word = text.strip().lower()
    scale = _DURATION_UNITS.get(word[-1:], None)
    try:
        value = float(word[:-1] if scale else word) * (scale or 3600.0)
    except ValueError:
        return None, False
    if value != value or value < 0:  # NaN, negative
        return None, False
    return min(value, REPEAT_WINDOW_MAX), True


def _path(text: str) -> tuple[str, bool]:
    return text, True


def _text(text: str) -> tuple[str, bool]:
    return text.strip(), True


_FLAG_WORDS = "1/0, true/false, yes/no, on/off, enabled/disabled"


def _telemetry_switch(text: str) -> tuple[bool | str | None, bool]:
    """``CRAWL4AI_TELEMETRY``: a yes/no word, or ``local`` (the value ``"local"``)."""
    if text.strip().lower() in LOCAL_WORDS:
        return "local", True
    return parse_flag(text)


#: Every environment variable telemetry reads, in the order the docs list them.
SETTINGS: tuple[Setting, ...] = (
    Setting("CRAWL4AI_TELEMETRY", _telemetry_switch, None,
            "0 turns telemetry off whatever is stored; 1 turns it on for this process where "
            "nothing is stored; local keeps reports on this machine and sends none on its own "
            "(unless a stored choice says no)",
            unrecognised=False, expected=_FLAG_WORDS + ", local"),
    Setting("DO_NOT_TRACK", parse_flag, False,
            "1 turns telemetry off whatever is stored (the consoledonottrack.com convention)",
            unrecognised=True, expected=_FLAG_WORDS),
    Setting("CRAWL4AI_TELEMETRY_EMAIL", _email, None,
            "the email to attach, for this process (never stored)",
            expected="an email address"),
    Setting("CRAWL4AI_SENTRY_DSN", _dsn, DEFAULT_DSN,
            "where reports go (Sentry protocol); without it reports stay in the local outbox",
            unrecognised="", expected="a DSN like https://<key>@<host>/<project>"),
    Setting("CRAWL4AI_TELEMETRY_PROVIDER", _name, None,
            "pick a provider by name (sentry, local, memory, or a third party's entry point)",
            expected="a provider name"),
    Setting("CRAWL4AI_TELEMETRY_ENVIRONMENT", _environment, None,
            "override environment detection",
            expected=", ".join(ENVIRONMENTS)),
    Setting("CRAWL4AI_TELEMETRY_EXIT_TIMEOUT", _seconds, EXIT_TIMEOUT,
            f"the most exit waits for pending reports, in seconds (at most {EXIT_TIMEOUT_MAX:g})",
            expected="a number of seconds"),
    Setting("CRAWL4AI_TELEMETRY_REPEAT_WINDOW", _duration, REPEAT_WINDOW,
            "how long a bug already reported from this machine is counted instead of reported "
            "again: its later occurrences ride on the next report after that (hours, or a number "
            "with s, m, h or d; default 24h)",
            expected="a duration like 24h, 90m or 1d"),
    Setting("CRAWL4AI_TELEMETRY_HOOK", parse_flag, True,
            "0 stops activating automatically when Crawl4AI is imported "
            "(telemetry.install() still works)",
            expected=_FLAG_WORDS),
    Setting("CRAWL4AI_TELEMETRY_DEBUG", parse_flag, False,
            "1 prints each report to stderr as it is kept (redacted, the exact stored bytes), "
            "and telemetry's own internal errors instead of swallowing them",
            unrecognised=True, expected=_FLAG_WORDS),
    Setting("CRAWL4AI_DOCKER", parse_flag, False,
            "this process runs in Crawl4AI's Docker image (for an image of your own built on "
            "it; the official image is recognised without it): reports are on there unless "
            "turned off",
            expected=_FLAG_WORDS),
    Setting("CRAWL4AI_API_SERVER", parse_flag, False,
            "this process is Crawl4AI's API server (Crawl4AI's own server is recognised without "
            "it): reports are on there unless turned off",
            expected=_FLAG_WORDS),
    Setting("C4AI_VERSION", _text, "",
            "set by Crawl4AI's Docker image (its Dockerfile); together with the image's "
            "application folder (/app) as the working folder it recognises the image"),
    Setting("CRAWL4_AI_BASE_DIRECTORY", _path, "",
            "Crawl4AI's own variable: the folder holding .crawl4ai (default: your home folder)"),
)

_BY_NAME = {s.name: s for s in SETTINGS}

#: Variables set by CI systems; any of them (not "false") makes the environment ``ci``.
CI_VARIABLES = (
    "CI", "CONTINUOUS_INTEGRATION", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI",
    "TRAVIS", "JENKINS_URL", "TF_BUILD", "TEAMCITY_VERSION", "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID", "DRONE", "APPVEYOR",
)
#: Other variables that change what telemetry does (read by detection or by sentry-sdk).
SIGNALS = ("COLAB_RELEASE_TAG", "SENTRY_DSN", "SENTRY_SPOTLIGHT")


def names() -> tuple[str, ...]:
    """Every variable that can change telemetry's behaviour (tests and the demo clear these)."""
    return tuple(s.name for s in SETTINGS) + CI_VARIABLES + SIGNALS


# -- reading -------------------------------------------------------------------------------------

# Hot path (every capture): on POSIX, look at the bytes mapping os.environ keeps itself (what
# os.environ.get would decode), which skips os.environ's encode/decode wrappers.
_ENV_BYTES = getattr(os.environ, "_data", None) if os.name == "posix" else None


def _raw(name: str) -> str | None:
    if _ENV_BYTES is not None:
        value = _ENV_BYTES.get(name.encode())
        return None if value is None else value.decode("utf-8", "surrogateescape")
    return os.environ.get(name)


def read(name: str) -> Reading:
    """The variable ``name`` (a row of :data:`SETTINGS`) as it is now: raw text, value, problem."""
    setting = _BY_NAME[name]
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return Reading(setting, raw, setting.default, None)
    value, recognised = setting.parse(raw)
    if recognised:
        return Reading(setting, raw, value, None)
    problem = f"{name}={raw.strip()!r} is not recognised"
    if setting.expected:
        problem += f" (expected {setting.expected})"
    fallback = setting.unrecognised
    problem += f"; using {_describe(setting, fallback)}"
    return Reading(setting, raw, fallback, problem)


def _describe(setting: Setting, value: Any) -> str:
    if setting.name == "CRAWL4AI_TELEMETRY" and value is False:
        return "off"
    if setting.name == "DO_NOT_TRACK" and value is True:
        return "do not track (telemetry off)"
    if value is None or value == "":
        return "no value"
    if isinstance(value, bool):
        return "on" if value else "off"
    return repr(value)


def get(name: str) -> Any:
    """The value telemetry uses for ``name`` now (its default when unset or unrecognised)."""
    return read(name).value


def problems() -> list[str]:
    """One sentence per variable whose value is not recognised (``status`` shows them)."""
    return [r.problem for r in map(read, _BY_NAME) if r.problem]


# -- the questions the rest of the package asks --------------------------------------------------


_KILL_KEYS = (b"CRAWL4AI_TELEMETRY", b"DO_NOT_TRACK")
_kill_memo: tuple[Any, str | None] = ((), None)  # (the two raw values last read, the answer)


def kill_switch() -> str | None:
    """Why the environment forbids telemetry now, or None. On every capture: two dictionary
    look-ups, and the words are parsed again only when one of the two values changed.

    ``CRAWL4AI_TELEMETRY`` set to anything but a "yes" word or ``local`` (an unrecognised value
    included) turns it off; ``DO_NOT_TRACK`` set to anything but a "no" word does."""
    global _kill_memo
    if _ENV_BYTES is None:
        return _kill_switch()
    raw = (_ENV_BYTES.get(_KILL_KEYS[0]), _ENV_BYTES.get(_KILL_KEYS[1]))
    if raw != _kill_memo[0]:
        _kill_memo = (raw, _kill_switch())  # one tuple, replaced whole: safe across threads
    return _kill_memo[1]


def _kill_switch() -> str | None:
    value = _raw("CRAWL4AI_TELEMETRY")
    if value is not None:
        word = value.strip().lower()
        if word and word not in TRUE_WORDS and word not in LOCAL_WORDS:
            return f"CRAWL4AI_TELEMETRY={_shown(value)} turns telemetry off"
    dnt = _raw("DO_NOT_TRACK")
    if dnt is not None:
        word = dnt.strip().lower()
        if word and word not in FALSE_WORDS:
            return f"DO_NOT_TRACK={_shown(dnt)} turns telemetry off"
    return None


def _shown(raw: str) -> str:
    # A word of the vocabulary as typed; anything else quoted, so odd characters show as escapes.
    text = raw.strip()
    return text if text.lower() in TRUE_WORDS or text.lower() in FALSE_WORDS else repr(text)


def forces_on() -> bool:
    """``CRAWL4AI_TELEMETRY`` says yes for this process."""
    return read("CRAWL4AI_TELEMETRY").value is True


def forces_local() -> bool:
    """``CRAWL4AI_TELEMETRY=local``: reports of this process are kept here, none is sent."""
    value = _raw("CRAWL4AI_TELEMETRY")  # on every decision: no parse of the whole row
    return value is not None and value.strip().lower() in LOCAL_WORDS


def email() -> str | None:
    return read("CRAWL4AI_TELEMETRY_EMAIL").value


def dsn() -> str:
    return read("CRAWL4AI_SENTRY_DSN").value


def provider_name() -> str | None:
    return read("CRAWL4AI_TELEMETRY_PROVIDER").value


def environment_override() -> str | None:
    return read("CRAWL4AI_TELEMETRY_ENVIRONMENT").value


def exit_timeout() -> float:
    return read("CRAWL4AI_TELEMETRY_EXIT_TIMEOUT").value


def repeat_window() -> float:
    """Seconds a bug already reported from this machine is counted instead of sent again."""
    return read("CRAWL4AI_TELEMETRY_REPEAT_WINDOW").value


def hook_enabled() -> bool:
    return bool(read("CRAWL4AI_TELEMETRY_HOOK").value)


def debug_enabled() -> bool:
    return bool(read("CRAWL4AI_TELEMETRY_DEBUG").value)


def marked_docker() -> bool:
    return bool(read("CRAWL4AI_DOCKER").value)


def marked_api_server() -> bool:
    return bool(read("CRAWL4AI_API_SERVER").value)


def image_version() -> str:
    """``C4AI_VERSION``, which Crawl4AI's Dockerfile sets (``ENV C4AI_VERSION=$C4AI_VER``)."""
    return read("C4AI_VERSION").value


def ci_variable() -> str | None:
    """The first CI variable that is set (and not "false"), or None."""
    # CI systems set these to all sorts of things (a URL, a version): set and not "no" is CI.
    for name in CI_VARIABLES:
        value = os.environ.get(name)
        word = (value or "").strip().lower()
        if word and word not in FALSE_WORDS:
            return name
    return None


def colab_marked() -> bool:
    """Google Colab's runtime sets this variable (``google.colab`` may not be imported yet)."""
    return "COLAB_RELEASE_TAG" in os.environ


def terminal_type() -> str | None:
    """``TERM``: what the terminal says it is (the prompt draws a menu only where one can be)."""
    return os.environ.get("TERM")


def home_dir() -> str:
    """This account's home folder (``~``), as Python resolves it."""
    return os.path.expanduser("~")


def account_names() -> tuple[set[str], set[str]]:
    """(home folders, user names) as the environment states them (``HOME``, ``USERPROFILE``,
    ``USER``, ``LOGNAME``, ``USERNAME``): values the scrubber redacts from reports, never
    settings that decide anything. Empty values left out."""
    homes = {os.environ.get(k, "") for k in ("HOME", "USERPROFILE")} | {home_dir()}
    users = {os.environ.get(k, "") for k in ("USER", "LOGNAME", "USERNAME")}
    return homes - {""}, users - {""}


# -- paths ---------------------------------------------------------------------------------------


# A relative path setting (``CRAWL4_AI_BASE_DIRECTORY=./data``) names a folder of the directory
# the program was in when it was first read: made absolute then, once, so a program that changes
# directory later still reads and writes the same settings and outbox (as Crawl4AI does, which
# reads it at import). Keyed by the raw text: a new value is made absolute when first seen.
_absolute: dict[str, str] = {}


def _absolute_once(raw: str) -> str:
    path = _absolute.get(raw)
    if path is None:
        path = _absolute.setdefault(raw, os.path.abspath(os.path.expanduser(raw)))
    return path


def base_dir() -> str:
    """``~/.crawl4ai``, moved the same way Crawl4AI moves it (``CRAWL4_AI_BASE_DIRECTORY``);
    always absolute."""
    root = read("CRAWL4_AI_BASE_DIRECTORY").value or os.path.expanduser("~")
    return os.path.join(_absolute_once(root), ".crawl4ai")


def config_path() -> str:
    """The settings file shared with Crawl4AI; telemetry owns its ``"telemetry"`` key."""
    return os.path.join(base_dir(), "config.json")


def telemetry_dir() -> str:
    """Telemetry's own folder: the outbox and the counters file."""
    return os.path.join(base_dir(), "telemetry")


def outbox_dir() -> str:
    return os.path.join(telemetry_dir(), "outbox")


def counters_path() -> str:
    """Errors seen/reported/deduplicated/dropped per kind, over this run and past ones."""
    return os.path.join(telemetry_dir(), "counters.json")


# Read once now, in the directory the program started in (see _absolute_once).
base_dir()
