"""Two real `manage.py worker` processes on Redis share a scan; one is killed with SIGKILL in
the middle of a chunk; the other runs that chunk again and the scan ends complete, with one row
per file, identical to the embedded default (SQLite and the database task backend).

The Redis run uses the database the suite runs on: a fresh PostgreSQL database when the suite
runs on PostgreSQL (as CI does), otherwise a SQLite file, which WAL mode lets the worker
processes share. Its queues carry a prefix of their own and are purged afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import psycopg
import pytest
import tifffile
from django.conf import settings

from tests.workers.redis_support import REDIS_URL, backend_for, redis_or_skip, unique_prefix

REPO = Path(__file__).resolve().parents[2]
FILES = 480
CHUNK_FILES = 40  # 12 chunks; a chunk writes its rows in four flushes of 10
DEADLINE = 180

SETUP = """
from projects.models import Facility, Project, StorageRoot
from metadata.services import dataset_register
facility = Facility.objects.create(name="Core")
root = StorageRoot.objects.create(facility=facility, name="lab", path="{storage}")
project = Project.objects.create(title="P", facility=facility)
dataset = dataset_register(project=project, user=None, storage_root=root, relative_path="run", title="Run")
print(dataset.pk)
"""

FILES_QUERY = (
    "select relative_path, size_bytes, sha256, format, file_count, is_image, error_code, instrument "
    "from metadata_imagefile order by relative_path"
)
TOTALS_QUERY = (
    "select file_count, total_bytes, image_count, error_count, format_summary, monthly_bytes "
    "from metadata_dataset"
)


class Database:
    """A FAIRlight database the test reads with plain SQL while worker processes write to it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: psycopg.Connection[Any] | None = None
        if url.startswith("sqlite:///"):
            self._sqlite = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=20, autocommit=True)
        else:
            self._postgres = psycopg.connect(url, autocommit=True)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return self._sqlite.execute(sql.replace("%s", "?"), params).fetchall()
        assert self._postgres is not None
        return self._postgres.execute(sql, params).fetchall()

    def close(self) -> None:
        for connection in (self._sqlite, self._postgres):
            if connection is not None:
                connection.close()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _env(var: Path, storage: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FAIRLIGHT_", "DATABASE_"))}
    env.update(
        FAIRLIGHT_VAR_DIR=str(var),
        DATABASE_URL=database_url,
        FAIRLIGHT_STORAGE_ROOTS=f"lab={storage}",
        FAIRLIGHT_SCAN_CHUNK_FILES=str(CHUNK_FILES),
        **extra,
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _prepare(env: dict[str, str], storage: Path) -> int:
    _manage(env, "migrate", "--verbosity", "0")
    return int(_manage(env, "shell", "-c", SETUP.format(storage=storage)).strip().splitlines()[-1])


@pytest.fixture
def server_database(tmp_path: Path) -> Iterator[str]:
    """A URL for the Redis run's database, on the engine the suite runs on."""
    config = settings.DATABASES["default"]
    if not config["ENGINE"].endswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'redis-run.sqlite3'}"
        return
    name = f"fairlight_rq_{uuid.uuid4().hex[:12]}"
    host, port = str(config.get("HOST") or "127.0.0.1"), str(config.get("PORT") or 5432)
    user, password = str(config.get("USER") or "postgres"), str(config.get("PASSWORD") or "")

    def admin() -> psycopg.Connection[Any]:
        return psycopg.connect(
            dbname="postgres", host=host, port=port, user=user, password=password, autocommit=True
        )

    with closing(admin()) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    credentials = quote(user) + (f":{quote(password)}" if password else "")
    try:
        yield f"postgres://{credentials}@{host}:{port}/{name}"
    finally:
        with closing(admin()) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _generate(folder: Path) -> None:
    folder.mkdir(parents=True)
    stack = np.zeros((10, 2, 64, 64), dtype=np.uint16)
    for index in range(FILES):
        stack[0, 0, 0, 0] = index  # every file has its own checksum
        tifffile.imwrite(folder / f"img_{index:04d}.ome.tif", stack, ome=True, metadata={"axes": "ZCYX"})
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)  # one file with an error


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]


def _start_worker(env: dict[str, str], name: str, log: Path) -> Worker:
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--worker-id", name],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Worker(name=name, process=process)


