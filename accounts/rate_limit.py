"""Login rate limiting: after MAX_FAILURES failed logins for one username, or from one address,
within WINDOW, further attempts are refused for LOCKOUT, whatever the password.

Failures are kept in Django's cache (``CACHES["default"]``): per process in the embedded default,
in Redis when ``FAIRLIGHT_CACHE_URL`` names one, so that every web process and host shares them.
An attempt is counted as failed *before* the password is checked and uncounted when it succeeds:
guesses sent in parallel then see each other, instead of all passing the check while the slow
password hash of the first one is still running.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

MAX_FAILURES = 5
WINDOW = 15 * 60  # seconds
LOCKOUT = 15 * 60

# Seconds since the epoch; tests replace it to move time on.
clock: Callable[[], float] = time.time


class LoginLocked(Exception):
    """Too many recent failures: the attempt is refused without looking at the password."""

    def __init__(self, seconds_left: float) -> None:
        self.seconds_left = seconds_left
        minutes = max(1, math.ceil(seconds_left / 60))
        super().__init__(
            f"Too many failed logins for this account or from your network. For your security, "
            f"logging in is paused; try again in {minutes} minute{'s' if minutes != 1 else ''}, "
            f"or reset your password."
        )


@dataclass(frozen=True)
class Attempt:
    """A login attempt, counted as failed until ``login_succeeded`` uncounts it."""

    username_key: str
    keys: tuple[str, ...]


def client_address(request: HttpRequest | None) -> str:
    """The address the request came from; behind our proxy, the one the proxy saw.

    Only the last X-Forwarded-For entry is trusted: the proxy appends it, while anything before
    it comes from the client and could be made up to dodge the limit."""
    if request is None:
        return ""
    if settings.FAIRLIGHT_BEHIND_PROXY:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _key(kind: str, value: str) -> str:
    # Hashed: usernames are user input, and cache keys must be short and plain.
    return f"fairlight:login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


# Each failure is (when, whose): the username's key, so that a login that succeeds can take back
# that username's failures from its address too.
Failure = tuple[float, str]


def _recent(failures: list[Failure], now: float) -> list[Failure]:
    # A lock needs the failures of one window before its last failure, which may be LOCKOUT old.
    return sorted(f for f in failures if f[0] > now - WINDOW - LOCKOUT)


def _locked_until(failures: list[Failure]) -> float | None:
    if not failures:
        return None
    last = failures[-1][0]
    in_window = [f for f in failures if f[0] > last - WINDOW]
    return last + LOCKOUT if len(in_window) >= MAX_FAILURES else None


def _failures(key: str, now: float) -> list[Failure]:
    return _recent(cache.get(key, []), now)


def login_attempt(*, username: str, address: str) -> Attempt:
    """Count an attempt as failed, or raise LoginLocked (counting nothing) while locked."""
    now = clock()
    username_key = _key("username", username.strip().lower())
    keys = [username_key] + ([_key("address", address)] if address else [])
    for key in keys:
        until = _locked_until(_failures(key, now))
        if until is not None and now < until:
            raise LoginLocked(until - now)
    for key in keys:
        cache.set(key, [*_failures(key, now), (now, username_key)], timeout=WINDOW + LOCKOUT)
    return Attempt(username_key=username_key, keys=tuple(keys))


def login_succeeded(attempt: Attempt) -> None:
    """The password was right: the username's failures are forgotten, at its address too (the
    person mistyped it); failures there for other usernames stay counted."""
    for key in attempt.keys:
        left = [f for f in cache.get(key, []) if f[1] != attempt.username_key]
        cache.set(key, left, timeout=WINDOW + LOCKOUT)
