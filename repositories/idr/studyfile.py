"""Reading IDR's tab-separated files: the study file's key/value sections and the tables.

The study file is a spreadsheet saved as text: each line is ``Key<TAB>value<TAB>value…``,
several values of one key (people, publications, protocols) sit in successive columns,
lines starting with ``#`` are headings, and a line ``Experiment Number`` or ``Screen
Number`` opens the block of one component, which runs until the next such line. The
curation templates fill values with hints starting with ``#``; those count as blank.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SectionKind = Literal["Study", "Experiment", "Screen"]

STUDY_KEYS = frozenset(
    {
        "Comment[IDR Study Accession]",
        "Study Title",
        "Study Type",
        "Study Type Term Source REF",
        "Study Type Term Accession",
        "Study Description",
        "Study Key Words",
        "Study Organism",
        "Study Organism Term Source REF",
        "Study Organism Term Accession",
        "Study Experiments Number",
        "Study Screens Number",
        "Study External URL",
        "Study Public Release Date",
        "Study Version History",
        "Study BioStudies Accession",
        "Study BioImage Archive Accession",
        "Study EMPIAR Accession",
        "Study Publication Preprint",
        "Study PubMed ID",
        "Study Publication Title",
        "Study Author List",
        "Study PMC ID",
        "Study DOI",
        "Study Person Last Name",
        "Study Person First Name",
        "Study Person Email",
        "Study Person Address",
        "Study Person ORCID",
        "Study Person Roles",
        "Study License",
        "Study License URL",
        "Study Copyright",
        "Study Data Publisher",
        "Study Data DOI",
        "Term Source Name",
        "Term Source URI",
        "Term Source File",
        "Term Source Version",
    }
)
# Keys every component may carry, experiment or screen.
COMPONENT_KEYS = frozenset(
    {
        "Quality Control Description",
        "Protocol Name",
        "Protocol Type",
        "Protocol Type Term Source REF",
        "Protocol Type Term Accession",
        "Protocol Description",
        "Phenotype Name",
        "Phenotype Description",
        "Phenotype Score Type",
        "Phenotype Term Source REF",
        "Phenotype Term Name",
        "Phenotype Term Accession",
        "Raw Image Data Format",
        "Raw Image Organization",
        "Feature Level Data File Name",
        "Feature Level Data File Format",
        "Feature Level Data File Description",
        "Feature Level Data Column Name",
        "Feature Level Data Column Type",
        "Feature Level Data Column Description",
        "Processed Data File Name",
        "Processed Data File Format",
        "Processed Data File Description",
        "Processed Data Column Name",
        "Processed Data Column Type",
        "Processed Data Column Annotation Level",
        "Processed Data Column Description",
        "Processed Data Column Link To Assay File",
        "Processed Data Column Link To Library File",
    }
)
EXPERIMENT_KEYS = frozenset(
    {
        "Experiment Number",
        "Comment[IDR Experiment Name]",
        "Experiment Description",
        "Experiment Sample Type",
        "Experiment Size",
        "Experiment Example Images",
        "Experiment Imaging Method",
        "Experiment Imaging Method Term Source REF",
        "Experiment Imaging Method Term Accession",
        "Experiment Organism",
        "Experiment Organism Term Source REF",
        "Experiment Organism Term Accession",
        "Experiment Comments",
        "Experiment Data DOI",
        "Experiment Data Publisher",
        "Experiment Assay File",
        "Experiment Assay File Format",
        "Assay Experimental Conditions",
        "Assay Experimental Conditions Term Source REF",
        "Assay Experimental Conditions Term Accession",
    }
)
SCREEN_KEYS = frozenset(
    {
        "Screen Number",
        "Comment[IDR Screen Name]",
        "Screen Description",
        "Screen Sample Type",
        "Screen Size",
        "Screen Example Images",
        "Screen Imaging Method",
        "Screen Imaging Method Term Source REF",
        "Screen Imaging Method Term Accession",
        "Screen Technology Type",
        # Older study files (idr0025) drop "Type" from the two keys after it.
        "Screen Technology Term Source REF",
        "Screen Technology Term Accession",
        "Screen Technology Type Term Source REF",
        "Screen Technology Type Term Accession",
        "Screen Type",
        "Screen Type Term Source REF",
        "Screen Type Term Accession",
        "Screen Organism",
        "Screen Organism Term Source REF",
        "Screen Organism Term Accession",
        "Screen Comments",
        "Screen Data DOI",
        "Screen Data Publisher",
        "Library File Name",
        "Library File Format",
        "Library Type",
        "Library Type Term Source REF",
        "Library Type Term Accession",
        "Library Manufacturer",
        "Library Version",
        "Library Experimental Conditions",
        "Library Experimental Conditions Term Source REF",
        "Library Experimental Conditions Term Accession",
    }
)
COMMENT_KEY = re.compile(r"Comment\s*\[[^\]]+\]")
NUMBER_KEYS: dict[str, SectionKind] = {"Experiment Number": "Experiment", "Screen Number": "Screen"}


@dataclass
class Entry:
    key: str
    values: list[str]
    line: int
    hinted: bool = False  # a value was a template hint ("# fill in") and now counts as blank

    @property
    def first(self) -> str:
        return self.values[0] if self.values else ""


@dataclass
class Section:
    kind: SectionKind
    line: int
    entries: list[Entry] = field(default_factory=list)

    def entry(self, key: str) -> Entry | None:
        """The first line with ``key``: IDR's parser reads that one and ignores repeats."""
        return next((entry for entry in self.entries if entry.key == key), None)

    def value(self, key: str) -> str:
        entry = self.entry(key)
        return entry.first if entry else ""

    def values(self, key: str) -> list[str]:
        entry = self.entry(key)
        return list(entry.values) if entry else []


