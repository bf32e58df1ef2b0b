"""Faults during a scan: a chunk whose run fails, files that vanish while they are scanned, and
the database restarting under a real worker process.

To Django a PostgreSQL restart is every connection of the database dropped at once, which is
what ``pg_terminate_backend`` does to each of them. That worker runs on a database of its own
(the ``server_database`` fixture of the Redis worker test) and the test reads it with plain SQL.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import tifffile
from django.conf import settings
from django.db import OperationalError
from django_tasks_db.models import DBTaskResult

from metadata import services
from metadata.imaging.checksum import hash_file
from metadata.models import Dataset, ImageFile, ScanChunk, ScanRun
from tests.metadata.test_scan import SAMPLE_UNITS
from tests.workers.test_redis_workers import (
    CHUNK_FILES,
    Database,
    Worker,
    _env,
    _json,
    _manage,
    _prepare,
    _start_worker,
    _wait_for,
    server_database,  # noqa: F401 - fixture reused here
)

IMAGES = 6 * CHUNK_FILES  # and one broken PNG: seven chunks


def _totals_match_rows(dataset: Dataset) -> None:
    """The dataset's totals, kept by difference, equal a count over its rows."""
    dataset.refresh_from_db()
    files = list(dataset.files.all())
    assert dataset.file_count == sum(row.file_count for row in files)
    assert dataset.total_bytes == sum(row.size_bytes for row in files)
    assert dataset.image_count == sum(row.is_image for row in files)
    assert dataset.error_count == sum(bool(row.error_code) for row in files)


def test_a_failed_chunk_is_handed_back_and_resumed_without_counting_twice(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "FLUSH_UNITS", 3)  # a batch is committed before the failure
    real_flush = services._flush
    flushes = {"n": 0}

    def connection_lost_at_the_second_flush(*args: Any) -> None:
        flushes["n"] += 1
        if flushes["n"] == 2:
            raise OperationalError("terminating connection due to administrator command")
        real_flush(*args)

    monkeypatch.setattr(services, "_flush", connection_lost_at_the_second_flush)
    interrupted = scan_now(dataset)
    chunk = ScanChunk.objects.get(scan=interrupted)
    assert interrupted.status == ScanRun.Status.RUNNING
    assert (chunk.status, chunk.attempts) == (ScanChunk.Status.PENDING, 1), "handed back, not held"
    failed = DBTaskResult.objects.get(task_path="metadata.tasks.scan_chunk_task")
    assert (failed.status, failed.exception_class_path) == ("FAILED", "django.db.utils.OperationalError")
    written = dataset.files.count()
    assert 0 < written < SAMPLE_UNITS
    assert interrupted.files_done == written, "progress counts the committed batch only"
    _totals_match_rows(dataset)

    monkeypatch.setattr(services, "_flush", real_flush)
    resumed = scan_now(dataset)
    assert resumed.pk == interrupted.pk
    assert resumed.status == ScanRun.Status.SUCCEEDED
    assert (resumed.files_total, resumed.files_done, resumed.files_failed) == (SAMPLE_UNITS, SAMPLE_UNITS, 1)
    assert resumed.files_skipped == 0, "the rows of the failed attempt are this scan's, not unchanged ones"
    assert ScanChunk.objects.get(scan=resumed).attempts == 2
    assert dataset.files.count() == dataset.files.values("relative_path").distinct().count() == SAMPLE_UNITS
    _totals_match_rows(dataset)
    assert dataset.file_count == SAMPLE_UNITS + 3  # the OME-Zarr folder holds 4 files


@pytest.mark.parametrize("when", ["before it is read", "while it is read"])
def test_a_file_deleted_during_the_scan_is_reported_and_forgotten_by_the_next_scan(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun], monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    gone = "png-jpeg/skimage_cell.png"
    path = services.dataset_folder(dataset) / gone
    run = services.scan_start(dataset=dataset)
    services.scan_plan(run=run)  # the file is listed
    if when == "before it is read":
        path.unlink()
    else:

        def deleted_after_inspection(target: Path, **kwargs: Any) -> Any:
            if target == path:
                target.unlink()
            return hash_file(target, **kwargs)

        monkeypatch.setattr(services, "hash_file", deleted_after_inspection)
    assert services.scan_chunk(chunk_id=ScanChunk.objects.get(scan=run).pk, worker="w") is True
    run.refresh_from_db()
    assert run.status == ScanRun.Status.SUCCEEDED
    assert (run.files_done, run.files_failed) == (SAMPLE_UNITS, 2)
    row = ImageFile.objects.get(dataset=dataset, relative_path=gone)
    assert (row.error_code, row.error, row.sha256) == (
        "vanished",
        "The file disappeared during the scan.",
        "",
    )
    _totals_match_rows(dataset)
    assert dataset.error_count == 2

    monkeypatch.undo()
    again = scan_now(dataset)
    assert again.status == ScanRun.Status.SUCCEEDED
    assert not dataset.files.filter(relative_path=gone).exists()
    _totals_match_rows(dataset)
    assert (dataset.files.count(), dataset.error_count) == (SAMPLE_UNITS - 1, 1)