def _wait_for(condition: Any, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _kill_mid_chunk(db: Database, victim: Worker) -> tuple[int, int]:
    """SIGKILL the victim while it holds a chunk of which some rows, not all, are written,
    after it has finished one chunk already. Freezing it with SIGSTOP first lets the test look
    at the database without racing it. Returns the chunk's id and the rows it had written."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        running = db.rows(
            "select id, paths from metadata_scanchunk where status = 'running' and worker = %s", victim.name
        )
        finished = db.rows(
            "select count(*) from metadata_scanchunk where status = 'done' and worker = %s", victim.name
        )[0][0]
        if running and finished:
            victim.process.send_signal(signal.SIGSTOP)
            held = db.rows(
                "select id, paths from metadata_scanchunk where status = 'running' and worker = %s",
                victim.name,
            )
            chunk_id, paths = held[0] if held else (0, [])
            paths = _json(paths)
            written = sum(
                db.rows("select count(*) from metadata_imagefile where relative_path = %s", path)[0][0]
                for path in paths
            )
            if 0 < written < len(paths):
                victim.process.send_signal(signal.SIGKILL)
                victim.process.wait(timeout=30)  # reaped: its pid no longer exists for the others
                return chunk_id, written
            victim.process.send_signal(signal.SIGCONT)
        if db.rows("select count(*) from metadata_scanrun where status = 'succeeded'")[0][0]:
            break
        time.sleep(0.005)
    pytest.fail("the scan ended before the victim worker was seen holding a half-written chunk")


def _embedded_run(tmp_path: Path, storage: Path) -> Database:
    """The same folder scanned by the embedded default: SQLite and the database task backend."""
    var = tmp_path / "embedded"
    var.mkdir()
    env = _env(var, storage, f"sqlite:///{var / 'db.sqlite3'}")
    dataset_id = _prepare(env, storage)
    _manage(env, "dataset_scan", str(dataset_id))
    _manage(env, "worker", "--batch", "--no-startup-delay", "--interval", "0")
    db = Database(env["DATABASE_URL"])
    assert db.rows("select status from metadata_scanrun")[0][0] == "succeeded"
    return db


@pytest.mark.slow
def test_two_redis_workers_share_a_scan_and_survive_a_killed_one(
    tmp_path: Path, server_database: str
) -> None:
    redis_or_skip()
    prefix = unique_prefix()
    storage = tmp_path / "storage"
    _generate(storage / "run")
    var = tmp_path / "var"
    var.mkdir()
    env = _env(
        var,
        storage,
        server_database,
        FAIRLIGHT_TASK_BACKEND="redis",
        FAIRLIGHT_REDIS_URL=REDIS_URL,
        FAIRLIGHT_REDIS_QUEUE_PREFIX=prefix,
    )
    dataset_id = _prepare(env, storage)
    db = Database(server_database)
    victim = _start_worker(env, f"{prefix}-a", tmp_path / "worker-a.log")
    survivor = _start_worker(env, f"{prefix}-b", tmp_path / "worker-b.log")
    workers = (victim, survivor)
    try:
        _wait_for(
            lambda: db.rows("select count(*) from workers_workerheartbeat")[0][0] == 2,
            "both workers to start",
        )
        # Watch while the command queues the scan: the workers start on it at once.
        starter = subprocess.Popen(
            [sys.executable, "manage.py", "dataset_scan", str(dataset_id)], cwd=REPO, env=env
        )
        killed_chunk, written_before = _kill_mid_chunk(db, victim)
        assert starter.wait(timeout=120) == 0
        _wait_for(
            lambda: db.rows("select status from metadata_scanrun")[0][0] in ("succeeded", "failed"),
            "the scan to finish on the surviving worker",
        )
        survivor.process.send_signal(signal.SIGTERM)  # RQ's warm shutdown: the running job ends first
        survivor.process.wait(timeout=60)

        run = db.rows("select status, files_total, chunks_total from metadata_scanrun")[0]
        assert run == ("succeeded", FILES + 1, 13)
        chunks = db.rows("select id, worker, attempts, status from metadata_scanchunk")
        assert {status for _, _, _, status in chunks} == {"done"}
        assert {worker for _, worker, _, _ in chunks} == {victim.name, survivor.name}, "both workers did work"
        assert [(worker, attempts) for pk, worker, attempts, _ in chunks if pk == killed_chunk] == [
            (survivor.name, 2)
        ], "the killed worker's chunk was run again by the other worker"
        assert 0 < written_before < CHUNK_FILES

        total, distinct = db.rows("select count(*), count(distinct relative_path) from metadata_imagefile")[0]
        assert (total, distinct) == (FILES + 1, FILES + 1), "one row per file, no duplicates"

        embedded = _embedded_run(tmp_path, storage)
        ours, theirs = db.rows(FILES_QUERY), embedded.rows(FILES_QUERY)
        assert len(ours) == FILES + 1
        assert [(*row[:5], bool(row[5]), *row[6:]) for row in ours] == [
            (*row[:5], bool(row[5]), *row[6:]) for row in theirs
        ], "same files, sizes, checksums and formats as the embedded run"
        assert [(*row[:4], _json(row[4]), _json(row[5])) for row in db.rows(TOTALS_QUERY)] == [
            (*row[:4], _json(row[4]), _json(row[5])) for row in embedded.rows(TOTALS_QUERY)
        ], "the totals kept through the kill equal the embedded run's"
        embedded.close()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                with suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGCONT)
                worker.process.kill()
                worker.process.wait(timeout=30)
        db.close()
        backend_for(prefix).purge()
