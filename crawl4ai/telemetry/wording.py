"""Every sentence a person reads when asked about crash reports, in one place.

The terminal prompt, the notebook prompt and the dashboard say the same things, so the words
live here once and the surfaces only lay them out (a terminal wraps lines, a notebook adds HTML).
Two texts that mean the same thing must not drift apart: a promise worded twice is a promise
kept once.

Texts that name a command take it as an argument: a terminal says ``crwl telemetry enable``, a
notebook ``crawl4ai.telemetry.enable()`` (:data:`TERMINAL_COMMANDS`, :data:`NOTEBOOK_COMMANDS`).
Texts about where a report goes are functions of the destination, because no surface may say
"will be sent" when nothing would leave the machine (:func:`where_reports_go`).

Plain strings and small functions of them, importing nothing heavy: the prompts load this on the
first error.
"""

from __future__ import annotations

from .providers.destinations import THIS_MACHINE


def describe_destination(destination: str | None) -> str:
    """A destination identity (``"kind:host"``, a provider's name, or ``"local"``) in words, for
    ``status`` and the prompts."""
    if not destination:
        return "no destination recorded"
    if destination == THIS_MACHINE:
        return "this machine only (the local outbox)"
    kind, _, where = destination.partition(":")
    return f"{kind.capitalize()} at {where}" if where else f"the {destination!r} provider"


# -- why the gate decided what it did (consent.Decision.why) ---------------------------------------

_CHOSE = {
    "denied": "you chose not to report errors",
    "always": "you agreed to report every error",
    "once": "you agreed to report the next error only",
    "local_only": "you chose to keep reports on this machine only: none is sent unless you send "
                  "it yourself",
}


def decision_reason(why: str, consent: str, source: str, detail: tuple[str, ...] = ()) -> str:
    """A decision's reason code in words (``status`` shows it as "Why")."""
    if why in ("env_off", "file_unrecognised", "file_unreadable"):
        return detail[0]  # the settings' own sentence: which variable, which line of the file
    if why == "env_on":
        return "CRAWL4AI_TELEMETRY=1 turns telemetry on for this process (nothing is stored)"
    if why == "env_local":
        return ("CRAWL4AI_TELEMETRY=local keeps reports on this machine for this process: none "
                "is sent on its own")
    if why == "default_on":
        return (f"on by default in Crawl4AI's {detail[0].replace('_', ' ')} (set "
                "CRAWL4AI_TELEMETRY=0 to turn off)")
    if why == "default_ask":
        return "no choice made yet: you will be asked on the first error"
    if why == "default_nobody":
        return f"no choice made yet, and nobody can be asked here ({detail[0]}): nothing is sent"
    if why == "answered_once":
        return "you chose to send this error only"
    if why == "destination_changed":
        agreed, now = detail
        return (f"you agreed to send to {describe_destination(agreed)}; reports would now go to "
                f"{describe_destination(now)}, so they are kept on this machine until you agree "
                "again")
    reason = _CHOSE.get(consent, f"consent {consent!r}")
    return reason + " (for this process; not saved)" if source == "this process" else reason


# -- the question ---------------------------------------------------------------------------------

TITLE = "Crawl4AI Error Detection"
QUESTION = "Help improve Crawl4AI by sending anonymous crash reports?"
#: ``{kind}``: the exception type as the report shows it.
HIT = "Crawl4AI hit an error ({kind})."
AN_ERROR = "an error"
#: What a report holds and never holds (the docs' promise, in one breath).
WHAT = (
    "A report holds the error type and stack trace (your own code's frames are reduced to "
    "placeholders), the Crawl4AI, Python and OS versions, the environment type, and your email "
    "only if you give one. Never URLs, crawled content, headers, cookies, keys, your file paths, "
    "variables or your source code."
)
#: Notebook: the cell goes on; the error waits for the answer.
KEPT_IN_MEMORY = "Choosing does not re-run anything: this error is kept in memory until you answer."
SNIPPET_INTRO = "This error is kept in memory until you answer by running one of these in a cell:"
WIDGETS_HINT = "(With `pip install ipywidgets` this question has buttons.)"

# -- the choices ----------------------------------------------------------------------------------

SELECT = "Send a crash report?"
CHOICE_ONCE = "Send this error only"
CHOICE_ALWAYS = "Always send errors"
CHOICE_DENY = "Don't send"
CHOICE_SHOW = "Show me the exact report first"
#: The dashboard's choice between errors (the prompt's CHOICE_ONCE is about the error at hand).
CHOICE_NEXT = "Send the next error only"
#: Reports are made and kept in the local outbox; none leaves unless the person sends it.
CHOICE_LOCAL_ONLY = "Keep reports on this machine only"
#: The stored choices (:data:`crawl4ai.telemetry.consent.CHOICES`) as the dashboard offers them.
CHOICE_LABELS = {"always": CHOICE_ALWAYS, "once": CHOICE_NEXT,
                 "local_only": CHOICE_LOCAL_ONLY, "denied": CHOICE_DENY}
#: With no destination nothing is sent: the same three answers, as what they really do.
SELECT_LOCAL = "Keep a crash report on this machine?"
QUESTION_LOCAL = ("Help improve Crawl4AI with anonymous crash reports? No destination is "
                  "configured, so a report is only kept on this machine: you can read it and "
                  "paste it into an issue.")
