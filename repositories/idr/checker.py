"""Checks an IDR study folder the way IDR's curators and import tools would, in plain words.

The required keys are those IDR's own study parser (idr-utils ``pyidr.study_parser``) refuses
to go without; the file rules are those of ``omero import --bulk`` (bulk.yml, filePaths.tsv,
plates.tsv) and ``omero metadata populate`` (annotation.csv). Published IDR studies pass
with no errors; warnings point at things curators would tidy up.

A ``draft`` check is for a study still being filled in, such as IDR's own template: missing
or blank required values become warnings, while everything that is filled in must still be
right.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from repositories.idr.identifiers import (
    EMAIL_PATTERN,
    PMC_PATTERN,
    PUBMED_PATTERN,
    date_problem,
    doi_problem,
    licence_id,
    orcid_problem,
)
from repositories.idr.model import (
    ACCESSION_PATTERN,
    component_file,
    component_folder,
    component_number,
    known_term_source,
)
from repositories.idr.studyfile import (
    COMMENT_KEY,
    COMPONENT_KEYS,
    EXPERIMENT_KEYS,
    SCREEN_KEYS,
    STUDY_KEYS,
    Section,
    SectionKind,
    StudyFile,
    Table,
    is_hint_row,
    parse_csv,
    parse_study_text,
    parse_tsv,
    read_text,
)

Severity = Literal["error", "warning"]

REQUIRED_STUDY_KEYS = (
    "Comment[IDR Study Accession]",
    "Study Title",
    "Study Description",
    "Study Type",
    "Study Public Release Date",
)
# Present as keys, but an unpublished study leaves them blank.
REQUIRED_BLANK_ALLOWED = ("Study Publication Title", "Study Author List")
REQUIRED_COMPONENT_KEYS: dict[SectionKind, tuple[str, ...]] = {
    "Experiment": (
        "Comment[IDR Experiment Name]",
        "Experiment Description",
        "Experiment Sample Type",
        "Experiment Imaging Method",
    ),
    "Screen": (
        "Comment[IDR Screen Name]",
        "Screen Description",
        "Screen Sample Type",
        "Screen Imaging Method",
        "Screen Type",
    ),
}
PERSON_KEYS = (
    "Study Person First Name",
    "Study Person Email",
    "Study Person Address",
    "Study Person ORCID",
    "Study Person Roles",
)
PROTOCOL_KEYS = (
    "Protocol Type",
    "Protocol Type Term Source REF",
    "Protocol Type Term Accession",
    "Protocol Description",
)
PHENOTYPE_KEYS = (
    "Phenotype Description",
    "Phenotype Score Type",
    "Phenotype Term Source REF",
    "Phenotype Term Name",
    "Phenotype Term Accession",
)
COMPONENT_NAME = re.compile(r"(?P<study>idr\d{4}-[^/]+)/(?P<folder>(?:experiment|screen)[A-Z]+)")
ACCESSION_SYNTAX = re.compile(r"[A-Za-z][A-Za-z0-9]*[_:][A-Za-z0-9]+")
TERM_SOURCE_COLUMN = re.compile(r"Term Source \d* ?REF", re.IGNORECASE)
IMPORT_TARGET = re.compile(
    r"(?:Project:name:(?P<project>.+?)/)?Dataset:name:(?P<dataset>.+)"
    r"|Screen:name:(?P<screen>.+)"
    r"|(?:Dataset|Screen):id:\d+"
)
# Keys ``omero import --bulk`` understands: its own, then the import options it passes on.
BULK_SPECIAL_KEYS = frozenset({"path", "columns", "include", "continue", "dry_run", "skip"})
BULK_OPTION_KEYS = frozenset(
    {
        "name",
        "description",
        "target",
        "transfer",
        "exclude",
        "checksum_algorithm",
        "logprefix",
        "output",
        "file",
        "errs",
        "parallel_upload",
        "parallel_fileset",
        "readers",
        "encrypted",
        "debug",
        "depth",
        "annotation_ns",
        "annotation_text",
        "annotation_link",
        "plate_name",
        "plate_description",
        "report",
        "upload",
        "logs",
        "email",
        "server",
        "port",
        "user",
        "group",
        "no_stats_info",
        "no_thumbnails",
        "no_upgrade_check",
        "c",
        "d",
        "f",
        "l",
        "n",
        "r",
        "x",
        "T",
    }
)
BULK_CREDENTIAL_KEYS = frozenset({"password", "key", "sudo"})
BULK_SKIP_CHOICES = frozenset({"all", "checksum", "minmax", "thumbnails", "upgrade"})
BULK_OUTPUT_CHOICES = frozenset({"ids", "legacy", "yaml"})
MAX_ROW_FINDINGS = 5  # per file and kind of problem; the rest are counted in one finding


@dataclass(frozen=True)
class Finding:
    severity: Severity
    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" [{self.key}]" if self.key else ""
        return f"{self.severity}: {where}{key}: {self.message}"


@dataclass
class CheckReport:
    folder: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_study_folder(folder: Path, *, draft: bool = False) -> CheckReport:
    """Every problem found in the IDR study folder ``folder`` (``idrNNNN-name/``)."""
    checker = _Checker(folder=folder, draft=draft)
    checker.run()
    return CheckReport(folder=folder, findings=checker.findings)


@dataclass
class _ImportList:
    """What a filePaths.tsv or plates.tsv imports: (dataset or "", image or plate name) pairs."""

    images: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Checker:
    folder: Path
    draft: bool
    findings: list[Finding] = field(default_factory=list)
    accession: str = ""
    study_name: str = ""
    declared_sources: dict[str, str] = field(default_factory=dict)
    study_file_name: str = ""

    # -- reporting ---------------------------------------------------------------------------

    def error(self, file: str, line: int | None, key: str, message: str) -> None:
        self.findings.append(Finding("error", file, line, key, message))

    def warn(self, file: str, line: int | None, key: str, message: str) -> None:
        self.findings.append(Finding("warning", file, line, key, message))

    def unfilled(self, file: str, line: int | None, key: str, message: str) -> None:
        """A required value that is missing: an error, or only a to-do in a draft."""
        (self.warn if self.draft else self.error)(file, line, key, message)

    # -- the study file ------------------------------------------------------------------------

    def run(self) -> None:
        if not self.folder.is_dir():
            self.error(self.folder.name, None, "", "is not a folder")
            return
        study_path = self._find_study_file()
        if study_path is None:
            return
        self.study_file_name = study_path.name
        try:
            parsed = parse_study_text(read_text(study_path))
        except UnicodeDecodeError as problem:
            self.error(
                study_path.name, None, "", f"is not UTF-8 text ({problem.reason} at byte {problem.start})"
            )
            return
        self._check_keys(parsed)
        self._check_study_section(parsed.study)
        self._check_term_sources(parsed)
        self._check_components(parsed)

    def _find_study_file(self) -> Path | None:
        candidates = sorted(self.folder.glob("*study*.txt"))
        named = [path for path in candidates if re.fullmatch(r"idr\d{4}-study\.txt", path.name)]
        if not named:
            found = ", ".join(path.name for path in candidates) or "no *-study.txt file"
            self.error(".", None, "", f"has no study file named idrNNNN-study.txt (found: {found})")
            return None
        if len(named) > 1:
            self.error(".", None, "", "has more than one study file: " + ", ".join(p.name for p in named))
            return None
        self.accession = named[0].name.removesuffix("-study.txt")
        return named[0]

    def _check_keys(self, parsed: StudyFile) -> None:
        """Every key in the section it belongs to, once, and spelled as IDR spells it."""
        file = self.study_file_name
        for section in [parsed.study, *parsed.components]:
            seen: dict[str, int] = {}
            for entry in section.entries:
                key = entry.key
                if key in seen:
                    self.error(
                        file,
                        entry.line,
                        key,
                        f"appears a second time (first on line {seen[key]}); IDR reads only the first",
                    )
                seen.setdefault(key, entry.line)
                where = self._key_scope(key)
                if where is None:
                    self.warn(file, entry.line, key, "is not a key of IDR's study file; check its spelling")
                elif section.kind == "Study" and where != "Study":
                    self.error(
                        file,
                        entry.line,
                        key,
                        "belongs to an experiment or screen but comes before the first "
                        "'Experiment Number' or 'Screen Number' line",
                    )
                elif section.kind != "Study" and where == "Study":
                    self.error(
                        file,
                        entry.line,
                        key,
                        "belongs to the study section at the top but comes after "
                        f"'{section.kind} Number' on line {section.line}",
                    )
                elif where in ("Experiment", "Screen") and section.kind not in (where, "Study"):
                    self.error(
                        file,
                        entry.line,
                        key,
                        f"is a key for {where.lower()}s but sits in the {section.kind.lower()} "
                        f"block starting on line {section.line}",
                    )

    @staticmethod
    def _key_scope(key: str) -> str | None:
        if key in STUDY_KEYS or key == "Comment[IDR Study Accession]":
            return "Study"
        if key in EXPERIMENT_KEYS:
            return "Experiment"
        if key in SCREEN_KEYS:
            return "Screen"
        if key in COMPONENT_KEYS:
            return "Component"
        if COMMENT_KEY.fullmatch(key):
            return "Any"
        return None

    def _require(self, section: Section, key: str, *, allow_blank: bool = False) -> str:
        file = self.study_file_name
        entry = section.entry(key)
        where = (
            "the study section"
            if section.kind == "Study"
            else f"the {section.kind.lower()} block starting on line {section.line}"
        )
        if entry is None:
            self.unfilled(file, section.line, key, f"is missing from {where}; IDR requires this key")
            return ""
        if not entry.first and not allow_blank:
            state = "still holds the template's hint" if entry.hinted else "is empty"
            self.unfilled(file, entry.line, key, f"{state}; IDR requires a value")
        return entry.first

    def _check_study_section(self, study: Section) -> None:
        file = self.study_file_name
        for key in REQUIRED_STUDY_KEYS:
            self._require(study, key)
        for key in REQUIRED_BLANK_ALLOWED:
            self._require(study, key, allow_blank=True)

        accession_entry = study.entry("Comment[IDR Study Accession]")
        if accession_entry is not None and accession_entry.first:
            value = accession_entry.first
            if not ACCESSION_PATTERN.fullmatch(value):
                self.error(
                    file,
                    accession_entry.line,
                    accession_entry.key,
                    f"'{value}' is not an IDR accession (idr followed by four digits)",
                )
            elif value != self.accession:
                self.error(
                    file,
                    accession_entry.line,
                    accession_entry.key,
                    f"says {value} but the study file is named {self.study_file_name}",
                )

        self._check_values(study, "Study Public Release Date", date_problem)
        self._check_publications(study)
        self._check_contacts(study)
        self._check_licence(study)
        self._check_values(study, "Study Data DOI", doi_problem)
        url = study.entry("Study External URL")
        if url is not None and url.first and not re.match(r"https?://", url.first):
            self.warn(file, url.line, url.key, f"'{url.first}' is not a web address (http:// or https://)")

    def _check_values(self, section: Section, key: str, problem: Callable[[str], str | None]) -> None:
        entry = section.entry(key)
        if entry is None:
            return
        for value in entry.values:
            if value:
                message = problem(value)
                if message:
                    self.error(self.study_file_name, entry.line, key, f"'{value}' {message}")

    def _check_parallel(
        self, section: Section, lead: str, keys: Iterable[str], what: str, *, severity: Severity = "warning"
    ) -> None:
        """Keys whose columns describe the items of ``lead`` may not have more columns than it.

        Only publications break IDR's parser that way; elsewhere (idr0025 has a protocol
        description one column too far) the extra value is just not shown, so it is a warning.
        """
        count = len(section.values(lead))
        if count == 0:
            return  # nothing listed yet: a template's pre-filled sources and roles describe no one
        report = self.error if severity == "error" else self.warn
        for key in keys:
            entry = section.entry(key)
            if entry is not None and len(entry.values) > count:
                report(
                    self.study_file_name,
                    entry.line,
                    key,
                    f"has {len(entry.values)} values but '{lead}' lists {count} {what}; "
                    "each column describes one of them",
                )

    def _check_publications(self, study: Section) -> None:
        file = self.study_file_name
        titles = study.entry("Study Publication Title")
        authors = study.entry("Study Author List")
        if titles is not None and authors is not None and len(titles.values) != len(authors.values):
            self.error(
                file,
                authors.line,
                authors.key,
                f"has {len(authors.values)} author lists for {len(titles.values)} publication "
                "titles; IDR pairs them column by column",
            )
        for key, pattern, label in (
            ("Study PubMed ID", PUBMED_PATTERN, "a PubMed ID (digits only)"),
            ("Study PMC ID", PMC_PATTERN, "a PubMed Central ID (PMC followed by digits)"),
        ):
            entry = study.entry(key)
            if entry is None:
                continue
            for value in entry.values:
                if value and not pattern.fullmatch(value):
                    self.error(file, entry.line, key, f"'{value}' is not {label}")
        self._check_values(study, "Study DOI", doi_problem)
        self._check_parallel(
            study,
            "Study Publication Title",
            ("Study PubMed ID", "Study PMC ID", "Study DOI"),
            "publications",
            severity="error",
        )

    def _check_contacts(self, study: Section) -> None:
        file = self.study_file_name
        people = study.values("Study Person Last Name")
        if not any(people):
            entry = study.entry("Study Person Last Name")
            self.unfilled(
                file,
                entry.line if entry else None,
                "Study Person Last Name",
                "names nobody; IDR needs at least the submitter as a contact",
            )
        self._check_parallel(study, "Study Person Last Name", PERSON_KEYS, "people")
        emails = study.entry("Study Person Email")
        if emails is not None:
            for value in emails.values:
                if value and not EMAIL_PATTERN.fullmatch(value):
                    self.error(file, emails.line, emails.key, f"'{value}' is not an e-mail address")
        self._check_values(study, "Study Person ORCID", orcid_problem)

    def _check_licence(self, study: Section) -> None:
        file = self.study_file_name
        licence = study.entry("Study License")
        if licence is None or not licence.first:
            self.warn(
                file,
                licence.line if licence else None,
                "Study License",
                "is not given; IDR publishes under CC BY 4.0 unless the study names another licence",
            )
            return
        spdx = licence_id(licence.first)
        if spdx is None:
            self.error(
                file,
                licence.line,
                licence.key,
                f"'{licence.first}' is not a licence we recognise; write it as IDR does "
                "(e.g. CC BY 4.0) or as an SPDX identifier",
            )
        url = study.entry("Study License URL")
        if url is not None and url.first:
            from_url = licence_id(url.first)
            if from_url is None:
                self.warn(file, url.line, url.key, f"'{url.first}' is not a licence URL we recognise")
            elif spdx is not None and from_url != spdx:
                self.error(
                    file,
                    url.line,
                    url.key,
                    f"points to {from_url} but 'Study License' says {licence.first} ({spdx})",
                )

    def _check_term_sources(self, parsed: StudyFile) -> None:
        """Every Term Source REF names a declared Term Source, and each declared one has a URI."""
        file = self.study_file_name
        study = parsed.study
        names = study.entry("Term Source Name")
        uris = study.entry("Term Source URI") or study.entry("Term Source File")
        if names is not None:
            for index, name in enumerate(names.values):
                if not name:
                    continue
                if name.casefold() in self.declared_sources:
                    self.warn(file, names.line, "Term Source Name", f"declares {name} twice")
                self.declared_sources[name.casefold()] = name
                if uris is None or index >= len(uris.values) or not uris.values[index]:
                    line = uris.line if uris is not None else names.line
                    self.error(file, line, "Term Source URI", f"gives no URI for the Term Source {name}")
        for section in [study, *parsed.components]:
            for entry in section.entries:
                if entry.key.endswith("Term Source REF"):
                    for value in dict.fromkeys(entry.values):
                        if value and value.casefold() not in self.declared_sources:
                            self.error(
                                file,
                                entry.line,
                                entry.key,
                                f"uses the Term Source {value}, which the 'Term Source Name' "
                                "row does not declare",
                            )
                elif entry.key.endswith("Term Accession"):
                    refs = section.values(entry.key.removesuffix("Term Accession") + "Term Source REF")
                    if not refs and entry.key == "Screen Technology Term Accession":
                        refs = section.values("Screen Technology Type Term Source REF")
                    for index, value in enumerate(entry.values):
                        if not value:
                            continue
                        if index >= len(refs) or not refs[index]:
                            self.warn(
                                file,
                                entry.line,
                                entry.key,
                                f"gives the accession {value} without a Term Source REF",
                            )
                        if not ACCESSION_SYNTAX.fullmatch(value):
                            self.warn(
                                file,
                                entry.line,
                                entry.key,
                                f"'{value}' does not look like an ontology accession (e.g. EFO_0007550)",
                            )

    # -- components ----------------------------------------------------------------------------

    def _check_components(self, parsed: StudyFile) -> None:
        file = self.study_file_name
        study = parsed.study
        components = parsed.components
        if not components:
            self.error(
                file,
                None,
                "Experiment Number",
                "no 'Experiment Number' or 'Screen Number' line: the study describes no experiment or screen",
            )
            return
        counts = Counter(section.kind for section in components)
        totals: tuple[tuple[str, SectionKind], ...] = (
            ("Study Experiments Number", "Experiment"),
            ("Study Screens Number", "Screen"),
        )
        for key, kind in totals:
            entry = study.entry(key)
            stated = entry.first if entry else ""
            if not stated:
                if counts[kind]:
                    self.unfilled(
                        file,
                        entry.line if entry else None,
                        key,
                        f"is {'empty' if entry else 'missing'} but the study has {counts[kind]} "
                        f"{kind.lower()} block(s)",
                    )
                continue
            if not stated.isdigit():
                self.error(file, entry.line if entry else None, key, f"'{stated}' is not a whole number")
            elif int(stated) != counts[kind]:
                self.error(
                    file,
                    entry.line if entry else None,
                    key,
                    f"says {stated} but the study file has {counts[kind]} {kind.lower()} block(s)",
                )

        # Names first: the import lists of every component are checked against the study's name.
        study_names: set[str] = set()
        placed = []
        for position, section in enumerate(components, start=1):
            number = self._component_number(section, position)
            placed.append((section, number, self._component_name(section, number, study_names)))
        if len(study_names) == 1:
            self.study_name = next(iter(study_names))
            if self.folder.name != self.study_name:
                self.warn(
                    ".",
                    None,
                    "",
                    f"the folder is called {self.folder.name} but the study file names "
                    f"the study {self.study_name}",
                )

        study_organism = any(study.values("Study Organism"))
        for section, number, folder in placed:
            for key in REQUIRED_COMPONENT_KEYS[section.kind]:
                self._require(section, key)
            organism = any(section.values(f"{section.kind} Organism"))
            if study_organism and organism:
                self.error(
                    file,
                    section.line,
                    f"{section.kind} Organism",
                    "is given both for the study and for this block; IDR wants it in one place",
                )
            elif not study_organism and not organism:
                self.unfilled(
                    file,
                    section.line,
                    "Study Organism",
                    f"no organism for the study nor for {section.kind.lower()} {number}",
                )
            self._check_values(section, f"{section.kind} Data DOI", doi_problem)
            self._check_parallel(section, "Protocol Name", PROTOCOL_KEYS, "protocols")
            self._check_parallel(section, "Phenotype Name", PHENOTYPE_KEYS, "phenotypes")
            self._check_component_folder(section, folder)

        expected_folders = {folder for _, _, folder in placed}
        for path in sorted(self.folder.iterdir()):
            if path.is_dir() and component_number(path.name) and path.name not in expected_folders:
                self.error(
                    path.name,
                    None,
                    "",
                    "is a component folder that no experiment or screen block of the study file "
                    "describes; check the numbering",
                )

    def _component_number(self, section: Section, position: int) -> int:
        file = self.study_file_name
        key = f"{section.kind} Number"
        stated = self._require(section, key)
        if not stated:
            return position
        if not stated.isdigit():
            self.error(file, section.line, key, f"'{stated}' is not a whole number")
            return position
        if int(stated) != position:
            self.error(
                file,
                section.line,
                key,
                f"is {stated} but this is block {position}; experiments and screens are numbered "
                "1, 2, 3… together, in the order they appear",
            )
        return int(stated)

    def _component_name(self, section: Section, number: int, study_names: set[str]) -> str:
        """The component's folder name, after checking its IDR name against the numbering."""
        file = self.study_file_name
        key = f"Comment[IDR {section.kind} Name]"
        expected = component_folder(section.kind, number)
        entry = section.entry(key)
        if entry is None or not entry.first:
            return expected  # reported as a missing required value
        match = COMPONENT_NAME.fullmatch(entry.first)
        if match is None:
            self.error(
                file,
                entry.line,
                key,
                f"'{entry.first}' is not an IDR name such as {self.accession}-lastname-topic/{expected}",
            )
            return expected
        study_names.add(match.group("study"))
        if len(study_names) > 1:
            self.error(
                file,
                entry.line,
                key,
                f"names the study {match.group('study')}, but another block names it differently",
            )
        if not match.group("study").startswith(self.accession + "-"):
            self.error(file, entry.line, key, f"does not start with the study's accession {self.accession}")
        if match.group("folder") != expected:
            self.error(
                file,
                entry.line,
                key,
                f"calls {section.kind.lower()} {number} '{match.group('folder')}', but IDR numbers "
                f"components across the study, so it must be '{expected}'",
            )
        return match.group("folder")

    # -- component files -----------------------------------------------------------------------

    def _check_component_folder(self, section: Section, folder: str) -> None:
        path = self.folder / folder
        if not path.is_dir():
            self.error(
                folder,
                None,
                "",
                f"is missing: {section.kind.lower()} block on line {section.line} "
                f"of {self.study_file_name} expects its files in the folder {folder}/",
            )
            return
        prefix = f"{self.accession}-{folder}-"
        for item in sorted(path.iterdir()):
            other = re.match(r"(idr\d{4})-((?:experiment|screen)[A-Z]+)-", item.name)
            if other is not None and not item.name.startswith(prefix):
                self.error(
                    f"{folder}/{item.name}",
                    None,
                    "",
                    f"is named for {other.group(1)} {other.group(2)} but lies in {folder}/ of "
                    f"{self.accession}; its name must start with {prefix}",
                )

        if section.kind == "Experiment":
            self._check_main_table(section, folder, "Experiment Assay File", "assays.txt", "assays file")
        else:
            self._check_main_table(section, folder, "Library File Name", "library.txt", "library file")
        for name in section.values("Processed Data File Name"):
            if name and not (path / name).is_file():
                self.warn(
                    f"{folder}/{name}",
                    None,
                    "Processed Data File Name",
                    f"is named in {self.study_file_name} but is not in {folder}/",
                )

        annotation_name = component_file(self.accession, folder, "annotation.csv")
        annotation = self._check_annotation(section.kind, folder, annotation_name)
        imported = self._check_import_files(section.kind, folder)
        if annotation is not None and imported is not None:
            self._cross_check(section.kind, folder, annotation_name, annotation, imported)

    def _check_main_table(self, section: Section, folder: str, key: str, suffix: str, label: str) -> None:
        conventional = component_file(self.accession, folder, suffix)
        named = section.value(key)
        path = self.folder / folder / (named or conventional)
        if named and not path.is_file() and (self.folder / folder / conventional).is_file():
            entry = section.entry(key)
            self.warn(
                self.study_file_name,
                entry.line if entry else None,
                key,
                f"names {named}, which is not in {folder}/; the {label} there is {conventional}",
            )
            path = self.folder / folder / conventional
        if not path.is_file():
            also = f" (the study file names {named})" if named and named != conventional else ""
            self.error(
                f"{folder}/{conventional}",
                None,
                key,
                f"is missing: every {section.kind.lower()} needs its {label}{also}",
            )
            return
        rel = f"{folder}/{path.name}"
        table = self._read_table(path, rel, parse_tsv)
        if table is None:
            return
        self._check_row_widths(table, rel)
        if section.kind == "Experiment":
            if table.column("Image File", "Image Name") is None:
                self.error(rel, 1, "", "has no 'Image File' column, so no row says which image it describes")
            if table.column("Dataset Name") is None:
                self.warn(rel, 1, "", "has no 'Dataset Name' column to group the images into datasets")
        else:
            self._check_first_columns(table, rel, ("Plate", "Well"))
        self._check_term_source_columns(table, rel)

    def _read_table(self, path: Path, rel: str, parse: Callable[[str], Table]) -> Table | None:
        try:
            table = parse(read_text(path))
        except UnicodeDecodeError as problem:
            self.error(rel, None, "", f"is not UTF-8 text ({problem.reason} at byte {problem.start})")
            return None
        if not table.header:
            self.error(rel, None, "", "is empty")
            return None
        return table

    def _check_row_widths(self, table: Table, rel: str) -> None:
        width = len(table.header)
        bad = [(line, len(cells)) for line, cells in table.rows if len(cells) != width]
        for line, count in bad[:MAX_ROW_FINDINGS]:
            self.error(rel, line, "", f"has {count} columns where the header has {width}")
        if len(bad) > MAX_ROW_FINDINGS:
            self.error(rel, None, "", f"{len(bad) - MAX_ROW_FINDINGS} more rows do not have {width} columns")

    def _check_first_columns(self, table: Table, rel: str, expected: tuple[str, ...]) -> None:
        first = [cell.casefold() for cell in table.header[: len(expected)]]
        if first != [name.casefold() for name in expected]:
            self.error(
                rel,
                1,
                "",
                "must start with the columns "
                + ", ".join(expected)
                + " (it starts with "
                + ", ".join(table.header[: len(expected)])
                + ")",
            )

    def _check_term_source_columns(self, table: Table, rel: str) -> None:
        """Term Source REF cells name declared Term Sources.

        Curated files of published studies use OBO ontologies their study file never declared
        (idr0032 annotates organism parts with PO); IDR resolves those by their prefix, so a
        well-known ontology only earns a warning, while an unknown name is an error.
        """
        columns = [index for index, cell in enumerate(table.header) if TERM_SOURCE_COLUMN.fullmatch(cell)]
        reported: set[str] = set()
        for line, cells in table.rows:
            if is_hint_row(cells):
                continue
            for index in columns:
                value = cells[index].strip() if index < len(cells) else ""
                if not value or value.casefold() in self.declared_sources or value.casefold() in reported:
                    continue
                reported.add(value.casefold())
                column = table.header[index]
                if known_term_source(value):
                    self.warn(
                        rel,
                        line,
                        column,
                        f"uses the Term Source {value}, which the study file does "
                        "not declare; add it to the 'Term Source Name' and 'Term Source URI' rows",
                    )
                else:
                    self.error(
                        rel,
                        line,
                        column,
                        f"uses the Term Source {value}, which the study file does "
                        "not declare and which is not an ontology we know",
                    )

    def _check_annotation(self, kind: SectionKind, folder: str, name: str) -> Table | None:
        path = self.folder / folder / name
        if not path.is_file():
            return None
        rel = f"{folder}/{name}"
        table = self._read_table(path, rel, parse_csv)
        if table is None:
            return None
        self._check_first_columns(
            table, rel, ("Dataset Name", "Image Name") if kind == "Experiment" else ("Plate", "Well")
        )
        self._check_row_widths(table, rel)
        self._check_term_source_columns(table, rel)
        return table

    # -- bulk.yml and the files it imports -----------------------------------------------------

    def _check_import_files(self, kind: SectionKind, folder: str) -> _ImportList | None:
        base = self.folder / folder
        bulk_name = component_file(self.accession, folder, "bulk.yml")
        checked: set[str] = set()
        imported: _ImportList | None = None
        if (base / bulk_name).is_file():
            imported = self._check_bulk(base, folder, bulk_name, checked)
        defaults = {"filePaths.tsv": None, "plates.tsv": ["name", "path"]}
        for suffix, columns in defaults.items():
            name = component_file(self.accession, folder, suffix)
            if name in checked or not (base / name).is_file():
                continue
            rows = self._read_import_rows(base / name, f"{folder}/{name}")
            if rows is None:
                continue
            if columns is None:
                widths = {len(cells) for _, cells in rows}
                columns = ["target", "path", "name"] if widths == {3} else ["target", "path"]
            listed = self._check_import_rows(rows, f"{folder}/{name}", columns, base)
            imported = imported or listed
        return imported

    def _check_bulk(self, base: Path, folder: str, name: str, checked: set[str]) -> _ImportList | None:
        rel = f"{folder}/{name}"
        merged = self._load_bulk_chain(base / name, rel)
        if merged is None:
            return None
        for key in merged:
            if key in BULK_CREDENTIAL_KEYS:
                self.error(rel, None, key, "holds credentials; they do not belong in a submission file")
            elif key not in BULK_SPECIAL_KEYS and key not in BULK_OPTION_KEYS:
                self.error(rel, None, key, "is not an option of omero import, which stops on unknown keys")
        skip = merged.get("skip", [])
        for value in skip if isinstance(skip, list) else [skip]:
            if value not in BULK_SKIP_CHOICES:
                self.error(
                    rel, None, "skip", f"'{value}' is not one of {', '.join(sorted(BULK_SKIP_CHOICES))}"
                )
        if "output" in merged and merged["output"] not in BULK_OUTPUT_CHOICES:
            self.error(rel, None, "output", f"'{merged['output']}' is not one of ids, legacy, yaml")
        target = merged.get("target")
        if target is not None and not (isinstance(target, str) and IMPORT_TARGET.fullmatch(target)):
            self.error(
                rel,
                None,
                "target",
                f"'{target}' is not an import target such as Dataset:name:NAME or Screen:name:NAME",
            )
        columns = merged.get("columns")
        if columns is not None and not (
            isinstance(columns, list) and all(isinstance(c, str) for c in columns)
        ):
            self.error(rel, None, "columns", "must be a list of column names")
            return None
        if columns is not None:
            for column in columns:
                if column != "path" and column not in BULK_OPTION_KEYS:
                    self.error(rel, None, "columns", f"'{column}' is not an import option a column can set")
            if "path" not in columns:
                self.error(rel, None, "columns", "has no 'path' column, so no row says which file to import")
                return None
        path_value = merged.get("path")
        if not isinstance(path_value, str) or not path_value:
            self.error(rel, None, "path", "is missing: bulk.yml must name the file listing what to import")
            return None
        listed = base / path_value
        if not listed.is_file():
            self.error(rel, None, "path", f"names {path_value}, which is not in {folder}/")
            return None
        checked.add(listed.name)
        listed_rel = f"{folder}/{path_value}"
        rows = self._read_import_rows(listed, listed_rel)
        if rows is None:
            return None
        return self._check_import_rows(rows, listed_rel, columns or ["path"], base)

    def _load_bulk_chain(self, path: Path, rel: str) -> dict[str, Any] | None:
        """The bulk settings after following ``include``: as in omero, the including file wins."""
        chain: list[dict[str, Any]] = []
        seen: set[Path] = set()
        current: Path | None = path
        while current is not None:
            resolved = current.resolve()
            if resolved in seen:
                self.error(rel, None, "include", f"includes itself through {current.name}")
                return None
            seen.add(resolved)
            try:
                data = yaml.safe_load(read_text(current))
            except (yaml.YAMLError, UnicodeDecodeError) as problem:
                self.error(rel, None, "", f"{current.name} is not valid YAML: {problem}")
                return None
            if not isinstance(data, dict):
                self.error(rel, None, "", f"{current.name} must hold key: value settings")
                return None
            chain.append(data)
            include = data.get("include")
            current = None
            if isinstance(include, str) and include:
                parent = resolved.parent / include
                if parent.is_file():
                    current = parent
                else:
                    self.warn(
                        rel,
                        None,
                        "include",
                        f"names {include}, which is not found from {rel}; its defaults could not be checked",
                    )
        merged: dict[str, Any] = {}
        for data in reversed(chain):
            merged.update(data)
        return merged

    def _read_import_rows(self, path: Path, rel: str) -> list[tuple[int, list[str]]] | None:
        try:
            text = read_text(path)
        except UnicodeDecodeError as problem:
            self.error(rel, None, "", f"is not UTF-8 text ({problem.reason} at byte {problem.start})")
            return None
        rows = [
            (number, line.split("\t"))
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
        if not rows:
            self.error(rel, None, "", "is empty: it imports nothing")
        return rows

    def _check_import_rows(
        self, rows: list[tuple[int, list[str]]], rel: str, columns: list[str], base: Path
    ) -> _ImportList:
        listed = _ImportList()
        problems: Counter[str] = Counter()
        seen_paths: dict[str, int] = {}
        seen_names: dict[tuple[str, str], int] = {}

        def report(kind: str, line: int, key: str, message: str) -> None:
            problems[kind] += 1
            if problems[kind] <= MAX_ROW_FINDINGS:
                self.error(rel, line, key, message)

        for line, raw in rows:
            cells = [cell.strip() for cell in raw]
            if len(cells) < len(columns):
                report(
                    "width",
                    line,
                    "",
                    f"has {len(cells)} tab-separated columns but needs {len(columns)} ({', '.join(columns)})",
                )
                continue
            if len(cells) > len(columns):
                report(
                    "width",
                    line,
                    "",
                    f"has {len(cells)} tab-separated columns but bulk.yml names only "
                    f"{len(columns)} ({', '.join(columns)}); omero would ignore the rest",
                )
                continue
            row = dict(zip(columns, cells, strict=True))
            dataset = ""
            if "target" in row:
                match = IMPORT_TARGET.fullmatch(row["target"])
                if match is None:
                    report(
                        "target",
                        line,
                        "target",
                        f"'{row['target']}' is not an import target: write "
                        "Dataset:name:NAME, Project:name:PROJECT/Dataset:name:NAME or Screen:name:NAME",
                    )
                    continue
                dataset = match.group("dataset") or match.group("screen") or ""
                project = match.group("project")
                if project and self.study_name and not project.startswith(self.study_name + "/"):
                    report(
                        "project",
                        line,
                        "target",
                        f"imports into the project {project}, not into one of {self.study_name}",
                    )
            path_problem = self._import_path_problem(row["path"], base)
            if path_problem:
                report("path", line, "path", path_problem)
                continue
            if row["path"] in seen_paths:
                report(
                    "duplicate",
                    line,
                    "path",
                    f"imports {row['path']} a second time (first on line {seen_paths[row['path']]})",
                )
                continue
            seen_paths[row["path"]] = line
            name = row.get("name") or PurePosixPath(row["path"]).name
            if (dataset, name) in seen_names:
                where = f"the dataset {dataset}" if dataset else "this list"
                report(
                    "duplicate",
                    line,
                    "name",
                    f"gives a second image the name {name} in {where} (first "
                    f"on line {seen_names[dataset, name]}); annotations could not tell them apart",
                )
                continue
            seen_names[dataset, name] = line
            listed.images.add((dataset, name))
        for kind, count in problems.items():
            if count > MAX_ROW_FINDINGS:
                self.error(
                    rel,
                    None,
                    "",
                    f"{count - MAX_ROW_FINDINGS} more rows have the same kind of problem ({kind})",
                )
        return listed

    @staticmethod
    def _import_path_problem(value: str, base: Path) -> str | None:
        if not value:
            return "has no file path"
        if "\\" in value:
            return f"'{value}' uses backslashes; IDR paths are POSIX paths with /"
        path = PurePosixPath(value)
        if ".." in path.parts and path.is_absolute():
            return f"'{value}' contains '..'; write the absolute path without it"
        if not path.is_absolute() and not (base / value).exists():
            return (
                f"'{value}' is a relative path that does not exist from this folder; IDR imports "
                "absolute paths below its upload folder"
            )
        return None

    def _cross_check(
        self, kind: SectionKind, folder: str, name: str, annotation: Table, imported: _ImportList
    ) -> None:
        """annotation.csv describes images (or plates) that the import list brings in."""
        rel = f"{folder}/{name}"
        if kind == "Experiment":
            if not all(dataset for dataset, _ in imported.images):
                return  # a list without Dataset targets cannot be matched row by row
            missing = [
                (line, (cells[0], cells[1]))
                for line, cells in annotation.rows
                if len(cells) > 1 and (cells[0], cells[1]) not in imported.images
            ]
            what = "an image"
        else:
            plates = {plate for _, plate in imported.images}
            missing = [
                (line, ("", cells[0])) for line, cells in annotation.rows if cells and cells[0] not in plates
            ]
            what = "a plate"
        if missing:
            line, (dataset, image) = missing[0]
            label = f"{dataset}/{image}" if dataset else image
            self.warn(
                rel,
                line,
                "",
                f"{len(missing)} row(s) describe {what} that the import list does not "
                f"bring in, the first being {label}",
            )
