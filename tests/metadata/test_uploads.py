"""Browser uploads into the managed root: limits, file names, and nothing left behind on failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings

from metadata import uploads
from metadata.models import Dataset
from projects.models import StorageRoot
from tests.conftest import World
from tests.metadata.conftest import SAMPLES


@pytest.fixture
def upload_root(world: World, root: StorageRoot, settings: Settings) -> Path:
    settings.FAIRLIGHT_UPLOAD_ROOT = root.name
    return Path(root.path)


def _file(name: str, content: bytes = b"data") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_upload_through_the_web_creates_and_scans_a_dataset(world: World, upload_root: Path) -> None:
    nd2 = (SAMPLES / "nd2/cluster.nd2").read_bytes()
    response = world.client("editor").post(
        f"/datasets/project/{world.project.pk}/upload/",
        {"title": "Quick look", "images": [_file("cluster.nd2", nd2), _file("notes.txt", b"stage 3")]},
    )
    dataset = Dataset.objects.get(title="Quick look")
    assert response["Location"] == f"/datasets/{dataset.pk}/"
    folder = upload_root / dataset.relative_path
    assert sorted(p.name for p in folder.iterdir()) == ["cluster.nd2", "notes.txt"]
    assert (folder / "cluster.nd2").read_bytes() == nd2
    assert dataset.scans.count() == 1
    assert not list((upload_root / "uploads").glob(".partial-*"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..", "is not a file name"),
        (".hidden.tif", "hidden file name"),
        ("a\\b.tif", "path separator"),
        ("bad\x01name.tif", "control character"),
        ("x" * 300 + ".tif", "longer than 255 bytes"),
    ],
)
def test_unsafe_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        uploads.validate_upload_name(name)


def test_duplicate_names_and_empty_uploads_are_refused(world: World, upload_root: Path) -> None:
    with pytest.raises(ValidationError, match=r"Two files are called 'a\.tif'"):
        uploads.dataset_upload(
            project=world.project,
            user=world.users["editor"],
            title="x",
            files=[_file("a.tif"), _file("a.tif")],
        )
    with pytest.raises(ValidationError, match="at least one file"):
        uploads.dataset_upload(project=world.project, user=world.users["editor"], title="x", files=[])
    assert not Dataset.objects.exists()


def test_oversized_upload_is_stopped_and_stores_nothing(
    world: World, upload_root: Path, settings: Settings
) -> None:
    settings.FAIRLIGHT_UPLOAD_MAX_BYTES = 1000
    response = world.client("editor").post(
        f"/datasets/project/{world.project.pk}/upload/",
        {"title": "Big", "images": [_file("big.tif", b"x" * 5000)]},
    )
    assert response.status_code == 400
    assert "larger than the upload limit of 1000" in response.content.decode()
    assert not Dataset.objects.exists()
    assert not (upload_root / "uploads").exists() or not any((upload_root / "uploads").rglob("*"))


def test_failure_while_writing_leaves_no_partial_folder(
    world: World, upload_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Exploding(SimpleUploadedFile):
        def chunks(self, chunk_size: int | None = None):  # type: ignore[no-untyped-def]
            yield b"first part"
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        uploads.dataset_upload(
            project=world.project,
            user=world.users["editor"],
            title="Disk full",
            files=[_file("ok.tif"), Exploding("second.tif", b"")],
        )
    assert list((upload_root / "uploads").iterdir()) == []
    assert not Dataset.objects.exists()


def test_viewers_cannot_upload_and_disabled_uploads_say_so(
    world: World, root: StorageRoot, settings: Settings
) -> None:
    url = f"/datasets/project/{world.project.pk}/upload/"
    assert world.client("viewer").post(url, {"title": "x", "images": [_file("a.tif")]}).status_code == 403
    assert world.client("outsider").get(url).status_code == 404
    settings.FAIRLIGHT_UPLOAD_ROOT = ""
    page = world.client("editor").get(url).content.decode()
    assert "Uploads are not enabled on this site" in page


def test_upload_requires_the_csrf_token(world: World, upload_root: Path) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["editor"])
    response = client.post(
        f"/datasets/project/{world.project.pk}/upload/", {"title": "x", "images": [_file("a.tif")]}
    )
    assert response.status_code == 403
    assert not Dataset.objects.exists()
