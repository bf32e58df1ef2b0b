"""Roles × users for the dataset pages and endpoints that test_dataset_pages.py and
test_share_links.py leave out: the dataset lists, uploads, REMBI descriptions, annotations,
previews, the instrument registry and the API's registration and REMBI export.

The matrices are about who gets in, so the dataset's files are written as rows (one OME-TIFF with
its OME-XML and a preview) rather than scanned; tests/metadata/test_scan.py covers the scan.
"""

from __future__ import annotations

import datetime
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings

from metadata import annotations as image_annotations
from metadata import services
from metadata.models import AnnotationColumn, Dataset, ImageFile, Instrument, RembiRecord
from projects.models import StorageRoot
from tests.conftest import ALL_USERS, World
from tests.metadata.conftest import SAMPLES
from tests.projects.test_access_matrix import api_expected, expected, outcome

TITLE = "Zebrafish larvae, day 5"
INSTRUMENT_XML = (SAMPLES / "ome-xml/instrument.ome.xml").read_text()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PART_KINDS = ("objectives", "detectors", "light_sources", "filters")


@pytest.fixture
def described(world: World, root: StorageRoot, samples: Path) -> Dataset:
    dataset = services.dataset_register(
        project=world.project,
        user=world.users["editor"],
        storage_root=root,
        relative_path="samples",
        title=TITLE,
    )
    ImageFile.objects.create(
        dataset=dataset,
        relative_path="ome-tiff/embryo.ome.tif",
        size_bytes=1024,
        mtime=0.0,
        format="ome-tiff",
        is_image=True,
        ome_xml_gz=zlib.compress(INSTRUMENT_XML.encode()),
        preview_png=PNG_SIGNATURE,
        preview_at=datetime.datetime.now(tz=datetime.UTC),
        scanned_at=datetime.datetime.now(tz=datetime.UTC),
    )
    return dataset


def _image(dataset: Dataset) -> ImageFile:
    return dataset.files.get()


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_lists_matrix(world: World, described: Dataset, who: str) -> None:
    client = world.client(who)
    index = client.get("/datasets/")
    usage = client.get("/datasets/usage/")
    assert (outcome(index), outcome(usage)) == (("login", "login") if who == "anonymous" else (200, 200))
    if who != "anonymous":
        assert (TITLE in index.content.decode()) == (who != "outsider")
        assert (world.project.title in usage.content.decode()) == (who != "outsider")


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_read_pages_matrix(world: World, described: Dataset, who: str) -> None:
    client = world.client(who)
    pk, file_pk = described.pk, _image(described).pk
    for url in (
        f"/datasets/{pk}/describe/",
        f"/datasets/{pk}/describe/Study/",
        f"/datasets/{pk}/rembi.jsonld",
        f"/datasets/{pk}/files/{file_pk}/preview.png",
        f"/datasets/{pk}/annotations/",
        f"/datasets/{pk}/annotations.csv",
    ):
        assert outcome(client.get(url)) == expected(who, "viewer", success=200), url
    preview = client.get(f"/datasets/{pk}/files/{file_pk}/preview.png")
    if preview.status_code == 200:
        assert preview.content == PNG_SIGNATURE


@pytest.mark.parametrize("who", ALL_USERS)
def test_dataset_upload_matrix(world: World, root: StorageRoot, settings: Settings, who: str) -> None:
    settings.FAIRLIGHT_UPLOAD_ROOT = root.name
    client = world.client(who)
    url = f"/datasets/project/{world.project.pk}/upload/"
    assert outcome(client.get(url)) == expected(who, "editor", success=200)
    notes = SimpleUploadedFile("notes.txt", b"stage 3", content_type="text/plain")
    response = client.post(url, {"title": f"Upload of {who}", "images": [notes]})
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    assert Dataset.objects.filter(title=f"Upload of {who}").exists() == (want == 302)
    uploads = Path(root.path) / "uploads"
    assert (uploads.is_dir() and any(uploads.rglob("notes.txt"))) == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_rembi_edit_matrix(world: World, described: Dataset, who: str) -> None:
    response = world.client(who).post(
        f"/datasets/{described.pk}/describe/Biosample/",
        {
            "title": f"Larvae of {who}",
            "biological_entity_description": "neurons",
            # Incomplete (no organism), which is saved all the same and listed as still to do.
            "organism_classification-TOTAL_FORMS": "0",
            "organism_classification-INITIAL_FORMS": "0",
        },
    )
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    assert RembiRecord.objects.filter(class_name="Biosample").exists() == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_rembi_link_matrix(world: World, described: Dataset, who: str) -> None:
    shared = RembiRecord.objects.create(
        project=world.project,
        class_name="Biosample",
        title="Zebrafish larvae",
        data={"title": "Zebrafish larvae"},
    )
    response = world.client(who).post(
        f"/datasets/{described.pk}/describe/Biosample/use/", {"record": shared.pk}
    )
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    assert shared.datasets.filter(pk=described.pk).exists() == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_annotation_writes_matrix(world: World, described: Dataset, who: str) -> None:
    client = world.client(who)
    want = expected(who, "editor", success=302)
    added = client.post(
        f"/datasets/{described.pk}/annotations/",
        {"action": "column", "column-name": "genotype", "column-kind": "text"},
    )
    assert outcome(added) == want
    assert AnnotationColumn.objects.filter(name="genotype").exists() == (want == 302)
    column = image_annotations.column_create(
        dataset=described, name="treatment", kind="text", allowed_values=[]
    )
    csv_file = SimpleUploadedFile(
        "a.csv", b"path,treatment\nome-tiff/embryo.ome.tif,DMSO\n", content_type="text/csv"
    )
    imported = client.post(f"/datasets/{described.pk}/annotations.csv", {"csv_file": csv_file})
    assert outcome(imported) == want
    assert _image(described).annotations == ({str(column.pk): "DMSO"} if want == 302 else {})


