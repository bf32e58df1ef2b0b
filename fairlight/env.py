"""Typed readers for settings taken from environment variables.

Every reader raises ``ImproperlyConfigured`` with the variable's name, so a
malformed value stops start-up with a message saying which variable to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_ROOT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def env_str(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int = 0, environ: Mapping[str, str] | None = None) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"{name}={value!r} has an empty entry; separate values with single commas."
        )
    return items


def env_days(
    name: str, default: str, *, maximum: int = 3650, environ: Mapping[str, str] | None = None
) -> tuple[int, ...]:
    """Distinct whole numbers of days such as ``30,7,1``, largest first; empty means none."""
    value = env_str(name, default, environ=environ)
    if not value.strip():
        return ()
    days: list[int] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            raise ImproperlyConfigured(
                f"{name}={value!r} has an empty entry; separate the days with single commas, e.g. 30,7,1."
            )
        try:
            number = int(item)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a whole number of days.") from None
        if not 1 <= number <= maximum:
            raise ImproperlyConfigured(f"{name}: {number} must be between 1 and {maximum} days.")
        if number in days:
            raise ImproperlyConfigured(f"{name}: {number} is given twice.")
        days.append(number)
    return tuple(sorted(days, reverse=True))


def env_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """An http(s) base address such as ``https://sandbox.zenodo.org``, without a trailing slash."""
    value = env_str(name, default, environ=environ).strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name}={value!r} must be an http:// or https:// address such as {default}."
        )
    return value.rstrip("/")


def env_database(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    url = env_str(name, default, environ=environ)
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={url!r} is not a database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # WAL plus IMMEDIATE transactions let the web server and the task worker
        # write to one SQLite file without "database is locked" errors.
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif not engine.endswith("postgresql"):
        raise ImproperlyConfigured(f"{name}={url!r}: FAIRlight supports sqlite:// and postgres:// URLs only.")
    return config


def env_redis_url(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A redis:// (or rediss:// for TLS) URL, such as redis://127.0.0.1:6379/0."""
    url = env_str(name, default, environ=environ)
    if not re.match(r"^rediss?://[^/\s]*(/\d+)?$", url):
        raise ImproperlyConfigured(
            f"{name}={url!r} is not a Redis URL; write redis://host:port/db, e.g. redis://127.0.0.1:6379/0."
        )
    return url


@dataclass(frozen=True)
class StorageRootSetting:
    """One allow-listed folder on facility storage, as configured by IT."""

    name: str
    path: Path


def env_storage_roots(
    name: str, default: str, *, environ: Mapping[str, str] | None = None
) -> tuple[StorageRootSetting, ...]:
    """Parse ``NAME=/absolute/path`` entries separated by commas.

    Each path must be absolute and an existing directory; it is stored resolved
    (symlinks followed) because containment checks compare resolved paths.
    """
    value = env_str(name, default, environ=environ)
    roots: list[StorageRootSetting] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        root_name, sep, raw_path = entry.partition("=")
        root_name = root_name.strip()
        if not sep or not raw_path.strip():
            raise ImproperlyConfigured(f"{name}: entry {entry!r} must look like NAME=/absolute/path.")
        if not _ROOT_NAME.match(root_name):
            raise ImproperlyConfigured(
                f"{name}: root name {root_name!r} must be 1-50 lowercase letters, digits, '-' or '_'."
            )
        path = Path(raw_path.strip())
        if not path.is_absolute():
            raise ImproperlyConfigured(f"{name}: path {raw_path!r} of root {root_name!r} must be absolute.")
        if not path.is_dir():
            raise ImproperlyConfigured(
                f"{name}: path {raw_path!r} of root {root_name!r} does not exist or is not a directory."
            )
        if any(root.name == root_name for root in roots):
            raise ImproperlyConfigured(f"{name}: root name {root_name!r} is given twice.")
        roots.append(StorageRootSetting(name=root_name, path=path.resolve()))
    return tuple(roots)


_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}


def env_mailer(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A MAILERS entry: the backend chosen by ``name``; SMTP reads EMAIL_HOST and friends."""
    choice = env_str(name, default, environ=environ)
    if choice not in _EMAIL_BACKENDS:
        raise ImproperlyConfigured(f"{name}={choice!r} must be one of {', '.join(_EMAIL_BACKENDS)}.")
    mailer: dict[str, Any] = {"BACKEND": _EMAIL_BACKENDS[choice]}
    if choice == "smtp":
        mailer["OPTIONS"] = {
            "host": env_str("EMAIL_HOST", "localhost", environ=environ),
            "port": env_int("EMAIL_PORT", 25, minimum=1, environ=environ),
            "username": env_str("EMAIL_HOST_USER", "", environ=environ),
            "password": env_str("EMAIL_HOST_PASSWORD", "", environ=environ),
            "use_tls": env_bool("EMAIL_USE_TLS", False, environ=environ),
            "timeout": 30,
        }
    return mailer