# --- The database restarts under a real worker process (PostgreSQL) -----------------------------

CONNECTED = (
    "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
)
WAITING = (
    "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
)
TASKS = "select id, task_path, status, exception_class_path from django_tasks_database_dbtaskresult"
TERMINATE = (
    "select count(pg_terminate_backend(pid)) from pg_stat_activity "
    "where datname = current_database() and pid <> pg_backend_pid()"
)


def _postgres_only() -> None:
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        pytest.skip(
            "A database restart is simulated by terminating PostgreSQL connections; SQLite has no "
            "server to restart. Run with DATABASE_URL=postgres://… (CI does)."
        )


def _generate(folder: Path) -> dict[str, tuple[int, str]]:
    """Small OME-TIFFs, each with its own checksum, and one truncated PNG; path -> (size, SHA-256)."""
    folder.mkdir(parents=True)
    stack = np.zeros((2, 32, 32), dtype=np.uint16)
    for index in range(IMAGES):
        stack[0, 0, 0] = index
        tifffile.imwrite(folder / f"img_{index:04d}.ome.tif", stack, ome=True, metadata={"axes": "CYX"})
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    return {
        path.name: (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in folder.iterdir()
    }


def _count(db: Database, sql: str, *params: Any) -> int:
    return int(db.rows(sql, *params)[0][0])


def _status(db: Database) -> str:
    return str(db.rows("select status from metadata_scanrun")[0][0])


def _idle(db: Database) -> bool:
    """Nothing queued or running, in the task queue or among the chunks."""
    tasks = "select count(*) from django_tasks_database_dbtaskresult where status in ('READY', 'RUNNING')"
    chunks = "select count(*) from metadata_scanchunk where status = 'running'"
    return _count(db, tasks) == 0 and _count(db, chunks) == 0


def _consistent(db: Database) -> tuple[int, int]:
    """Rows written and the run's files done, after checking the dataset's totals against the rows:
    each flush writes rows, progress and totals in one transaction, so they agree at every moment."""
    rows, size = db.rows("select count(*), coalesce(sum(size_bytes), 0) from metadata_imagefile")[0]
    done = db.rows("select files_done from metadata_scanrun")[0][0]
    counted, counted_bytes = db.rows("select file_count, total_bytes from metadata_dataset")[0]
    assert (counted, counted_bytes) == (rows, size), "the dataset's totals count exactly the rows written"
    return int(rows), int(done)


def _pause_mid_chunk(db: Database, worker: Worker) -> tuple[int, list[str], int]:
    """Stop the worker (SIGSTOP) while it holds a chunk of which some rows, not all, are written,
    after it has finished one chunk already. Returns the chunk's id, paths and rows written."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if _count(db, "select count(*) from metadata_scanchunk where status = 'done'"):
            worker.process.send_signal(signal.SIGSTOP)
            for chunk_id, paths in db.rows(
                "select id, paths from metadata_scanchunk where status = 'running'"
            ):
                paths = _json(paths)
                written = _count(
                    db, "select count(*) from metadata_imagefile where relative_path = any(%s)", paths
                )
                if 0 < written < len(paths):
                    return chunk_id, paths, written
            worker.process.send_signal(signal.SIGCONT)
        time.sleep(0.005)
    pytest.fail("the scan ended before the worker was seen holding a half-written chunk")


@pytest.mark.slow
def test_database_restart_during_a_scan_then_resume_gives_one_row_per_file(
    tmp_path: Path,
    server_database: str,  # noqa: F811
) -> None:
    _postgres_only()
    storage = tmp_path / "storage"
    on_disk = _generate(storage / "run")
    var = tmp_path / "var"
    var.mkdir()
    env = _env(var, storage, server_database)
    dataset_id = _prepare(env, storage)
    db = Database(server_database)
    worker = _start_worker(env, "fault-worker", tmp_path / "worker.log")
    blocker: psycopg.Connection[Any] | None = None
    try:
        _wait_for(lambda: _count(db, CONNECTED) >= 2, "the worker and its heartbeat to connect")
        # The worker waits while dataset_scan queues the scan: otherwise it may run every chunk
        # before that command has even exited (2 to 3 of the 7 were done by then, measured).
        worker.process.send_signal(signal.SIGSTOP)
        _manage(env, "dataset_scan", str(dataset_id))
        worker.process.send_signal(signal.SIGCONT)
        chunk_id, paths, written_before = _pause_mid_chunk(db, worker)
        restarted_at = db.rows("select now()")[0][0]
        assert _count(db, TERMINATE) >= 2, "the worker's task loop and its heartbeat lost their connections"
        worker.process.send_signal(signal.SIGCONT)

        # The chunk fails cleanly: it is handed back as pending, not left held by a live worker.
        _wait_for(lambda: _idle(db), "the worker to run what was queued", timeout=120)
        assert _status(db) == "running", "the interrupted chunk keeps the scan unfinished"
        assert db.rows("select status from metadata_scanchunk where id = %s", chunk_id) == [("pending",)]
        assert _count(db, "select count(*) from metadata_scanchunk where status <> 'done'") == 1
        failed = db.rows(
            "select exception_class_path from django_tasks_database_dbtaskresult where status = 'FAILED'"
        )
        assert failed == [("django.db.utils.OperationalError",)], "the interrupted chunk's task, and only it"
        rows, done = _consistent(db)
        assert done == rows, "progress counts exactly the rows committed"
        written = _count(db, "select count(*) from metadata_imagefile where relative_path = any(%s)", paths)
        assert written_before <= written < len(paths), (
            "its committed batches stay, the failed one left nothing"
        )

        assert worker.process.poll() is None, "the worker survived the restart"
        _wait_for(
            lambda: (
                _count(
                    db, "select count(*) from workers_workerheartbeat where last_seen_at > %s", restarted_at
                )
                == 1
            ),
            "the worker to beat again after the restart",
        )
        # Hold one image's row in a transaction of the test's own: when the worker makes that
        # image's preview, its update waits inside the task for the restart below.
        held_image = _count(db, "select min(id) from metadata_imagefile where is_image")
        blocker = psycopg.connect(server_database)
        blocker.execute("select id from metadata_imagefile where id = %s for update", (held_image,))

        # Running the scan again queues what is left; the worker finishes it.
        _manage(env, "dataset_scan", str(dataset_id))
        _wait_for(lambda: _status(db) in ("succeeded", "failed"), "the resumed scan to end")
        assert _status(db) == "succeeded"

        # Restart again while the worker makes previews, which write outside a transaction: the
        # task fails, its failure is recorded on a new connection and the worker carries on.
        _wait_for(lambda: _count(db, WAITING) == 1, "the worker to wait for the held row")
        (preview_task,) = db.rows(f"{TASKS} where status = 'RUNNING'")
        assert preview_task[1] == "metadata.tasks.previews_task"
        assert _count(db, TERMINATE) >= 3, "the worker's connections and the test's transaction"
        _wait_for(lambda: _idle(db), "the other previews")
        assert worker.process.poll() is None, "the worker survived a restart in the middle of a task"
        previews = db.rows(f"{TASKS} where task_path = 'metadata.tasks.previews_task'")
        assert [(status, error) for pk, _, status, error in previews if pk == preview_task[0]] == [
            ("FAILED", "django.db.utils.OperationalError")
        ]
        assert {status for pk, _, status, _ in previews if pk != preview_task[0]} == {"SUCCESSFUL"}

        rows, done = _consistent(db)
        assert rows == done == len(on_disk)
        assert db.rows("select files_total, files_failed from metadata_scanrun") == [(len(on_disk), 1)]
        assert db.rows("select distinct status from metadata_scanchunk") == [("done",)]
        stored = db.rows("select relative_path, size_bytes, sha256, error_code from metadata_imagefile")
        assert len(stored) == len(on_disk), "one row per file, none twice"
        assert {path: (size, sha256) for path, size, sha256, _ in stored} == on_disk, (
            "each row has its file's size and checksum"
        )
        assert sorted(code for *_, code in stored if code) == ["truncated"]
        # The totals, changed by difference through the failure, equal a count over the rows.
        images, errors, formats, months = db.rows(
            "select image_count, error_count, format_summary, monthly_bytes from metadata_dataset"
        )[0]
        assert (images, errors) == (IMAGES, 1)
        assert _json(formats) == {
            fmt: {"count": count, "bytes": size}
            for fmt, count, size in db.rows(
                "select format, count(*), sum(size_bytes) from metadata_imagefile group by format"
            )
        }
        by_month = db.rows(
            "select to_char(to_timestamp(mtime) at time zone 'UTC', 'YYYY-MM'), sum(size_bytes) "
            "from metadata_imagefile group by 1"
        )
        assert _json(months) == dict(by_month)

        # A restart while the worker waits for work: its idle connection is found dead and
        # replaced before the worker's next query, so the next scan runs as usual.
        _wait_for(lambda: _count(db, CONNECTED) >= 2, "the worker and its heartbeat to reconnect")
        assert _count(db, TERMINATE) >= 2
        _manage(env, "dataset_scan", str(dataset_id))
        _wait_for(
            lambda: (
                _count(db, "select count(*) from metadata_scanrun where status in ('succeeded', 'failed')")
                == 2
            ),
            "the next scan to end",
        )
        assert worker.process.poll() is None, "the idle worker survived the restart"
        assert db.rows("select status, files_skipped from metadata_scanrun order by id") == [
            ("succeeded", 0),
            ("succeeded", len(on_disk)),
        ], "the second scan found every file unchanged"
    finally:
        with suppress(ProcessLookupError):
            worker.process.send_signal(signal.SIGCONT)
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=30)
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=30)
        if blocker is not None:
            blocker.close()
        db.close()
