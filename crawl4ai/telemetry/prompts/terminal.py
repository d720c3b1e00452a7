"""The first-error prompt in a terminal (questionary on prompt_toolkit).

Shown once per process, on the first error, only where a person can answer: stdin and stdout are
TTYs and this is not CI nor Crawl4AI's Docker image/API server (checked again here, whatever the
caller decided). The person may look at the exact redacted report before choosing, then
optionally gives an email (syntax-checked only, never looked up).

How it runs:

- Someone else may be reading the terminal (:func:`_someone_else_may_read_the_terminal`): the
  error's thread goes on at once and the question waits for the program's end (asked then, as
  below). A question opened beside another reader (``input()`` in the main thread or a REPL,
  ``await loop.run_in_executor(None, input)``, a reader thread, ``connect_read_pipe``, the
  host's own prompt_toolkit) would take the person's keys, and Ctrl-C would reach neither.
- A terminal that cannot draw a menu (``TERM=dumb`` or unset, no cursor addressing): the same
  question as numbered lines, answered a line at a time, and never an escape code
  (:mod:`.plain`); inside a running event loop it waits for the program's end.
- No event loop running in the main thread: the prompt runs on a helper thread with its own
  event loop and the caller waits for the answer (a plain script stops at its first error until
  the person has answered). The caller thread's own asyncio state is never touched. Nobody may
  be there (a long crawl left running in tmux, ``docker run -it``): without a key press for
  :data:`UNANSWERED_SECONDS` the question closes (nothing sent, nothing stored) and the
  program goes on.
- Called from inside the main thread's running event loop: the prompt becomes a task on that loop
  (``Application.run_async``), so every other task keeps running; their output is printed above
  the prompt. If the program ends before the person answered (``asyncio.run`` cancels the task),
  the same question is asked once more at interpreter exit (in one line, not the whole banner
  again), so the error is not silently lost; that last question closes by itself after :data:`UNANSWERED_SECONDS` without a key press
  (nothing sent, nothing stored), so an unattended terminal never keeps the program alive.
- The prompt never waits for the terminal: cursor-position requests (CPR) are switched off in the
  output we create, so a terminal that does not answer them (IDE consoles, some multiplexers)
  shows the same prompt, and nothing ever waits on a reply that does not come.
- Errors raised while the prompt is open are held for its answer (see :mod:`._request`).
- Ctrl-C or Ctrl-D (EOF) at any step sends nothing and stores nothing; no second prompt appears in
  this process, and the next run asks again.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
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
from . import plain
from ._request import (
    ALWAYS,
    DENY,
    DISMISS,
    ONCE,
    ConsentRequest,
    current_request,
    open_request,
)
from .plain import Unanswered

SHOW = "show"
#: Not an answer: nobody pressed a key before the question closed itself (treated as dismissed).
UNANSWERED = "unanswered"
SURFACE = "terminal"

#: A question that waits (the program stopped at its first error, or it has ended) closes after
#: this many seconds without a key press: nothing sent, nothing stored.
UNANSWERED_SECONDS = 30.0

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
    if _someone_else_may_read_the_terminal(loop) or (loop is not None and not plain.can_draw_menu()):
        _ask_again_at_exit(request)
    elif loop is not None:
        _ask_in_loop(loop, request)
    else:
        _preload()
        _ask_blocking(request)


def _someone_else_may_read_the_terminal(loop: asyncio.AbstractEventLoop | None) -> bool:
    """Could a question opened now share the terminal with a reader of the host's? Unknown is yes.

    The question opens at once only from the main thread (or the last one left), while every
    other thread of the host is parked on something that is not the terminal, and while the
    running loop (if any) watches no reader of it. Anything else waits for the program's end:
    a thread at work may be in ``input()`` (a sleeping or downloading one waits too; its error
    is asked about at exit, never lost)."""
    try:
        return (not _owns_the_terminal() or _a_thread_is_at_work()
                or (loop is not None and _loop_reads_the_terminal(loop)))
    except Exception:
        return True


def _owns_the_terminal() -> bool:
    """The main thread, or the last one left: another thread's question would race with the
    main thread's own reading of the terminal (``input()``, a REPL)."""
    main = threading.main_thread()
    return threading.current_thread() is main or not main.is_alive()


