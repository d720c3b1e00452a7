"""IP addresses → ``<ip>``: IPv4 (with port or prefix), IPv6 (bracketed, zoned, mapped)."""

from __future__ import annotations

import ipaddress
import re

from . import Rule

IPV4 = re.compile(r"(?<![\w.])\[?(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?\]?(?::\d{1,5})?(?![\w]|\.\d)")
IPV6 = re.compile(
    r"(?<![\w:.])\[?(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[\w.\-]+)?(?:\](?::\d{1,5})?)?(?:/\d{1,3})?(?![\w:]|\.\d)"
)


def _ipv4(m: re.Match[str]) -> str | None:
    core = m.group(0).strip("[]").split("/")[0].split("]")[0].split(":")[0]
    return "<ip>" if all(int(part) <= 255 for part in core.split(".")) else None


def _ipv6(m: re.Match[str]) -> str | None:
    text = m.group(0)
    core = text[1:].split("]")[0] if text.startswith("[") else text.split("/")[0]
    if "]" in text and not text.startswith("["):
        return None
    try:
        ipaddress.IPv6Address(core.split("%")[0])
    except ValueError:
        return None
    return "<ip>"


RULES = (Rule("ip", IPV6, _ipv6, (":",)), Rule("ip", IPV4, _ipv4, (".",)))
