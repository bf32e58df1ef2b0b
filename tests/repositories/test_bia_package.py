"""The BioImage Archive package of the sample images: the RO-Crate passes the BIA validator,
the file lists and manifest match the files, PageTab has every section, and a failed build
leaves nothing behind."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from metadata.models import AnnotationColumn, Dataset, ImageFile
from metadata.services import dataset_folder, dataset_register
from projects.models import StorageRoot
from repositories import services
from repositories.bia import target as bia_target
from repositories.bia.crate import file_list_rows
from repositories.models import State, Submission
from repositories.packaging import describe as describe_submission
from tests.conftest import World
from tests.repositories.conftest import RELEASE_IN_DAYS, describe, in_days

REPO = Path(__file__).resolve().parents[2]
CaptureOnCommit = Callable[..., AbstractContextManager[object]]


def bia_validate(crate: Path) -> subprocess.CompletedProcess[str]:
    """`bia-ro-crate validate`, offline (see offline_bia_validate.py for how)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.repositories.offline_bia_validate", str(crate)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def crate(submission: Submission) -> dict[str, Any]:
    return dict(json.loads((Path(submission.package_path) / "ro-crate-metadata.json").read_text("utf-8")))


def entity(document: dict[str, Any], identifier: str) -> dict[str, Any]:
    return next(e for e in document["@graph"] if e["@id"] == identifier)


def of_type(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        e
        for e in document["@graph"]
        if kind in (e["@type"] if isinstance(e["@type"], list) else [e["@type"]])
    ]


def read_tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter="\t"))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def annotated(checked: Submission) -> Submission:
    """Packaged with two per-image annotation columns, one named like a standard column."""
    genotype = AnnotationColumn.objects.create(project=checked.project, name="Genotype")
    clash = AnnotationColumn.objects.create(project=checked.project, name="type", position=1)
    checked.datasets.get().files.filter(relative_path="nd2/cluster.nd2").update(
        annotations={str(genotype.pk): "wild type", str(clash.pk): "control"}
    )
    built = services.package_build(submission_id=checked.pk)
    assert built is not None
    return built


