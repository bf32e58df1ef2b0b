"""Zenodo as a FAIRlight target: pre-flight, package, and deposit through the InvenioRDM API.

A submission becomes one Zenodo record: metadata from the REMBI Study (creators with ORCID
and affiliations, description, licence, keywords, the paper, funding), every data file at the
top level of the record (Zenodo has no folders), and, while the release date lies ahead, an
embargo: the record is public at once with its DOI, its files restricted until that date.
``submit`` deposits it (draft, verified uploads, access, publish) or, for a submission Zenodo
already holds, publishes a new version; the lifecycle changes go through
``repositories.services``.
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list

from metadata.imaging.formats import Format
from metadata.models import ImageFile
from metadata.services import dataset_folder
from repositories.base import (
    FilenameRules,
    Finding,
    Level,
    PreflightReport,
    RepositoryRules,
    RepositoryTarget,
)
from repositories.models import ACCESSIONED_STATES, State, Submission
from repositories.packaging import DatasetDescription, Description, describe, name_parts
from repositories.preflight import project_today, shared_findings
from repositories.zenodo.client import ZenodoClient, ZenodoRecord, client_from_settings
from repositories.zenodo.errors import Problem, ZenodoError
from repositories.zenodo.metadata import (
    MAX_FILES,
    MAX_RECORD_BYTES,
    Access,
    Affiliation,
    Creator,
    Embargo,
    FileToUpload,
    Funding,
    RecordMetadata,
    RelatedIdentifier,
    access_problems,
    metadata_problems,
    record_json,
    utc_today,
)

ZENODO_RULES = RepositoryRules(
    format_flag="zenodo",
    # Zenodo takes any licence; these are the ones a REMBI Study can name.
    licences=("CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0"),
    # Zenodo publishes no maximum embargo; FAIRlight refuses release dates more than five years
    # ahead so that a mistyped year does not hide data for decades.
    max_embargo_days=5 * 365 + 1,
    max_total_bytes=MAX_RECORD_BYTES,
    max_files=MAX_FILES,
    filenames=FilenameRules(spaces=Level.WARNING, non_ascii=Level.WARNING),
    # A record id; the DOI (10.5281/zenodo.<id>) is recorded beside it.
    accession_pattern=r"\d+",
    accession_example="15050235",
)
RECORD_FILE = "zenodo-record.json"
FILES_TABLE = "files.tsv"
MANIFEST = "manifest-sha256.txt"
README = "README.txt"


@dataclass(frozen=True)
class RecordFile:
    """A data file as it goes into the record: its key (name on Zenodo) and where it comes from."""

    described: DatasetDescription
    image: ImageFile

    @property
    def key(self) -> str:
        return PurePosixPath(self.image.relative_path).name

    @property
    def upload_path(self) -> str:
        return self.described.upload_path(self.image.relative_path)

    def to_upload(self) -> FileToUpload:
        return FileToUpload(
            path=dataset_folder(self.described.dataset) / self.image.relative_path,
            size=self.image.size_bytes,
            md5=self.image.md5,
            sha256=self.image.sha256,
            key=self.key,
        )


class ZenodoTarget(RepositoryTarget):
    key = "zenodo"
    label = "Zenodo"
    label_in_text = "Zenodo"
    rules = ZENODO_RULES
    can_submit = True
    can_update_release = True

    # -- pre-flight --------------------------------------------------------------------------

    def preflight(self, submission: Submission) -> PreflightReport:
        findings = shared_findings(submission, rules=self.rules, label=self.label_in_text)
        description = describe(submission)
        # Beyond Zenodo's file limit the shared rule refuses already; listing every file is not needed.
        if sum(d.dataset.files.count() for d in description.datasets) <= MAX_FILES:
            findings += _file_findings(record_files(description))
        if description.study is not None:
            # Without a Study the shared REMBI rule lists every missing field already.
            findings += [
                _problem_finding("zenodo_metadata", problem)
                for problem in metadata_problems(record_metadata(description))
            ]
        findings += _access_findings(submission)
        if not settings.FAIRLIGHT_ZENODO_TOKEN:
            findings.append(
                Finding(
                    Level.WARNING,
                    "zenodo_token_missing",
                    "FAIRlight has no Zenodo token, so it cannot deposit the record itself.",
                    "Ask the FAIRlight administrator to set FAIRLIGHT_ZENODO_TOKEN, or upload the package "
                    "by hand.",
                )
            )
        return PreflightReport(target=self.key, findings=findings)

    # -- the package -------------------------------------------------------------------------

    def build_package(self, submission: Submission, dest: Path) -> Path:
        description = describe(submission)
        document = record_json(record_metadata(description), record_access(submission), today=utc_today())
        (dest / RECORD_FILE).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
        files = record_files(description)
        with (dest / FILES_TABLE).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["key", "source_path", "size_in_bytes", "md5", "sha256"])
            for file in files:
                writer.writerow(
                    [file.key, file.upload_path, file.image.size_bytes, file.image.md5, file.image.sha256]
                )
        with (dest / MANIFEST).open("w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(f"{file.image.sha256}  {file.key}\n" for file in files)
        _write_readme(dest, description, files, self.next_steps(submission))
        return dest

    def next_steps(self, submission: Submission) -> list[str]:
        release = submission.release_date
        when = (
            f"its files stay restricted until {release:%Y-%m-%d}"
            if release is not None and release > project_today(submission)
            else "its files are public at once"
        )
        return [
            "Managers and owners press “Submit to Zenodo” on this page: FAIRlight creates the draft at "
            f"{settings.FAIRLIGHT_ZENODO_URL}, uploads every file listed in files.tsv and checks each "
            "upload's checksum, sets the access and publishes.",
            f"Zenodo gives the record its DOI at once; {when}. FAIRlight records the record id and DOI here.",
            "Without a token, deposit by hand: start a new upload on Zenodo, upload the files in files.tsv "
            "(without folders) and copy the metadata from zenodo-record.json; then record the record id "
            "and DOI here.",
            "When the data change, scan them again and press “Publish a new version on Zenodo”: each version "
            "gets its own DOI, and the DOI that stands for all versions stays the same.",
        ]

    # -- the deposit ---------------------------------------------------------------------------

    def submit(self, submission: Submission) -> str:
        """Deposit the record (or a new version of it) and record the outcome; returns the record id.

        Nothing changes in FAIRlight unless Zenodo published the record: a refusal raises
        ValidationError saying what happened, and the submission keeps its state.
        """
        submission.refresh_from_db()
        if submission.state == State.PACKAGED:
            new_version = False
        elif submission.state in ACCESSIONED_STATES and submission.accession:
            new_version = True
        else:
            raise ValidationError(
                "Only a packaged submission is deposited to Zenodo, and only one Zenodo holds already "
                "gets a new version."
            )
        report = self.preflight(submission)
        if not report.ok:
            problems = "; ".join(finding.message for finding in report.errors[:5])
            raise ValidationError(
                f"The submission does not pass the pre-flight check any more, so nothing was sent: {problems}"
            )
        description = describe(submission)
        metadata = record_metadata(description)
        access = record_access(submission)
        files = [file.to_upload() for file in record_files(description)]
        draft_id = ""
        try:
            client = client_from_settings()
            if new_version:
                draft = client.new_version(record_id=submission.accession, metadata=metadata, access=Access())
                draft_id = draft.id
                _sync_files(client, draft_id, files)
            else:
                draft = client.create_draft(metadata=metadata, access=Access())
                draft_id = draft.id
                client.upload_files(record_id=draft_id, files=files)
            client.set_access(record_id=draft_id, access=access, today=utc_today())
            record = client.publish(record_id=draft_id)
        except ZenodoError as exc:
            left = (
                f" Draft {draft_id} stays unpublished on Zenodo; delete it there (a new attempt starts "
                "from a fresh draft)."
                if draft_id and not new_version
                else ""
            )
            raise ValidationError(f"{exc}{left}") from None
        except OSError as exc:
            raise ValidationError(f"Reading a data file failed: {exc.strerror or exc}.") from None
        _record_outcome(submission, record, access, new_version=new_version)
        return record.id

    def update_release(self, submission: Submission) -> str:
        """Give the published record the submission's release date: files restricted until it,
        or public once it has come ("release now"). Only the access changes on Zenodo."""
        from repositories import services  # see _record_outcome

        submission.refresh_from_db()
        if submission.state not in ACCESSIONED_STATES or not submission.accession:
            raise ValidationError("Only a record Zenodo holds already gets a new release date there.")
        access = record_access(submission)
        try:
            client_from_settings().update_access(
                record_id=submission.accession, access=access, today=utc_today()
            )
        except ZenodoError as exc:
            raise ValidationError(str(exc)) from None
        services.submission_archive_access_set(
            submission=submission,
            until=access.embargo.until if access.embargo is not None else None,
            archive=f"Zenodo (record {submission.accession})",
        )
        return submission.accession

    def confirm_release(self, submission: Submission) -> bool:
        """Zenodo lifts an embargo itself on its date; once the record shows the files to everyone,
        the submission is public."""
        from repositories import services  # see _record_outcome

        try:
            record = client_from_settings().get_record(record_id=submission.accession)
        except ZenodoError as exc:
            raise ValidationError(str(exc)) from None
        if record.embargo_until is not None or record.access.get("files") != "public":
            return False
        services.submission_archive_access_set(
            submission=submission, until=None, archive=f"Zenodo (record {submission.accession})"
        )
        return True


# -- what goes into the record ------------------------------------------------------------------


def record_files(description: Description) -> list[RecordFile]:
    files = []
    for described in description.datasets:
        rows = described.dataset.files.order_by("relative_path").only(
            "relative_path", "size_bytes", "md5", "sha256", "format", "file_count", "dataset_id"
        )
        files += [RecordFile(described, image) for image in rows.iterator(chunk_size=2_000)]
    return files


def _creator(author: dict[str, Any]) -> Creator:
    family, given = name_parts(str(author.get("display_name") or ""))
    return Creator(
        family_name=family,
        given_name=given,
        orcid=str(author.get("orcid") or ""),
        affiliations=tuple(
            Affiliation(name=str(a.get("display_name") or ""), ror=str(a.get("rorid") or ""))
            for a in author.get("affiliation") or []
        ),
    )


def _description_html(description: Description) -> str:
    study = description.study_data
    paragraphs = [str(study.get("description") or "")]
    paragraphs += [f"{d.name}: {d.description}" for d in description.datasets if d.description != d.name]
    paragraphs += [str(study.get(key) or "") for key in ("funding_statement", "acknowledgement")]
    return "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs if text)


def _keywords(description: Description) -> tuple[str, ...]:
    """The Study's keywords, then the organisms and imaging methods, each once."""
    words = [str(word) for word in description.study_data.get("keyword") or []]
    for described in description.datasets:
        for biosample in described.records.get("Biosample", []):
            words += [
                str(t.get("scientific_name")) for t in biosample.data.get("organism_classification") or []
            ]
        for acquisition in described.records.get("ImageAcquisition", []):
            words += [str(name) for name in acquisition.data.get("imaging_method_name") or []]
    seen: dict[str, str] = {}
    for word in words:
        if word.strip() and word != "None":
            seen.setdefault(word.strip().casefold(), word.strip())
    return tuple(seen.values())


