from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from metadata.models import Dataset, ScanRun
from projects.models import StorageRoot
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import expected, outcome


@pytest.fixture
def scanned(dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:
    scan_now(dataset)
    return dataset


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_pages_matrix(world: World, scanned: Dataset, who: str) -> None:
    client = world.client(who)
    file_pk = scanned.files.get(relative_path="nd2/cluster.nd2").pk
    for url in (
        f"/datasets/{scanned.pk}/",
        f"/datasets/{scanned.pk}/files/{file_pk}/",
        f"/datasets/{scanned.pk}/files/{file_pk}/ome.xml",
        f"/datasets/project/{world.project.pk}/",
    ):
        assert outcome(client.get(url)) == expected(who, "viewer", success=200), url
    assert outcome(client.get(f"/datasets/project/{world.project.pk}/register/")) == expected(
        who, "editor", success=200
    )
    assert outcome(client.post(f"/datasets/{scanned.pk}/scan/")) == expected(who, "editor", success=302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_api_matrix(world: World, scanned: Dataset, who: str) -> None:
    api = world.api(who)
    wanted = 401 if who == "anonymous" else expected(who, "viewer", success=200)
    assert api.get(f"/api/v1/datasets/{scanned.pk}/").status_code == wanted
    assert api.get(f"/api/v1/datasets/{scanned.pk}/files/").status_code == wanted
    assert api.get(f"/api/v1/datasets/{scanned.pk}/scans/").status_code == wanted
    post_wanted = 401 if who == "anonymous" else expected(who, "editor", success=202)
    assert api.post(f"/api/v1/datasets/{scanned.pk}/scans/").status_code == post_wanted
    listing = api.get("/api/v1/datasets/")
    if who != "anonymous":
        assert (listing.json()["count"] == 1) == (who != "outsider")


def test_dataset_page_shows_summary_progress_and_errors(world: World, scanned: Dataset) -> None:
    page = world.client("viewer").get(f"/datasets/{scanned.pk}/").content.decode()
    assert "Finished: 16 of 16 files" in page
    assert '<progress value="100.0"' in page
    assert "Nikon ND2" in page
    assert "Lossy compression changes intensities" in page
    assert "OME-Zarr" in page
    assert "OME Insturuments Lab Mk3" in page
    errors_page = world.client("viewer").get(f"/datasets/{scanned.pk}/?with_errors=on").content.decode()
    errors_only = errors_page[errors_page.index('id="files-heading"') :]
    assert "pillow_truncated_image.png" in errors_only
    assert "cluster.nd2" not in errors_only
    detail = world.client("viewer").get(
        f"/datasets/{scanned.pk}/files/{scanned.files.get(relative_path='broken/pillow_truncated_image.png').pk}/"
    )
    assert "cut off while copying" in detail.content.decode()


def test_progress_fragment_polls_while_running(world: World, scanned: Dataset) -> None:
    ScanRun.objects.filter(dataset=scanned).update(status=ScanRun.Status.RUNNING, files_done=4, bytes_done=10)
    fragment = world.client("viewer").get(
        f"/datasets/{scanned.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="scan-progress"
    )
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="scan-progress"')
    assert 'hx-trigger="every 1s"' in body


def test_register_through_the_web(world: World, root: StorageRoot, samples: Path) -> None:
    client = world.client("editor")
    bad = client.post(
        f"/datasets/project/{world.project.pk}/register/",
        {"title": "x", "storage_root": root.pk, "relative_path": "../../etc"},
    )
    assert bad.status_code == 400
    assert "uses &#x27;..&#x27; to leave the storage root" in bad.content.decode()
    good = client.post(
        f"/datasets/project/{world.project.pk}/register/",
        {"title": "Confocal run", "storage_root": root.pk, "relative_path": "samples"},
    )
    dataset = Dataset.objects.get(title="Confocal run")
    assert good["Location"] == f"/datasets/{dataset.pk}/"
    assert dataset.scans.count() == 1


def test_api_file_list_filters_and_paginates(world: World, scanned: Dataset) -> None:
    api = world.api("viewer")
    errors = api.get(f"/api/v1/datasets/{scanned.pk}/files/?errors=true").json()
    assert [row["relative_path"] for row in errors["results"]] == ["broken/pillow_truncated_image.png"]
    tiffs = api.get(f"/api/v1/datasets/{scanned.pk}/files/?file_format=ome-tiff&page_size=5").json()
    assert len(tiffs["results"]) == 5
    rest = api.get(tiffs["next"]).json()
    assert len(rest["results"]) == 3
    assert rest["next"] is None


def test_api_register_validates_path(world: World, root: StorageRoot, samples: Path) -> None:
    api = world.api("editor")
    response = api.post(
        "/api/v1/datasets/",
        {"project": world.project.pk, "title": "x", "storage_root": "test", "relative_path": "/etc"},
        format="json",
    )
    assert response.status_code == 400
    assert "absolute path" in response.json()["relative_path"][0]
    viewer = world.api("viewer").post(
        "/api/v1/datasets/",
        {"project": world.project.pk, "title": "x", "storage_root": "test", "relative_path": "samples"},
        format="json",
    )
    assert viewer.status_code == 403


def test_storage_use_per_root_team_and_project(world: World, scanned: Dataset) -> None:
    scanned.refresh_from_db()
    StorageRoot.objects.filter(pk=scanned.storage_root_id).update(quota_bytes=10 * scanned.total_bytes)
    steward_page = world.client("steward").get("/datasets/usage/").content.decode()
    assert "10% of" in steward_page  # the root's quota use
    assert "Lab A" in steward_page  # the facility's teams
    assert steward_page.count('class="bar"') >= 1
    viewer_page = world.client("viewer").get("/datasets/usage/").content.decode()
    assert "Storage roots you steward" not in viewer_page
    assert "Zebrafish mitochondria" in viewer_page
    outsider_page = world.client("outsider").get("/datasets/usage/").content.decode()
    assert "Zebrafish mitochondria" not in outsider_page
    assert sum(scanned.monthly_bytes.values()) == scanned.total_bytes


def test_previews_are_made_after_the_scan(world: World, scanned: Dataset) -> None:
    nd2 = scanned.files.get(relative_path="nd2/cluster.nd2")
    assert nd2.has_preview
    assert bytes(nd2.preview_png or b"").startswith(b"\x89PNG")
    companion = scanned.files.get(relative_path="ome-tiff/multifile/multifile.companion.ome")
    assert "metadata only" in companion.preview_error
    client = world.client("viewer")
    response = client.get(f"/datasets/{scanned.pk}/files/{nd2.pk}/preview.png")
    assert response["Content-Type"] == "image/png"
    assert (
        world.client("outsider").get(f"/datasets/{scanned.pk}/files/{nd2.pk}/preview.png").status_code == 404
    )
    page = client.get(f"/datasets/{scanned.pk}/").content.decode()
    assert f"/datasets/{scanned.pk}/files/{nd2.pk}/preview.png" in page
    detail = client.get(f"/datasets/{scanned.pk}/files/{companion.pk}/").content.decode()
    assert "No preview: This file holds metadata only" in detail
    broken = scanned.files.get(relative_path="broken/pillow_truncated_image.png")
    assert broken.preview_at is None  # files that failed inspection are not previewed
