"""The first-error prompt in a terminal (questionary on prompt_toolkit).

Shown once per process, on the first error, only where a person can answer: stdin and stdout are
TTYs and this is not CI nor Crawl4AI's Docker image/API server (checked again here, whatever the
caller decided). The person may look at the exact redacted report before choosing, then
optionally gives an email (syntax-checked only, never looked up).

How it runs:

- No event loop running in the calling thread: the prompt runs on a helper thread with its own
  event loop and the caller waits for the answer (a plain script stops at its first error until
  the person has answered). The caller thread's own asyncio state is never touched.
- Called from inside a running event loop: the prompt becomes a task on that loop
  (``Application.run_async``), so every other task keeps running; their output is printed above
  the prompt. If the program ends before the person answered (``asyncio.run`` cancels the task),
  the same question is asked once more at interpreter exit, so the error is not silently lost.
- Errors raised while the prompt is open are held for its answer (see :mod:`._request`).
- Ctrl-C or Ctrl-D (EOF) at any step sends nothing and stores nothing; no second prompt appears in
  this process, and the next run asks again.
"""

from __future__ import annotations

import asyncio
import atexit
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any

from .. import environment as _environment
from .. import wording
from .._debug import internal_error
from .._text import printable

if TYPE_CHECKING:
    from ..pipeline.capture import Capture
    from ..pipeline.sink import ConsentSink
from ._request import (
    ALWAYS,
    DENY,
    DISMISS,
    ONCE,
    ConsentRequest,
    current_request,
    open_request,
)

SHOW = "show"
SURFACE = "terminal"

# The words are crawl4ai.telemetry.wording's; this module lays them out for a terminal.
CHOICES = (
    (wording.CHOICE_ONCE, ONCE),
    (wording.CHOICE_ALWAYS, ALWAYS),
    (wording.CHOICE_DENY, DENY),
    (wording.CHOICE_SHOW, SHOW),
)

_task: asyncio.Task[Any] | None = None
_exit_hook_registered = False


def ask(sink: ConsentSink, capture: Capture, decision: Any) -> None:
    """Ask about ``capture`` (or hold it for the prompt already open). Never raises an Exception."""
    if not _environment.can_prompt_in_terminal() or not _prompt_toolkit_available():
        sink.decide(capture, None)
        return
    request = open_request(sink, capture, decision, SURFACE)
    if request is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None:
        _preload()
        _ask_blocking(request)
    else:
        _ask_in_loop(loop, request)


# -- the two ways of running the conversation ---------------------------------------------------


def _prompt_toolkit_available() -> bool:
    from importlib.util import find_spec

    try:
        return find_spec("questionary") is not None and find_spec("prompt_toolkit") is not None
    except (ImportError, ValueError):
        return False


def _preload() -> None:
    """Import what the prompt thread needs here first: if this error happened while a module
    was being imported, the prompt thread must not wait on that module's import lock while
    this thread waits for the prompt."""
    import prompt_toolkit.key_binding  # noqa: F401
    import prompt_toolkit.patch_stdout  # noqa: F401
    import questionary  # noqa: F401

    from .. import consent, report  # noqa: F401


def _ask_blocking(request: ConsentRequest, *, at_exit: bool = False) -> None:
    """Run the prompt on a helper thread with its own loop; wait for the answer.

    At exit the prompt runs on the calling thread instead: newer Pythons refuse to start threads
    during interpreter shutdown, and no loop of the program's is left to disturb."""
    outcome: dict[str, Any] = {}

    def converse() -> None:
        try:
            outcome["answer"] = asyncio.run(_converse(request, patch=not at_exit))
        except (KeyboardInterrupt, EOFError):
            outcome["answer"] = (DISMISS, None)
        except BaseException:
            internal_error("terminal prompt")
            outcome["answer"] = (DISMISS, None)

    if at_exit:
        converse()
        _conclude(request, *outcome.get("answer", (DISMISS, None)))
        return
    thread = threading.Thread(target=converse, name="crawl4ai-telemetry-prompt", daemon=True)
    thread.start()
    try:
        thread.join()
    except BaseException:
        # A signal (not a key press: the prompt reads Ctrl-C as a key) interrupts the program:
        # close the prompt so the terminal is restored, then let the interruption go on.
        _close_running_app(request)
        thread.join(2.0)
        _conclude(request, DISMISS, None, quiet=True)
        raise
    answer, email = outcome.get("answer", (DISMISS, None))
    _conclude(request, answer, email)


def _ask_in_loop(loop: asyncio.AbstractEventLoop, request: ConsentRequest) -> None:
    """Run the prompt as a task of the caller's loop; the caller goes on at once."""
    global _task, _exit_hook_registered

    async def converse() -> None:
        try:
            answer, email = await _converse(request)
        except (KeyboardInterrupt, EOFError):
            answer, email = DISMISS, None
        except asyncio.CancelledError:
            # The program is ending (or cancelled every task): the exit hook asks again.
            raise
        except Exception:
            internal_error("terminal prompt")
            answer, email = DISMISS, None
        _conclude(request, answer, email)

    _task = loop.create_task(converse(), name="crawl4ai-telemetry-prompt")
    try:
        # Start the delivery thread now: if the answer only comes at exit, a new thread may no
        # longer be startable then.
        request.sink.ready()
    except Exception:
        internal_error("prompt worker start")
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(_ask_at_exit)