def _related(study: dict[str, Any]) -> tuple[RelatedIdentifier, ...]:
    related = []
    for publication in study.get("related_publication") or []:
        if publication.get("doi"):
            related.append(RelatedIdentifier(str(publication["doi"]), resource_type="publication-article"))
        elif publication.get("pubmed_id"):
            related.append(
                RelatedIdentifier(
                    str(publication["pubmed_id"]), scheme="pmid", resource_type="publication-article"
                )
            )
    return tuple(related)


def _funding(study: dict[str, Any]) -> tuple[Funding, ...]:
    funding = []
    for grant in study.get("grant") or []:
        funder, number = str(grant.get("funder") or ""), str(grant.get("grant_id") or "")
        # Zenodo asks a title of awards outside its list; REMBI records the number only.
        funding.append(
            Funding(
                funder_name=funder,
                award_number=number,
                award_title=f"{funder} grant {number}" if number else "",
            )
        )
    return tuple(funding)


def record_metadata(description: Description) -> RecordMetadata:
    submission = description.submission
    study = description.study_data
    licence = str(study.get("licence") or "")
    return RecordMetadata(
        resource_type="dataset",
        title=submission.title,
        creators=tuple(_creator(author) for author in study.get("author") or []),
        # The record (with its DOI) is published on the day it is deposited, embargo or not.
        publication_date=project_today(submission),
        description=_description_html(description),
        licence=licence.lower(),
        keywords=_keywords(description),
        related_identifiers=_related(study),
        funding=_funding(study),
    )


