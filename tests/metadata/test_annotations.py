"""Per-image annotations: columns, table edits, bulk edits, CSV export and all-or-nothing import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from metadata.annotations import annotations_csv_export, annotations_csv_import, column_create
from metadata.models import AnnotationColumn, Dataset, ScanRun
from tests.conftest import World


@pytest.fixture
def scanned(dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:
    scan_now(dataset)
    return dataset


@pytest.fixture
def columns(scanned: Dataset) -> tuple[AnnotationColumn, AnnotationColumn]:
    genotype = column_create(dataset=scanned, name="genotype", kind="choice", allowed_values=["wt", "mut"])
    hours = column_create(
        dataset=scanned, name="time post-infection", kind="number", allowed_values=[], unit="h"
    )
    return genotype, hours


def _nd2(dataset: Dataset) -> int:
    return dataset.files.get(relative_path="nd2/cluster.nd2").pk


def test_table_edits_are_saved_or_refused_whole(
    world: World, scanned: Dataset, columns: tuple[AnnotationColumn, ...]
) -> None:
    genotype, hours = columns
    client = world.client("editor")
    nd2 = _nd2(scanned)
    url = f"/datasets/{scanned.pk}/annotations/"
    bad = client.post(url, {f"cell-{nd2}-{genotype.pk}": "wt", f"cell-{nd2}-{hours.pk}": "two"})
    assert bad.status_code == 400
    assert "“two” is not a number." in bad.content.decode()
    assert scanned.files.get(pk=nd2).annotations == {}
    good = client.post(url, {f"cell-{nd2}-{genotype.pk}": "wt", f"cell-{nd2}-{hours.pk}": "24"})
    assert good.status_code == 302
    assert scanned.files.get(pk=nd2).annotations == {str(genotype.pk): "wt", str(hours.pk): "24"}


def test_bulk_edit_and_viewer_refusal(
    world: World, scanned: Dataset, columns: tuple[AnnotationColumn, ...]
) -> None:
    genotype, _ = columns
    ids = list(scanned.files.filter(is_image=True).values_list("pk", flat=True)[:3])
    url = f"/datasets/{scanned.pk}/annotations/"
    form = {"action": "bulk", "column": genotype.pk, "value": "mut", "selected": ids}
    assert world.client("viewer").post(url, form).status_code == 403
    assert world.client("outsider").post(url, form).status_code == 404
    assert world.client("editor").post(url, form).status_code == 302
    assert scanned.files.filter(annotations__has_key=str(genotype.pk)).count() == 3
    refused = world.client("editor").post(url, {**form, "value": "unknown"}, follow=True)
    assert "“unknown” is not one of wt, mut. Nothing was changed." in refused.content.decode()
    stored = scanned.files.filter(pk__in=ids).values_list("annotations", flat=True)
    assert all(annotations == {str(genotype.pk): "mut"} for annotations in stored)


def test_csv_round_trip_and_all_or_nothing_import(
    scanned: Dataset, columns: tuple[AnnotationColumn, ...]
) -> None:
    exported = list(csv.reader(io.StringIO(annotations_csv_export(scanned))))
    assert exported[0] == ["path", "genotype", "time post-infection"]
    rows = [exported[0], ["nd2/cluster.nd2", "wt", "6"], ["png-jpeg/skimage_cell.png", "mut", ""]]
    text = "\n".join(",".join(row) for row in rows)
    report = annotations_csv_import(dataset=scanned, text=text)
    assert (report.updated, report.errors) == (2, [])
    again = list(csv.reader(io.StringIO(annotations_csv_export(scanned))))
    assert ["nd2/cluster.nd2", "wt", "6"] in again

    broken = "path,genotype,colour\nnd2/cluster.nd2,wt,red\n"
    assert (
        annotations_csv_import(dataset=scanned, text=broken)
        .errors[0]
        .startswith("Unknown column(s): colour.")
    )
    typo = "path,genotype,time post-infection\nnd2/cluster.nd2,mutant,6\nnope.tif,wt,1\nnd2/cluster.nd2,wt\n"
    report = annotations_csv_import(dataset=scanned, text=typo)
    assert report.errors == [
        "Row 2, column genotype: “mutant” is not one of wt, mut.",
        "Row 3: no image “nope.tif” in this dataset.",
        "Row 4: 2 cells, but the header has 3.",
    ]
    assert report.updated == 0
    assert ["nd2/cluster.nd2", "wt", "6"] in list(csv.reader(io.StringIO(annotations_csv_export(scanned))))


def test_csv_import_through_the_web_reports_errors(
    world: World, scanned: Dataset, columns: tuple[AnnotationColumn, ...]
) -> None:
    client = world.client("editor")
    upload = SimpleUploadedFile("a.csv", b"path,genotype\nnd2/cluster.nd2,maybe\n")
    response = client.post(f"/datasets/{scanned.pk}/annotations.csv", {"csv_file": upload}, follow=True)
    page = response.content.decode()
    assert "Row 2, column genotype: “maybe” is not one of wt, mut." in page
    assert "Nothing was changed" in page
    latin = SimpleUploadedFile("b.csv", "path,genotype\nnd2/cluster.nd2,w\xe9\n".encode("latin-1"))
    page = client.post(
        f"/datasets/{scanned.pk}/annotations.csv", {"csv_file": latin}, follow=True
    ).content.decode()
    assert "not UTF-8 text" in page
    export = client.get(f"/datasets/{scanned.pk}/annotations.csv")
    assert export["Content-Type"] == "text/csv; charset=utf-8"


def test_annotations_survive_a_rescan(
    world: World,
    scanned: Dataset,
    columns: tuple[AnnotationColumn, ...],
    scan_now: Callable[[Dataset], ScanRun],
) -> None:
    genotype, _ = columns
    nd2 = scanned.files.get(relative_path="nd2/cluster.nd2")
    nd2.annotations = {str(genotype.pk): "wt"}
    nd2.save()
    folder = scanned.storage_root.resolve(scanned.relative_path)
    (folder / "nd2/cluster.nd2").touch()  # a changed mtime makes the scan read the file again
    scan_now(scanned)
    nd2.refresh_from_db()
    assert nd2.annotations == {str(genotype.pk): "wt"}


def test_column_rules(scanned: Dataset) -> None:
    with pytest.raises(ValidationError, match="List the values"):
        column_create(dataset=scanned, name="stage", kind="choice", allowed_values=[])
    with pytest.raises(ValidationError, match="file column of the CSV"):
        column_create(dataset=scanned, name="Path", kind="text", allowed_values=[])
