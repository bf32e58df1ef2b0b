"""Shared set-up for the benchmarks: a throw-away FAIRlight database and timing helpers."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
# The PostgreSQL server the database benchmarks create their own database on.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def django_in_scratch(storage: Path) -> Path:
    """Configure Django on a scratch SQLite database with ``storage`` as the only storage root."""
    scratch = Path(tempfile.mkdtemp(prefix="fairlight-bench-"))
    django_on(f"sqlite:///{scratch / 'bench.sqlite3'}", storage, scratch=scratch)
    return scratch


def timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<48} {elapsed:8.3f} s", flush=True)
    return elapsed


def p50_p95(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


@contextmanager
def postgres_scratch(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database on POSTGRES_URL's server, dropped afterwards; yields its URL."""
    import psycopg

    server = urlsplit(POSTGRES_URL)
    admin_url = urlunsplit(server._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_on(database_url: str, storage: Path, *, scratch: Path | None = None) -> Path:
    """Configure Django on ``database_url`` with ``storage`` as the only storage root, migrated;
    returns the scratch folder used as FAIRLIGHT_VAR_DIR."""
    scratch = scratch or Path(tempfile.mkdtemp(prefix="fairlight-bench-"))
    os.environ["DATABASE_URL"] = database_url
    os.environ["FAIRLIGHT_VAR_DIR"] = str(scratch)
    os.environ["FAIRLIGHT_STORAGE_ROOTS"] = f"bench={storage}"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairlight.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch
