"""Faults while a package is built: the disk holding the packages fills up, the worker building
it is killed. Either way the build fails cleanly (nothing half-written is left or marked as a
package), the submission stays checked and shows why, and the next build succeeds."""

from __future__ import annotations

import errno
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from repositories import services
from repositories.bia.crate import FILE_LIST, METADATA_FILE
from repositories.bia.pagetab import SUBMISSION_FILE, file_list_name
from repositories.models import State, Submission
from repositories.packaging import MANIFEST, README
from repositories.tasks import DEPOSIT_FAILED, DEPOSIT_LOST, submission_deposit_start
from tests.conftest import World
from tests.repositories.invenio_server import InvenioServer
from tests.repositories.test_zenodo import zenodo  # noqa: F401 - the contract server fixture
from tests.repositories.test_zenodo_target import (  # noqa: F401 - fixtures reused here
    configured,
    zenodo_packaged,
    zenodo_scanned,
)
from tests.workers.test_redis_workers import Database, _wait_for
from workers.management.commands.worker import requeue_lost_tasks
from workers.models import WorkerHeartbeat

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data" / "images"
CaptureOnCommit = Callable[..., AbstractContextManager[object]]
BUILD_TASK = "repositories.tasks.package_build_task"
DEPOSIT_TASK = "repositories.tasks.submission_deposit_task"
DISK_FULL = "The disk holding the packages is full: No space left on device."
# One dataset, so one PageTab file list.
PACKAGE_FILES = {METADATA_FILE, FILE_LIST, SUBMISSION_FILE, f"pagetab/{file_list_name(1)}", MANIFEST, README}


def _files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def _start_build(world: World, submission: Submission, capture: CaptureOnCommit) -> None:
    with capture(execute=True):
        services.package_build_start(submission=submission, user=world.users["editor"])


def _assert_unpackaged(
    submission: Submission, packages: Path, *, leave: frozenset[str] = frozenset()
) -> None:
    """The submission is checked, without a package or a running build, and the packages folder
    holds nothing of it (no temporary folder, no final one), only ``leave``."""
    submission.refresh_from_db()
    assert submission.state == State.CHECKED
    assert not submission.is_building
    assert submission.package_path == ""
    assert submission.packaged_at is None
    assert {entry.name for entry in packages.iterdir()} == leave


def _assert_packaged(submission: Submission) -> Path:
    submission.refresh_from_db()
    assert submission.state == State.PACKAGED
    assert not submission.is_building
    folder = Path(submission.package_path)
    assert _files(folder) == PACKAGE_FILES
    manifest = (folder / MANIFEST).read_text().splitlines()
    assert len(manifest) == sum(dataset.files.count() for dataset in submission.datasets.all())
    assert (folder / README).read_text().endswith("\n"), "the README was written to its end"
    return folder


# --- The disk fills up ------------------------------------------------------------------------


class _Quota:
    """Bytes that files under one folder may take, as a nearly full disk or a quota would allow."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit, self.used = folder.resolve(), limit, 0

    def covers(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.folder)


class _QuotaFile:
    """A file opened for writing whose writes fail with ENOSPC, after writing what still fits,
    once the folder's quota is used up: what a full disk does to a buffered write."""

    def __init__(self, handle: IO[Any], quota: _Quota, path: Path) -> None:
        self._handle, self._quota, self._path = handle, quota, path

    def write(self, data: str | bytes) -> int:
        size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
        room = self._quota.limit - self._quota.used
        if size > room:
            self._handle.write(data[: max(room, 0)])
            self._quota.used = self._quota.limit
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._path))
        self._quota.used += size
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _QuotaFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


@contextmanager
def _quota(monkeypatch: pytest.MonkeyPatch, folder: Path, limit: int) -> Iterator[_Quota]:
    """Every file written under ``folder`` counts against ``limit`` bytes (Path.open is what the
    package writers, csv and write_text included, open their files with)."""
    quota = _Quota(folder, limit)
    real_open = pathlib.Path.open

    def limited_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if set(mode) & set("wax") and quota.covers(self):
            return _QuotaFile(handle, quota, self)
        return handle

    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "open", limited_open)
        yield quota