def test_package_passes_the_bia_validator_and_a_broken_one_does_not(
    annotated: Submission, tmp_path: Path
) -> None:
    """Must show 1: the BIA package of the demo dataset passes `bia-ro-crate validate`."""
    packaged = annotated
    folder = Path(packaged.package_path)
    result = bia_validate(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same crate without its authors must fail, or the check above proves nothing.
    broken = tmp_path / "broken"
    broken.mkdir()
    document = crate(packaged)
    entity(document, "./").pop("author")
    (broken / "ro-crate-metadata.json").write_text(json.dumps(document), "utf-8")
    (broken / "file_list.tsv").write_bytes((folder / "file_list.tsv").read_bytes())
    refused = bia_validate(broken)
    assert refused.returncode != 0
    assert "author" in refused.stdout + refused.stderr


def test_crate_describes_the_study_and_its_associations(packaged: Submission) -> None:
    document = crate(packaged)
    assert document["@context"][0] == "https://w3id.org/ro/crate/1.1/context"
    root = entity(document, "./")
    assert set(root["@type"]) == {"Dataset", "bia:Study"}
    assert root["name"] == "Mitochondrial dynamics in zebrafish sensory neurons"
    assert root["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert root["datePublished"] == packaged.release_date.isoformat()  # type: ignore[union-attr]
    assert root["accessionId"] == "S-BIAD-PENDING"
    assert root["author"] == [{"@id": "https://orcid.org/0000-0002-1825-0097"}]
    person = entity(document, "https://orcid.org/0000-0002-1825-0097")
    assert person["name"] == "Josiah Carberry"
    assert person["memberOf"] == [{"@id": "https://ror.org/03mstc592"}]
    assert entity(document, "https://ror.org/03mstc592")["name"] == "European Molecular Biology Laboratory"

    dataset = packaged.datasets.get()
    component = entity(document, f"#dataset-{dataset.pk}")
    assert component["name"] == "Time-lapse of Rohon-Beard axons"
    biosample = entity(document, component["associatedBiologicalEntity"][0]["@id"])
    assert biosample["organismClassification"] == [{"@id": "http://purl.obolibrary.org/obo/NCBITaxon_7955"}]
    taxon = entity(document, "http://purl.obolibrary.org/obo/NCBITaxon_7955")
    assert (taxon["scientificName"], taxon["commonName"]) == ("Danio rerio", "zebrafish")
    preparation = entity(document, component["associatedSpecimenImagingPreparationProtocol"][0]["@id"])
    assert preparation["@type"] == "bia:SpecimenImagingPreparationProtocol"
    channel = entity(document, preparation["signalChannelInformation"][0]["@id"])
    assert channel["channelContentDescription"] == "mitochondria"
    acquisition = entity(document, component["associatedImageAcquisitionProtocol"][0]["@id"])
    assert acquisition["fbbiId"] == ["http://purl.obolibrary.org/obo/FBbi_00000253"]
    assert acquisition["imagingMethodName"] == ["spinning disk confocal microscopy"]
    assert "Objective: Plan Apo λ 60x." in acquisition["description"]
    annotation = entity(document, component["associatedAnnotationMethod"][0]["@id"])
    assert annotation["methodType"] == ["tracks"]
    file_list = entity(document, "file_list.tsv")
    assert set(file_list["@type"]) == {"File", "bia:FileList", "csvw:Table"}
    assert {"@id": "file_list.tsv"} in root["hasPart"]
    columns = [entity(document, c["@id"]) for c in entity(document, "#file-list-schema")["column"]]
    assert [(c["columnName"], c.get("propertyUrl")) for c in columns][:3] == [
        ("file_path", "http://bia/filePath"),
        ("dataset", "http://schema.org/isPartOf"),
        ("type", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
    ]


def test_file_list_has_one_row_per_file_with_its_checksum(annotated: Submission) -> None:
    packaged = annotated
    dataset = packaged.datasets.get()
    folder = dataset_folder(dataset)
    rows = read_tsv(Path(packaged.package_path) / "file_list.tsv")
    header, body = rows[0], rows[1:]
    assert header == [
        "file_path",
        "dataset",
        "type",
        "size_in_bytes",
        "sha256",
        "format",
        "Genotype",
        "type (annotation)",
    ]
    nd2 = next(row for row in body if row[0] == "nd2/cluster.nd2")
    assert (nd2[5], nd2[6], nd2[7]) == ("Nikon ND2", "wild type", "control")
    columns = [
        entity(crate(packaged), c["@id"]) for c in entity(crate(packaged), "#file-list-schema")["column"]
    ]
    assert [c["columnName"] for c in columns] == header
    assert "propertyUrl" not in columns[6]
    scanned = dict(dataset.files.values_list("relative_path", "sha256"))
    assert len(body) == len(scanned) == dataset.files.count()
    assert {row[0]: row[4] for row in body} == scanned
    for row in body:
        assert row[1] == f"#dataset-{dataset.pk}"
        path = folder / row[0]
        if path.is_file():  # an OME-Zarr folder carries its tree digest instead
            assert row[4] == sha256_of(path), row[0]
            assert int(row[3]) == path.stat().st_size
    images = dict(dataset.files.values_list("relative_path", "is_image"))
    for row in body:
        assert row[2] == ("http://bia/Image" if images[row[0]] else "http://bia/FileReference"), row[0]


def test_manifest_lists_every_data_file_and_no_data_is_copied(packaged: Submission) -> None:
    folder = Path(packaged.package_path)
    dataset = packaged.datasets.get()
    lines = (folder / "manifest-sha256.txt").read_text("utf-8").splitlines()
    manifest = {path: digest for digest, path in (line.split("  ", 1) for line in lines)}
    assert manifest == dict(dataset.files.values_list("relative_path", "sha256"))
    packaged_files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert packaged_files == {
        "ro-crate-metadata.json",
        "file_list.tsv",
        "pagetab/submission.tsv",
        "pagetab/file_list_study_component_1.tsv",
        "manifest-sha256.txt",
        "README.txt",
    }
    package_bytes = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert package_bytes < dataset.total_bytes / 10
    readme = (folder / "README.txt").read_text("utf-8")
    assert str(dataset_folder(dataset)) in readme
    assert "NOT copied" in readme


def parse_pagetab(text: str) -> list[dict[str, Any]]:
    """PageTab TSV as blocks: the head (type, accno, parent) and the attributes in order."""
    blocks: list[dict[str, Any]] = []
    for row in csv.reader(io.StringIO(text), delimiter="\t"):
        if not row or not any(row):
            blocks.append({})
            continue
        if not blocks or not blocks[-1]:
            head = [*row, "", ""]
            blocks[-1:] = [{"type": head[0], "accno": head[1], "parent": head[2], "attributes": []}]
        else:
            assert len(row) == 2, row
            blocks[-1]["attributes"].append((row[0], row[1]))
    return [b for b in blocks if b]


def values(block: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in block["attributes"] if key == name]


def test_pagetab_parses_and_has_every_section(packaged: Submission) -> None:
    folder = Path(packaged.package_path)
    blocks = parse_pagetab((folder / "pagetab" / "submission.tsv").read_text("utf-8"))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for block in blocks:
        by_type.setdefault(block["type"], []).append(block)
    submission_block = blocks[0]
    assert submission_block["type"] == "Submission"
    assert values(submission_block, "Title") == ["Mitochondrial dynamics in zebrafish sensory neurons"]
    assert values(submission_block, "ReleaseDate") == [packaged.release_date.isoformat()]  # type: ignore[union-attr]
    assert values(submission_block, "AttachTo") == ["BioImages"]
    study = blocks[1]
    assert study["type"] == "Study"
    assert values(study, "License") == ["CC BY 4.0"]
    assert values(study, "Keywords") == ["mitochondria", "axonal transport", "zebrafish"]
    assert values(by_type["Author"][0], "ORCID") == ["0000-0002-1825-0097"]
    assert values(by_type["Author"][0], "<affiliation>") == [by_type["Organisation"][0]["accno"]]
    assert values(by_type["Biosample"][0], "Organism") == ["Danio rerio (zebrafish)"]
    assert values(by_type["Specimen"][0], "Sample preparation protocol")
    acquisition = by_type["Image acquisition"][0]
    assert values(acquisition, "Imaging method") == ["spinning disk confocal microscopy"]
    component = by_type["Study Component"][0]
    file_list = values(component, "File List")
    assert file_list == ["file_list_study_component_1.tsv"]
    associations = by_type["Associations"][0]
    assert associations["parent"] == component["accno"]
    assert values(associations, "Biosample") == ["Zebrafish larvae, 2 dpf"]
    assert values(associations, "Specimen") == ["Live larvae in agarose"]
    assert values(associations, "Image acquisition") == ["Spinning disk time-lapse"]

    rows = read_tsv(folder / "pagetab" / file_list[0])
    assert rows[0][0] == "Files"
    dataset = packaged.datasets.get()
    assert sorted(row[0] for row in rows[1:]) == sorted(dataset.files.values_list("relative_path", flat=True))


def test_several_datasets_get_their_own_upload_folders(
    world: World, described: Dataset, packages_dir: Path, root: StorageRoot, storage_root_dir: Path
) -> None:
    second_folder = storage_root_dir / "second"
    second_folder.mkdir()
    (second_folder / "image.ome.tif").write_bytes(
        (dataset_folder(described) / "ome-tiff/single-channel.ome.tif").read_bytes()
    )
    second = dataset_register(
        project=world.project, user=None, storage_root=root, relative_path="second", title="Second"
    )
    ImageFile.objects.create(
        dataset=second,
        relative_path="image.ome.tif",
        size_bytes=(second_folder / "image.ome.tif").stat().st_size,
        mtime=(second_folder / "image.ome.tif").stat().st_mtime,
        format="ome-tiff",
        is_image=True,
        sha256=sha256_of(second_folder / "image.ome.tif"),
        scanned_at=described.created_at,
    )
    for record in described.rembi_records.exclude(class_name="StudyComponent"):
        record.datasets.add(second)
    submission = services.submission_create(
        project=world.project,
        datasets=[described, second],
        target="bia",
        title="Two datasets",
        release_date=None,
        user=world.users["editor"],
    )
    rows = list(file_list_rows(describe_submission(submission)))
    paths = {row[0] for row in rows[1:]}
    assert "second/image.ome.tif" in paths
    assert "samples/ome-tiff/single-channel.ome.tif" in paths
    assert len(paths) == len(rows) - 1


def test_build_runs_as_a_task(
    world: World,
    checked: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.package_build_start(submission=checked, user=world.users["editor"])
    checked.refresh_from_db()
    assert checked.is_building
    with pytest.raises(Exception, match="already queued"):
        services.package_build_start(submission=checked, user=world.users["editor"])
    run_tasks()
    checked.refresh_from_db()
    assert checked.state == State.PACKAGED
    assert not checked.is_building
    assert Path(checked.package_path, "ro-crate-metadata.json").is_file()
    event = checked.events.last()
    assert event is not None
    assert (event.from_state, event.to_state, event.user, event.note) == (
        "checked",
        "packaged",
        None,
        "Package built.",
    )


def test_failed_build_leaves_no_package(
    checked: Submission, packages_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # The crate and file lists are written by then: the failure comes late in the build.
    monkeypatch.setattr(bia_target, "write_manifest", full_disk)
    with pytest.raises(OSError, match="No space left"):
        services.package_build(submission_id=checked.pk)
    checked.refresh_from_db()
    assert checked.state == State.CHECKED
    assert checked.package_path == ""
    assert checked.package_error.startswith("The disk holding the packages is full: No space left on device.")
    assert list(packages_dir.iterdir()) == []


def test_package_downloads_as_a_zip(world: World, packaged: Submission) -> None:
    response = world.client("viewer").get(f"/submissions/{packaged.pk}/package.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert "ro-crate-metadata.json" in archive.namelist()
    folder = Path(packaged.package_path)
    assert archive.read("file_list.tsv") == (folder / "file_list.tsv").read_bytes()
    assert archive.testzip() is None


def test_a_2_gb_dataset_packages_without_copying_data(
    world: World, root: StorageRoot, storage_root_dir: Path, packages_dir: Path
) -> None:
    """Must show 4: the package costs manifests, not data (a sparse 2 GiB file stands in)."""
    folder = storage_root_dir / "big"
    folder.mkdir()
    big = folder / "volume.ome.tif"
    with big.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    big_dataset = dataset_register(
        project=world.project, user=None, storage_root=root, relative_path="big", title="Big"
    )
    stat = big.stat()
    # The scan's checksum is not what is tested here; a stored value stands in for it.
    ImageFile.objects.create(
        dataset=big_dataset,
        relative_path="volume.ome.tif",
        size_bytes=stat.st_size,
        mtime=stat.st_mtime,
        format="ome-tiff",
        is_image=True,
        sha256="ab" * 32,
        scanned_at=big_dataset.created_at,
    )
    Dataset.objects.filter(pk=big_dataset.pk).update(
        status=Dataset.Status.SCANNED,
        scanned_at=big_dataset.created_at,
        file_count=1,
        total_bytes=stat.st_size,
        format_summary={"ome-tiff": {"count": 1, "bytes": stat.st_size}},
    )
    describe(big_dataset, release=in_days(RELEASE_IN_DAYS))
    submission = services.submission_create(
        project=world.project,
        datasets=[big_dataset],
        target="bia",
        title="Big",
        release_date=in_days(RELEASE_IN_DAYS),
        user=world.users["editor"],
    )
    assert services.submission_check(submission=submission, user=None).ok
    built = services.package_build(submission_id=submission.pk)
    assert built is not None
    package = Path(built.package_path)
    allocated = sum(p.stat().st_blocks * 512 for p in package.rglob("*") if p.is_file())
    assert allocated < 1024**2
    assert big.stat().st_blocks * 512 < 1024**2  # the data file is untouched and still sparse
    rows = read_tsv(package / "file_list.tsv")
    assert rows[1][:4] == [
        "volume.ome.tif",
        f"#dataset-{big_dataset.pk}",
        "http://bia/Image",
        str(2 * 1024**3),
    ]
