"""``crwl telemetry``: the consent verbs on the command line (a Typer app).

    crwl telemetry status [--json]       the effective state and why
    crwl telemetry enable [--email E]    send every error report (optionally with an email)
    crwl telemetry enable --once         send the next error report only, then ask again
    crwl telemetry enable --local-only   keep reports on this machine; send none on their own
    crwl telemetry disable               send nothing (reports still waiting are withheld)
    crwl telemetry disable --forget-email   ...and remove the stored email too
    crwl telemetry forget-email          remove the stored email, keep the consent
    crwl telemetry -h | --help | --version
    crwl telemetry dashboard             the Textual dashboard (also: no verb, on a terminal)
    crwl telemetry reports | show ID | send [ID|--pending] | delete ID|--all | preview
                                         the reports in the local outbox (each with --json)

Each verb is a few lines around the public Python API (:mod:`crawl4ai.telemetry.api`), so the
CLI and ``telemetry.enable/disable/status`` behave identically. Exit codes: 0 done, 1 the choice
could not be saved (e.g. an unwritable settings file), 2 bad input (e.g. an invalid email).

The same app runs as ``crwl telemetry`` (mounted through :func:`run`), as the
``crawl4ai-telemetry`` console script (:func:`main`) and as ``python -m crawl4ai.telemetry``.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import TYPE_CHECKING, Any, Optional

import typer

from ._text import printable

if TYPE_CHECKING:
    from .api import Status

DOCS_URL = "https://docs.crawl4ai.com/core/telemetry/"


def _epilog() -> str:
    """The environment variables (from the one settings table) and where the docs are."""
    from .settings import SETTINGS

    # "\b" keeps Click from re-wrapping the list into one paragraph.
    lines = ["\b", "Environment variables:"]
    lines += [f"  {s.name}: {s.meaning}" for s in SETTINGS]
    return "\n".join(lines) + f"\n\nDocs: {DOCS_URL} (docs/md_v2/core/telemetry.md)"


app = typer.Typer(
    name="telemetry",
    help="Crash reports for Crawl4AI: see what is sent and decide whether it is.\n\n"
         "Without a command, shows the status (on a terminal, in the dashboard).",
    epilog=_epilog(),
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click-style help, like crwl's own: options never show a "<bool>" type column.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_OK, EXIT_NOT_SAVED, EXIT_BAD_INPUT = 0, 1, 2
_PROCESS_ONLY = "; the choice holds for this process only"


def _api() -> Any:
    from . import api

    return api


def _quietly(call: Any, *args: Any, **kwargs: Any) -> Any:
    # The API warns (RuntimeWarning) when it cannot save; the CLI says so itself, once.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return call(*args, **kwargs)


def _fail_if_not_saved(result: Status) -> None:
    warning = result.warning
    if warning:
        typer.echo(f"Error: your choice was not saved: {printable(warning.removesuffix(_PROCESS_ONLY))}",
                   err=True)
        raise typer.Exit(EXIT_NOT_SAVED)


def _echo_effect(result: Status) -> None:
    """One line on where reports go, and any override that changes what was just chosen."""
    where = result.destination
    if result.local_only:
        where = ("this machine only" + ("" if result.keeps_locally else
                                        f" (one you send yourself goes to {where})"))
    typer.echo(f"Reports go to: {printable(where)}")
    for override in result.overrides:
        typer.echo(f"Note: {printable(override)}.")


def _print_version(value: bool) -> None:
    if value:
        from ._version import __version__

        typer.echo(f"crawl4ai-telemetry {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Crash reports for Crawl4AI: see what is sent and decide whether it is.

    Without a command, shows the status (on a terminal, in the dashboard)."""
    if ctx.invoked_subcommand is None:
        _deliver_pending()
        if _on_a_terminal() and _open_dashboard():
            return
        _print_status(_api().status())


@app.command()
def enable(
    email: Optional[str] = typer.Option(  # noqa: UP045 - Typer reads the annotation at runtime
        None, "--email", metavar="EMAIL",
        help="An email the maintainers may use to follow up (syntax-checked only).",
    ),
    once: bool = typer.Option(False, "--once", help="Send the next error report only, then ask again."),
    local_only: bool = typer.Option(
        False, "--local-only",
        help="Keep a redacted report of every error on this machine and send none on its own, "
             "whatever destination is configured (send one yourself: crwl telemetry send ID).",
    ),
) -> None:
    """Make crash reports: send every error, only the next one (--once), or keep them on this
    machine only (--local-only)."""
    if once and local_only:
        raise typer.BadParameter("choose one of the two", param_hint="'--once' / '--local-only'")
    try:
        result = _quietly(_api().enable, email=email, once=once, local_only=local_only)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="'--email'") from None
    _fail_if_not_saved(result)
    typer.echo(printable(_enabled_line(result, once)))
    typer.echo(f"Email: {result.email or 'none'}")
    _echo_effect(result)