def record_access(submission: Submission) -> Access:
    """Public record; files restricted until the release date while it lies ahead."""
    release = submission.release_date
    if release is None or release <= project_today(submission):
        return Access()
    return Access(
        record="public",
        files="restricted",
        embargo=Embargo(until=release, reason=f"The data are released on {release:%Y-%m-%d}."),
    )


# -- pre-flight rules ----------------------------------------------------------------------------


def _problem_finding(code: str, problem: Problem) -> Finding:
    return Finding(Level.ERROR, code, problem.message, f"Zenodo field: {problem.field}.")


def _file_findings(files: list[RecordFile]) -> list[Finding]:
    findings = []
    folders = [f.upload_path for f in files if f.image.format == Format.OME_ZARR or f.image.file_count > 1]
    if folders:
        findings.append(
            Finding(
                Level.ERROR,
                "zenodo_folder",
                f"Zenodo takes files, not folders: {get_text_list(folders[:3], 'and')}"
                f"{' and more' if len(folders) > 3 else ''} "
                f"{'is a folder' if len(folders) == 1 else 'are folders'} (OME-Zarr).",
                "Zip each OME-Zarr folder into one .zip file beside it, remove the folder from the dataset "
                "and scan again.",
            )
        )
    counts = Counter(f.key for f in files)
    clashes = sorted(f.upload_path for f in files if counts[f.key] > 1)
    if clashes:
        findings.append(
            Finding(
                Level.ERROR,
                "zenodo_name_clash",
                "A Zenodo record has no folders, so files are named by their file name alone, and these "
                f"would share a name: {get_text_list(clashes[:6], 'and')}"
                f"{' and more' if len(clashes) > 6 else ''}.",
                "Rename them so that each file name is unique, or zip the folders, and scan again.",
            )
        )
    without_md5 = sum(1 for f in files if not f.image.md5)
    if without_md5:
        findings.append(
            Finding(
                Level.WARNING,
                "zenodo_md5_missing",
                f"{without_md5} file{'s have' if without_md5 != 1 else ' has'} no MD5 checksum, which Zenodo "
                "shows for every file; the package's file list leaves it blank.",
                "Turn on MD5 for the dataset and scan again. Uploads are checked either way: FAIRlight "
                "compares the MD5 of the bytes it sends with Zenodo's.",
            )
        )
    return findings