def _package_size(
    world: World, checked: Submission, capture: CaptureOnCommit, run: Callable[[], None]
) -> int:
    """Build the package once to learn its size, then send the submission back to checked."""
    _start_build(world, checked, capture)
    run()
    folder = _assert_packaged(checked)
    size = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
    services.submission_transition(submission=checked, to_state=State.DRAFT, user=world.users["editor"])
    report = services.submission_check(submission=checked, user=world.users["editor"])
    assert report.ok
    return size


@pytest.mark.parametrize("share", [0.0, 0.3, 0.7, 0.999])
def test_disk_full_while_writing_a_package_fails_cleanly_and_a_rebuild_succeeds(
    world: World,
    checked: Submission,
    packages_dir: Path,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
    monkeypatch: pytest.MonkeyPatch,
    share: float,
) -> None:
    """The disk fills up at the first byte, part-way, or at the package's very last bytes."""
    size = _package_size(world, checked, django_capture_on_commit_callbacks, run_tasks)
    events = checked.events.count()

    with _quota(monkeypatch, packages_dir, int(size * share)) as quota:
        _start_build(world, checked, django_capture_on_commit_callbacks)
        run_tasks()
    assert quota.used == quota.limit, "the build ran into the full disk"
    result = DBTaskResult.objects.filter(task_path="repositories.tasks.package_build_task").latest(
        "enqueued_at"
    )
    assert result.status == "FAILED"
    assert result.exception_class_path == "builtins.OSError"
    _assert_unpackaged(checked, packages_dir)
    assert checked.package_error.startswith(f"{DISK_FULL} Free space in {packages_dir}")
    assert checked.events.count() == events, "no state change was recorded"
    page = world.client("editor").get(checked.get_absolute_url()).content.decode()
    assert "The last build failed: The disk holding the packages is full" in page
    assert "Build the package" in page

    # Space is freed: the same build now succeeds.
    _start_build(world, checked, django_capture_on_commit_callbacks)
    run_tasks()
    _assert_packaged(checked)
    assert checked.package_error == ""


def _mount_tmpfs(folder: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("Mounting a small tmpfs needs root; the ENOSPC simulation above runs everywhere.")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"This machine does not let us mount a tmpfs ({mounted.stderr.strip()}).")


def _fill(folder: Path) -> Path:
    """Fill the disk under ``folder`` but one page (4 KiB): less than any package needs, since
    tmpfs gives each of the package's files a page of its own."""
    reserve = folder / "reserve"
    reserve.write_bytes(b"\0" * 4096)
    filler = folder / "filler"
    with filler.open("wb") as handle, suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    reserve.unlink()
    return filler


def test_disk_full_on_a_real_small_tmpfs(
    world: World,
    checked: Submission,
    packages_dir: Path,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    _mount_tmpfs(packages_dir, "1m")
    try:
        filler = _fill(packages_dir)
        _start_build(world, checked, django_capture_on_commit_callbacks)
        run_tasks()
        _assert_unpackaged(checked, packages_dir, leave=frozenset({"filler"}))
        assert checked.package_error.startswith(
            "The disk holding the packages is full: No space left on device."
        )

        filler.unlink()  # space freed
        _start_build(world, checked, django_capture_on_commit_callbacks)
        run_tasks()
        _assert_packaged(checked)
    finally:
        if subprocess.run(["umount", str(packages_dir)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(packages_dir)], check=False)


# --- The worker building the package dies -------------------------------------------------------


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _heartbeat(worker_id: str, pid: int) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname=socket.gethostname(),
        pid=pid,
        backend="default",
        queues="default",
        started_at=now,
        last_seen_at=now,
    )