def _enabled_line(result: Status, once: bool) -> str:
    """What ``enable`` really did: never a send promised where no destination exists."""
    if result.local_only:
        kept = result.outbox.get("counts", {}).get("local", 0)
        return ("Crash reports are local only: a redacted report of every Crawl4AI error is "
                "kept on this machine and none is sent on its own. Read them with `crwl "
                "telemetry reports`; send one yourself with `crwl telemetry send ID`, or export "
                "it as a GitHub issue from the dashboard."
                + (f" Reports kept locally now: {kept}." if kept else ""))
    scope = "the next Crawl4AI error only" if once else "every Crawl4AI error"
    if result.sends:
        return f"Crash reports are on: {scope} will be reported to {result.destination}."
    return (f"Crash reports are on: a redacted report of {scope} is kept on this machine. No "
            "destination is configured, so nothing is sent; read the reports with "
            "`crwl telemetry status` or the dashboard, and paste one into an issue if you like.")


@app.command()
def disable(
    forget_email: bool = typer.Option(False, "--forget-email",
                                      help="Also remove the stored email."),
) -> None:
    """Send nothing. Reports still waiting to be sent are withheld.

    The stored email is kept (for when you enable again) unless --forget-email is given."""
    api = _api()
    had_email = bool(api.get_pipeline().store.load()["email"])
    result = _quietly(api.disable)
    _fail_if_not_saved(result)
    if forget_email:
        _fail_if_not_saved(_quietly(api.clear_email))
    typer.echo("Crash reports are off: nothing will be sent.")
    withheld = result.outbox.get("counts", {}).get("withheld", 0)
    if withheld:
        typer.echo(f"Withheld reports kept locally: {withheld} (never sent).")
    if forget_email:
        typer.echo("The stored email was removed." if had_email else "No email was stored.")
    elif had_email:
        typer.echo("Your email is still stored (for when you enable again); remove it with "
                   "`crwl telemetry disable --forget-email`.")
    for override in result.overrides:
        typer.echo(f"Note: {printable(override)}.")


@app.command("forget-email")
def forget_email() -> None:
    """Remove the stored email; the consent itself stays as it is."""
    api = _api()
    had = api.get_pipeline().store.load()["email"]
    result = _quietly(api.clear_email)
    _fail_if_not_saved(result)
    typer.echo("The stored email was removed." if had else "No email was stored.")
    if result.email:
        typer.echo("Note: CRAWL4AI_TELEMETRY_EMAIL still sets an email for processes that have it.")


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show whether reports are sent, why, where to, and what is in the local outbox."""
    _deliver_pending()
    result = _api().status()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2, sort_keys=True, default=str))
    else:
        _print_status(result)
    # Delivering what is pending is part of this verb: once the status is shown, give it a
    # bounded wait of its own (exit's bound is too short to import a transport and send).
    from .settings import FLUSH_TIMEOUT

    _api().get_pipeline().flush(FLUSH_TIMEOUT)


def _deliver_pending() -> None:
    # Looking at the state is a moment to send what earlier runs left pending (if allowed),
    # on the worker; exit waits for it within its bound.
    _api().get_pipeline().deliver_pending()


def _print_status(result: Status) -> None:
    from .status_rows import headline
    from .status_rows import rows as status_rows

    rows = status_rows(result)
    typer.echo(f"Crawl4AI telemetry: {printable(headline(result))}")
    width = max(len(label) for label, _ in rows) + 1
    for label, value in rows:
        # Values quote what we did not write (env values, paths, outbox fields): never raw.
        typer.echo(f"  {label + ':':<{width}} {printable(value)}")


# -- the dashboard and the report verbs: a few lines each around crawl4ai.telemetry.reports -----


def _on_a_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _open_dashboard() -> bool:
    """Run the Textual dashboard; False (with a note on stderr) when it cannot start."""
    try:
        from .tui import run_dashboard
    except ImportError as e:
        typer.echo(f"The dashboard is not available ({e.name or e}); showing the status.", err=True)
        return False
    run_dashboard()
    return True


def _reports() -> Any:
    from . import reports

    return reports


def _dump(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=True))


def _resolved(call: Any, ref: str) -> Any:
    try:
        return call(ref)
    except LookupError as e:
        typer.echo(f"Error: {e.args[0]}. See: crwl telemetry reports", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _id_or(ref: str | None, flag: bool, flag_name: str) -> None:
    if (ref is None) != flag:
        raise typer.BadParameter(f"give a report ID or {flag_name}, one of the two")


def _when(timestamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


@app.command()
def dashboard() -> None:
    """Open the dashboard: status, consent, reports, the sample and the scrubber playground."""
    if not _on_a_terminal():
        typer.echo("Error: the dashboard needs a terminal; try: crwl telemetry status", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    if not _open_dashboard():
        raise typer.Exit(EXIT_NOT_SAVED)


@app.command("reports")
def list_reports(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the reports in the local outbox, newest first."""
    rows = _reports().list_reports()
    if as_json:
        return _dump([row.as_dict() for row in rows])
    if not rows:
        typer.echo("The local outbox is empty.")
    for row in rows:
        name = " ".join(filter(None, (printable(row.exception_type or "?"), row.times)))
        typer.echo(f"{row.event_id[:12]}  {_when(row.created)}  {row.state_label:<12}  "
                   f"{name:<24} {printable(row.where)}")