def _access_findings(submission: Submission) -> list[Finding]:
    if submission.release_date is None:
        return []  # reported by the shared release-date rule
    access = record_access(submission)
    problems = access_problems(access, today=utc_today())
    if problems:
        return [_problem_finding("zenodo_embargo", problem) for problem in problems]
    if access.embargo is None:
        text = "Zenodo publishes the record and its files at once."
    else:
        text = (
            "Zenodo publishes the record with its DOI at once and keeps the files restricted until "
            f"{access.embargo.until:%Y-%m-%d}."
        )
    return [Finding(Level.OK, "zenodo_embargo", text)]


# -- the deposit -----------------------------------------------------------------------------------


def _sync_files(client: ZenodoClient, draft_id: str, files: list[FileToUpload]) -> None:
    """Give a new-version draft exactly these files, keeping those already there and unchanged.

    A draft left by an earlier attempt may hold some files; one whose MD5 is known and matches is
    kept, every other one is replaced, and files no longer in the submission are removed.
    """
    wanted = {file.name: file for file in files}
    kept = set()
    for remote in client.draft_files(record_id=draft_id):
        local = wanted.get(remote.key)
        if local is not None and local.md5 and remote.committed and remote.checksum == f"md5:{local.md5}":
            kept.add(remote.key)
        else:
            client.delete_draft_file(record_id=draft_id, key=remote.key)
    client.upload_files(record_id=draft_id, files=[file for file in files if file.name not in kept])


