"""Read settings from the environment, refusing values that do not parse.

A misspelt boolean or a port that is not a number must stop the process at start-up with a message
that names the variable, not fall back silently to a default (see healthchecks' ``envbool``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping


class ImproperlyConfiguredEnv(Exception):
    """An environment variable is present but malformed, or required and missing."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the variable stripped of surrounding blanks, or ``default`` when unset or empty."""
    source = os.environ if environ is None else environ
    value = source.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """Return a boolean; only true/false (and 1/0, yes/no, on/off) are accepted."""
    value = env_str(name, environ=environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(f"{name} must be true or false, not {value!r}")


def env_choice(name: str, default: str, *, choices: tuple[str, ...], environ: Mapping[str, str] | None = None) -> str:
    """Return one of ``choices`` (compared lower-case)."""
    value = env_str(name, environ=environ)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ImproperlyConfiguredEnv(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value.lower()


_RATE = re.compile(r"^[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """Return a rate as DRF writes it: a count per second, minute, hour or day (``600/minute``)."""
    value = env_str(name, environ=environ)
    if value is None:
        return default
    if not _RATE.match(value.lower()):
        raise ImproperlyConfiguredEnv(
            f"{name} must be a count per period, such as 600/minute or 20/second; not {value!r}"
        )
    return value.lower()


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Return an integer within the given bounds."""
    value = env_str(name, environ=environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfiguredEnv(f"{name} must be at most {maximum}, not {number}")
    return number


def env_list(name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Return a comma-separated list without empty items."""
    value = env_str(name, environ=environ)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(
    name: str, default: str | None, *, schemes: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> str | None:
    """Return a URL whose scheme is one of ``schemes``."""
    value = env_str(name, default, environ=environ)
    if value is None:
        return None
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        # Never echo the value: a malformed URL may still hold a password.
        raise ImproperlyConfiguredEnv(f"{name} must start with one of {allowed}")
    return value


def env_seconds_list(
    name: str, default: list[float], *, maximum: float = 7 * 24 * 3600, environ: Mapping[str, str] | None = None
) -> list[float]:
    """Return a comma-separated list of positive durations in seconds, like ``30,300,3600``."""
    items = env_list(name, [str(d) for d in default], environ=environ)
    try:
        seconds = [float(item) for item in items]
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} must be numbers of seconds separated by commas") from None
    if any(not 0 < s <= maximum for s in seconds):
        raise ImproperlyConfiguredEnv(f"{name} must hold durations above 0 and at most {maximum:g} seconds")
    return seconds


def env_networks(name: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Return a comma-separated list of IP networks in CIDR notation, like ``10.20.0.0/16,127.0.0.1/32``."""
    networks = env_list(name, [], environ=environ)
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            raise ImproperlyConfiguredEnv(
                f"{name} must hold IP networks such as 10.0.0.0/8, separated by commas"
            ) from None
    return networks