def _ask_at_exit() -> None:
    """The program ended while its loop's prompt was unanswered: ask now, then deliver."""
    try:
        request = current_request()
        if request is None or request.surface != SURFACE or request.answer is not None:
            return
        task = _task
        if task is not None and not task.done() and task.get_loop().is_running():
            return  # still being asked on a loop that lives on in another thread
        if not _environment.can_prompt_in_terminal():
            request.resolve(DISMISS)
            return
        _ask_blocking(request, at_exit=True)
        from .. import settings

        request.sink.flush(settings.exit_timeout())
    except BaseException:
        internal_error("terminal prompt at exit")


# -- the conversation -----------------------------------------------------------------------------


async def _converse(request: ConsentRequest, patch: bool = True) -> tuple[str, str | None]:
    """Ask, show the report on request, ask for an email. KeyboardInterrupt/EOFError escape."""
    _say(_header(request))
    while True:
        choice = await _run(request, _choice_question(), patch)
        if choice != SHOW:
            break
        _say(_report_text(request))
    if choice not in (ONCE, ALWAYS):
        return choice or DISMISS, None
    email = await _run(request, _email_question(request.default_email), patch)
    return choice, (email or "").strip()


async def _run(request: ConsentRequest, question: Any, patch: bool = True) -> Any:
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
    from prompt_toolkit.patch_stdout import patch_stdout

    app = question.application
    eof = KeyBindings()

    # questionary's select ignores Ctrl-D; a person pressing it means "stop asking".
    @eof.add("c-d", eager=True)
    def _(event: Any) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    app.key_bindings = merge_key_bindings([app.key_bindings, eof]) if app.key_bindings else eof
    request.app = app
    try:
        # Other tasks' and threads' output goes above the prompt instead of through it. The
        # host's loop keeps its own SIGINT and exception handlers.
        if not patch:
            return await app.run_async(handle_sigint=False, set_exception_handler=False)
        with patch_stdout(raw=True):
            return await app.run_async(handle_sigint=False, set_exception_handler=False)
    finally:
        request.app = None


def _close_running_app(request: ConsentRequest) -> None:
    app = getattr(request, "app", None)
    loop = getattr(app, "loop", None)
    if app is None or loop is None:
        return
    try:
        loop.call_soon_threadsafe(lambda: app.is_running and app.exit(exception=EOFError))
    except Exception:
        pass


def _choice_question() -> Any:
    import questionary

    choices = [questionary.Choice(title, value=value, shortcut_key=str(i))
               for i, (title, value) in enumerate(CHOICES, 1)]
    return questionary.select(wording.SELECT, choices=choices, use_shortcuts=True,
                              use_arrow_keys=True, qmark="?")


def _email_question(default: str | None) -> Any:
    import questionary

    from ..consent import is_valid_email

    def validate(text: str) -> bool | str:
        text = text.strip()
        return True if not text or is_valid_email(text) else wording.INVALID_EMAIL

    return questionary.text(wording.EMAIL_QUESTION, default=default or "", validate=validate, qmark="?")


def _conclude(request: ConsentRequest, answer: str, email: str | None, quiet: bool = False) -> None:
    try:
        try:
            if not request.resolve(answer, email):
                return
        except ValueError:  # an email the validator let through but the request refused
            request.resolve(answer, None)
    except Exception:
        internal_error("prompt answer")
        return
    if quiet:
        return
    message = wording.answered(answer, wording.TERMINAL_COMMANDS)
    if answer != DISMISS:
        message = f"{_glyph('✓', '*')} {message}"
    if request.warning:
        message += "\n" + wording.NOT_SAVED.format(warning=request.warning)
    _say(message)


# -- text ------------------------------------------------------------------------------------------


def _glyph(fancy: str, plain: str) -> str:
    encoding = (getattr(sys.stdout, "encoding", "") or "").lower()
    return fancy if "utf" in encoding else plain


def _say(text: str) -> None:
    """Print our text, which may quote text we did not write (an exception's name, a report):
    control characters are shown as escapes, never obeyed by the terminal."""
    try:
        sys.stdout.write(printable(text, multiline=True) + "\n")
        sys.stdout.flush()
    except Exception:
        pass


def _header(request: ConsentRequest) -> str:
    kind = request.exception_type or wording.AN_ERROR
    return "\n".join((
        "",
        f"{_glyph('🚨', '!!')} {wording.TITLE}",
        f"   {wording.HIT.format(kind=kind)}",
        f"   {wording.QUESTION}",
        textwrap.fill(wording.WHAT, width=92, initial_indent="   ", subsequent_indent="   "),
        "",
    ))


def _report_text(request: ConsentRequest) -> str:
    shown = request.shown_report()
    if shown is None:
        return f"({wording.NO_REPORT})"
    body, removed = shown
    return "\n".join(("", f"--- {wording.REPORT_CAPTION} ---", body,
                      f"--- {wording.REMOVED.format(removed=removed)} ---", ""))
