"""The BioImage Archive as a FAIRlight target: its rules, pre-flight and package."""

from __future__ import annotations

import json
from pathlib import Path

from repositories.base import (
    FilenameRules,
    Finding,
    Level,
    PreflightReport,
    RepositoryRules,
    RepositoryTarget,
)
from repositories.bia import crate, pagetab
from repositories.models import Submission
from repositories.packaging import MANIFEST, README, describe, write_manifest, write_readme, write_tsv
from repositories.preflight import shared_findings

BIA_RULES = RepositoryRules(
    format_flag="bia",
    # The BioImage Archive publishes under CC0 (its default) or CC BY 4.0.
    licences=("CC0-1.0", "CC-BY-4.0"),
    # No maximum is published; FAIRlight refuses release dates more than five years ahead so
    # that a mistyped year does not hide data for decades.
    max_embargo_days=5 * 365 + 1,
    max_total_bytes=None,
    max_files=None,
    filenames=FilenameRules(spaces=Level.WARNING, non_ascii=Level.ERROR),
    # BioImage Archive studies are S-BIAD…; older BioStudies image studies S-BSST….
    accession_pattern=r"S-B(IAD|SST)\d+",
    accession_example="S-BIAD1494",
)


class BiaTarget(RepositoryTarget):
    key = "bia"
    label = "BioImage Archive"
    label_in_text = "the BioImage Archive"
    rules = BIA_RULES

    def preflight(self, submission: Submission) -> PreflightReport:
        findings = shared_findings(submission, rules=self.rules, label=self.label_in_text)
        findings += self._authors(submission)
        return PreflightReport(target=self.key, findings=findings)

    def _authors(self, submission: Submission) -> list[Finding]:
        study = submission.project.rembi_records.filter(class_name="Study").first()
        authors = study.data.get("author", []) if study is not None else []
        without = [a.get("display_name", "?") for a in authors if not a.get("affiliation")]
        if not without:
            return []
        return [
            Finding(
                Level.WARNING,
                "bia_author_affiliation",
                "The BioImage Archive asks for an affiliation of every author; "
                f"missing for {', '.join(without)}.",
                "Add the affiliations in the Study's authors.",
            )
        ]

    def build_package(self, submission: Submission, dest: Path) -> Path:
        description = describe(submission)
        rows = crate.file_list_rows(description)
        headers = next(rows)
        write_tsv(dest / crate.FILE_LIST, [headers, *rows])
        document = crate.crate_document(description, headers=headers)
        (dest / crate.METADATA_FILE).write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8"
        )
        written = [crate.METADATA_FILE, crate.FILE_LIST, pagetab.SUBMISSION_FILE]
        write_tsv(dest / pagetab.SUBMISSION_FILE, pagetab.submission_rows(description))
        for number, described in enumerate(description.datasets, start=1):
            name = f"pagetab/{pagetab.file_list_name(number)}"
            write_tsv(dest / name, pagetab.file_list_rows(description, described))
            written.append(name)
        write_manifest(dest, description)
        written += [MANIFEST, README]
        write_readme(
            dest, description=description, label=self.label, steps=self.next_steps(submission), files=written
        )
        return dest

    def next_steps(self, submission: Submission) -> list[str]:
        release = f"{submission.release_date:%Y-%m-%d}" if submission.release_date else "not set yet"
        return [
            "Log in to BioStudies (https://www.ebi.ac.uk/biostudies/submissions/) and upload the data files "
            "from their storage folders, keeping the folder structure; use FTP or Aspera beyond 10 GB.",
            "Upload the file lists from the package's pagetab/ folder next to the data.",
            "Start a BioImage Archive submission and load pagetab/submission.tsv, or give the curators the "
            "RO-Crate (ro-crate-metadata.json with file_list.tsv) when they ask for it.",
            "When the archive assigns the accession (S-BIAD…), record it here. "
            f"The release date is {release}.",
        ]
