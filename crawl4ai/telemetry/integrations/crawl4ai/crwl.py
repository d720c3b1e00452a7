"""``crwl``, a process we own: the ``crwl telemetry`` verbs mounted into crwl's click group, and
the process-wide handlers for uncaught errors (main thread, threads, asyncio tasks).

In a user's own script no process-wide handler is installed (we own no user's process); there
the capture table's wrappers are the only capture points.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from ..._debug import internal_error
from ...settings import kill_switch
from . import state
from .points import CAPTURE_POINTS, PROCESS_MECHANISMS
from .seen import seen

TELEMETRY_COMMAND = "telemetry"
#: crwl's ``main``: wrapped when crwl is mounted (the process is ours).
MAIN_POINT = next(p for p in CAPTURE_POINTS if p.kind == "crwl_main")


def telemetry_command() -> Any:
    """A thin click command on crwl's own click group that hands its arguments to the Typer app
    (Typer ≥ 0.26 vendors its own click, so the app itself cannot be mounted)."""
    import click

    @click.command(
        TELEMETRY_COMMAND,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                          "allow_interspersed_args": False, "help_option_names": []},
        add_help_option=False,
        short_help="Crash reports: see what is sent and decide (status, enable, disable).",
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_context
    def telemetry(ctx: Any, args: tuple[str, ...]) -> None:
        """Crash reports for Crawl4AI: status, enable [--email E] [--once], disable."""
        from ...cli import run

        ctx.exit(run(list(args), prog_name="crwl telemetry"))

    return telemetry


#: Shown at the end of ``crwl --help`` (which is the ``crawl`` command's help) and ``crwl``'s own.
CRWL_HELP_NOTE = ("Crash reports: `crwl telemetry status` shows whether Crawl4AI errors are "
                  "reported and where; `crwl telemetry --help` lists the verbs.")


def mention_in_help(group: Any) -> None:
    """Make ``crwl telemetry`` discoverable from ``crwl --help`` (crwl routes a bare ``--help``
    to its ``crawl`` command, so the note goes there as well as on the group)."""
    for command in (group, group.commands.get("crawl")):
        if command is not None and CRWL_HELP_NOTE not in (command.epilog or ""):
            command.epilog = f"{command.epilog}\n\n{CRWL_HELP_NOTE}" if command.epilog \
                else CRWL_HELP_NOTE


def _capture_uncaught(exc: BaseException, mechanism: str) -> None:
    if mechanism not in PROCESS_MECHANISMS:
        mechanism = "excepthook"
    seen(exc, mechanism, handled=False)


def _install_plain_hooks() -> bool:
    """Without sentry-sdk: chain ``sys.excepthook`` and ``threading.excepthook``."""
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(exc_type: Any, exc: Any, tb: Any) -> None:
        _capture_uncaught(exc, "excepthook")
        previous_hook(exc_type, exc, tb)

    def thread_excepthook(args: Any) -> None:
        _capture_uncaught(args.exc_value, "threading")
        previous_thread_hook(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return True


def install_process_handlers() -> bool:
    """Watch uncaught errors of this whole process (threads and asyncio tasks included).

    For processes we own only (``crwl``). Nothing is installed while telemetry is off by env,
    when the stored choice says no (a "local only" still keeps reports) or nobody could be asked (no import of sentry-sdk for
    nothing), or when the host already runs its own Sentry client."""
    if kill_switch():
        return False
    with state.lock:
        if state.process_owned:
            return True
        try:
            from ...consent import decide
            from ...pipeline import get_pipeline

            decision = decide(get_pipeline().store)
            if not (decision.send or decision.ask or decision.keep_locally):
                return False
            from ...providers import install_process_integrations

            try:
                state.process_owned = bool(install_process_integrations(_capture_uncaught))
            except ImportError:  # no sentry-sdk
                state.process_owned = _install_plain_hooks()
                return state.process_owned
            state.asyncio_per_loop = state.process_owned
        except Exception:
            internal_error("process handlers")
        return state.process_owned
