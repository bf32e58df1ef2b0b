"""What every package is made of: the description gathered from REMBI records, the files
with their upload paths and checksums, a SHA-256 manifest and a README.

Packages hold metadata only. Data files stay where they are stored and are uploaded from
there; the manifest lists each one with its checksum so the upload can be verified.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from metadata.models import AnnotationColumn, Dataset, ImageFile, RembiRecord
from metadata.services import dataset_folder
from repositories.models import Submission

MANIFEST = "manifest-sha256.txt"
README = "README.txt"
# Modules a dataset links to and the package describes as protocols or samples.
ASSOCIATED_CLASSES = (
    "Biosample",
    "Specimen",
    "ImageAcquisition",
    "AnnotationMethod",
    "AnalyzedData",
    "ImageCorrelation",
)


@dataclass
class DatasetDescription:
    dataset: Dataset
    prefix: str  # folder of the dataset in the upload; empty when the submission has one dataset
    component: RembiRecord | None
    image_data: RembiRecord | None
    records: dict[str, list[RembiRecord]] = field(default_factory=dict)

    def upload_path(self, relative_path: str) -> str:
        return f"{self.prefix}/{relative_path}" if self.prefix else relative_path

    @property
    def name(self) -> str:
        return str(self.component.data.get("title")) if self.component else self.dataset.title

    @property
    def description(self) -> str:
        text = self.component.data.get("description") if self.component else None
        return str(text or self.dataset.description or self.dataset.title)


@dataclass
class Description:
    submission: Submission
    study: RembiRecord | None
    datasets: list[DatasetDescription]
    annotation_columns: list[AnnotationColumn]

    @property
    def study_data(self) -> dict[str, Any]:
        return dict(self.study.data) if self.study else {}


def _prefixes(datasets: list[Dataset]) -> dict[int, str]:
    """A folder name per dataset, from its own folder's name, unique within the upload."""
    if len(datasets) == 1:
        return {datasets[0].pk: ""}
    taken: set[str] = set()
    prefixes = {}
    for dataset in datasets:
        base = Path(dataset.relative_path).name or f"dataset-{dataset.pk}"
        name, number = base, 2
        while name in taken:
            name, number = f"{base}-{number}", number + 1
        taken.add(name)
        prefixes[dataset.pk] = name
    return prefixes


def describe(submission: Submission) -> Description:
    datasets = list(submission.datasets.select_related("storage_root", "project").order_by("title", "pk"))
    prefixes = _prefixes(datasets)
    described = []
    for dataset in datasets:
        linked = dataset.rembi_records.order_by("class_name", "title", "pk")
        records: dict[str, list[RembiRecord]] = {}
        for record in linked:
            records.setdefault(record.class_name, []).append(record)
        described.append(
            DatasetDescription(
                dataset=dataset,
                prefix=prefixes[dataset.pk],
                component=next(iter(records.pop("StudyComponent", [])), None),
                image_data=next(iter(records.pop("ImageData", [])), None),
                records={name: records[name] for name in ASSOCIATED_CLASSES if name in records},
            )
        )
    return Description(
        submission=submission,
        study=RembiRecord.objects.filter(project=submission.project, class_name="Study").first(),
        datasets=described,
        annotation_columns=list(AnnotationColumn.objects.filter(project=submission.project)),
    )


def files_of(described: DatasetDescription) -> QuerySet[ImageFile]:
    return described.dataset.files.order_by("relative_path").only(
        "relative_path", "size_bytes", "sha256", "format", "is_image", "annotations", "file_count"
    )


def all_files(description: Description) -> Iterator[tuple[DatasetDescription, ImageFile]]:
    """Every file of every dataset, streamed from the database in path order."""
    for described in description.datasets:
        for image in files_of(described).iterator(chunk_size=5_000):
            yield described, image


def name_parts(display_name: str) -> tuple[str, str]:
    """(family name, given name) of a REMBI author from "Josiah Carberry" or "Carberry, Josiah"."""
    if "," in display_name:
        family, given = display_name.split(",", 1)
        return family.strip(), given.strip()
    parts = display_name.split()
    return (parts[-1], " ".join(parts[:-1])) if parts else ("", "")


def write_tsv(path: Path, rows: Iterable[list[str]]) -> None:
    """Tab-separated values; a value with a tab, quote or line break is quoted (RFC 4180 style)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerows(rows)


def write_manifest(dest: Path, description: Description) -> Path:
    """`<sha256>  <upload path>` per data file, in the format of `sha256sum -c` and BagIt.

    An OME-Zarr folder is one line: its checksum is FAIRlight's tree digest over the
    "<sha256>  <path>" lines of its files (see metadata/imaging/checksum.py).
    """
    path = dest / MANIFEST
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for described, image in all_files(description):
            handle.write(f"{image.sha256}  {described.upload_path(image.relative_path)}\n")
    return path


def write_readme(
    dest: Path, *, description: Description, label: str, steps: list[str], files: list[str]
) -> Path:
    submission = description.submission
    lines = [
        f"{label} package of “{submission.title}”",
        f"Made by FAIRlight on {timezone.now():%Y-%m-%d %H:%M %Z} for submission {submission.pk}.",
        "",
        "This folder holds the metadata only. The data files are NOT copied here: upload them from",
        "where they are stored, keeping their folder structure, so that their paths match the file",
        f"lists. {MANIFEST} lists every data file with its SHA-256 checksum (check an upload with",
        "`sha256sum -c` from the upload's root folder).",
        "",
        "Data to upload:",
    ]
    for described in description.datasets:
        where = dataset_folder(described.dataset)
        target = f"as folder {described.prefix}/" if described.prefix else "as the upload's root folder"
        lines.append(f"  - “{described.dataset}”: the contents of {where} {target}")
    lines += ["", "Files in this package:"]
    lines += [f"  - {name}" for name in files]
    lines += ["", "Next steps:"]
    lines += [f"  {number}. {step}" for number, step in enumerate(steps, start=1)]
    path = dest / README
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
