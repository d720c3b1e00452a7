"""Consent: the user's stored choice, and the one effective decision the pipeline obeys.

The choice lives in ``~/.crawl4ai/config.json`` under ``"telemetry"``:
``{"consent": "not_set|denied|once|always", "email": ...}``. The file's other keys belong to
others, so every write is a read-modify-write under a file lock (``telemetry/config.lock``) with
an atomic replace (mode 0600). A corrupt or unreadable file counts as ``not_set``; before a write
replaces it, a corrupt file is kept aside as ``config.json.corrupt-<time>``, and one that cannot
be read (a FIFO, a device) is never replaced. Reading never blocks (see :mod:`._files`).

Environment variables win over the file and are never written into it:
``CRAWL4AI_TELEMETRY=0`` or ``DO_NOT_TRACK=1`` turn everything off, ``CRAWL4AI_TELEMETRY=1``
turns it on for this process, ``CRAWL4AI_TELEMETRY_EMAIL`` sets the email for this process.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any, NamedTuple

from . import environment
from ._files import locked, private_dirs, read_regular, write_private

NOT_SET = "not_set"
DENIED = "denied"
ONCE = "once"
ALWAYS = "always"
CONSENT_VALUES = (NOT_SET, DENIED, ONCE, ALWAYS)

SECTION = "telemetry"
_OFF = ("0", "false", "no", "off", "disabled")
_ON = ("1", "true", "yes", "on", "enabled")
# Syntax only: telemetry never looks an address up.
_EMAIL_PATTERN = r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"


class ConfigError(OSError):
    """The settings file could not be written; the message says which file and why."""


def is_valid_email(email: str) -> bool:
    return bool(email) and len(email) <= 254 and bool(re.match(_EMAIL_PATTERN, email.strip()))


def base_dir() -> str:
    """``~/.crawl4ai``, moved the same way Crawl4AI moves it (``CRAWL4_AI_BASE_DIRECTORY``)."""
    root = os.environ.get("CRAWL4_AI_BASE_DIRECTORY") or os.path.expanduser("~")
    return os.path.join(root, ".crawl4ai")


def config_path() -> str:
    return os.path.join(base_dir(), "config.json")


def telemetry_dir(config: str | None = None) -> str:
    """Our own folder beside the settings file (``~/.crawl4ai/telemetry``): outbox and locks."""
    return os.path.join(os.path.dirname(config or config_path()), "telemetry")


# crawl4ai's settings file stays small; anything bigger is not a settings file.
_CONFIG_LIMIT = 4 * 1024 * 1024


def _read_json_object(path: str) -> tuple[dict[str, Any], str | None]:
    """The file's top-level object and, if it could not be used, why.

    Never blocks (a FIFO is refused, not opened for reading). A symbolic link is followed: dotfile
    managers link settings files. A UTF-8 byte-order mark is read as JSON, as editors write it."""
    try:
        raw = read_regular(path, follow_links=True, own=False, limit=_CONFIG_LIMIT)
    except FileNotFoundError:
        return {}, None
    except OSError as e:
        return {}, f"unreadable ({e.strerror or e})"
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return {}, "corrupt (not valid JSON)"
    if not isinstance(data, dict):
        return {}, "corrupt (not a JSON object)"
    return data, None


def _normalise(section: Any) -> dict[str, Any]:
    if not isinstance(section, dict):
        return {"consent": NOT_SET, "email": None}
    consent = section.get("consent")
    email = section.get("email")
    return {
        "consent": consent if consent in CONSENT_VALUES else NOT_SET,
        "email": email if isinstance(email, str) and is_valid_email(email) else None,
    }


class ConsentStore:
    """The ``"telemetry"`` section of ``config.json``: cached reads, locked atomic writes."""

    def __init__(self, path: str | None = None) -> None:
        self._explicit_path = path
        self._cache_key: tuple[str, int, int, int] | None = None
        self._cache: dict[str, Any] = {"consent": NOT_SET, "email": None}
        self.problem: str | None = None

    @property
    def path(self) -> str:
        return self._explicit_path or config_path()

    def load(self) -> dict[str, Any]:
        """``{"consent", "email"}``; cached until the file changes (one ``stat`` per call)."""
        path = self.path
        try:
            st = os.stat(path)
            key = (path, st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            key = (path, -1, -1, -1)
        if key == self._cache_key:
            return dict(self._cache)
        data, self.problem = _read_json_object(path)
        self._cache = _normalise(data.get(SECTION))
        self._cache_key = key
        return dict(self._cache)

    def update(self, **changes: Any) -> dict[str, Any]:
        """Set keys of the telemetry section; every other key of the file survives."""

        def apply(section: dict[str, Any]) -> bool:
            section.update(changes)
            return True

        return self._modify(apply)

    def consume_once(self) -> bool:
        """Turn a stored ``once`` back into ``not_set``; True only for the one caller that did."""
        taken = []

        def apply(section: dict[str, Any]) -> bool:
            if section.get("consent") != ONCE:
                return False
            section["consent"] = NOT_SET
            taken.append(True)
            return True

        try:
            self._modify(apply)
        except ConfigError:
            return False  # cannot mark it used: sending could repeat, so do not send
        return bool(taken)

    def lock(self) -> Any:
        """The lock every writer of the settings file holds (``telemetry/config.lock``)."""
        folder = private_dirs(telemetry_dir(self.path), shared_from=os.path.dirname(self.path),
                              ours_from=telemetry_dir(self.path))
        return locked(os.path.join(folder, "config.lock"))

    def _modify(self, apply: Any) -> dict[str, Any]:
        path = self.path
        try:
            with self.lock():
                data, problem = _read_json_object(path)
                if problem and problem.startswith("corrupt"):
                    stamp = time.strftime("%Y%m%d-%H%M%S")
                    os.replace(path, f"{path}.corrupt-{stamp}")
                elif problem:
                    raise ConfigError(f"cannot read {path}: {problem}")
                section = data.get(SECTION)
                section = dict(section) if isinstance(section, dict) else {}
                if apply(section):
                    data[SECTION] = section
                    _atomic_write(path, data)
        except ConfigError:
            raise
        except OSError as e:
            raise ConfigError(f"cannot write {path}: {e.strerror or e}") from None
        self._cache_key = None
        return self.load()


def _atomic_write(path: str, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_private(path, text.encode("utf-8"), durable=True)


# ---------------------------------------------------------------------------------------------
# The effective decision


class Decision(NamedTuple):
    """What the gate says for one error, and why (shown by ``status``)."""

    send: bool
    ask: bool
    consent: str
    email: str | None
    reason: str
    source: str  # "env", "session", "stored" or "default"
    consume_once: bool = False


# The kill switch is read on every capture: on POSIX, look at the bytes mapping os.environ
# itself keeps (what os.environ.get would decode) to keep a storm of errors cheap.
_ENV_BYTES = getattr(os.environ, "_data", None) if os.name == "posix" else None


def _env_raw(name: str, key: bytes) -> str | None:
    if _ENV_BYTES is not None:
        value = _ENV_BYTES.get(key)
        return None if value is None else value.decode("utf-8", "surrogateescape")
    return os.environ.get(name)


def env_kill_switch() -> str | None:
    """Why the environment forbids telemetry, or None. Cheap: two dict lookups."""
    value = _env_raw("CRAWL4AI_TELEMETRY", b"CRAWL4AI_TELEMETRY")
    if value is not None and value.strip().lower() in _OFF:
        return f"CRAWL4AI_TELEMETRY={value.strip()} turns telemetry off"
    dnt = _env_raw("DO_NOT_TRACK", b"DO_NOT_TRACK")
    if dnt is not None and dnt.strip().lower() in _ON:
        return f"DO_NOT_TRACK={dnt.strip()} turns telemetry off"
    return None


def env_forces_on() -> bool:
    value = os.environ.get("CRAWL4AI_TELEMETRY")
    return value is not None and value.strip().lower() in _ON


def env_email() -> str | None:
    email = os.environ.get("CRAWL4AI_TELEMETRY_EMAIL", "").strip()
    return email if is_valid_email(email) else None


# A choice that holds for this process only: made when the file could not be written, or by a
# prompt whose answer is "this error only" before it is consumed.
_session: dict[str, Any] = {}


def set_session_choice(consent: str | None, email: str | None = None) -> None:
    _session.clear()
    if consent is not None:
        _session.update(consent=consent, email=email)


def decide(store: ConsentStore, env: str | None = None) -> Decision:
    """The one place that says whether an error may be sent now, may be asked about, or not."""
    killed = env_kill_switch()
    stored = store.load()
    email = env_email() or stored["email"]
    if killed:
        return Decision(False, False, stored["consent"], email, killed, "env")
    if env_forces_on():
        return Decision(
            True, False, stored["consent"], email,
            "CRAWL4AI_TELEMETRY=1 turns telemetry on for this process", "env",
        )
    if _session:
        consent = _session["consent"]
        email = env_email() or _session.get("email") or email
        return Decision(
            consent in (ALWAYS, ONCE), False, consent, email,
            f"consent '{consent}' chosen for this process (not saved)", "session",
        )
    consent = stored["consent"]
    if consent == DENIED:
        return Decision(False, False, consent, email, "you chose not to send reports", "stored")
    if consent == ALWAYS:
        return Decision(True, False, consent, email, "you chose to always send reports", "stored")
    if consent == ONCE:
        return Decision(
            True, False, consent, email, "you chose to send the next report only", "stored",
            consume_once=True,
        )
    env = env or environment.detect()
    if env in environment.OPT_OUT_ENVIRONMENTS:
        return Decision(
            True, False, consent, email,
            f"on by default in Crawl4AI's {env.replace('_', ' ')} (set CRAWL4AI_TELEMETRY=0 to turn off)",
            "default",
        )
    if (env in (environment.JUPYTER, environment.COLAB) and not environment.is_ci()) or (
        env == environment.CLI and environment.can_prompt_in_terminal()
    ):
        return Decision(
            False, True, consent, email, "no choice made yet: you will be asked on the first error",
            "default",
        )
    return Decision(
        False, False, consent, email,
        f"no choice made yet, and nobody can be asked here ({env}): nothing is sent", "default",
    )