_OUR_THREADS = "crawl4ai-telemetry"


def _a_thread_is_at_work() -> bool:
    """Another thread of the host is anywhere but parked (see :func:`_parked_codes`)."""
    parked = _parked_codes()
    frames = sys._current_frames()
    me = threading.get_ident()
    for thread in threading.enumerate():
        if thread.ident == me or thread.name.startswith(_OUR_THREADS) or not thread.is_alive():
            continue
        frame = frames.get(thread.ident)
        if frame is None or frame.f_code not in parked:
            return True
    return False


def _parked_codes() -> set[Any]:
    """Where a parked thread's innermost Python frame is: waiting on a lock, condition or event
    (queues, ``Event.wait``), for another thread's end, or an idle pool worker waiting for its
    next job (``concurrent.futures``, asyncio's default executor)."""
    codes = {threading.Condition.wait.__code__, threading.Thread.join.__code__}
    if hasattr(threading.Thread, "_wait_for_tstate_lock"):  # Python < 3.13
        codes.add(threading.Thread._wait_for_tstate_lock.__code__)
    pool = sys.modules.get("concurrent.futures.thread")
    if pool is not None and hasattr(pool, "_worker"):
        codes.add(pool._worker.__code__)
    return codes


def _is_the_terminal(fd: int) -> bool:
    import os

    try:
        return os.path.samestat(os.fstat(fd), os.fstat(sys.stdin.fileno()))
    except (OSError, ValueError):
        return False


def _loop_reads_the_terminal(loop: asyncio.AbstractEventLoop) -> bool:
    """A reader of the loop watches the terminal (a loop that does not show its readers: yes)."""
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return True
    return any(key.events & 1 and _is_the_terminal(key.fd)  # 1: selectors.EVENT_READ
               for key in list(selector.get_map().values()))


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

    from .. import consent, report_builder  # noqa: F401


def _ask_blocking(request: ConsentRequest, *, at_exit: bool = False) -> None:
    """Run the prompt on a helper thread with its own loop; wait for the answer, or for
    :data:`UNANSWERED_SECONDS` without a key press (then the question closes by itself).

    At exit the prompt runs on the calling thread instead (newer Pythons refuse to start threads
    during interpreter shutdown, and no loop of the program's is left to disturb)."""
    outcome: dict[str, Any] = {}

    def converse() -> None:
        try:
            if plain.can_draw_menu():
                outcome["answer"] = asyncio.run(_converse(
                    request, patch=not at_exit, idle_limit=UNANSWERED_SECONDS, at_exit=at_exit))
            else:
                outcome["answer"] = _converse_in_lines(request, at_exit)
        except (KeyboardInterrupt, EOFError):
            outcome["answer"] = (DISMISS, None)
        except Unanswered:
            outcome["answer"] = (UNANSWERED, None)
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
    global _task

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
    _ask_again_at_exit(request)


def _ask_again_at_exit(request: ConsentRequest) -> None:
    """Make sure a question still open when the program ends is asked then (bounded)."""
    global _exit_hook_registered
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
    """The program ended while its loop's prompt was unanswered: ask now (bounded), then deliver.

    Ctrl-C, as a key or as a signal, ends it at once: nothing is sent, the exit goes on."""
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
        try:
            _ask_blocking(request, at_exit=True)
        except KeyboardInterrupt:
            _conclude(request, DISMISS, None)
            return
        from .. import settings

        # A person is there and just said yes: the exit bound (sized for nobody watching) is too
        # short to load the transport and send, so this wait is the flush's own, still bounded.
        request.sink.flush(max(settings.exit_timeout(), settings.FLUSH_TIMEOUT))
    except BaseException:
        internal_error("terminal prompt at exit")


# -- the conversation -----------------------------------------------------------------------------


