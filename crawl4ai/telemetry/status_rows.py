"""The effective state as a person reads it: a headline and (label, value) rows.

The command line (``crwl telemetry status``) prints them and the dashboard's Status tab shows
them, so both say the same thing; neither imports the other. Values may quote what telemetry did
not write (environment values, paths): each surface makes them printable as it lays them out.
"""

from __future__ import annotations

from typing import Any

from .api import Status
from .consent import ALWAYS, ONCE
from .reports import STATE_LABELS
from .wording import describe_destination


def headline(status: Status) -> str:
    if status.asks_again and not status.enabled:
        return ("ASK AGAIN: the destination changed since you agreed; reports are kept on this "
                "machine")
    if status.local_only:
        return "LOCAL ONLY: reports are kept on this machine; none is sent on its own"
    if status.enabled:
        scope = " for the next error only" if status.consent == ONCE and status.source == "file" else ""
        if status.sends:
            return f"ON{scope}: reports are sent to {status.destination}"
        return (f"ON{scope}, kept on this machine: no destination is configured, nothing is "
                "sent")
    if status.will_ask:
        return "OFF until you choose (you will be asked on the first error)"
    return "OFF: nothing is sent"


def outbox_line(outbox: dict[str, Any]) -> str:
    counts = {k: v for k, v in (outbox.get("counts") or {}).items() if v}
    total = sum(counts.values())
    skipped = f"; {outbox['skipped']} unusable file(s) skipped" if outbox.get("skipped") else ""
    if not total:
        return f"empty ({outbox.get('directory')}){skipped}"
    parts = ", ".join(f"{n} {STATE_LABELS.get(state, state)}" for state, n in sorted(counts.items()))
    return f"{total} report(s): {parts}, {outbox.get('bytes', 0)} bytes ({outbox.get('directory')}){skipped}"


def rows(status: Status) -> list[tuple[str, str]]:
    """The status as (label, value) rows, in the order both surfaces show them."""
    sources = status.sources
    destination = f"{status.destination} ({sources.get('destination', 'default')})"
    if status.local_only and status.keeps_locally:
        destination = "this machine only (your choice; no destination is configured either)"
    elif status.local_only:
        destination = f"this machine only (your choice); one you send yourself: {destination}"
    result = [("Why", status.reason), ("Reports go to", destination)]
    agreed = status.agreed_destination
    if agreed and agreed != status.destination_id and status.consent in (ONCE, ALWAYS):
        result.append(("Agreed for", describe_destination(agreed)))
    result += [
        ("Consent", f"{status.consent} ({sources.get('consent', status.source)})"),
        ("Email", f"{status.email} ({sources.get('email')})" if status.email else "none"),
        ("Environment", status.environment),
        ("sentry-sdk", "installed" if status.sentry_sdk_installed
         else "not installed (pip install 'crawl4ai-telemetry[sentry]')"),
        ("Settings file", status.config_path),
    ]
    if status.config_problem:
        result.append(("Settings problem", f"{status.config_problem}: read as not_set"))
    result += [("Problem", problem) for problem in status.problems]
    result += [("Override", override) for override in status.overrides]
    result.append(("Local outbox", outbox_line(status.outbox)))
    stats = {k: v for k, v in status.pipeline.items() if v}
    if stats:
        result.append(("This process", ", ".join(f"{k}: {v}" for k, v in sorted(stats.items()))))
    if status.warning:
        result.append(("Warning", status.warning))
    return result

