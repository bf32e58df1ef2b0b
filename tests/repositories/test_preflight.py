"""Every pre-flight rule, failing, with the message people read; and a clean pass."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from metadata.models import Dataset, ImageFile, RembiRecord, ScanRun
from metadata.services import dataset_folder
from repositories import preflight, services
from repositories.base import FilenameRules, Finding, Level, PreflightReport, RepositoryRules
from repositories.bia import BiaTarget
from repositories.models import State, Submission
from repositories.router import ZENODO_MAX_BYTES, ZENODO_MAX_FILES
from tests.conftest import World
from tests.repositories.conftest import in_days

ZENODO_LIKE = RepositoryRules(
    format_flag="zenodo",
    licences=("CC0-1.0", "CC-BY-4.0", "CC-BY-NC-4.0"),
    max_embargo_days=365,
    max_total_bytes=ZENODO_MAX_BYTES,
    max_files=ZENODO_MAX_FILES,
)
IDR_LIKE = RepositoryRules(format_flag="idr", licences=("CC-BY-4.0",), max_embargo_days=365)


def run(submission: Submission) -> list[Finding]:
    return BiaTarget().preflight(submission).findings


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def one(findings: list[Finding], code: str) -> Finding:
    matching = only(findings, code)
    assert len(matching) == 1, (code, [f.message for f in findings])
    return matching[0]


def test_a_complete_description_passes(submission: Submission) -> None:
    report = BiaTarget().preflight(submission)
    assert report.ok, [f.message for f in report.errors]
    assert report.codes(Level.OK) >= {
        "datasets_scanned",
        "no_scan_errors",
        "checksums_current",
        "formats_accepted",
        "filenames_ok",
        "limits_ok",
        "rembi_valid",
        "licence_accepted",
        "release_date_ok",
    }
    # The samples hold proprietary and lossy formats: accepted, with advice.
    assert {f.message.split(" ")[0] for f in only(report.findings, "format_advice")} >= {"Nikon", "JPEG"}


def test_no_datasets() -> None:
    assert one(preflight.rule_datasets([]), "no_datasets").message == "The submission contains no dataset."


def test_unscanned_and_scanning_datasets(world: World, dataset: Dataset) -> None:
    finding = one(preflight.rule_datasets([dataset]), "dataset_not_scanned")
    assert finding.message == "Dataset “S” has not been scanned completely (Registered, not scanned)."
    assert finding.fix_url == f"/datasets/{dataset.pk}/"
    ScanRun.objects.create(dataset=dataset, status=ScanRun.Status.RUNNING)
    running = one(preflight.rule_datasets([dataset]), "scan_running")
    assert running.message == "Dataset “S” is being scanned; its file list is not complete yet."


def test_files_with_scan_errors(dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]) -> None:
    scan_now(dataset)  # with the truncated PNG of the samples
    dataset.refresh_from_db()
    finding = one(preflight.rule_scan_errors([dataset]), "file_scan_error")
    assert finding.message == (
        "1 file of “S” could not be read by the scan: broken/pillow_truncated_image.png."
    )
    assert finding.fix_url.endswith("?with_errors=on")


def test_missing_and_stale_checksums(scanned: Dataset) -> None:
    folder = dataset_folder(scanned)
    ImageFile.objects.filter(dataset=scanned, relative_path="png-jpeg/skimage_cell.png").update(sha256="")
    with (folder / "png-jpeg/skimage_retina.jpg").open("ab") as handle:
        handle.write(b"changed")
    (folder / "nd2/cluster.nd2").unlink()
    (folder / "new file.tif").write_bytes(b"II*\x00")
    findings = preflight.rule_checksums([scanned])
    assert (
        one(findings, "checksum_missing").message
        == "1 file of “S” has no checksum: png-jpeg/skimage_cell.png."
    )
    assert one(findings, "file_changed").message == (
        "1 file of “S” is changed since the scan: png-jpeg/skimage_retina.jpg."
    )
    assert one(findings, "file_missing").message == "1 file of “S” is gone since the scan: nd2/cluster.nd2."
    assert one(findings, "file_new").message == (
        "1 file of “S” is new since the scan and not described: new file.tif."
    )
    assert all(f.fix.startswith("Scan the dataset again") for f in findings)


def test_unreachable_folder(scanned: Dataset) -> None:
    shutil.rmtree(dataset_folder(scanned))
    finding = one(preflight.rule_checksums([scanned]), "folder_unreachable")
    assert finding.message == "The folder of “S” is not there any more."


def test_empty_description_lists_every_missing_required_field(scanned: Dataset) -> None:
    """Must show 5: pre-flight names every missing required field when REMBI is empty."""
    messages = [f.message for f in only(preflight.rule_rembi([scanned]), "rembi_missing")]
    assert messages == [
        "Study of “S” is not described yet: Title is required.",
        "Study of “S” is not described yet: Description is required.",
        "Study of “S” is not described yet: Licence is required.",
        "Study of “S” is not described yet: Release date is required.",
        "Study of “S” is not described yet: Author is required.",
        "Study component of “S” is not described yet: Title is required.",
        "Biosample of “S” is not described yet: Title is required.",
        "Biosample of “S” is not described yet: Organism classification is required.",
        "Biosample of “S” is not described yet: Biological entity description is required.",
        "Specimen of “S” is not described yet: Title is required.",
        "Specimen of “S” is not described yet: Protocol description is required.",
        "Image acquisition of “S” is not described yet: Title is required.",
        "Image acquisition of “S” is not described yet: Protocol description is required.",
        "Image acquisition of “S” is not described yet: Imaging instrument description is required.",
        "Image acquisition of “S” is not described yet: Imaging method name is required.",
        "Image data of “S” is not described yet: Title is required.",
        "Image data of “S” is not described yet: Image format is required.",
    ]


def test_invalid_and_incomplete_records(described: Dataset) -> None:
    study = RembiRecord.objects.get(project=described.project, class_name="Study")
    study.data["author"][0]["orcid"] = "0000-0002-1825-009"
    study.save()
    acquisition = RembiRecord.objects.get(project=described.project, class_name="ImageAcquisition")
    del acquisition.data["fbbi_id"]
    acquisition.save()
    findings = preflight.rule_rembi([described])
    invalid = one(findings, "rembi_invalid")
    assert invalid.message.startswith("Study “Mitochondrial dynamics in zebrafish sensory neurons”: Orcid: ")
    assert invalid.fix_url == f"/datasets/{described.pk}/describe/Study/"
    assert one(findings, "rembi_recommended").message == (
        "Image acquisition “Spinning disk time-lapse”: recommended fields are empty: fbbi id."
    )


def test_formats_the_archive_does_not_take(scanned: Dataset) -> None:
    findings = preflight.rule_formats([scanned], IDR_LIKE, "The IDR")
    refused = only(findings, "format_not_accepted")
    assert [f.message for f in refused] == [
        "The IDR does not accept JPEG files (1 file).",
        "The IDR does not accept PNG files (1 file).",
    ]
    assert refused[0].fix.startswith("Lossy compression changes intensities")
    assert not only(findings, "formats_accepted")


def test_release_date_rules(world: World, submission: Submission) -> None:
    rules = BiaTarget.rules
    submission.release_date = None
    assert one(preflight.rule_release_date(submission, rules, "BIA"), "release_date_missing").message == (
        "The submission has no release date."
    )
    submission.release_date = in_days(-1)
    past = one(preflight.rule_release_date(submission, rules, "BIA"), "release_date_past")
    assert past.message == (
        f"The release date {in_days(-1):%Y-%m-%d} is in the past (today is {in_days(0):%Y-%m-%d} in UTC)."
    )
    submission.release_date = in_days(6 * 365)
    late = one(
        preflight.rule_release_date(submission, rules, "The BioImage Archive"), "release_date_too_late"
    )
    assert late.message.startswith("The BioImage Archive keeps data private for at most 1826 days; ")
    submission.release_date = in_days(10)
    differs = one(preflight.rule_release_date(submission, rules, "BIA"), "release_date_differs")
    assert differs.level == Level.WARNING
    assert differs.message == (
        f"The Study says the data are released on {in_days(30):%Y-%m-%d}; this submission releases them on "
        f"{in_days(10):%Y-%m-%d}, which the package uses."
    )


def test_release_dates_are_days_in_the_projects_time_zone(world: World, submission: Submission) -> None:
    world.project.time_zone = "Pacific/Kiritimati"  # UTC+14: often a day ahead of UTC
    world.project.save()
    submission.refresh_from_db()
    today_there = preflight.project_today(submission)
    assert (
        today_there == datetime.datetime.now(datetime.UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    )
    submission.release_date = today_there - datetime.timedelta(days=1)
    assert only(preflight.rule_release_date(submission, BiaTarget.rules, "BIA"), "release_date_past")


def test_licence_the_archive_does_not_take(submission: Submission) -> None:
    study = RembiRecord.objects.get(project=submission.project, class_name="Study")
    study.data["licence"] = "CC-BY-NC-4.0"
    study.save()
    finding = one(
        preflight.rule_licence(submission, BiaTarget.rules, "The BioImage Archive"), "licence_not_accepted"
    )
    assert (
        finding.message == "The BioImage Archive publishes data under CC0-1.0 or CC-BY-4.0, not CC-BY-NC-4.0."
    )
    assert one(preflight.rule_licence(submission, ZENODO_LIKE, "Zenodo"), "licence_accepted")


def _add_file(dataset: Dataset, path: str) -> None:
    ImageFile.objects.create(
        dataset=dataset,
        relative_path=path,
        size_bytes=1,
        mtime=0.0,
        format="tiff",
        sha256="0" * 64,
        scanned_at=dataset.created_at,
    )


def test_file_names(dataset: Dataset) -> None:
    for path in ("a b.tif", "zellkörper.tif", "x:y.tif", "folder/.DS_Store", "ok.tif", "x" * 30 + ".tif"):
        _add_file(dataset, path)
    rules = RepositoryRules(
        format_flag="bia", licences=(), max_embargo_days=1, filenames=FilenameRules(max_path_length=30)
    )
    findings = preflight.rule_filenames([dataset], rules, "The archive")
    assert one(findings, "filename_spaces").message == "File names that contain spaces (1): a b.tif."
    assert one(findings, "filename_spaces").level == Level.WARNING
    non_ascii = one(findings, "filename_non_ascii")
    assert non_ascii.message == (
        "File names that contain characters outside ASCII (accents, symbols) (1): zellkörper.tif."
    )
    assert non_ascii.level == Level.ERROR
    assert non_ascii.fix == "Rename them on the storage and scan again; The archive refuses such names."
    assert one(findings, "filename_characters").message.endswith(": x:y.tif.")
    assert one(findings, "filename_hidden").message == (
        "File names that start with a dot (hidden files) (1): folder/.DS_Store."
    )
    assert one(findings, "filename_length").message == (
        f"File names that are longer than 30 characters (1): {'x' * 30}.tif."
    )
    assert not only(findings, "filenames_ok")


def test_size_and_file_count_limits(dataset: Dataset) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(total_bytes=60 * 1000**3, file_count=150)
    dataset.refresh_from_db()
    findings = preflight.rule_limits([dataset], ZENODO_LIKE, "Zenodo")
    assert (
        one(findings, "size_limit").message
        == "The datasets hold 60.0 GB; Zenodo takes at most 50.0 GB per record."
    )
    assert (
        one(findings, "file_count_limit").message
        == "The datasets hold 150 files; Zenodo takes at most 100 per record."
    )
    assert not only(preflight.rule_limits([dataset], BiaTarget.rules, "BIA"), "size_limit")


def test_bia_asks_for_affiliations(submission: Submission) -> None:
    study = RembiRecord.objects.get(project=submission.project, class_name="Study")
    del study.data["author"][0]["affiliation"]
    study.save()
    finding = one(run(submission), "bia_author_affiliation")
    assert finding.level == Level.WARNING
    assert finding.message == (
        "The BioImage Archive asks for an affiliation of every author; missing for Josiah Carberry."
    )


def test_check_moves_draft_to_checked_and_back(world: World, submission: Submission) -> None:
    report = services.submission_check(submission=submission, user=world.users["editor"])
    assert report.ok
    assert submission.state == State.CHECKED
    assert submission.preflight["findings"]
    (dataset_folder(submission.datasets.get()) / "late.tif").write_bytes(b"II*\x00")
    report = services.submission_check(submission=submission, user=world.users["editor"])
    assert not report.ok
    assert submission.state == State.DRAFT
    assert list(submission.events.values_list("from_state", "to_state", "note")) == [
        ("draft", "draft", "Created."),
        ("draft", "checked", "Pre-flight passed."),
        ("checked", "draft", "Pre-flight found 1 problem."),
    ]


def test_check_is_refused_once_submitted(world: World, submission: Submission) -> None:
    Submission.objects.filter(pk=submission.pk).update(state=State.SUBMITTED)
    submission.refresh_from_db()
    with pytest.raises(Exception, match="with the archive already"):
        services.submission_check(submission=submission, user=world.users["editor"])


def test_report_survives_its_json(submission: Submission) -> None:
    report = BiaTarget().preflight(submission)
    again = PreflightReport.from_json(report.to_json())
    assert again is not None
    assert again.findings == report.findings
    assert again.checked_at == report.checked_at
