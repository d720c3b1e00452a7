"""Where reports can go, known without making a provider.

A stored "yes" is bound to the destination it was given for (:meth:`TelemetryProvider.destination_id`),
and whether it still holds is decided on the caller's thread for every error. So the identity of
the provider the settings select must be known without importing or constructing it: the DSN
configured, whether sentry-sdk is installed, and how a DSN becomes an identity live here, in a
leaf that the registry, the built-in providers and nothing else import.
"""

from __future__ import annotations

from .. import settings

#: The destination of "nowhere": reports stay in the local outbox on this machine.
THIS_MACHINE = "local"


def configured_dsn() -> str:
    return settings.dsn()


def sentry_available() -> bool:
    from importlib.util import find_spec

    try:
        return find_spec("sentry_sdk") is not None
    except (ImportError, ValueError):
        return False


def sentry_destination_id(dsn: str | None) -> str:
    """``"sentry:<host>"``: the host is the receiver (for sentry.io it names the organisation);
    a new port or project on the same host is the same receiver, another host is not. Without a
    DSN or sentry-sdk nothing leaves: :data:`THIS_MACHINE`. Never the key."""
    if not (dsn and sentry_available()):
        return THIS_MACHINE
    from urllib.parse import urlsplit

    try:
        host = urlsplit(dsn).hostname or "?"
    except ValueError:
        host = "?"
    return f"sentry:{host.lower()}"
