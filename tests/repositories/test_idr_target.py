"""The IDR target: pre-flight in plain words, a package of the scanned samples that passes our IDR
checker, and a build that fails when the study files would not pass, leaving no package."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from metadata.models import AnnotationColumn, Dataset, RembiRecord, ScanRun
from metadata.services import dataset_folder
from repositories import services
from repositories.base import Level, PreflightReport
from repositories.idr.checker import check_study_folder
from repositories.idr.model import Experiment, Screen, Term
from repositories.idr.reader import read_study
from repositories.idr.target import IdrTarget
from repositories.models import State, Submission
from tests.conftest import World
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.repositories.conftest import RELEASE_IN_DAYS, describe, in_days
from tests.repositories.test_bia_package import read_tsv

PLATE = "ome-xml/hcs.ome.xml"
# Where IDR will find the upload (as the reader gives it back, relative to /).
UPLOAD_ROOT = "uod/idr/filesets/idr0000-carberry-mitochondria"


@pytest.fixture
def idr_scanned(dataset: Dataset, samples: Path, scan_now: Callable[[Dataset], ScanRun]) -> Dataset:  # noqa: F811
    """The sample images the IDR takes: without the truncated PNG and the PNG/JPEG figures."""
    shutil.rmtree(samples / "broken")
    shutil.rmtree(samples / "png-jpeg")
    scan_now(dataset)
    dataset.refresh_from_db()
    return dataset


@pytest.fixture
def genotype(world: World) -> AnnotationColumn:
    return AnnotationColumn.objects.create(project=world.project, name="Genotype")


@pytest.fixture
def idr_described(idr_scanned: Dataset, genotype: AnnotationColumn) -> Dataset:
    records = describe(idr_scanned, release=in_days(RELEASE_IN_DAYS))
    study = records["Study"]
    study.data["related_publication"][0]["authors_name"] = "Carberry J, Doe J"
    study.save()
    idr_scanned.files.filter(relative_path=PLATE).update(annotations={str(genotype.pk): "wild type"})
    return idr_scanned


def idr_submission(world: World, subject: Dataset) -> Submission:
    return services.submission_create(
        project=world.project,
        datasets=[subject],
        target="idr",
        title="Mitochondria in zebrafish neurons",
        release_date=in_days(RELEASE_IN_DAYS),
        user=world.users["editor"],
    )


@pytest.fixture
def idr_checked(world: World, idr_described: Dataset, packages_dir: Path) -> Submission:
    submission = idr_submission(world, idr_described)
    report = services.submission_check(submission=submission, user=world.users["editor"])
    assert report.ok, [f.message for f in report.errors]
    return submission


def study_record(subject: Dataset) -> RembiRecord:
    return RembiRecord.objects.get(project=subject.project, class_name="Study")


def errors(report: PreflightReport) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.errors:
        found.setdefault(finding.code, []).append(finding.message)
    return found


# -- the package -----------------------------------------------------------------------------


def test_package_of_the_scanned_samples_passes_the_idr_checker(world: World, idr_checked: Submission) -> None:
    built = services.package_build(submission_id=idr_checked.pk)
    assert built is not None
    assert built.state == State.PACKAGED
    package = Path(built.package_path)
    folder = package / "idr0000-carberry-mitochondria"
    report = check_study_folder(folder)
    assert report.ok, [str(f) for f in report.findings]
    assert report.warnings == []

    subject = idr_checked.datasets.get()
    study = read_study(folder)
    assert study.title == "Mitochondrial dynamics in zebrafish sensory neurons"
    assert study.release_date == idr_checked.release_date
    assert study.licence == "CC BY 4.0"
    assert [(c.last_name, c.first_name, c.orcid) for c in study.contacts] == [
        ("Carberry", "Josiah", "0000-0002-1825-0097")
    ]
    assert [(p.title, p.authors, p.doi) for p in study.publications] == [
        ("Mitochondria on the move", "Carberry J, Doe J", "10.1038/s41592-021-01166-8")
    ]
    experiment, screen = study.components
    assert isinstance(experiment, Experiment)
    assert isinstance(screen, Screen)
    assert experiment.organisms == screen.organisms == [Term("Danio rerio", "NCBITaxon", "NCBITaxon_7955")]
    assert experiment.imaging_methods == [Term("spinning disk confocal microscopy", "FBbi", "FBbi_00000253")]
    # Every image the scan found becomes an assay row, except the plate (in the screen) and the
    # parts of the multi-file OME-TIFF (imported through its companion file).
    expected = set(
        subject.files.filter(is_image=True)
        .exclude(relative_path=PLATE)
        .values_list("relative_path", flat=True)
    )
    assert {str(image.path) for image in experiment.images} == expected
    assert "ome-tiff/multifile/multifile.companion.ome" in expected
    nd2 = next(image for image in experiment.images if image.name == "cluster.nd2")
    assert nd2.dataset == "nd2"
    assert [p.name for p in screen.plates] == ["hcs"]
    assert str(screen.plates[0].path) == f"{UPLOAD_ROOT}/{PLATE}"
    assert [(w.plate, w.well) for w in screen.wells] == [("hcs", "A1")]
    genotype = {c.column: c.value for c in screen.wells[0].characteristics}
    assert genotype["Characteristics [Genotype]"] == "wild type"
    assert genotype["Characteristics [Organism]"] == "Danio rerio"

    paths = read_tsv(folder / "experimentA" / "idr0000-experimentA-filePaths.tsv")
    assert {row[1] for row in paths} == {f"/{UPLOAD_ROOT}/{path}" for path in expected}
    # Metadata only: the manifest lists every data file, and no data file was copied.
    manifest = (package / "manifest-sha256.txt").read_text("utf-8").splitlines()
    assert {tuple(line.split("  ", 1)[::-1]) for line in manifest} == set(
        subject.files.values_list("relative_path", "sha256")
    )
    assert sum(p.stat().st_size for p in package.rglob("*") if p.is_file()) < subject.total_bytes / 10
    readme = (package / "README.txt").read_text("utf-8")
    assert str(dataset_folder(subject)) in readme
    assert "idr@openmicroscopy.org" in readme

    page = world.client("viewer").get(f"/submissions/{built.pk}/").content.decode()
    assert "E-mail the IDR curators (idr@openmicroscopy.org)" in page
    assert "Aspera" in page


def test_a_build_the_idr_checker_refuses_leaves_no_package(
    idr_checked: Submission, packages_dir: Path
) -> None:
    # The Study changes after the check: an ORCID iD loses its check digit.
    study = study_record(idr_checked.datasets.get())
    study.data["author"][0]["orcid"] = "0000-0002-1825-0098"
    study.save()
    with pytest.raises(ValidationError, match="break IDR's rules"):
        services.package_build(submission_id=idr_checked.pk)
    idr_checked.refresh_from_db()
    assert idr_checked.state == State.CHECKED
    assert idr_checked.package_path == ""
    assert "[Study Person ORCID]: '0000-0002-1825-0098' has a wrong check digit" in idr_checked.package_error
    assert list(packages_dir.iterdir()) == []
    # The pre-flight check names the same problem in plain words.
    report = services.submission_check(submission=idr_checked, user=None)
    assert errors(report) == {
        "idr_orcid": [
            "The ORCID iD 0000-0002-1825-0098 of Josiah Carberry has a wrong check digit: "
            "the last character should be 7, so it is mistyped."
        ]
    }
    assert idr_checked.state == State.DRAFT


# -- pre-flight ------------------------------------------------------------------------------


def test_preflight_names_the_idr_metadata_that_is_missing(world: World, idr_described: Dataset) -> None:
    records = {r.class_name: r for r in RembiRecord.objects.filter(project=world.project)}
    study = records["Study"]
    study.data.pop("related_publication")
    study.data["author"][0].pop("contact_email")
    study.data["licence"] = "CC-BY-SA-4.0"
    study.save()
    biosample = records["Biosample"]
    biosample.data["organism_classification"][0].pop("ncbi_id")
    biosample.save()
    acquisition = records["ImageAcquisition"]
    acquisition.data.pop("fbbi_id")
    acquisition.save()

    report = IdrTarget().preflight(idr_submission(world, idr_described))
    assert errors(report) == {
        "idr_publication": ["The IDR publishes image data behind a publication, and the Study lists none."],
        "idr_organism": [
            "The IDR names organisms by NCBI Taxonomy; Biosample “Zebrafish larvae, 2 dpf” gives no "
            "NCBITaxon identifier for Danio rerio."
        ],
        "idr_imaging_method": [
            "The IDR names imaging methods by the FBbi ontology; Image Acquisition "
            "“Spinning disk time-lapse” gives no FBbi identifier."
        ],
        "licence_not_accepted": ["The IDR publishes data under CC-BY-4.0 or CC0-1.0, not CC-BY-SA-4.0."],
    }
    assert "idr_contact_email" in report.codes(Level.WARNING)


def test_preflight_wants_publication_authors_and_knows_an_unpublished_paper(
    world: World, idr_described: Dataset
) -> None:
    study = study_record(idr_described)
    study.data["related_publication"] = [{"title": "Mitochondria on the move"}]
    study.save()
    submission = idr_submission(world, idr_described)
    assert errors(IdrTarget().preflight(submission)) == {
        "idr_publication_authors": [
            "The IDR lists the authors of each publication, and the Study gives none for "
            "“Mitochondria on the move”."
        ]
    }
    study.data["related_publication"][0]["authors_name"] = "Carberry J"
    study.save()
    report = IdrTarget().preflight(submission)
    assert report.ok
    assert "idr_publication_pending" in report.codes(Level.WARNING)


def test_preflight_refuses_formats_bio_formats_users_should_not_send(
    world: World, described: Dataset
) -> None:
    report = IdrTarget().preflight(idr_submission(world, described))
    assert errors(report)["format_not_accepted"] == [
        "The IDR does not accept JPEG files (1 file).",
        "The IDR does not accept PNG files (1 file).",
    ]


def test_preflight_says_what_a_screen_is_missing(world: World, idr_described: Dataset) -> None:
    plate = idr_described.files.get(relative_path=PLATE)
    plate.annotations = {}
    plate.ome_xml_gz = None
    plate.save()
    report = IdrTarget().preflight(idr_submission(world, idr_described))
    assert errors(report) == {
        "idr_plate_wells": [
            "The wells of plate ome-xml/hcs.ome.xml cannot be listed: "
            "the scan kept no OME-XML to read its wells from."
        ],
        "idr_screen_annotation": [
            "The IDR describes screens well by well (gene, siRNA, compound, treatment), and 1 plate has "
            "no annotation: ome-xml/hcs.ome.xml."
        ],
    }
    assert "idr_screen_details" in report.codes(Level.WARNING)


def test_preflight_without_plates_asks_whether_the_idr_fits(world: World, idr_described: Dataset) -> None:
    idr_described.files.filter(relative_path=PLATE).update(metadata={})
    submission = idr_submission(world, idr_described)
    report = IdrTarget().preflight(submission)
    assert report.ok
    scope = next(f for f in report.warnings if f.code == "idr_scope")
    assert "data behind a single paper usually belong in the BioImage Archive" in scope.message
    assert "idr@openmicroscopy.org" in scope.fix
    # Nothing an IDR import could use: an error naming the dataset.
    idr_described.files.update(is_image=False)
    assert errors(IdrTarget().preflight(submission)) == {
        "idr_no_images": ["Dataset “S” holds no image the IDR could import."]
    }


def test_an_ome_zarr_plate_lists_its_wells_from_its_metadata(
    world: World,
    dataset: Dataset,  # noqa: F811
    samples: Path,  # noqa: F811
    scan_now: Callable[[Dataset], ScanRun],  # noqa: F811
    genotype: AnnotationColumn,
    packages_dir: Path,
) -> None:
    shutil.rmtree(samples / "broken")
    shutil.rmtree(samples / "png-jpeg")
    zarr = samples / "screen" / "plate_01.ome.zarr"
    zarr.mkdir(parents=True)
    (zarr / ".zgroup").write_text('{"zarr_format": 2}')
    layout = {
        "plate": {
            "version": "0.4",
            "name": "plate 01",
            "rows": [{"name": "A"}, {"name": "B"}],
            "columns": [{"name": "1"}, {"name": "2"}, {"name": "3"}],
            "wells": [
                {"path": "A/1", "rowIndex": 0, "columnIndex": 0},
                {"path": "B/3", "rowIndex": 1, "columnIndex": 2},
            ],
        }
    }
    (zarr / ".zattrs").write_text(json.dumps(layout))
    scan_now(dataset)
    dataset.files.filter(relative_path__in=[PLATE, "screen/plate_01.ome.zarr"]).update(
        annotations={str(genotype.pk): "clv3-9"}
    )
    dataset.refresh_from_db()
    records = describe(dataset, release=in_days(RELEASE_IN_DAYS))
    records["Study"].data["related_publication"][0]["authors_name"] = "Carberry J"
    records["Study"].save()
    submission = idr_submission(world, dataset)
    assert services.submission_check(submission=submission, user=None).ok
    built = services.package_build(submission_id=submission.pk)
    assert built is not None
    folder = Path(built.package_path) / "idr0000-carberry-mitochondria"
    assert check_study_folder(folder).ok
    screen = read_study(folder).components[1]
    assert isinstance(screen, Screen)
    assert [(p.name, str(p.path)) for p in screen.plates] == [
        ("hcs", f"{UPLOAD_ROOT}/{PLATE}"),
        ("plate_01", f"{UPLOAD_ROOT}/screen/plate_01.ome.zarr"),
    ]
    assert [(w.plate, w.well) for w in screen.wells] == [
        ("hcs", "A1"),
        ("plate_01", "A1"),
        ("plate_01", "B3"),
    ]