def _instrument_form(name: str) -> dict[str, str]:
    parts = {f"{kind}-{key}": "0" for kind in PART_KINDS for key in ("TOTAL_FORMS", "INITIAL_FORMS")}
    return {"name": name, "manufacturer": "Nikon", "model": "Ti2", **parts}


@pytest.mark.parametrize("who", ALL_USERS)
def test_instrument_form_matrix(world: World, who: str) -> None:
    """The registry belongs to the facility: its stewards only; to anyone else it does not exist."""
    client = world.client(who)
    want_page, want_save = ({"anonymous": "login", "steward": s}.get(who, 404) for s in (200, 302))
    base = f"/datasets/instruments/{world.facility.pk}"
    assert outcome(client.get(f"{base}/new/")) == want_page
    assert outcome(client.post(f"{base}/new/", _instrument_form(f"Added by {who}"))) == want_save
    assert Instrument.objects.filter(name=f"Added by {who}").exists() == (who == "steward")
    existing = Instrument.objects.create(facility=world.facility, name="Widefield 1")
    assert outcome(client.get(f"{base}/{existing.pk}/")) == want_page
    assert outcome(client.post(f"{base}/{existing.pk}/", _instrument_form(f"Renamed by {who}"))) == want_save
    existing.refresh_from_db()
    assert (existing.name == f"Renamed by {who}") == (who == "steward")


@pytest.mark.parametrize("who", ALL_USERS)
def test_instrument_from_file_matrix(world: World, described: Dataset, who: str) -> None:
    response = world.client(who).post(f"/datasets/{described.pk}/files/{_image(described).pk}/instrument/")
    assert outcome(response) == {"anonymous": "login", "steward": 302}.get(who, 404)
    assert Instrument.objects.filter(facility=world.facility).exists() == (who == "steward")


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_dataset_register_matrix(world: World, root: StorageRoot, samples: Path, who: str) -> None:
    response = world.api(who).post(
        "/api/v1/datasets/",
        {
            "project": world.project.pk,
            "title": f"Registered by {who}",
            "storage_root": root.name,
            "relative_path": "samples",
        },
        format="json",
    )
    wanted = api_expected(who, "editor", success=201)
    assert response.status_code == wanted, response.content
    assert Dataset.objects.filter(title=f"Registered by {who}").exists() == (wanted == 201)


def test_api_dataset_register_tells_a_stranger_nothing(
    world: World, described: Dataset, root: StorageRoot, samples: Path
) -> None:
    """A project the caller cannot see answers like one that does not exist, before the body is
    read: neither "invalid pk" nor "this path is registered" tells the two apart."""
    api = world.api("outsider")
    body = {"title": "Probe", "storage_root": root.name, "relative_path": "samples"}
    hidden = api.post("/api/v1/datasets/", {**body, "project": world.project.pk}, format="json")
    missing = api.post("/api/v1/datasets/", {**body, "project": 999_999}, format="json")
    assert (hidden.status_code, hidden.json()) == (404, {"detail": "No such project."})
    assert (missing.status_code, missing.json()) == (404, {"detail": "No such project."})
    assert not Dataset.objects.filter(title="Probe").exists()


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_rembi_matrix(world: World, described: Dataset, who: str) -> None:
    api = world.api(who)
    wanted = api_expected(who, "viewer", success=200)
    jsonld = api.get(f"/api/v1/datasets/{described.pk}/rembi/")
    turtle = api.get(f"/api/v1/datasets/{described.pk}/rembi/", {"as": "turtle"})
    assert (jsonld.status_code, turtle.status_code) == (wanted, wanted)
    if wanted == 200:
        assert jsonld["Content-Type"] == "application/ld+json"
        assert turtle["Content-Type"] == "text/turtle; charset=utf-8"
