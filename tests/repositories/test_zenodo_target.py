"""The Zenodo target against the local InvenioRDM contract server: pre-flight (limits, folders,
names, metadata, embargo), the package, the deposit as a task to an embargoed record with its DOI,
a new version, failures that change nothing but say why, and who may deposit."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from metadata.models import Dataset, ImageFile, RembiRecord, ScanRun
from metadata.services import dataset_folder, dataset_register
from projects.models import StorageRoot
from repositories import services
from repositories.base import Level, PreflightReport
from repositories.models import State, Submission
from repositories.tasks import DEPOSIT_FAILED
from repositories.zenodo.target import ZenodoTarget
from tests.conftest import ALL_USERS, World
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.projects.test_access_matrix import api_expected, expected, outcome
from tests.repositories.conftest import RELEASE_IN_DAYS, describe, in_days
from tests.repositories.invenio_server import TEST_TOKEN, InvenioServer
from tests.repositories.test_access import snapshot, with_package
from tests.repositories.test_bia_package import read_tsv
from tests.repositories.test_zenodo import zenodo  # noqa: F401 - the contract server fixture

CaptureOnCommit = Callable[..., AbstractContextManager[object]]


@pytest.fixture
def configured(zenodo: InvenioServer, settings: SettingsWrapper) -> InvenioServer:  # noqa: F811
    settings.FAIRLIGHT_ZENODO_URL = zenodo.base_url
    settings.FAIRLIGHT_ZENODO_TOKEN = TEST_TOKEN
    return zenodo


@pytest.fixture
def zenodo_scanned(dataset: Dataset, samples: Path, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:  # noqa: F811
    """The sample images as files Zenodo takes: without the truncated PNG and the OME-Zarr folder,
    scanned with MD5 checksums (the ones Zenodo shows)."""
    shutil.rmtree(samples / "broken")
    shutil.rmtree(samples / "ome-zarr")
    Dataset.objects.filter(pk=dataset.pk).update(want_md5=True)
    scan_now(dataset)
    dataset.refresh_from_db()
    describe(dataset, release=in_days(RELEASE_IN_DAYS))
    return dataset


def zenodo_submission(world: World, subject: Dataset, *, release: datetime.date | None = None) -> Submission:
    return services.submission_create(
        project=world.project,
        datasets=[subject],
        target="zenodo",
        title="Mitochondria in zebrafish neurons, time-lapse",
        release_date=release or in_days(RELEASE_IN_DAYS),
        user=world.users["editor"],
    )


@pytest.fixture
def zenodo_packaged(world: World, zenodo_scanned: Dataset, packages_dir: Path) -> Submission:
    submission = zenodo_submission(world, zenodo_scanned)
    report = services.submission_check(submission=submission, user=world.users["editor"])
    assert report.ok, [f.message for f in report.errors]
    built = services.package_build(submission_id=submission.pk)
    assert built is not None
    assert built.state == State.PACKAGED
    return built


def errors(report: PreflightReport) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.errors:
        found.setdefault(finding.code, []).append(finding.message)
    return found


def deposit(
    world: World,
    submission: Submission,
    run_tasks: Callable[[], None],
    capture: CaptureOnCommit,
    who: str = "manager",
) -> None:
    """Press the button as ``who`` and let a worker run the deposit."""
    with capture(execute=True):
        response = world.client(who).post(f"/submissions/{submission.pk}/deposit/")
    assert response.status_code == 302
    run_tasks()
    submission.refresh_from_db()


def events(submission: Submission) -> list[tuple[str, str, str | None, str]]:
    return [
        (e.from_state, e.to_state, e.user.username if e.user else None, e.note)
        for e in submission.events.select_related("user")
    ]


# -- pre-flight ------------------------------------------------------------------------------


def test_preflight_refuses_folders_and_clashing_names(
    world: World, described: Dataset, packages_dir: Path, settings: SettingsWrapper
) -> None:
    settings.FAIRLIGHT_ZENODO_TOKEN = ""
    # A second cluster.nd2 in another folder, as a scan would have recorded it.
    folder = dataset_folder(described)
    copy = folder / "copies" / "cluster.nd2"
    copy.parent.mkdir()
    shutil.copy(folder / "nd2" / "cluster.nd2", copy)
    original = described.files.get(relative_path="nd2/cluster.nd2")
    ImageFile.objects.create(
        dataset=described,
        relative_path="copies/cluster.nd2",
        size_bytes=original.size_bytes,
        mtime=copy.stat().st_mtime,
        format=original.format,
        is_image=True,
        sha256=original.sha256,
        scanned_at=original.scanned_at,
    )
    report = ZenodoTarget().preflight(zenodo_submission(world, described))
    assert errors(report) == {
        "zenodo_folder": [
            "Zenodo takes files, not folders: ome-zarr/blobs_image_v04.ome.zarr is a folder (OME-Zarr)."
        ],
        "zenodo_name_clash": [
            "A Zenodo record has no folders, so files are named by their file name alone, and these "
            "would share a name: copies/cluster.nd2 and nd2/cluster.nd2."
        ],
    }
    assert {"zenodo_md5_missing", "zenodo_token_missing", "format_advice"} <= report.codes(Level.WARNING)


def test_preflight_refuses_what_exceeds_zenodos_limits(world: World, zenodo_scanned: Dataset) -> None:
    submission = zenodo_submission(world, zenodo_scanned)
    Dataset.objects.filter(pk=zenodo_scanned.pk).update(file_count=101, total_bytes=50 * 10**9 + 1)
    assert errors(ZenodoTarget().preflight(submission)) == {
        "size_limit": ["The datasets hold 50.0 GB; Zenodo takes at most 50.0 GB per record."],
        "file_count_limit": ["The datasets hold 101 files; Zenodo takes at most 100 per record."],
    }
    Dataset.objects.filter(pk=zenodo_scanned.pk).update(file_count=100, total_bytes=50 * 10**9)
    assert ZenodoTarget().preflight(submission).ok


def test_preflight_checks_the_record_metadata_and_the_embargo(
    world: World, zenodo_scanned: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = RembiRecord.objects.get(project=world.project, class_name="Study")
    study.data["author"][0]["orcid"] = "0000-0002-1825-0098"
    study.save()
    submission = zenodo_submission(world, zenodo_scanned, release=in_days(1))
    # Zenodo compares embargo dates with today in UTC, which can already be the project's tomorrow.
    monkeypatch.setattr("repositories.zenodo.target.utc_today", lambda: in_days(1))
    assert errors(ZenodoTarget().preflight(submission)) == {
        "zenodo_metadata": [
            "Creator 1: ORCID iD 0000-0002-1825-0098 has a wrong check digit; it was probably mistyped."
        ],
        "zenodo_embargo": [f"The embargo end date {in_days(1).isoformat()} must be in the future."],
    }


def test_release_today_means_no_embargo(world: World, zenodo_scanned: Dataset) -> None:
    report = ZenodoTarget().preflight(zenodo_submission(world, zenodo_scanned, release=in_days(0)))
    assert report.ok
    passed = {f.code: f.message for f in report.passed}
    assert passed["zenodo_embargo"] == "Zenodo publishes the record and its files at once."


# -- the package -----------------------------------------------------------------------------


def test_package_holds_the_record_json_and_a_file_manifest(zenodo_packaged: Submission) -> None:
    folder = Path(zenodo_packaged.package_path)
    assert {p.name for p in folder.iterdir()} == {
        "zenodo-record.json",
        "files.tsv",
        "manifest-sha256.txt",
        "README.txt",
    }
    record = json.loads((folder / "zenodo-record.json").read_text("utf-8"))
    release = zenodo_packaged.release_date
    assert release is not None
    assert record["access"] == {
        "record": "public",
        "files": "restricted",
        "embargo": {
            "active": True,
            "until": release.isoformat(),
            "reason": f"The data are released on {release}.",
        },
    }
    metadata = record["metadata"]
    assert metadata["title"] == "Mitochondria in zebrafish neurons, time-lapse"
    assert metadata["creators"] == [
        {
            "person_or_org": {
                "type": "personal",
                "family_name": "Carberry",
                "given_name": "Josiah",
                "name": "Carberry, Josiah",
                "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}],
            },
            "affiliations": [{"id": "03mstc592", "name": "European Molecular Biology Laboratory"}],
        }
    ]
    assert metadata["rights"] == [{"id": "cc-by-4.0"}]
    assert metadata["related_identifiers"] == [
        {
            "identifier": "10.1038/s41592-021-01166-8",
            "scheme": "doi",
            "relation_type": {"id": "isdescribedby"},
            "resource_type": {"id": "publication-article"},
        }
    ]
    assert [s["subject"] for s in metadata["subjects"]] == [
        "mitochondria",
        "axonal transport",
        "zebrafish",
        "Danio rerio",
        "spinning disk confocal microscopy",
    ]
    assert metadata["funding"] == [
        {
            "funder": {"name": "European Commission"},
            "award": {"number": "101012345", "title": {"en": "European Commission grant 101012345"}},
        }
    ]

    subject = zenodo_packaged.datasets.get()
    rows = read_tsv(folder / "files.tsv")
    assert rows[0] == ["key", "source_path", "size_in_bytes", "md5", "sha256"]
    on_disk = dataset_folder(subject)
    assert len(rows) - 1 == subject.files.count()
    for key, source, size, md5, sha256 in rows[1:]:
        data = (on_disk / source).read_bytes()
        assert key == Path(source).name
        assert (int(size), md5, sha256) == (
            len(data),
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )
    manifest = (folder / "manifest-sha256.txt").read_text("utf-8").splitlines()
    assert sorted(manifest) == sorted(f"{row[4]}  {row[0]}" for row in rows[1:])
    assert "NOT copied" in (folder / "README.txt").read_text("utf-8")


# -- the deposit -------------------------------------------------------------------------------


def test_submit_to_zenodo_publishes_an_embargoed_record_and_records_its_doi(
    world: World,
    configured: InvenioServer,
    zenodo_packaged: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    manager = world.client("manager")
    page = manager.get(f"/submissions/{zenodo_packaged.pk}/").content.decode()
    assert "Submit to Zenodo</button>" in page
    assert (
        "Submit to Zenodo</button>"
        not in world.client("editor").get(f"/submissions/{zenodo_packaged.pk}/").content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        manager.post(f"/submissions/{zenodo_packaged.pk}/deposit/")
    polled = manager.get(
        f"/submissions/{zenodo_packaged.pk}/", headers={"HX-Request": "true", "HX-Target": "deposit"}
    )
    assert "HX-Refresh" not in polled  # still running: only the panel is swapped
    fragment = polled.content.decode()
    assert fragment.strip().startswith('<section id="deposit"')
    assert "<h1>" not in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "Depositing to Zenodo (queued" in fragment
    assert configured.records == {}  # nothing is sent before a worker takes the task

    run_tasks()
    zenodo_packaged.refresh_from_db()
    (record_id,) = [r.id for r in configured.records.values()]
    release = zenodo_packaged.release_date
    assert release is not None
    assert zenodo_packaged.state == State.EMBARGOED
    assert zenodo_packaged.accession == record_id
    assert zenodo_packaged.doi == f"10.5072/zenodo.{record_id}"
    assert events(zenodo_packaged)[-6:] == [
        ("checked", "packaged", None, "Package built."),
        ("packaged", "packaged", "manager", "Deposit queued."),
        ("packaged", "packaged", None, "Deposit started."),
        ("packaged", "submitted", None, f"Deposited to Zenodo and published as record {record_id}."),
        (
            "submitted",
            "accessioned",
            None,
            f"Accession {record_id}, DOI 10.5072/zenodo.{record_id} recorded.",
        ),
        ("accessioned", "embargoed", None, f"Files restricted on Zenodo until {release:%Y-%m-%d}."),
    ]

    stored = configured.records[record_id]
    assert stored.published
    assert stored.access["files"] == "restricted"
    assert stored.access["embargo"] == {
        "active": True,
        "until": release.isoformat(),
        "reason": f"The data are released on {release}.",
    }
    subject = zenodo_packaged.datasets.get()
    scanned = {Path(path).name: md5 for path, md5 in subject.files.values_list("relative_path", "md5")}
    assert {key: f.md5 for key, f in stored.files.items()} == scanned
    assert all(f.status == "completed" for f in stored.files.values())
    # Draft, then each file (initiate, content, commit), then access, then publish.
    posts = configured.paths("POST")
    assert posts[0] == "/api/records"
    assert posts[-1] == f"/api/records/{record_id}/draft/actions/publish"
    assert configured.paths("PUT")[-1] == f"/api/records/{record_id}/draft"

    page = manager.get(f"/submissions/{zenodo_packaged.pk}/").content.decode()
    assert f"Zenodo holds this submission as record {record_id}" in page
    assert "Publish a new version on Zenodo</button>" in page


def test_a_new_version_carries_changed_data(
    world: World,
    configured: InvenioServer,
    zenodo_packaged: Submission,
    run_tasks: Callable[[], None],
    scan_now: Callable[[Dataset], ScanRun],  # noqa: F811
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    first = zenodo_packaged.accession
    subject = zenodo_packaged.datasets.get()
    notes = dataset_folder(subject) / "notes" / "README.txt"
    notes.parent.mkdir()
    notes.write_text("Fish 2 was re-imaged.\n")
    scan_now(subject)

    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    second = zenodo_packaged.accession
    assert second != first
    assert zenodo_packaged.state == State.EMBARGOED
    assert zenodo_packaged.doi == f"10.5072/zenodo.{second}"
    old, new = configured.records[first], configured.records[second]
    assert new.published
    assert (new.parent_id, new.version_index) == (old.parent_id, 2)
    assert set(new.files) == set(old.files) | {"README.txt"}
    assert events(zenodo_packaged)[-1] == (
        "embargoed",
        "embargoed",
        None,
        f"Accession {second}, DOI 10.5072/zenodo.{second} recorded.",
    )


def test_a_server_error_leaves_the_submission_as_it_was_and_says_why(
    world: World,
    configured: InvenioServer,
    zenodo_packaged: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    configured.fail_next(503)
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert (zenodo_packaged.state, zenodo_packaged.accession, zenodo_packaged.doi) == (State.PACKAGED, "", "")
    assert configured.records == {}
    note = events(zenodo_packaged)[-1]
    assert note == (
        "packaged",
        "packaged",
        None,
        f"{DEPOSIT_FAILED}Zenodo at {configured.base_url} failed with a server error "
        "(503 Service Unavailable) while creating the draft. This is on Zenodo's side; try again later.",
    )
    page = world.client("viewer").get(f"/submissions/{zenodo_packaged.pk}/").content.decode()
    assert "The last deposit failed, and the submission stayed as it was: Zenodo at" in page

    # A transfer corrupted on the way is caught by its checksum; the draft is never published.
    configured.corrupt_upload("cluster.nd2")
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert zenodo_packaged.state == State.PACKAGED
    (draft,) = configured.records.values()
    assert not draft.published
    failure = events(zenodo_packaged)[-1][3]
    assert failure.startswith(f"{DEPOSIT_FAILED}Zenodo stored “cluster.nd2” with checksum md5:")
    assert "so the upload was corrupted on the way. It was removed from the draft." in failure
    assert f"Draft {draft.id} stays unpublished on Zenodo" in failure

    # Once Zenodo answers again, the same button finishes the job.
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert zenodo_packaged.state == State.EMBARGOED


def test_a_deposit_refuses_data_that_changed_since_the_check_and_sends_nothing(
    world: World,
    configured: InvenioServer,
    zenodo_packaged: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    (dataset_folder(zenodo_packaged.datasets.get()) / "nd2" / "cluster.nd2").write_bytes(b"rewritten")
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert zenodo_packaged.state == State.PACKAGED
    assert configured.requests == []
    assert events(zenodo_packaged)[-1][3] == (
        f"{DEPOSIT_FAILED}The submission does not pass the pre-flight check any more, so nothing was sent: "
        "1 file of “S” is changed since the scan: nd2/cluster.nd2."
    )


def test_without_a_token_the_deposit_fails_with_what_to_set(
    world: World,
    zenodo_packaged: Submission,
    settings: SettingsWrapper,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.FAIRLIGHT_ZENODO_TOKEN = ""
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert zenodo_packaged.state == State.PACKAGED
    assert "set FAIRLIGHT_ZENODO_TOKEN to a personal access token" in events(zenodo_packaged)[-1][3]


def test_deposit_refusals_say_why(world: World, zenodo_scanned: Dataset, packages_dir: Path) -> None:
    client = world.api("owner")
    draft = zenodo_submission(world, zenodo_scanned)
    refused = client.post(f"/api/v1/submissions/{draft.pk}/deposit/", format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "Build the package first: a packaged submission is deposited, and one the archive holds "
        "already gets a new version."
    }
    bia = services.submission_create(
        project=world.project,
        datasets=[zenodo_scanned],
        target="bia",
        title="To the BIA",
        release_date=None,
        user=world.users["editor"],
    )
    refused = client.post(f"/api/v1/submissions/{bia.pk}/deposit/", format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "FAIRlight cannot deposit to the BioImage Archive directly; "
        "follow the next steps on the submission page."
    }
    with_package(draft, packages_dir)
    assert client.post(f"/api/v1/submissions/{draft.pk}/deposit/", format="json").status_code == 202
    again = client.post(f"/api/v1/submissions/{draft.pk}/deposit/", format="json")
    assert again.status_code == 400
    assert again.json()["detail"].startswith("A deposit is already queued or running (since ")


# -- who may deposit -----------------------------------------------------------------------------


@pytest.fixture
def bare_zenodo(world: World, root: StorageRoot, storage_root_dir: Path, packages_dir: Path) -> Submission:  # noqa: F811
    (storage_root_dir / "empty").mkdir()
    subject = dataset_register(
        project=world.project, user=None, storage_root=root, relative_path="empty", title="Empty"
    )
    submission = services.submission_create(
        project=world.project,
        datasets=[subject],
        target="zenodo",
        title="Bare",
        release_date=in_days(10),
        user=world.users["editor"],
    )
    with_package(submission, packages_dir)
    return submission


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_deposit_matrix(world: World, bare_zenodo: Submission, who: str) -> None:
    before = snapshot(bare_zenodo)
    response = world.client(who).post(f"/submissions/{bare_zenodo.pk}/deposit/")
    wanted = expected(who, "manager", success=302)
    assert outcome(response) == wanted
    assert (snapshot(bare_zenodo) != before) == (wanted == 302)
    page = world.client(who).get(f"/submissions/{bare_zenodo.pk}/")
    assert outcome(page) == expected(who, "viewer", success=200)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_deposit_matrix(world: World, bare_zenodo: Submission, who: str) -> None:
    before = snapshot(bare_zenodo)
    response = world.api(who).post(f"/api/v1/submissions/{bare_zenodo.pk}/deposit/", format="json")
    wanted = api_expected(who, "manager", success=202)
    assert response.status_code == wanted
    assert (snapshot(bare_zenodo) != before) == (wanted == 202)