async def _converse(request: ConsentRequest, patch: bool = True,
                    idle_limit: float | None = None,
                    at_exit: bool = False) -> tuple[str, str | None]:
    """Ask, show the report on request, ask for an email. KeyboardInterrupt, EOFError and
    :class:`Unanswered` escape."""
    _say(_header(request, idle_limit, at_exit))
    request.shown = True
    while True:
        choice = await _run(request, _choice_question(request.keeps_locally), patch,
                            idle_limit)
        if choice != SHOW:
            break
        _say(_report_text(request))
    if choice not in (ONCE, ALWAYS):
        return choice or DISMISS, None
    email = await _run(request, _email_question(request.default_email), patch, idle_limit)
    return choice, (email or "").strip()


#: Wrong answers a line-at-a-time question takes before it closes (nothing sent, nothing stored).
MAX_RETYPES = 5


def _converse_in_lines(request: ConsentRequest, at_exit: bool = False) -> tuple[str, str | None]:
    """The same conversation as numbered lines, for a terminal that cannot draw a menu (see
    :mod:`.plain`). KeyboardInterrupt, EOFError and :class:`Unanswered` escape."""
    reader = plain.LineReader(UNANSWERED_SECONDS)
    request.app = reader  # so a signal can close it
    try:
        _say(_header(request, UNANSWERED_SECONDS, at_exit, in_lines=True))
        request.shown = True
        titles = wording.choices(request.keeps_locally)
        menu = "\n".join(f"   {n}) {title}" for n, title in enumerate(titles, 1))
        select = wording.SELECT_LOCAL if request.keeps_locally else wording.SELECT
        choice = None
        for _ in range(MAX_RETYPES):
            _say(f"{select}\n{menu}")
            typed = reader.ask(f"Type 1-{len(titles)} and Enter: ").strip()
            if typed not in ("1", "2", "3", "4"):
                continue
            choice = (ONCE, ALWAYS, DENY, SHOW)[int(typed) - 1]
            if choice != SHOW:
                break
            _say(_report_text(request))
        if choice not in (ONCE, ALWAYS):
            return DISMISS if choice in (None, SHOW) else choice, None
        from ..consent import is_valid_email

        default = request.default_email or ""
        for _ in range(MAX_RETYPES):
            shown_default = f" [{default}]" if default else ""
            email = reader.ask(f"{wording.EMAIL_QUESTION}{shown_default} ").strip() or default
            if not email or is_valid_email(email):
                return choice, email
            _say(wording.INVALID_EMAIL)
        return choice, ""
    finally:
        request.app = None


async def _run(request: ConsentRequest, question: Any, patch: bool = True,
               idle_limit: float | None = None) -> Any:
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
    watchdog = asyncio.ensure_future(_close_when_idle(app, idle_limit)) if idle_limit else None
    try:
        # Other tasks' and threads' output goes above the prompt instead of through it. The
        # host's loop keeps its own SIGINT and exception handlers.
        if not patch:
            return await app.run_async(handle_sigint=False, set_exception_handler=False)
        with patch_stdout(raw=True):
            return await app.run_async(handle_sigint=False, set_exception_handler=False)
    finally:
        request.app = None
        if watchdog is not None:
            watchdog.cancel()


async def _close_when_idle(app: Any, limit: float) -> None:
    """End ``app`` with :class:`Unanswered` once no key was pressed for ``limit`` seconds."""
    import time

    last_key = [time.monotonic()]
    app.key_processor.before_key_press += lambda _sender: last_key.__setitem__(0, time.monotonic())
    while True:
        remaining = last_key[0] + limit - time.monotonic()
        if remaining <= 0:
            if app.is_running:
                app.exit(exception=Unanswered())
            return
        await asyncio.sleep(min(remaining, 1.0))


def _close_running_app(request: ConsentRequest) -> None:
    app = getattr(request, "app", None)
    if isinstance(app, plain.LineReader):
        app.close()
        return
    loop = getattr(app, "loop", None)
    if app is None or loop is None:
        return
    try:
        loop.call_soon_threadsafe(lambda: app.is_running and app.exit(exception=EOFError))
    except Exception:
        pass


