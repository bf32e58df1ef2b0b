"""Scan on 2 workers vs 1: the same folder scanned by one, then two real `manage.py worker`
processes, on the scale-out configuration (PostgreSQL and Redis) or, with --embedded, on the
embedded default (SQLite and the database task backend).

Generates N two-channel z-stack OME-TIFF files (as bench/scan.py does) and copies them into a
second folder, so each run scans files it has never seen; the files are read once first, so
both runs hash from the page cache. Scans are split into chunks of 50 files so two workers
have work to share. The time is from queuing the scan to its end, read from the database.
Target: 2 workers at least 1.6x as fast as 1 on a 2-core machine.

    uv run python bench/scan_workers.py [--files 1000] [--embedded]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from _common import REPO, django_on, postgres_scratch
from scan import generate

TARGET = 1.6
CHUNK_FILES = 50


def warm(folder: Path) -> None:
    for path in folder.iterdir():
        path.read_bytes()


def start_workers(count: int) -> list[subprocess.Popen[bytes]]:
    from workers.models import WorkerHeartbeat

    WorkerHeartbeat.objects.all().delete()
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-startup-delay", "--worker-id", f"bench-{index}"],
            cwd=REPO,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]
    deadline = time.monotonic() + 120
    while WorkerHeartbeat.objects.count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within two minutes")
        time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def forget_queued_tasks() -> None:
    """Drop what a run left queued (its preview tasks), so it does not load the next run."""
    from django.tasks import task_backends
    from django_tasks_db.models import DBTaskResult

    from workers.rq_backend import RQBackend

    backend = task_backends["default"]
    if isinstance(backend, RQBackend):
        backend.purge()
    else:
        DBTaskResult.objects.all().delete()


def scan_with(workers: int, storage: Path, folder: str) -> float:
    from metadata.models import Dataset, ScanRun
    from metadata.services import dataset_register, scan_start
    from projects.models import StorageRoot

    root = StorageRoot.objects.get(name="bench")
    dataset = dataset_register(
        project=root.facility.projects.get(), user=None, storage_root=root, relative_path=folder, title=folder
    )
    processes = start_workers(workers)
    try:
        run = scan_start(dataset=dataset)
        while True:
            run.refresh_from_db()
            if not run.is_active:
                break
            time.sleep(0.01)
    finally:
        stop_workers(processes)
        forget_queued_tasks()
    if run.status != ScanRun.Status.SUCCEEDED:
        raise RuntimeError(f"the scan failed: {run.message}")
    # From the database's clock, not this process's: the first scan_start here pays for imports
    # and connections that the second does not, which would favour two workers.
    assert run.finished_at is not None
    elapsed = (run.finished_at - run.created_at).total_seconds()
    dataset.refresh_from_db()
    files = len(list((storage / folder).iterdir()))
    if dataset.image_count != files or dataset.status != Dataset.Status.SCANNED:
        raise RuntimeError("the scan missed files")
    spans = [
        (worker, claimed, finished)
        for worker, claimed, finished in run.chunks.values_list("worker", "claimed_at", "finished_at")
        if claimed is not None and finished is not None
    ]
    busy = sum((finished - claimed).total_seconds() for _, claimed, finished in spans)
    listing = (min(claimed for _, claimed, _ in spans) - run.created_at).total_seconds()
    # Time each worker spent between the end of one of its chunks and the start of its next:
    # what taking a task off the queue costs, which a second worker overlaps with work.
    between = 0.0
    for name in {worker for worker, _, _ in spans}:
        own = sorted((claimed, finished) for worker, claimed, finished in spans if worker == name)
        between += sum((nxt[0] - prev[1]).total_seconds() for prev, nxt in itertools.pairwise(own))
    print(
        f"  {workers} worker{'s' if workers > 1 else ' '}: {elapsed:6.2f} s ({files / elapsed:4.0f} files/s; "
        f"listing {listing:4.2f} s, then chunks busy {busy:5.2f} s and between chunks {between:4.2f} s "
        f"of worker time; chunks run by {len({worker for worker, _, _ in spans})} of them)",
        flush=True,
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument(
        "--embedded", action="store_true", help="SQLite and the database backend, not PostgreSQL and Redis"
    )
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    scratch: Path | None = None
    os.environ["FAIRLIGHT_SCAN_CHUNK_FILES"] = str(CHUNK_FILES)
    prefix = f"fairlight-bench-{uuid.uuid4().hex[:8]}"
    try:
        with ExitStack() as stack:
            if args.embedded:
                scratch = Path(tempfile.mkdtemp(prefix="fairlight-bench-"))
                database_url = f"sqlite:///{scratch / 'bench.sqlite3'}"
                setup = "SQLite + database task backend (the embedded default)"
            else:
                database_url = stack.enter_context(postgres_scratch("fairlight_bench_scan"))
                os.environ["FAIRLIGHT_TASK_BACKEND"] = "redis"
                os.environ["FAIRLIGHT_REDIS_QUEUE_PREFIX"] = prefix
                setup = "PostgreSQL + Redis workers"
            scratch = django_on(database_url, storage, scratch=scratch)
            from projects.models import Facility, Project, StorageRoot

            facility = Facility.objects.create(name="Bench")
            StorageRoot.objects.create(facility=facility, name="bench", path=str(storage))
            Project.objects.create(title="Bench", facility=facility)
            print(f"scan on workers benchmark: {args.files} OME-TIFF files, chunks of {CHUNK_FILES}, {setup}")
            (storage / "one").mkdir()
            generate(storage / "one", args.files)
            shutil.copytree(storage / "one", storage / "two")
            warm(storage / "one")
            warm(storage / "two")
            one = scan_with(1, storage, "one")
            two = scan_with(2, storage, "two")
            print(f"  ratio 1 worker / 2 workers: {one / two:5.2f}x faster with two   (target >= {TARGET}x)")
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