@dataclass
class StudyFile:
    study: Section
    components: list[Section]


def clean_cell(cell: str) -> tuple[str, bool]:
    """A cell's value without spreadsheet quoting, and whether it was a template hint."""
    cell = cell.strip()
    if len(cell) >= 2 and cell.startswith('"') and cell.endswith('"'):
        cell = cell[1:-1].replace('""', '"').strip()
    if cell.startswith("#"):
        return "", True
    return cell, False


def parse_study_text(text: str) -> StudyFile:
    study = Section(kind="Study", line=1)
    components: list[Section] = []
    current = study
    for number, line in enumerate(text.splitlines(), start=1):
        cells = line.split("\t")
        key, _ = clean_cell(cells[0])
        if not key:
            continue  # blank lines, headings and comments
        cleaned = [clean_cell(cell) for cell in cells[1:]]
        values = [value for value, _ in cleaned]
        while values and not values[-1]:
            values.pop()
        entry = Entry(key=key, values=values, line=number, hinted=any(hint for _, hint in cleaned))
        if key in NUMBER_KEYS:
            current = Section(kind=NUMBER_KEYS[key], line=number)
            components.append(current)
        current.entries.append(entry)
    return StudyFile(study=study, components=components)


def read_text(path: Path) -> str:
    """A file's text; IDR's files are UTF-8, and a BOM from a spreadsheet export is dropped."""
    return path.read_text(encoding="utf-8-sig")


@dataclass
class Table:
    """A tab- or comma-separated table: header cells, then (line number, cells) per data row."""

    header: list[str]
    rows: list[tuple[int, list[str]]]

    def column(self, *names: str) -> int | None:
        """Index of the first column with one of ``names`` (case-insensitive), or None."""
        folded = [name.casefold() for name in names]
        return next((i for i, cell in enumerate(self.header) if cell.casefold() in folded), None)


def parse_tsv(text: str) -> Table:
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        return Table(header=[], rows=[])
    header = [_unquote(cell) for cell in lines[0][1].split("\t")]
    rows = [(number, [_unquote(cell) for cell in line.split("\t")]) for number, line in lines[1:]]
    return Table(header=header, rows=rows)


def _unquote(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell.startswith('"') and cell.endswith('"'):
        return cell[1:-1].replace('""', '"')
    return cell


def is_hint_row(cells: list[str]) -> bool:
    """Template rows that only explain what to fill in: their first non-blank cell starts with ``#``."""
    first = next((cell for cell in cells if cell.strip()), "")
    return first.strip().startswith("#")


def parse_csv(text: str) -> Table:
    """A comma-separated table as IDR's annotation.csv files are written (RFC 4180 quoting)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if header is None:
                header = [cell.strip() for cell in cells]
            else:
                rows.append((line, cells))
        line = reader.line_num + 1
    return Table(header=header or [], rows=rows)