CHOICE_ONCE_LOCAL = "Keep this error's report"
CHOICE_ALWAYS_LOCAL = "Always keep reports"
CHOICE_DENY_LOCAL = "Don't keep reports"


def choices(keeps_locally: bool) -> tuple[str, str, str, str]:
    """The labels of once / always / deny / show, true for the destination in force."""
    if keeps_locally:
        return CHOICE_ONCE_LOCAL, CHOICE_ALWAYS_LOCAL, CHOICE_DENY_LOCAL, CHOICE_SHOW
    return CHOICE_ONCE, CHOICE_ALWAYS, CHOICE_DENY, CHOICE_SHOW


#: Shorter labels where choices are buttons.
BUTTON_ONCE = "Send this error"
BUTTON_ALWAYS = "Always send errors"
BUTTON_DENY = "Don't send"
BUTTON_SHOW = "Show the report"

EMAIL_QUESTION = "Email for follow-up (optional, Enter to skip):"
EMAIL_LABEL = "Email (optional):"
EMAIL_PLACEHOLDER = "you@example.com"
INVALID_EMAIL = "That is not a valid email address (or leave it empty)"

# -- the report shown before choosing -------------------------------------------------------------

REPORT_CAPTION = ("The exact report that would be sent (its id and time are set when it is sent; "
                  "your email is added only if you give one)")
REPORT_CAPTION_LOCAL = ("The exact report that would be kept (its id and time are set when it is "
                        "kept; your email is added only if you give one)")
NO_REPORT = "The report could not be built, so nothing would be sent."
#: ``{removed}``: "url: 2, path: 1" or "nothing".
REMOVED = "Removed before sending: {removed}"
REMOVED_NOTHING = "nothing"

# -- where reports go -----------------------------------------------------------------------------


def where_reports_go(destination: str | None, keeps_locally: bool,
                     local_only: bool = False) -> str:
    """One sentence on what "yes" does, true for the destination in force.

    ``destination``: the provider's :meth:`destination` (e.g. ``Sentry at sentry.io``), or None
    when there is none; ``keeps_locally``: the provider never sends anything; ``local_only``: the
    person chose to keep reports here whatever the destination."""
    if local_only:
        return ("Reports are kept in the local outbox on this machine: you chose local only, so "
                "none leaves it unless you send it yourself.")
    if keeps_locally or not destination:
        return ("Reports are kept in the local outbox on this machine: no destination is "
                "configured, so nothing leaves it.")
    return f"Reports will be sent to {destination}, after being kept in the local outbox."


def report_caption(destination: str | None, keeps_locally: bool) -> str:
    """The caption over the report shown before choosing, true for the destination in force."""
    return REPORT_CAPTION_LOCAL if keeps_locally or not destination else REPORT_CAPTION


# -- after the answer -----------------------------------------------------------------------------

#: How each surface spells "turn on", "turn off", "keep them here only" and "read them": a
#: notebook names Python calls, never a shell command.
TERMINAL_COMMANDS = {"enable": "`crwl telemetry enable`", "disable": "`crwl telemetry disable`",
                     "local_only": "`crwl telemetry enable --local-only`",
                     "reports": "`crwl telemetry reports`",
                     "export": "`crwl telemetry show ID --markdown`"}
NOTEBOOK_COMMANDS = {"enable": "<code>crawl4ai.telemetry.enable()</code>",
                     "disable": "<code>crawl4ai.telemetry.disable()</code>",
                     "local_only": "<code>crawl4ai.telemetry.enable(local_only=True)</code>",
                     "reports": "<code>from crawl4ai.telemetry import reports; "
                                "reports.list_reports()</code>",
                     "export": "<code>reports.issue_markdown(ID)</code>"}

# The prompts offer the design card's three answers (this error only / always / never); "keep
# them on this machine only" is named after a "never", the answer of someone who may want it.
_ANSWERED = {
    "once": "Thank you: this report will be {sent}. You will be asked again in a later run "
            "(always: {enable}).",
    "always": "Thank you: crash reports are on{where}. Turn them off any time: {disable}.",
    "deny": "No crash reports will be {sent}. Change this any time: {enable} (or keep them on "
            "this machine only, sent by nobody but you: {local_only}).",
    "dismiss": "Nothing was sent and nothing was saved. You will be asked again in a later run "
               "(or decide now: {enable} / {disable}).",
}


def answered(answer: str, commands: dict[str, str], keeps_locally: bool = False) -> str:
    """What the person is told after ``answer`` (``once``/``always``/``deny``/``dismiss``)."""
    text = _ANSWERED.get(answer, "")
    where = (" (kept on this machine: read them with {reports}, export one as a GitHub issue "
             "with {export})".format(**commands) if keeps_locally else "")
    sent = "kept on this machine" if keeps_locally and answer == "once" else (
        "kept or sent" if keeps_locally else "sent")
    return text.format(sent=sent, where=where, **commands)


#: ``{warning}``: why the choice could not be saved.
NOT_SAVED = "Note: {warning}."
#: ``{reason}``: the decision's reason, when the person decided in code or in a shell.
DECIDED_ELSEWHERE = "Decided in code: {reason}."