@app.command()
def show(
    ref: str = typer.Argument(..., metavar="ID", help="A report id (or its first characters)."),
    as_json: bool = typer.Option(False, "--json", help="The report with its record, as JSON."),
    markdown: bool = typer.Option(False, "--markdown", help="As a GitHub issue body."),
    why: bool = typer.Option(False, "--why", help="For each piece of its messages: the template "
                             "that kept it (file:line of the code that writes it), or the rule "
                             "that made its placeholder."),
) -> None:
    """Show one report: the exact redacted bytes, what was removed, and its delivery history."""
    reports = _reports()
    if markdown:
        return typer.echo(_resolved(reports.issue_markdown, ref), nl=False)
    detail = _resolved(reports.get, ref)
    if as_json:
        return _dump(detail.as_dict())
    typer.echo(detail.pretty())
    if why:
        typer.echo("\nWhy each piece of its messages is there:")
        for field_name, pieces in reports.why(detail.row.event_id):
            typer.echo(field_name)
            for text, kept, reason in pieces:
                typer.echo(f"  {'kept' if kept else 'placeholder':<12} {text!r:<40} {reason}")
    removed = ", ".join(f"{n} {kind}" for kind, n in sorted(detail.removed.items())) or "nothing"
    typer.echo(f"\nRemoved by the scrubber: {removed}")
    typer.echo(f"Occurrences: {detail.row.times_sentence}")
    from .reports import STATE_LABELS

    for when, state, what in detail.history:
        typer.echo(f"{_when(when)}  {STATE_LABELS.get(state, state):<12}  {printable(what)}")


@app.command()
def send(
    ref: Optional[str] = typer.Argument(None, metavar="[ID]", help="The report to send."),  # noqa: UP045
    pending: bool = typer.Option(False, "--pending", help="Send every pending report."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Send one report now, or every pending one (--pending). Exit 1 if one was not delivered."""
    _id_or(ref, pending, "--pending")
    reports = _reports()
    outcomes = reports.send_pending() if pending else [_resolved(reports.send, ref)]
    if as_json:
        _dump([o._asdict() for o in outcomes])
    else:
        for o in outcomes:
            typer.echo(f"{o.event_id[:12]}  {'sent' if o.sent else 'not sent: ' + o.reason}")
        if pending and not outcomes:
            typer.echo("No report is pending.")
    if not all(o.sent for o in outcomes):
        raise typer.Exit(EXIT_NOT_SAVED)


@app.command()
def delete(
    ref: Optional[str] = typer.Argument(None, metavar="[ID]", help="The report to delete."),  # noqa: UP045
    everything: bool = typer.Option(False, "--all", help="Delete every report in the outbox."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Delete one report from the local outbox, or all of them (--all)."""
    _id_or(ref, everything, "--all")
    reports = _reports()
    count = reports.clear() if everything else len([_resolved(reports.delete, ref)])
    if as_json:
        return _dump({"deleted": count})
    typer.echo(f"Deleted {count} report(s).")


@app.command()
def preview(as_json: bool = typer.Option(False, "--json", help="The redacted sample report only.")) -> None:
    """Show a sample crash raw, then the redacted report it would produce (nothing is sent)."""
    sample = _reports().sample()
    if as_json:
        return _dump(sample.report)
    typer.echo("A synthetic Crawl4AI crash, as Python prints it:\n")
    typer.echo(sample.raw)
    typer.echo("\nThe report telemetry would make of it (this is all that could leave):\n")
    typer.echo(sample.pretty())


def run(args: list[str], prog_name: str = "crwl telemetry") -> int:
    """Run the app on ``args`` and return its exit code (never calls ``sys.exit``)."""
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # Typer before it vendored Click
        from click.exceptions import ClickException

    command = typer.main.get_command(app)
    try:
        rv = command.main(args=list(args), prog_name=prog_name, standalone_mode=False)
    except ClickException as e:
        e.show()
        return e.exit_code
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    except OSError as e:  # the system refused (output full or closed, a file): say so in a line
        return _system_error(e)
    return rv if isinstance(rv, int) else EXIT_OK


def _system_error(error: OSError) -> int:
    """One line on stderr instead of a traceback (``crwl telemetry status > /dev/full``); a
    reader that went away (``| head``) ends it quietly, as other command-line tools do."""
    import errno
    import os

    if error.errno != errno.EPIPE:
        try:
            typer.echo(f"Error: {printable(error.strerror or str(error))}"
                       + (f": {printable(str(error.filename))}" if error.filename else ""), err=True)
        except Exception:
            pass
    try:
        sys.stdout.flush()
    except Exception:  # what is still buffered cannot be written either: drop it at exit
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except Exception:
            pass
    return 1


def main() -> None:
    """The ``crawl4ai-telemetry`` console script."""
    sys.exit(run(sys.argv[1:], prog_name="crawl4ai-telemetry"))
