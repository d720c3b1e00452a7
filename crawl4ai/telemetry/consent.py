"""Consent: the user's stored choice, and the one effective decision the pipeline obeys.

The choice lives in ``~/.crawl4ai/config.json`` under ``"telemetry"``:
``{"consent": "not_set|denied|once|always|local_only", "email": ..., "destination": ...}``. The file's other keys belong to
others, so every write is a read-modify-write under a file lock (``telemetry/config.lock``) with
an atomic replace (mode 0600). The file is edited by hand, so it is read as people write it
(comments, trailing commas: :mod:`._jsonc`). A file that still cannot be read may hold a "yes"
the person gave: it reads as :data:`UNREADABLE`, under which reports are kept in the outbox,
unsent (``pending``), until the file can be read and says yes for this destination; ``status``
names the line and column. Before a write replaces it, a corrupt file is kept aside as
``config.json.corrupt-<time>``, and one that cannot be read (a FIFO, a device) is never
replaced. Reading never blocks (see :mod:`._files`).

The choices: ``always`` (keep and send every report), ``once`` (the next one only),
``local_only`` (keep every report in the local outbox, send nothing unless the person sends one
explicitly, whatever destination exists now or later), ``denied`` (keep and send nothing).

Environment variables are never written into the file and may only make telemetry more private:
``CRAWL4AI_TELEMETRY=0`` or ``DO_NOT_TRACK=1`` turn everything off (nothing is even kept),
``CRAWL4AI_TELEMETRY=1`` turns it on for this process only where nothing is stored (a stored
``denied`` or ``local_only`` stays as it is), ``CRAWL4AI_TELEMETRY_EMAIL`` sets the email for
this process. The default of Crawl4AI's own Docker image and API server applies only where
nothing is stored.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from . import environment, settings
from ._record import Record
from .settings import base_dir, config_path, is_valid_email  # noqa: F401 - re-exported

NOT_SET = "not_set"
DENIED = "denied"
ONCE = "once"
ALWAYS = "always"
#: Keep every report in the local outbox; send none unless the person sends one explicitly.
LOCAL_ONLY = "local_only"
CONSENT_VALUES = (NOT_SET, DENIED, ONCE, ALWAYS, LOCAL_ONLY)
#: The choices a person makes (``not_set`` is the absence of one), in the order surfaces offer
#: them: the dashboard's radio buttons, ``crwl telemetry enable --help``.
CHOICES = (ALWAYS, ONCE, LOCAL_ONLY, DENIED)

SECTION = "telemetry"


class ConfigError(OSError):
    """The settings file could not be written; the message says which file and why."""


def _telemetry_dir_beside(config: str) -> str:
    """Our own folder beside a settings file (``~/.crawl4ai/telemetry``): it holds the lock."""
    return os.path.join(os.path.dirname(config), "telemetry")


# crawl4ai's settings file stays small; anything bigger is not a settings file.
_CONFIG_LIMIT = 4 * 1024 * 1024


def _read_json_object(path: str) -> tuple[dict[str, Any], str | None]:
    """The file's top-level object and, if it could not be used, why.

    Never blocks (a FIFO is refused, not opened for reading). A symbolic link is followed: dotfile
    managers link settings files. A UTF-8 byte-order mark is read as JSON, as editors write it."""
    # Here, not at the top: the first capture needs no file.
    from ._files import read_regular
    from ._jsonc import JSONCError, loads

    try:
        raw = read_regular(path, follow_links=True, own=False, limit=_CONFIG_LIMIT)
    except FileNotFoundError:
        return {}, None
    except OSError as e:
        return {}, f"unreadable ({e.strerror or e})"
    try:
        data = loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return {}, "corrupt (not UTF-8 text)"
    except JSONCError as e:
        return {}, f"corrupt (not valid JSON: {e})"
    if not isinstance(data, dict):
        return {}, "corrupt (not a JSON object)"
    return data, None


#: The consent value a settings file holds that is none of :data:`CONSENT_VALUES`: read as off.
UNRECOGNISED = "unrecognised"
#: The settings file exists but cannot be read: whatever it says, reports are kept, unsent.
UNREADABLE = "unreadable"


def _unreadable(path: str, problem: str) -> dict[str, Any]:
    return {"consent": UNREADABLE, "email": None, "destination": None, "problems": [
        f"the settings file {path} cannot be read: {problem}; reports are kept on this machine, "
        "unsent, until it can be read"]}


def _normalise(section: Any) -> dict[str, Any]:
    """The section as the decision reads it. A value that is not recognised never reads as "on":
    an unknown consent reads as :data:`UNRECOGNISED` (off), an invalid email as none, and each is
    listed under ``"problems"`` for ``status``."""
    if not isinstance(section, dict):
        problems = [] if section is None else [
            f"the settings file's {SECTION!r} value is not an object ({type(section).__name__}); "
            "read as not set, and replaced by the next choice"]
        return {"consent": NOT_SET, "email": None, "destination": None, "problems": problems}
    consent = section.get("consent", NOT_SET)
    email = section.get("email")
    destination = section.get("destination")
    problems = []
    if consent not in CONSENT_VALUES:
        problems.append(f"the settings file's consent {consent!r} is not recognised (expected "
                        f"{', '.join(CONSENT_VALUES)}); read as off")
        consent = UNRECOGNISED
    if email is not None and not (isinstance(email, str) and is_valid_email(email)):
        problems.append(f"the settings file's email {email!r} is not a valid address; not used")
        email = None
    return {
        "consent": consent,
        "email": email,
        "destination": destination if isinstance(destination, str) else None,
        "problems": problems,
    }


class ConsentStore:
    """The ``"telemetry"`` section of ``config.json``: cached reads, locked atomic writes."""

    def __init__(self, path: str | None = None) -> None:
        self._explicit_path = os.path.abspath(path) if path else None
        self._cache_key: tuple[str, int, int, int] | None = None
        self._cache: dict[str, Any] = _normalise(None)
        self.problem: str | None = None

    @property
    def path(self) -> str:
        return self._explicit_path or config_path()

    def load(self) -> dict[str, Any]:
        """``{"consent", "email", "destination", "problems"}``; cached until the file changes (one
        ``stat`` per call)."""
        path = self.path
        try:
            st = os.stat(path)
            key = (path, st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            key = (path, -1, -1, -1)  # nothing to read (and nothing to import to read it)
        except OSError:
            key = (path, -2, -2, -2)
        if key == self._cache_key:
            return dict(self._cache)
        data, self.problem = ({}, None) if key[1] == -1 else _read_json_object(path)
        self._cache = (_unreadable(path, self.problem) if self.problem
                       else _normalise(data.get(SECTION)))
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
        from ._files import locked, own_folder_of

        lock = os.path.join(_telemetry_dir_beside(self.path), "config.lock")
        own_folder_of(lock)
        return locked(lock)

    def _modify(self, apply: Any) -> dict[str, Any]:
        path = self.path
        try:
            with self.lock():
                data, problem = _read_json_object(path)
                if problem and problem.startswith("corrupt"):
                    _keep_aside(path)
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
        except RecursionError:  # another key nests deeper than the writer goes: keep the file as is
            raise ConfigError(f"cannot write {path}: its JSON is nested too deeply") from None
        self._cache_key = None
        _changed()
        return self.load()


def _keep_aside(path: str) -> str:
    """Move a corrupt settings file to a new ``<name>.corrupt-<time>[-n]``: never over an earlier
    one (two corruptions in one second would otherwise lose the first)."""
    base = f"{path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
    for n in range(1000):
        target = base if n == 0 else f"{base}-{n}"
        if not os.path.lexists(target):
            os.replace(path, target)  # under the settings lock: no writer of ours races here
            return target
    raise ConfigError(f"cannot keep the corrupt {path} aside: too many copies")


def _atomic_write(path: str, data: dict[str, Any]) -> None:
    from ._files import write_private

    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_private(path, text.encode("utf-8"), durable=True)


# ---------------------------------------------------------------------------------------------
# The effective decision


#: What the gate does with one error: one word.
SEND, ASK, KEEP_LOCALLY, DROP = "send", "ask", "keep_locally", "drop"
ACTIONS = (SEND, ASK, KEEP_LOCALLY, DROP)

#: Why (a reason code; :func:`crawl4ai.telemetry.wording.decision_reason` says it in words).
ENV_OFF, ENV_ON, ENV_LOCAL = "env_off", "env_on", "env_local"
FILE_UNRECOGNISED, FILE_UNREADABLE = "file_unrecognised", "file_unreadable"
CHOSEN, CHOSEN_LOCAL_ONLY, ANSWERED_ONCE = "chosen", "chosen_local_only", "answered_once"
DESTINATION_CHANGED = "destination_changed"
DEFAULT_ON, DEFAULT_ASK, DEFAULT_NOBODY = "default_on", "default_ask", "default_nobody"


class Decision(Record):
    """What the gate says for one error: one ``action`` (:data:`ACTIONS`) and ``why`` (a reason
    code), with what the sentence needs (``detail``). Immutable.

    ``source``: where the consent came from ("environment", "file", "this process", "default",
    "prompt"). ``destination``: where a report would go now (:func:`current_destination`), what a
    "yes" is bound to. A question asked because the destination changed keeps the report here
    meanwhile (:attr:`keep_locally`)."""

    __slots__ = ("action", "why", "consent", "email", "source", "detail", "destination")

    action: str
    why: str
    consent: str
    email: str | None
    source: str
    detail: tuple[str, ...]
    destination: str

    def __init__(self, action: str, why: str, consent: str, email: str | None, source: str,
                 detail: tuple[str, ...] = (), destination: str = "") -> None:
        # Spelled out: one is made for every error the filters let through, on the caller's thread.
        init = object.__setattr__
        init(self, "action", action)
        init(self, "why", why)
        init(self, "consent", consent)
        init(self, "email", email)
        init(self, "source", source)
        init(self, "detail", detail)
        init(self, "destination", destination)

    @property
    def send(self) -> bool:
        return self.action == SEND

    @property
    def ask(self) -> bool:
        return self.action == ASK

    @property
    def keep_locally(self) -> bool:
        """Send nowhere, keep the report in the local outbox (also while asking again)."""
        return self.action == KEEP_LOCALLY or self.why == DESTINATION_CHANGED

    @property
    def local_only(self) -> bool:
        """Kept here by choice ("local only", stored or ``CRAWL4AI_TELEMETRY=local``), not because
        a "yes" was given for another destination: nothing is asked, none is sent on its own."""
        return self.why in (CHOSEN_LOCAL_ONLY, ENV_LOCAL)

    @property
    def consume_once(self) -> bool:
        """A stored "the next error only": sending uses it up."""
        return self.action == SEND and self.why == CHOSEN and self.consent == ONCE

    @property
    def reason(self) -> str:
        from .wording import decision_reason

        return decision_reason(self.why, self.consent, self.source, self.detail)


# The environment's word on telemetry: parsed in one place, crawl4ai.telemetry.settings.
env_kill_switch = settings.kill_switch
env_forces_on = settings.forces_on
env_email = settings.email
env_forces_local = settings.forces_local

def current_destination(provider: Any = None) -> str:
    """Who would receive a report now, as stored beside a consent (never a key): the provider's
    own answer (:meth:`TelemetryProvider.destination_id`). ``provider``: the provider object in
    use, if there is one yet (it may have been set at runtime); otherwise the one the settings
    select."""
    from .providers import destination_id

    return destination_id(provider)


def binding(consent: str, provider: Any = None) -> dict[str, Any]:
    """The changes that store ``consent`` bound to the destination in use now."""
    changes: dict[str, Any] = {"consent": consent}
    if consent in (ONCE, ALWAYS):
        changes["destination"] = current_destination(provider)
    return changes


# A choice that holds for this process only: made when the file could not be written, or by a
# prompt whose answer is "this error only" before it is consumed.
_session: dict[str, Any] = {}


#: How many times this process changed a choice (stored or for the session): the pipeline puts a
#: bug it counts as repeats to the decision again once a choice changed.
changes = 0


def _changed() -> None:
    global changes
    changes += 1


def set_session_choice(consent: str | None, email: str | None = None,
                       destination: str | None = None) -> None:
    _changed()
    _session.clear()
    if consent is not None:
        _session.update(consent=consent, email=email, destination=destination)


def save_choice(store: ConsentStore, **changes: Any) -> str | None:
    """Store a person's choice. When the file cannot be written, the choice holds for this process
    instead, and the reason is returned (None when it was saved)."""
    try:
        store.update(**changes)
    except ConfigError as e:
        stored = store.load()
        set_session_choice(changes.get("consent", stored["consent"]),
                           changes.get("email", stored["email"]),
                           changes.get("destination", stored["destination"]))
        return str(e)
    set_session_choice(None)
    return None


def decide(store: ConsentStore, env: str | None = None, provider: Any = None,
           destination: str | None = None) -> Decision:
    """The one place that says whether an error may be sent now, may be asked about, or not.

    In order: the environment's "off" wins over everything (and ``CRAWL4AI_TELEMETRY=local``
    caps whatever follows, but a "no", at keeping reports here); a choice made for this process; the
    stored choice (a "no" stays a "no" and "local only" stays local, whatever the environment
    says; a "yes" holds only for the destination it was given for); ``CRAWL4AI_TELEMETRY=1`` where nothing is stored; then the
    environment's default (on in Crawl4AI's own server, ask where someone can answer, else off).
    ``destination``: decide for this destination (a prompt's) instead of the one in use now."""
    killed = env_kill_switch()
    stored = store.load()
    email = env_email() or stored["email"]
    if killed:
        return Decision(DROP, ENV_OFF, stored["consent"], email, "environment", (killed,))
    # Where reports would go matters only for a "yes" and for a question: not computed otherwise
    # (a capture at interpreter shutdown must not import or look anything up).
    yes = (_session.get("consent") if _session else stored["consent"]) in (ALWAYS, ONCE)
    now = destination or (current_destination(provider) if yes else "")
    if _session:
        decision = _follow(_session["consent"], _session.get("destination"), env_email()
                           or _session.get("email") or email, "this process", env, now)
    elif stored["consent"] == UNRECOGNISED:
        decision = Decision(DROP, FILE_UNRECOGNISED, UNRECOGNISED, email, "file",
                            (stored["problems"][0],))
    elif stored["consent"] == UNREADABLE:
        # It may hold a "yes": keep the report, send nothing, ask nothing (an answer could not
        # be stored in it either).
        decision = Decision(KEEP_LOCALLY, FILE_UNREADABLE, UNREADABLE, email, "file",
                            (stored["problems"][0],))
    elif stored["consent"] != NOT_SET:
        decision = _follow(stored["consent"], stored["destination"], email, "file", env, now)
    elif env_forces_on():
        decision = Decision(SEND, ENV_ON, NOT_SET, email, "environment")
    else:
        decision = _default(NOT_SET, email, env)
    if env_forces_local() and decision.consent not in (DENIED, UNRECOGNISED):
        # The environment may only make telemetry more private: "local" caps any "yes", any
        # question and any default at keeping reports here; a "no" stays a "no".
        decision = Decision(KEEP_LOCALLY, ENV_LOCAL, decision.consent, email, "environment")
    if decision.ask and not now:
        now = current_destination(provider)
    return decision._replace(destination=now)


def _follow(consent: str, agreed: str | None, email: str | None, source: str, env: str | None,
            now: str) -> Decision:
    """A person's choice; a "yes" holds only for the destination it was given for."""
    if consent == LOCAL_ONLY:  # whatever the destination, now or later
        return Decision(KEEP_LOCALLY, CHOSEN_LOCAL_ONLY, consent, email, source)
    if consent not in (ALWAYS, ONCE):
        return Decision(DROP, CHOSEN, consent, email, source)
    from .providers.destinations import THIS_MACHINE

    if agreed == now or now == THIS_MACHINE:
        return Decision(SEND, CHOSEN, consent, email, source)
    # Given for another receiver (or before consent was bound to one): it does not carry over;
    # the report is kept here meanwhile.
    action = ASK if _default(NOT_SET, email, env).ask else KEEP_LOCALLY
    return Decision(action, DESTINATION_CHANGED, consent, email, source, (agreed or "", now))


def _default(consent: str, email: str | None, env: str | None) -> Decision:
    """Nobody has chosen: the environment decides (never "on" outside Crawl4AI's own server)."""
    env = env or environment.detect()
    if env in environment.OPT_OUT_ENVIRONMENTS:
        return Decision(SEND, DEFAULT_ON, consent, email, "default", (env,))
    if (env in (environment.JUPYTER, environment.COLAB) and not environment.is_ci()) or (
        env == environment.CLI and environment.can_prompt_in_terminal()
    ):
        return Decision(ASK, DEFAULT_ASK, consent, email, "default")
    return Decision(DROP, DEFAULT_NOBODY, consent, email, "default", (env,))
