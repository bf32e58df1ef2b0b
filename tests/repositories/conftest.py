"""Fixtures for submissions: the shipped sample images scanned and described with REMBI."""

from __future__ import annotations

import copy
import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from metadata.models import Dataset, RembiRecord, ScanRun
from repositories import services
from repositories.models import Submission
from tests.conftest import World
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.metadata.rembi_corpus import examples

# The modules a dataset needs, plus an annotation method to show associations beyond the core.
DESCRIBED_CLASSES = (
    "Study",
    "StudyComponent",
    "Biosample",
    "Specimen",
    "ImageAcquisition",
    "ImageData",
    "AnnotationMethod",
)


def in_days(days: int) -> datetime.date:
    return timezone.now().date() + datetime.timedelta(days=days)


def describe(subject: Dataset, *, release: datetime.date) -> dict[str, RembiRecord]:
    """The schema's valid example records, linked to the dataset as a person would link them."""
    records = {}
    for class_name in DESCRIBED_CLASSES:
        data = copy.deepcopy(examples()[class_name])
        if class_name == "Study":
            data["release_date"] = release.isoformat()
        record = RembiRecord.objects.create(
            project=subject.project, class_name=class_name, title=data["title"], data=data
        )
        if class_name != "Study":
            record.datasets.add(subject)
        records[class_name] = record
    return records


@pytest.fixture
def packages_dir(settings: SettingsWrapper, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path / "var" / "packages"


@pytest.fixture
def scanned(dataset: Dataset, samples: Path, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:  # noqa: F811
    """The sample images without the deliberately truncated PNG, scanned."""
    shutil.rmtree(samples / "broken")
    scan_now(dataset)
    dataset.refresh_from_db()
    return dataset


RELEASE_IN_DAYS = 30


@pytest.fixture
def described(scanned: Dataset) -> Dataset:
    describe(scanned, release=in_days(RELEASE_IN_DAYS))
    return scanned


@pytest.fixture
def submission(world: World, described: Dataset, packages_dir: Path) -> Submission:
    return services.submission_create(
        project=world.project,
        datasets=[described],
        target="bia",
        title="Mitochondria in zebrafish neurons",
        release_date=in_days(RELEASE_IN_DAYS),
        user=world.users["editor"],
    )


@pytest.fixture
def checked(world: World, submission: Submission) -> Submission:
    report = services.submission_check(submission=submission, user=world.users["editor"])
    assert report.ok, [f.message for f in report.errors]
    return submission


@pytest.fixture
def packaged(checked: Submission) -> Submission:
    built = services.package_build(submission_id=checked.pk)
    assert built is not None
    return built
