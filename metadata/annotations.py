"""Per-image annotations: project-defined columns, values per file, CSV in and out.

Imports are all or nothing: every row is checked first and the report names each bad row
and column, so a spreadsheet with one typo changes no file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from metadata.models import AnnotationColumn, Dataset, ImageFile

PATH_HEADER = "path"
_BATCH = 1000


def columns_of(dataset: Dataset) -> list[AnnotationColumn]:
    return list(AnnotationColumn.objects.filter(project=dataset.project_id))


def annotated_files(dataset: Dataset) -> list[ImageFile]:
    return list(
        dataset.files.filter(is_image=True)
        .only("pk", "relative_path", "annotations")
        .order_by("relative_path")
    )


def column_create(
    *,
    dataset: Dataset,
    name: str,
    kind: str,
    allowed_values: list[str],
    unit: str = "",
    description: str = "",
) -> AnnotationColumn:
    column = AnnotationColumn(
        project=dataset.project,
        name=name.strip(),
        kind=kind,
        allowed_values=[value.strip() for value in allowed_values if value.strip()],
        unit=unit,
        description=description,
        position=AnnotationColumn.objects.filter(project=dataset.project_id).count(),
    )
    if column.kind == AnnotationColumn.Kind.CHOICE and not column.allowed_values:
        raise ValidationError({"allowed_values": "List the values to choose from, one per line."})
    if column.name.lower() == PATH_HEADER:
        raise ValidationError(
            {"name": f"“{PATH_HEADER}” is the file column of the CSV; choose another name."}
        )
    column.full_clean()
    column.save()
    return column


def _apply(files: list[ImageFile], changes: dict[int, dict[str, str]]) -> int:
    """Write values (empty removes) to the files; returns how many files changed."""
    changed = []
    for image_file in files:
        updates = changes.get(image_file.pk)
        if not updates:
            continue
        before = dict(image_file.annotations)
        for column_id, value in updates.items():
            if value:
                image_file.annotations[column_id] = value
            else:
                image_file.annotations.pop(column_id, None)
        if image_file.annotations != before:
            changed.append(image_file)
    with transaction.atomic():
        for start in range(0, len(changed), _BATCH):
            ImageFile.objects.bulk_update(changed[start : start + _BATCH], ["annotations"])
    return len(changed)


def annotations_set(*, dataset: Dataset, column: AnnotationColumn, value: str, file_ids: list[int]) -> int:
    """Set one column to one value on many files (bulk edit)."""
    cleaned = column.clean_value(value)
    files = list(dataset.files.filter(pk__in=file_ids).only("pk", "annotations"))
    return _apply(files, {image_file.pk: {str(column.pk): cleaned} for image_file in files})


@dataclass
class CellErrors:
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (file id, column id) → message


def annotations_save_cells(*, dataset: Dataset, cells: dict[tuple[int, int], str]) -> tuple[int, CellErrors]:
    """Save edited table cells; nothing is saved while any cell is invalid."""
    columns = {column.pk: column for column in columns_of(dataset)}
    report = CellErrors()
    changes: dict[int, dict[str, str]] = {}
    for (file_id, column_id), raw in cells.items():
        column = columns.get(column_id)
        if column is None:
            continue
        try:
            changes.setdefault(file_id, {})[str(column_id)] = column.clean_value(raw)
        except ValidationError as exc:
            report.errors[(file_id, column_id)] = " ".join(exc.messages)
    if report.errors:
        return 0, report
    files = list(dataset.files.filter(pk__in=changes).only("pk", "annotations"))
    return _apply(files, changes), report


def annotations_csv_export(dataset: Dataset) -> str:
    columns = columns_of(dataset)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([PATH_HEADER, *(column.name for column in columns)])
    for image_file in annotated_files(dataset):
        writer.writerow(
            [image_file.relative_path, *(image_file.annotations.get(str(c.pk), "") for c in columns)]
        )
    return buffer.getvalue()


@dataclass
class ImportReport:
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def annotations_csv_import(*, dataset: Dataset, text: str) -> ImportReport:
    """Read a CSV of path + annotation columns; any error leaves every file as it was."""
    report = ImportReport()
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        report.errors.append(f"The CSV could not be read: {exc}.")
        return report
    if not rows or PATH_HEADER not in [cell.strip().lower() for cell in rows[0]]:
        report.errors.append(f"The first row must name the columns, one of them “{PATH_HEADER}”.")
        return report
    header = [cell.strip() for cell in rows[0]]
    by_name = {column.name: column for column in columns_of(dataset)}
    unknown = [name for name in header if name.lower() != PATH_HEADER and name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none yet"
        report.errors.append(f"Unknown column(s): {', '.join(unknown)}. This project's columns: {known}.")
        return report
    path_index = [cell.lower() for cell in header].index(PATH_HEADER)
    files = {f.relative_path: f for f in annotated_files(dataset)}
    changes: dict[int, dict[str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            report.errors.append(f"Row {number}: {len(row)} cells, but the header has {len(header)}.")
            continue
        image_file = files.get(row[path_index].strip())
        if image_file is None:
            report.errors.append(f"Row {number}: no image “{row[path_index].strip()}” in this dataset.")
            continue
        for name, raw in zip(header, row, strict=True):
            if name.lower() == PATH_HEADER:
                continue
            column = by_name[name]
            try:
                changes.setdefault(image_file.pk, {})[str(column.pk)] = column.clean_value(raw)
            except ValidationError as exc:
                report.errors.append(f"Row {number}, column {name}: {' '.join(exc.messages)}")
    if not report.errors:
        report.updated = _apply(list(files.values()), changes)
    return report
