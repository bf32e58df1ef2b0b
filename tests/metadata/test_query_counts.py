"""The dataset page, the file list (web and API) and the dataset summary run the same number
of queries whatever the number of files: no query per file row."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metadata.imaging.formats import Format
from metadata.models import Dataset, ImageFile, ScanRun
from projects.models import StorageRoot
from tests.conftest import World

_FORMATS = [Format.OME_TIFF, Format.TIFF, Format.PNG, Format.ND2]


def _dataset_with_files(world: World, root: StorageRoot, count: int) -> Dataset:
    """A scanned dataset with ``count`` rows of every kind the pages show differently:
    formats, instruments, errors, previews."""
    dataset = Dataset.objects.create(
        project=world.project, title=f"{count} files", storage_root=root, relative_path=f"d{count}"
    )
    now = timezone.now()
    ImageFile.objects.bulk_create(
        ImageFile(
            dataset=dataset,
            relative_path=f"plate_{index % 3}/img_{index:04d}.tif",
            size_bytes=1000 + index,
            mtime=1.7e9 + index,
            format=_FORMATS[index % len(_FORMATS)],
            is_image=index % 5 != 0,
            sha256=f"{index:064x}",
            instrument=f"Scope {index % 4}",
            error_code="corrupt" if index % 7 == 0 else "",
            error="The file is damaged." if index % 7 == 0 else "",
            preview_png=b"\x89PNG" if index % 2 else None,
            preview_at=now if index % 2 else None,
            scanned_at=now,
        )
        for index in range(count)
    )
    ScanRun.objects.create(
        dataset=dataset, status=ScanRun.Status.SUCCEEDED, files_total=count, files_done=count
    )
    Dataset.objects.filter(pk=dataset.pk).update(
        status=Dataset.Status.SCANNED,
        file_count=count,
        format_summary={fmt.value: {"count": count // len(_FORMATS), "bytes": 1} for fmt in _FORMATS},
        instruments=[f"Scope {n}" for n in range(4)],
        scanned_at=now,
    )
    return dataset


def _queries(request: Callable[[], Any]) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


@pytest.fixture
def small_and_large(world: World, root: StorageRoot) -> tuple[Dataset, Dataset]:
    return _dataset_with_files(world, root, 3), _dataset_with_files(world, root, 60)


@pytest.mark.parametrize(
    "path",
    [
        "/datasets/{pk}/",
        "/datasets/{pk}/?with_errors=on",
        "/datasets/{pk}/?format=tiff&sort=-size",
        "/datasets/{pk}/?q=plate_1",
    ],
)
def test_dataset_page_and_its_file_table(
    world: World, small_and_large: tuple[Dataset, Dataset], path: str
) -> None:
    client = world.client("viewer")
    small, large = small_and_large
    client.get(path.format(pk=small.pk))  # session and content types cached, as for a returning user
    few, _ = _queries(lambda: client.get(path.format(pk=small.pk)))
    many, page = _queries(lambda: client.get(path.format(pk=large.pk)))
    assert few == many
    assert many <= 20
    assert page.count("/img_0") >= 3, "the file table should list the files"


@pytest.mark.parametrize(
    "query",
    ["", "?file_format=tiff", "?errors=1", "?instrument=Scope%201", "?path_prefix=plate_1/", "?page_size=7"],
)
def test_api_file_list(world: World, small_and_large: tuple[Dataset, Dataset], query: str) -> None:
    api = world.api("viewer")
    small, large = small_and_large
    few, _ = _queries(lambda: api.get(f"/api/v1/datasets/{small.pk}/files/{query}"))
    many, body = _queries(lambda: api.get(f"/api/v1/datasets/{large.pk}/files/{query}"))
    assert few == many
    assert many <= 8
    assert json.loads(body)["results"], "the list should not be empty"


def test_api_file_list_next_page(world: World, small_and_large: tuple[Dataset, Dataset]) -> None:
    api = world.api("viewer")
    _, large = small_and_large
    first = api.get(f"/api/v1/datasets/{large.pk}/files/?page_size=5").json()
    first_page, _ = _queries(lambda: api.get(f"/api/v1/datasets/{large.pk}/files/?page_size=5"))
    later_page, body = _queries(lambda: api.get(first["next"]))
    assert first_page == later_page
    assert json.loads(body)["results"][0]["relative_path"] > first["results"][-1]["relative_path"]


def test_dataset_summary_reads_stored_totals(world: World, small_and_large: tuple[Dataset, Dataset]) -> None:
    api = world.api("viewer")
    small, large = small_and_large
    few, _ = _queries(lambda: api.get(f"/api/v1/datasets/{small.pk}/"))
    with CaptureQueriesContext(connection) as captured:
        summary = api.get(f"/api/v1/datasets/{large.pk}/").json()
    assert len(captured.captured_queries) == few
    # The summary is the dataset row itself: no query touches the file table.
    assert not [query for query in captured.captured_queries if "metadata_imagefile" in query["sql"]]
    assert summary["file_count"] == 60
