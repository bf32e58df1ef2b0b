"""REMBI records of datasets: saving with optimistic concurrency, reuse across datasets,
and the validation report that tells what still blocks publishing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from metadata.models import REMBI_CLASS_CHOICES, Dataset, RembiRecord
from metadata.prefill import Prefill
from metadata.schema.model import RECORD_CLASSES
from metadata.validation import Level, Problem, validate_record

# The modules every dataset needs before it can be packaged; the others are described when
# they apply (correlative imaging, analysis results, annotations).
CORE_CLASSES = ("Study", "StudyComponent", "Biosample", "Specimen", "ImageAcquisition", "ImageData")
# Modules that several datasets of a project may share (REMBI associations).
SHARED_CLASSES = ("Biosample", "Specimen", "ImageAcquisition", "ImageCorrelation", "AnnotationMethod")


class StaleEdit(Exception):
    """Someone saved the record after this form was opened; nothing was overwritten."""

    def __init__(self, current: RembiRecord) -> None:
        super().__init__("This record was changed by someone else after you opened it.")
        self.current = current


def record_for(dataset: Dataset, class_name: str) -> RembiRecord | None:
    """The dataset's record of a module: the project's Study, or the first linked record."""
    records = RembiRecord.objects.filter(project=dataset.project_id, class_name=class_name)
    if class_name != "Study":
        records = records.filter(datasets=dataset)
    return records.order_by("pk").first()


def reusable_records(dataset: Dataset, class_name: str) -> list[RembiRecord]:
    """Records of the project that this dataset could use as well."""
    if class_name not in SHARED_CLASSES:
        return []
    return list(
        RembiRecord.objects.filter(project=dataset.project_id, class_name=class_name)
        .exclude(datasets=dataset)
        .order_by("title")
    )


def _still_prefilled(previous: dict[str, str], old: dict[str, Any], record: dict[str, Any]) -> dict[str, str]:
    return {name: source for name, source in previous.items() if record.get(name) == old.get(name)}


def record_save(
    *,
    dataset: Dataset,
    class_name: str,
    record: dict[str, Any],
    user: User | None,
    instance: RembiRecord | None,
    version: int | None,
    prefill: Prefill,
) -> RembiRecord:
    """Create or update the dataset's record of ``class_name``; raises StaleEdit or ValidationError."""
    if class_name not in RECORD_CLASSES:
        raise ValidationError(f"{class_name} is not a REMBI module.")
    title = str(record.get("title") or f"{class_name} of {dataset.title}")[:300]
    try:
        with transaction.atomic():
            if instance is None:
                saved = RembiRecord(project=dataset.project, class_name=class_name)
                sources = {n: s for n, s in prefill.sources.items() if record.get(n) == prefill.values.get(n)}
            else:
                saved = RembiRecord.objects.select_for_update().get(pk=instance.pk)
                if version is not None and saved.version != version:
                    raise StaleEdit(saved)
                sources = _still_prefilled(saved.prefilled, saved.data, record)
                saved.version += 1
            saved.title = title
            saved.data = record
            saved.prefilled = sources
            saved.updated_by = user
            saved.full_clean(exclude=["project"])
            saved.save()
            if class_name != "Study":
                saved.datasets.add(dataset)
    except IntegrityError:
        message = f"This project already has a {class_name} called “{title}”; use it or choose another title."
        raise ValidationError({"title": message}) from None
    return saved


def record_link(*, dataset: Dataset, record: RembiRecord) -> None:
    """Let the dataset use a record it shares with other datasets of the project."""
    if record.project_id != dataset.project_id or record.class_name not in SHARED_CLASSES:
        raise ValidationError("Only biosamples, specimens and acquisitions of this project can be shared.")
    record.datasets.add(dataset)


@dataclass(frozen=True)
class ModuleReport:
    class_name: str
    record: RembiRecord | None
    problems: list[Problem]
    core: bool

    @property
    def label(self) -> str:
        return str(dict(REMBI_CLASS_CHOICES)[self.class_name])

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == Level.ERROR]

    @property
    def recommended(self) -> list[Problem]:
        return [p for p in self.problems if p.level == Level.RECOMMENDED]


def dataset_report(dataset: Dataset) -> list[ModuleReport]:
    """Every module with its record and problems; a missing core module is an error."""
    reports = []
    for class_name in RECORD_CLASSES:
        record = record_for(dataset, class_name)
        core = class_name in CORE_CLASSES
        if record is None:
            problems = (
                [Problem(Level.ERROR, "", f"No {class_name} is described yet; repositories require one.")]
                if core
                else []
            )
        else:
            problems = validate_record(record.data, class_name)
        reports.append(ModuleReport(class_name, record, problems, core))
    return reports


def dataset_ready(dataset: Dataset) -> bool:
    return not any(report.errors for report in dataset_report(dataset))
