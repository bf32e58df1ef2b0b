"""A real worker process killed with SIGKILL in the middle of a scan; running the scan again
finishes it with exactly one row per file. Runs FAIRlight in subprocesses on its own SQLite
database, as a facility would."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
import tifffile

REPO = Path(__file__).resolve().parents[2]
FILES = 600


def _env(var: Path, storage: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FAIRLIGHT_", "DATABASE_"))}
    env.update(
        FAIRLIGHT_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        FAIRLIGHT_STORAGE_ROOTS=f"lab={storage}",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


SETUP = """
from projects.models import Facility, Project, StorageRoot
from metadata.services import dataset_register
facility = Facility.objects.create(name="Core")
root = StorageRoot.objects.create(facility=facility, name="lab", path="{storage}")
project = Project.objects.create(title="P", facility=facility)
dataset = dataset_register(project=project, user=None, storage_root=root, relative_path="run", title="Run")
print(dataset.pk)
"""


def _rows(db: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(db)) as connection:
        total, distinct = connection.execute(
            "select count(*), count(distinct relative_path) from metadata_imagefile"
        ).fetchone()
    return int(total), int(distinct)


@pytest.mark.slow
def test_killed_worker_then_rerun_gives_one_row_per_file(tmp_path: Path) -> None:
    var, storage = tmp_path / "var", tmp_path / "storage"
    (storage / "run").mkdir(parents=True)
    var.mkdir()
    stack = np.zeros((2, 64, 64), dtype=np.uint16)
    for index in range(FILES):
        tifffile.imwrite(
            storage / "run" / f"img_{index:04d}.ome.tif", stack, ome=True, metadata={"axes": "CYX"}
        )
    env = _env(var, storage)
    _manage(env, "migrate", "--verbosity", "0")
    dataset_id = _manage(env, "shell", "-c", SETUP.format(storage=storage)).strip().splitlines()[-1]
    _manage(env, "dataset_scan", dataset_id)

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval", "0.1"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = var / "db.sqlite3"
    try:
        deadline = time.monotonic() + 120
        while _rows(db)[0] < 60 and time.monotonic() < deadline:  # some rows written, far from all
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    written, _ = _rows(db)
    assert 0 < written < FILES, "the worker should have died in the middle of the scan"

    output = _manage(env, "dataset_scan", dataset_id, "--here")
    assert "Scan finished" in output
    assert _rows(db) == (FILES, FILES)