def test_a_build_whose_worker_died_shows_as_failed_and_can_be_built_again(
    world: World,
    checked: Submission,
    packages_dir: Path,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    """A worker took the build and died: its half-written folder stays behind, the task stays
    running. A live worker queues the task again; delivered a second time, it records the loss."""
    _start_build(world, checked, django_capture_on_commit_callbacks)
    _heartbeat("killed-worker", _dead_pid())
    DBTaskResult.objects.get(task_path=BUILD_TASK).claim("killed-worker")
    leftover = packages_dir / f".building-{checked.pk}-x1y2z3"
    (leftover / "pagetab").mkdir(parents=True)
    (leftover / FILE_LIST).write_text("half a file list")
    checked.refresh_from_db()
    assert checked.is_building
    page = world.client("editor").get(checked.get_absolute_url()).content.decode()
    assert "Building the package" in page

    # A worker alive on this host does not lose its tasks: only the dead one's is queued again.
    _heartbeat("live-worker", os.getpid())
    assert requeue_lost_tasks(backend_name="default") == [
        str(DBTaskResult.objects.get(task_path=BUILD_TASK).pk)
    ]
    assert requeue_lost_tasks(backend_name="default") == [], "queued again once"
    run_tasks()

    _assert_unpackaged(checked, packages_dir)
    assert checked.package_error == services.BUILD_LOST
    result = DBTaskResult.objects.get(task_path=BUILD_TASK)
    assert (result.status, result.worker_ids) == ("SUCCESSFUL", ["killed-worker", "test-worker"])
    page = world.client("editor").get(checked.get_absolute_url()).content.decode()
    assert "Building the package" not in page
    assert f"The last build failed: {services.BUILD_LOST}" in page
    assert "Build the package" in page

    _start_build(world, checked, django_capture_on_commit_callbacks)
    run_tasks()
    _assert_packaged(checked)


def test_a_deposit_whose_worker_died_is_not_sent_twice(
    world: World,
    configured: InvenioServer,  # noqa: F811
    zenodo_packaged: Submission,  # noqa: F811
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    """The worker died mid-deposit: the archive may hold a half-made draft, so the deposit delivered
    again sends nothing and says so; the person looks, then deposits again."""
    with django_capture_on_commit_callbacks(execute=True):
        submission_deposit_start(submission=zenodo_packaged, user=world.users["manager"])
    _heartbeat("killed-worker", _dead_pid())
    DBTaskResult.objects.get(task_path=DEPOSIT_TASK).claim("killed-worker")
    assert len(requeue_lost_tasks(backend_name="default")) == 1
    run_tasks()
    zenodo_packaged.refresh_from_db()
    assert zenodo_packaged.state == State.PACKAGED
    assert configured.records == {}, "nothing was sent to the archive a second time"
    assert zenodo_packaged.events.last().note == DEPOSIT_FAILED + DEPOSIT_LOST  # type: ignore[union-attr]
    page = world.client("manager").get(zenodo_packaged.get_absolute_url()).content.decode()
    assert "The last deposit failed, and the submission stayed as it was: The worker running" in page

    with django_capture_on_commit_callbacks(execute=True):
        submission_deposit_start(submission=zenodo_packaged, user=world.users["manager"])
    run_tasks()
    zenodo_packaged.refresh_from_db()
    assert zenodo_packaged.state == State.EMBARGOED


def test_a_build_removes_what_a_dead_build_of_the_same_submission_left(
    checked: Submission, packages_dir: Path
) -> None:
    leftover = packages_dir / f".building-{checked.pk}-dead"
    leftover.mkdir(parents=True)
    (leftover / MANIFEST).write_text("partial")
    other = packages_dir / f".building-{checked.pk}0-alive"  # another submission's build
    other.mkdir()
    services.package_build(submission_id=checked.pk)
    _assert_packaged(checked)
    assert sorted(entry.name for entry in packages_dir.iterdir()) == [other.name, f"submission-{checked.pk}"]


# --- A real worker process killed in the middle of a build ----------------------------------------

SETUP = """
import shutil
from projects.models import Facility, Project, StorageRoot
from metadata.services import dataset_register, scan_run_inline, scan_start
from repositories import services
from tests.repositories.conftest import RELEASE_IN_DAYS, describe, in_days

facility = Facility.objects.create(name="Core")
root = StorageRoot.objects.create(facility=facility, name="lab", path="{storage}")
project = Project.objects.create(title="P", facility=facility)
dataset = dataset_register(project=project, user=None, storage_root=root, relative_path="samples", title="S")
scan_run_inline(run=scan_start(dataset=dataset), previews=False)
describe(dataset, release=in_days(RELEASE_IN_DAYS))
release = in_days(RELEASE_IN_DAYS)
submission = services.submission_create(
    project=project, datasets=[dataset], target="bia", title="T", release_date=release, user=None
)
report = services.submission_check(submission=submission, user=None)
assert report.ok, [finding.message for finding in report.errors]
print(submission.pk)
"""

BUILD = """
from repositories import services
from repositories.models import Submission
services.package_build_start(submission=Submission.objects.get(pk={pk}), user=None)
"""

# A worker whose builds stop, for good, once the RO-Crate and file lists are written: the test
# kills it there. Only this launcher is patched; the worker is the real `manage.py worker`.
STALLING_WORKER = """
import sys, time
import django
django.setup()
from repositories.bia import target

def stalled_manifest(dest, description):
    (dest / "manifest-sha256.txt").write_text("half a manifest")
    time.sleep(3600)

target.write_manifest = stalled_manifest
from django.core.management import call_command
call_command("worker", "--no-startup-delay", "--interval", "0.1", "--worker-id", sys.argv[1])
"""


def _env(var: Path, storage: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FAIRLIGHT_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="fairlight.settings",
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


@pytest.mark.slow
def test_worker_killed_mid_build_then_a_new_build_succeeds(tmp_path: Path) -> None:
    var, storage = tmp_path / "var", tmp_path / "storage"
    var.mkdir()
    shutil.copytree(SAMPLES, storage / "samples", ignore=shutil.ignore_patterns("broken"))
    env = _env(var, storage)
    _manage(env, "migrate", "--verbosity", "0")
    pk = int(_manage(env, "shell", "-c", SETUP.format(storage=storage)).strip().splitlines()[-1])
    db = Database(env["DATABASE_URL"])
    packages = var / "packages"

    def submission() -> tuple[str, bool, str, str]:
        state, started, path, error = db.rows(
            "select state, build_started_at, package_path, package_error from repositories_submission"
        )[0]
        return state, started is not None, path, error

    with (tmp_path / "stalling.log").open("wb") as log:
        victim = subprocess.Popen(
            [sys.executable, "-c", STALLING_WORKER, "victim"], cwd=REPO, env=env, stdout=log, stderr=log
        )
    processes = [victim]
    try:
        _manage(env, "shell", "-c", BUILD.format(pk=pk))
        _wait_for(
            lambda: any(packages.glob(f".building-{pk}-*/{MANIFEST}")), "the build to write half its package"
        )
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        (building,) = packages.glob(f".building-{pk}-*")
        assert {entry.name for entry in building.iterdir()} >= {METADATA_FILE, FILE_LIST, MANIFEST}
        assert submission() == ("checked", True, "", ""), "nothing is marked as packaged"
        assert not (packages / f"submission-{pk}").exists()

        # The worker is started again (or another one runs): the dead one's build is recorded as lost.
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval", "0.1"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
            )
        processes.append(worker)
        _wait_for(lambda: not submission()[1], "the lost build to be noticed", timeout=60)
        assert submission() == ("checked", False, "", services.BUILD_LOST)
        assert list(packages.iterdir()) == [], "the half-written folder is gone"

        _manage(env, "shell", "-c", BUILD.format(pk=pk))
        _wait_for(lambda: submission()[0] == "packaged", "the new build", timeout=60)
        _, building_now, path, error = submission()
        assert (building_now, path, error) == (False, str(packages / f"submission-{pk}"), "")
        assert _files(Path(path)) == PACKAGE_FILES
        files = db.rows("select count(*) from metadata_imagefile")[0][0]
        assert len((Path(path) / MANIFEST).read_text().splitlines()) == files
        statuses = db.rows(
            "select status from django_tasks_database_dbtaskresult "
            "where task_path = 'repositories.tasks.package_build_task' order by enqueued_at"
        )
        assert statuses == [("SUCCESSFUL",), ("SUCCESSFUL",)], "no build task is left running"
        assert worker.poll() is None
    finally:
        for process in processes:
            _stop(process)
        db.close()
