"""Shared set-up for the benchmarks: a throw-away FAIRlight database and timing helpers."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def django_in_scratch(storage: Path) -> Path:
    """Configure Django on a scratch SQLite database with ``storage`` as the only storage root."""
    scratch = Path(tempfile.mkdtemp(prefix="fairlight-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["FAIRLIGHT_VAR_DIR"] = str(scratch)
    os.environ["FAIRLIGHT_STORAGE_ROOTS"] = f"bench={storage}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairlight.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return scratch


def timed(label: str, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<48} {elapsed:8.3f} s", flush=True)
    return elapsed