def _record_outcome(
    submission: Submission, record: ZenodoRecord, access: Access, *, new_version: bool
) -> None:
    """Store the record id and DOI and move the submission on, all or nothing."""
    # services imports the registry, which imports this module; importing it here breaks the cycle.
    from repositories import services

    embargoed = access.embargo is not None
    try:
        with transaction.atomic():
            if not new_version:
                services.submission_transition(
                    submission=submission,
                    to_state=State.SUBMITTED,
                    user=None,
                    note=f"Deposited to Zenodo and published as record {record.id}.",
                )
            services.submission_record_accession(
                submission=submission, accession=record.id, doi=record.doi, user=None
            )
            Submission.objects.filter(pk=submission.pk).update(
                archive_release_date=access.embargo.until if access.embargo is not None else None,
                archive_access_set_at=timezone.now(),
            )
            goal = State.EMBARGOED if embargoed else State.PUBLIC
            if submission.state != goal:
                note = (
                    f"Files restricted on Zenodo until {access.embargo.until:%Y-%m-%d}."
                    if access.embargo is not None
                    else "The record and its files are public on Zenodo."
                )
                services.submission_transition(submission=submission, to_state=goal, user=None, note=note)
    except ValidationError as exc:
        raise ValidationError(
            f"Zenodo published record {record.id} (DOI {record.doi or 'pending'}), but FAIRlight could not "
            f"record it: {' '.join(exc.messages)} Record the accession on this page by hand."
        ) from None


def _write_readme(dest: Path, description: Description, files: list[RecordFile], steps: list[str]) -> None:
    submission = description.submission
    lines = [
        f"Zenodo package of “{submission.title}”",
        f"Made by FAIRlight on {timezone.now():%Y-%m-%d %H:%M %Z} for submission {submission.pk}.",
        "",
        "This folder holds the metadata only; the data files are NOT copied here. A Zenodo record has",
        f"no folders: each data file goes in under its own name (the key in {FILES_TABLE}, which also",
        f"gives its place on the storage and its checksums). {MANIFEST} lists the SHA-256 of each key,",
        "so `sha256sum -c` checks a downloaded copy of the record.",
        "",
        f"{RECORD_FILE}: the record as InvenioRDM's API takes it (metadata, access, embargo).",
        f"{len(files)} data files, {sum(f.image.size_bytes for f in files)} bytes, from:",
    ]
    lines += [f"  - “{d.dataset}”: {dataset_folder(d.dataset)}" for d in description.datasets]
    lines += ["", "Next steps:"]
    lines += [f"  {number}. {step}" for number, step in enumerate(steps, start=1)]
    (dest / README).write_text("\n".join(lines) + "\n", encoding="utf-8")
