"""Share links: who may create and revoke them, what the public page shows, streamed downloads
of the chosen files only, path containment, refusals (410 expired or revoked, 404 unknown),
the access log, and keys stored only as hashes."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.utils import timezone

from metadata import services, sharing
from metadata.models import Dataset, ImageFile, RembiRecord, ScanRun, ShareAccess, ShareLink, VerifyState
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import api_expected, expected, outcome

TIFF = "ome-tiff/single-channel.ome.tif"
PNG = "png-jpeg/skimage_cell.png"
ZARR = "ome-zarr/blobs_image_v04.ome.zarr"
NOT_SHARED = "png-jpeg/skimage_retina.jpg"
BROWSER = "Collaborator-Browser/1.0"


@pytest.fixture
def scanned(dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:
    Dataset.objects.filter(pk=dataset.pk).update(description="Mitochondria in Rohon-Beard neurons.")
    scan_now(dataset)
    dataset.refresh_from_db()
    return dataset


def make_link(
    dataset: Dataset, world: World, paths: list[str], *, days: float = 7, now: datetime.datetime | None = None
) -> tuple[ShareLink, str]:
    now = now or timezone.now()
    return sharing.share_link_create(
        dataset=dataset,
        user=world.users["manager"],
        expires_at=now + datetime.timedelta(days=days),
        note="Dr. Rossi",
        paths=paths,
        now=now,
    )


@pytest.fixture
def shared(scanned: Dataset, world: World) -> tuple[ShareLink, str]:
    return make_link(scanned, world, [TIFF, PNG, ZARR])


def file_id(dataset: Dataset, path: str) -> int:
    return dataset.files.get(relative_path=path).pk


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


# Creating and revoking --------------------------------------------------------------------------


def test_manager_creates_a_link_and_sees_its_address_once(world: World, scanned: Dataset) -> None:
    response = world.client("manager").post(
        f"/datasets/{scanned.pk}/sharing/", {"note": "Dr. Rossi", "days": "14", "paths": f"{TIFF}\n\n{PNG}\n"}
    )
    assert response.status_code == 200
    link = ShareLink.objects.get(dataset=scanned)
    page = response.content.decode()
    key = page.split("/share/")[1].split("/")[0]
    assert hashlib.sha256(key.encode()).hexdigest() == link.key_hash
    assert link.prefix == key[:8]
    assert sorted(link.files.values_list("relative_path", flat=True)) == sorted([PNG, TIFF])
    assert link.created_by == world.users["manager"]
    assert (
        timezone.now() + datetime.timedelta(days=13)
        < link.expires_at
        <= timezone.now() + datetime.timedelta(days=14)
    )
    # The managers' page lists it without its address.
    listing = world.client("manager").get(f"/datasets/{scanned.pk}/sharing/").content.decode()
    assert link.prefix in listing
    assert key not in listing


def test_key_is_stored_only_as_its_hash(world: World, shared: tuple[ShareLink, str]) -> None:
    link, key = shared
    assert len(key) >= 43  # 32 random bytes, base64url
    stored = ShareLink.objects.filter(pk=link.pk).values().get()
    assert key not in {str(value) for value in stored.values()}
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert ShareLink.objects.matching(key).get() == link
    assert not ShareLink.objects.matching(key[:-1] + ("A" if key[-1] != "A" else "B")).exists()


@pytest.mark.parametrize(
    ("days", "message"),
    [(91, "at most 90 days"), (-1, "in the future"), (0, "in the future")],
)
def test_expiry_must_lie_within_ninety_days(world: World, scanned: Dataset, days: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_link(scanned, world, [TIFF], days=days)
    assert not ShareLink.objects.exists()


def test_unknown_paths_are_named_and_nothing_is_created(world: World, scanned: Dataset) -> None:
    with pytest.raises(ValidationError, match=r"not files of .*: nope\.tif, other/missing\.png"):
        make_link(scanned, world, [TIFF, "nope.tif", "other/missing.png"])
    assert not ShareLink.objects.exists()
    response = world.client("manager").post(
        f"/datasets/{scanned.pk}/sharing/", {"days": "14", "paths": "nope.tif"}
    )
    assert response.status_code == 400
    assert "nope.tif" in response.content.decode()
    assert not ShareLink.objects.exists()


def test_files_of_another_dataset_cannot_be_chosen_by_id(world: World, scanned: Dataset) -> None:
    other = Dataset.objects.create(
        project=world.project, title="Other", storage_root=scanned.storage_root, relative_path="elsewhere"
    )
    foreign = ImageFile.objects.create(
        dataset=other, relative_path="a.tif", size_bytes=1, mtime=0, format="tiff", scanned_at=timezone.now()
    )
    with pytest.raises(ValidationError, match=f"not files of .*{foreign.pk}"):
        sharing.share_link_create(
            dataset=scanned,
            user=world.users["manager"],
            expires_at=timezone.now() + datetime.timedelta(days=1),
            file_ids=[foreign.pk],
        )


@pytest.mark.parametrize("who", ["editor", "reviewer", "viewer", "steward"])
def test_roles_below_manager_cannot_create_or_revoke(world: World, scanned: Dataset, who: str) -> None:
    with pytest.raises(PermissionDenied):
        sharing.share_link_create(
            dataset=scanned,
            user=world.users[who],
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )
    link, _ = make_link(scanned, world, [])
    with pytest.raises(PermissionDenied):
        sharing.share_link_revoke(link=link, user=world.users[who])
    link.refresh_from_db()
    assert link.revoked_at is None


# Access matrices --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ALL_USERS)
def test_sharing_page_matrix(world: World, scanned: Dataset, who: str) -> None:
    client = world.client(who)
    assert outcome(client.get(f"/datasets/{scanned.pk}/sharing/")) == expected(who, "manager", success=200)
    created = client.post(f"/datasets/{scanned.pk}/sharing/", {"days": "3", "paths": TIFF})
    assert outcome(created) == expected(who, "manager", success=200)
    assert ShareLink.objects.exists() == (outcome(created) == 200)


@pytest.mark.parametrize("who", ALL_USERS)
def test_revoke_matrix(world: World, shared: tuple[ShareLink, str], who: str) -> None:
    link, _ = shared
    response = world.client(who).post(f"/datasets/{link.dataset_id}/sharing/{link.pk}/revoke/")
    assert outcome(response) == expected(who, "manager", success=302)
    link.refresh_from_db()
    assert (link.revoked_at is not None) == (outcome(response) == 302)
    if outcome(response) == 302:
        assert link.revoked_by == world.users[who]


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_page_loads_the_sharing_panel_for_managers_only(
    world: World, scanned: Dataset, who: str
) -> None:
    response = world.client(who).get(f"/datasets/{scanned.pk}/")
    if outcome(response) != 200:
        assert outcome(response) == expected(who, "viewer", success=200)
        return
    has_panel = f'hx-get="/datasets/{scanned.pk}/sharing/"' in response.content.decode()
    assert has_panel == (who in ("owner", "manager"))


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_matrix(world: World, shared: tuple[ShareLink, str], who: str) -> None:
    link, _ = shared
    base = f"/api/v1/datasets/{link.dataset_id}/share-links/"
    client = world.api(who)
    assert client.get(base).status_code == api_expected(who, "manager", success=200)
    assert client.get(f"{base}log/").status_code == api_expected(who, "manager", success=200)
    expires = (timezone.now() + datetime.timedelta(days=5)).isoformat()
    created = client.post(base, {"expires_at": expires, "files": [], "note": "API"}, format="json")
    assert created.status_code == api_expected(who, "manager", success=201)
    revoked = client.post(f"{base}{link.pk}/revoke/")
    assert revoked.status_code == api_expected(who, "manager", success=200)
    link.refresh_from_db()
    assert (link.revoked_at is not None) == (revoked.status_code == 200)


def test_api_creates_lists_and_revokes(world: World, scanned: Dataset) -> None:
    client = world.api("owner")
    base = f"/api/v1/datasets/{scanned.pk}/share-links/"
    expires = timezone.now() + datetime.timedelta(days=10)
    ids = [file_id(scanned, TIFF), file_id(scanned, PNG)]
    created = client.post(
        base, {"expires_at": expires.isoformat(), "files": ids, "note": "reviewers"}, format="json"
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    key = data["url"].split("/share/")[1].rstrip("/")
    assert sorted(data["files"]) == sorted(ids)
    assert data["state"] == "active"
    assert ShareLink.objects.matching(key).get().pk == data["id"]
    anonymous = world.client("anonymous")
    assert anonymous.get(f"/share/{key}/").status_code == 200
    listed = client.get(base).json()
    assert [row["id"] for row in listed] == [data["id"]]
    assert "url" not in listed[0]
    assert listed[0]["access_count"] == 1
    revoked = client.post(f"{base}{data['id']}/revoke/").json()
    assert revoked["state"] == "revoked"
    assert anonymous.get(f"/share/{key}/").status_code == 410
    log = client.get(f"{base}log/").json()
    assert [(row["what"], row["outcome"]) for row in log] == [("page", "revoked"), ("page", "served")]
    too_far = client.post(
        base, {"expires_at": (timezone.now() + datetime.timedelta(days=100)).isoformat()}, format="json"
    )
    assert too_far.status_code == 400
    assert "90 days" in str(too_far.json()["expires_at"])
    assert client.post(f"{base}999999/revoke/").status_code == 404


# The public side --------------------------------------------------------------------------------


def test_public_page_needs_no_login_and_shows_only_the_shared_files(
    world: World, shared: tuple[ShareLink, str]
) -> None:
    link, key = shared
    response = world.client("anonymous").get(f"/share/{key}/", headers={"user-agent": BROWSER})
    assert response.status_code == 200
    page = response.content.decode()
    assert link.dataset.title in page
    assert "Mitochondria in Rohon-Beard neurons." in page
    for path in (TIFF, PNG, ZARR):
        assert path in page
    assert NOT_SHARED not in page
    assert "broken/" not in page
    # Nothing else of the project: no links into its pages, not even its title.
    assert world.project.title not in page
    assert f"/datasets/{link.dataset_id}/" not in page
    assert f"/projects/{world.project.pk}/" not in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]
    entry = ShareAccess.objects.get(link=link)
    assert (entry.what, entry.outcome, entry.ip, entry.user_agent) == ("page", "served", "127.0.0.1", BROWSER)


def test_rembi_summary_shows_the_datasets_records(world: World, shared: tuple[ShareLink, str]) -> None:
    link, key = shared
    RembiRecord.objects.create(
        project=world.project,
        class_name="Study",
        title="Zebrafish mitochondria study",
        data={"description": "X1"},
    )
    used = RembiRecord.objects.create(
        project=world.project,
        class_name="Biosample",
        title="Larvae 2 dpf",
        data={"biological_entity_description": "RB neurons"},
    )
    used.datasets.add(link.dataset)
    RembiRecord.objects.create(
        project=world.project, class_name="Specimen", title="Unrelated specimen", data={}
    )
    page = world.client("anonymous").get(f"/share/{key}/").content.decode()
    assert "Zebrafish mitochondria study" in page
    assert "Larvae 2 dpf" in page
    assert "RB neurons" in page
    assert "Unrelated specimen" not in page


def test_download_streams_the_file_and_logs_the_bytes(
    world: World, shared: tuple[ShareLink, str], samples: Path
) -> None:
    link, key = shared
    response = world.client("anonymous").get(
        f"/share/{key}/files/{file_id(link.dataset, TIFF)}/", headers={"user-agent": BROWSER}
    )
    assert response.status_code == 200
    assert response.streaming
    content = body(response)
    assert content == (samples / TIFF).read_bytes()
    assert response["Content-Length"] == str(len(content))
    assert "attachment" in response["Content-Disposition"]
    assert response["Referrer-Policy"] == "no-referrer"
    entry = ShareAccess.objects.get(link=link, what="file")
    assert (entry.outcome, entry.path, entry.bytes_sent, entry.user_agent) == (
        "served",
        TIFF,
        len(content),
        BROWSER,
    )


def test_an_interrupted_download_logs_what_was_sent(
    world: World, scanned: Dataset, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor == "postgresql":
        # Closing a half-read streaming response in Django's test client ends the test's
        # connection on PostgreSQL (and with it the test transaction); the logging under test is
        # the same on both databases and is checked on SQLite.
        pytest.skip("a half-read streaming response cannot be closed inside a PostgreSQL test transaction")
    monkeypatch.setattr(sharing, "CHUNK", 100)
    link, key = make_link(scanned, world, [TIFF])
    response: Any = world.client("anonymous").get(f"/share/{key}/files/{file_id(scanned, TIFF)}/")
    first = next(iter(response.streaming_content))
    # The browser went away: the server closes the stream. Closing fires request_finished, whose
    # close_old_connections would drop the test's database connection (and its transaction).
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert len(first) == 100
    assert ShareAccess.objects.get(link=link, what="file").bytes_sent == 100


def test_ome_zarr_folder_downloads_as_a_zip_of_its_files(
    world: World, shared: tuple[ShareLink, str], samples: Path
) -> None:
    link, key = shared
    response = world.client("anonymous").get(f"/share/{key}/files/{file_id(link.dataset, ZARR)}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    content = body(response)
    archive = zipfile.ZipFile(io.BytesIO(content))
    folder = samples / ZARR
    expected_members = {
        f"{folder.name}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }
    assert {name: archive.read(name) for name in archive.namelist()} == expected_members
    assert ShareAccess.objects.get(link=link, what="file").bytes_sent == len(content)


def test_a_file_not_shared_is_404_and_logged(world: World, shared: tuple[ShareLink, str]) -> None:
    link, key = shared
    client = world.client("anonymous")
    assert client.get(f"/share/{key}/files/{file_id(link.dataset, NOT_SHARED)}/").status_code == 404
    assert client.get(f"/share/{key}/files/99999999/").status_code == 404
    refused = list(ShareAccess.objects.filter(link=link).order_by("pk").values_list("outcome", "path"))
    assert refused == [("not_shared", NOT_SHARED), ("not_shared", "file id 99999999")]


def test_a_file_of_another_project_is_unreachable(world: World, shared: tuple[ShareLink, str]) -> None:
    link, key = shared
    secret = Dataset.objects.create(
        project=world.other_project,
        title="Secret",
        storage_root=link.dataset.storage_root,
        relative_path="secret",
    )
    row = ImageFile.objects.create(
        dataset=secret,
        relative_path="plans.tif",
        size_bytes=1,
        mtime=0,
        format="tiff",
        scanned_at=timezone.now(),
    )
    assert world.client("anonymous").get(f"/share/{key}/files/{row.pk}/").status_code == 404
    entry = ShareAccess.objects.get(link=link)
    assert (entry.outcome, entry.file_id, entry.path) == ("not_shared", None, f"file id {row.pk}")


@pytest.mark.parametrize("escape", ["symlink", "dotdot"])
def test_a_file_row_pointing_outside_the_root_is_refused(
    world: World, scanned: Dataset, samples: Path, tmp_path: Path, escape: str
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private data of someone else")
    if escape == "symlink":
        (samples / "link.tif").symlink_to(outside)
        path = "link.tif"
    else:
        path = "../../outside.txt"
    row = ImageFile.objects.create(
        dataset=scanned, relative_path=path, size_bytes=10, mtime=0, format="tiff", scanned_at=timezone.now()
    )
    link, key = make_link(scanned, world, [path])
    response = world.client("anonymous").get(f"/share/{key}/files/{row.pk}/")
    assert response.status_code == 404
    assert b"private data" not in response.content
    entry = ShareAccess.objects.get(link=link, what="file")
    assert (entry.outcome, entry.bytes_sent) == ("unavailable", 0)


def test_a_file_gone_from_storage_is_404(world: World, shared: tuple[ShareLink, str], samples: Path) -> None:
    link, key = shared
    (samples / PNG).unlink()
    response = world.client("anonymous").get(f"/share/{key}/files/{file_id(link.dataset, PNG)}/")
    assert response.status_code == 404
    assert ShareAccess.objects.get(link=link).outcome == "unavailable"


def test_expired_and_revoked_links_are_gone_and_unknown_ones_not_found(
    world: World, scanned: Dataset
) -> None:
    long_ago = timezone.now() - datetime.timedelta(days=30)
    expired, expired_key = make_link(scanned, world, [TIFF], days=2, now=long_ago)
    revoked, revoked_key = make_link(scanned, world, [TIFF])
    sharing.share_link_revoke(link=revoked, user=world.users["owner"])
    client = world.client("anonymous")
    tiff = file_id(scanned, TIFF)
    for key, word in ((expired_key, "expired"), (revoked_key, "withdrawn")):
        for url in (f"/share/{key}/", f"/share/{key}/files/{tiff}/"):
            response = client.get(url)
            assert response.status_code == 410, url
            assert word in response.content.decode()
            assert response["Referrer-Policy"] == "no-referrer"
            assert not getattr(response, "streaming", False)
    assert list(ShareAccess.objects.filter(link=expired).values_list("what", "outcome").order_by("pk")) == [
        ("page", "expired"),
        ("file", "expired"),
    ]
    assert list(ShareAccess.objects.filter(link=revoked).values_list("what", "outcome").order_by("pk")) == [
        ("page", "revoked"),
        ("file", "revoked"),
    ]
    assert client.get("/share/not-a-key-anyone-was-given/").status_code == 404
    assert client.get(f"/share/not-a-key-anyone-was-given/files/{tiff}/").status_code == 404


def test_revoking_twice_keeps_the_first_revocation(world: World, shared: tuple[ShareLink, str]) -> None:
    link, _ = shared
    first = sharing.share_link_revoke(link=link, user=world.users["manager"]).revoked_at
    again = sharing.share_link_revoke(link=link, user=world.users["owner"])
    assert again.revoked_at == first
    assert again.revoked_by == world.users["manager"]


def test_managers_see_the_access_log(world: World, shared: tuple[ShareLink, str]) -> None:
    link, key = shared
    anonymous = world.client("anonymous")
    anonymous.get(f"/share/{key}/", headers={"user-agent": BROWSER})
    body(anonymous.get(f"/share/{key}/files/{file_id(link.dataset, PNG)}/"))
    page = world.client("manager").get(
        f"/datasets/{link.dataset_id}/sharing/", headers={"HX-Request": "true", "HX-Target": "sharing"}
    )
    text = page.content.decode()
    assert "<html" not in text  # the panel alone, for the dataset page
    assert BROWSER in text
    assert PNG in text
    assert "Dr. Rossi" in text
    assert "2 times" in text


# Copy verification (what the facility dashboard reads) -------------------------------------------


def test_verify_records_its_verdict_on_the_dataset(scanned: Dataset, samples: Path) -> None:
    assert scanned.verify_state == VerifyState.NEVER
    assert not scanned.copy_verified
    report = services.dataset_verify(dataset=scanned)
    scanned.refresh_from_db()
    assert report.ok
    assert scanned.verify_state == VerifyState.INTACT
    assert scanned.verified_at is not None
    assert scanned.copy_verified
    assert scanned.verify_message == report.summary
    (samples / PNG).write_bytes(b"changed")
    with pytest.raises(CommandError):
        call_command("dataset_verify", str(scanned.pk), stdout=io.StringIO())
    scanned.refresh_from_db()
    assert scanned.verify_state == VerifyState.DIFFERS
    assert "1 changed" in scanned.verify_message
    assert not scanned.copy_verified