def _choice_question(keeps_locally: bool = False) -> Any:
    import questionary

    titles = wording.choices(keeps_locally)
    choices = [questionary.Choice(title, value=value, shortcut_key=str(i))
               for i, (title, value) in enumerate(zip(titles, (ONCE, ALWAYS, DENY, SHOW), strict=True), 1)]
    select = wording.SELECT_LOCAL if keeps_locally else wording.SELECT
    return questionary.select(select, choices=choices, use_shortcuts=True,
                              use_arrow_keys=True, qmark="?", output=_output())


def _email_question(default: str | None) -> Any:
    import questionary

    from ..consent import is_valid_email

    def validate(text: str) -> bool | str:
        text = text.strip()
        return True if not text or is_valid_email(text) else wording.INVALID_EMAIL

    return questionary.text(wording.EMAIL_QUESTION, default=default or "", validate=validate, qmark="?",
                            output=_output())


def _output() -> Any:
    """The terminal output for one question, with cursor-position requests switched off.

    prompt_toolkit asks the terminal where the cursor is and, when no reply comes, waits and then
    warns; some terminals never reply. The prompt needs no such reply (it only sizes menus), so it
    never asks: nothing depends on the terminal answering."""
    from prompt_toolkit.output import create_output

    output = create_output()
    if hasattr(output, "enable_cpr"):
        output.enable_cpr = False
    return output


def _conclude(request: ConsentRequest, answer: str, email: str | None, quiet: bool = False) -> None:
    unanswered = answer == UNANSWERED
    if unanswered:
        answer = DISMISS
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
    tick = "" if answer == DISMISS else _glyph("✓", "*") + " "
    message = tick + wording.answered(answer, wording.TERMINAL_COMMANDS, request.keeps_locally)
    if unanswered:
        message = (f"No answer within {UNANSWERED_SECONDS:.0f} s: the question closed. "
                   + message)
    lines = _wrapped(message, indent="")
    if request.warning:
        lines += _wrapped(wording.NOT_SAVED.format(warning=request.warning), indent="")
    _say("\n".join(lines))


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


def _wrapped(text: str, indent: str = "   ") -> list[str]:
    """``text`` in lines that fit the terminal, broken between words only (a word longer than a
    line stays whole on its own line)."""
    return textwrap.wrap(text, width=_width(), initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _width() -> int:
    # One column short of the terminal: a line that fills the last column makes some terminals
    # wrap early. Never wider than 90 (easier to read), never narrower than 30.
    columns = shutil.get_terminal_size((80, 24)).columns
    return max(30, min(columns - 1, 90))


def _header(request: ConsentRequest, idle_limit: float | None = None,
            at_exit: bool = False, in_lines: bool = False) -> str:
    kind = request.exception_type or "an error"
    waits_for = "an answer" if in_lines else "a key press"
    if at_exit and request.shown:
        # The banner is on the screen already: say what changed, in one line.
        return "\n".join(("", *_wrapped(
            f"{_glyph('🚨', '!!')} Your program has ended: the question above is asked again "
            f"(it closes in {idle_limit or UNANSWERED_SECONDS:.0f} s).", indent="")))
    closing = ""
    if idle_limit and at_exit:
        closing = (f"Your program has ended. Without {waits_for} this question closes in "
                   f"{idle_limit:.0f} s, and nothing is sent.")
    elif idle_limit:
        closing = (f"Your program waits for the answer. Without {waits_for} this question "
                   f"closes in {idle_limit:.0f} s: nothing is sent and the program goes on.")
    return "\n".join((
        "",
        f"{_glyph('🚨', '!!')} {wording.TITLE}",
        *_wrapped(wording.HIT.format(kind=kind)),
        *_wrapped(wording.QUESTION_LOCAL if request.keeps_locally else wording.QUESTION),
        *_wrapped(wording.WHAT),
        *_wrapped(closing),
        "",
    ))


def _report_text(request: ConsentRequest) -> str:
    shown = request.shown_report()
    if shown is None:
        return f"({wording.NO_REPORT})"
    body, removed = shown
    caption = wording.report_caption(request.destination, request.keeps_locally)
    return "\n".join(("", f"--- {caption} ---", body, f"--- Removed before sending: {removed} ---",
                      ""))
