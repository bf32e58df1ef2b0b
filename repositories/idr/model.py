"""An IDR study as plain data: what the writer turns into files and the reader gets back.

The shapes follow IDR's curation templates (IDR/idr0000-lastname-example): one study with
contacts, publications, licence and release date, and numbered components that are either
experiments (images grouped in datasets, described row by row in the assays file) or
screens (plates and wells, described in the library file). Ontology terms are written as
three cells (name, Term Source REF, Term Accession), so a term carries all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import ClassVar, Literal

PLACEHOLDER_ACCESSION = "idr0000"
ACCESSION_PATTERN = re.compile(r"idr\d{4}")

ComponentKind = Literal["Experiment", "Screen"]

# URIs as IDR's own study files declare them. A Term Source REF names one of these; the
# lookup is case-insensitive because IDR files write FBbi both as "FBbi" and "Fbbi".
KNOWN_TERM_SOURCES: dict[str, str] = {
    "NCBITaxon": "http://purl.obolibrary.org/obo/",
    "EFO": "http://www.ebi.ac.uk/efo/",
    "CMPO": "http://www.ebi.ac.uk/cmpo/",
    "FBbi": "http://purl.obolibrary.org/obo/",
    "OBI": "http://purl.obolibrary.org/obo/",
    "PO": "http://purl.obolibrary.org/obo/",
    "CL": "http://purl.obolibrary.org/obo/",
    "UBERON": "http://purl.obolibrary.org/obo/",
    "GO": "http://purl.obolibrary.org/obo/",
    "CHEBI": "http://purl.obolibrary.org/obo/",
    "PATO": "http://purl.obolibrary.org/obo/",
    "UO": "http://purl.obolibrary.org/obo/",
    "BTO": "http://purl.obolibrary.org/obo/",
    "FBbt": "http://purl.obolibrary.org/obo/",
    "ZFA": "http://purl.obolibrary.org/obo/",
    "MONDO": "http://purl.obolibrary.org/obo/",
    "HP": "http://purl.obolibrary.org/obo/",
    "SO": "http://purl.obolibrary.org/obo/",
    "EDAM": "http://edamontology.org/",
}


def known_term_source(name: str) -> str | None:
    """The canonical spelling of a well-known Term Source, whatever the case it is written in."""
    folded = name.casefold()
    return next((known for known in KNOWN_TERM_SOURCES if known.casefold() == folded), None)


@dataclass(frozen=True)
class Term:
    """An ontology term: its label, the Term Source REF and the accession (``FBbi_00000246``)."""

    name: str
    source: str = ""
    accession: str = ""


@dataclass(frozen=True)
class Contact:
    last_name: str
    first_name: str
    email: str = ""
    address: str = ""
    orcid: str = ""
    roles: tuple[str, ...] = ("submitter",)


@dataclass(frozen=True)
class Publication:
    title: str
    authors: str  # IDR keeps one author list per publication: "Yang W, Schuster C, ..."
    pubmed_id: str = ""
    pmc_id: str = ""
    doi: str = ""


@dataclass(frozen=True)
class Protocol:
    name: str
    type: Term | None = None
    description: str = ""


@dataclass(frozen=True)
class Phenotype:
    name: str
    description: str = ""
    score_type: str = ""
    term: Term | None = None


@dataclass(frozen=True)
class Characteristic:
    """One annotated column of an assays or library row.

    ``column`` is the full header IDR uses, e.g. ``Characteristics [Organism]``,
    ``Experimental Condition [Target Gene]`` or ``Comment [Gene Symbol]``; a term's source and
    accession go into the ``Term Source N REF`` and ``Term Source N Accession`` columns after it.
    """

    column: str
    value: str
    source: str = ""
    accession: str = ""

    @classmethod
    def of(cls, name: str, term: Term) -> Characteristic:
        return cls(
            column=f"Characteristics [{name}]", value=term.name, source=term.source, accession=term.accession
        )


@dataclass(frozen=True)
class AssayImage:
    """One image of an experiment: the dataset it goes into and where it lies below the upload root."""

    dataset: str
    name: str
    path: PurePosixPath
    characteristics: tuple[Characteristic, ...] = ()
    source_name: str = ""


@dataclass(frozen=True)
class Plate:
    name: str
    path: PurePosixPath  # the plate's file or folder, relative to the upload root


@dataclass(frozen=True)
class Well:
    plate: str
    well: str  # "A1"
    characteristics: tuple[Characteristic, ...] = ()


@dataclass
class Component:
    description: str
    sample_type: str  # IDR's "Sample Type": cell, tissue, organism…
    imaging_methods: list[Term] = field(default_factory=list)
    organisms: list[Term] = field(default_factory=list)
    protocols: list[Protocol] = field(default_factory=list)
    phenotypes: list[Phenotype] = field(default_factory=list)
    comments: str = ""
    data_doi: str = ""


@dataclass
class Experiment(Component):
    kind: ClassVar[ComponentKind] = "Experiment"
    images: list[AssayImage] = field(default_factory=list)


@dataclass
class Screen(Component):
    kind: ClassVar[ComponentKind] = "Screen"
    screen_type: Term | None = None  # primary, secondary or validation screen
    technology_types: list[Term] = field(default_factory=list)
    library_type: Term | None = None
    library_manufacturer: str = ""
    library_version: str = ""
    plates: list[Plate] = field(default_factory=list)
    wells: list[Well] = field(default_factory=list)


@dataclass
class IdrStudy:
    title: str
    description: str
    study_type: Term | None
    name_suffix: str  # "lastname-example": the study folder is "<accession>-<name_suffix>"
    accession: str = PLACEHOLDER_ACCESSION  # IDR assigns the real number on acceptance
    key_words: list[str] = field(default_factory=list)
    external_url: str = ""
    release_date: date | None = None
    publications: list[Publication] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    licence: str = ""  # an SPDX id, an IDR-style name ("CC BY 4.0") or a licence URL
    copyright: str = ""
    data_publisher: str = ""
    data_doi: str = ""
    components: list[Experiment | Screen] = field(default_factory=list)
    # URIs for Term Sources the table above does not know, by the name used in the terms.
    term_sources: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.accession}-{self.name_suffix}"


def component_folder(kind: str, number: int) -> str:
    """IDR names components by their number across the study: 1 → ``experimentA`` (or ``screenA``)."""
    return f"{kind.lower()}{_letters(number)}"


def component_number(folder: str) -> int | None:
    """The number a folder name such as ``screenB`` stands for, or None for any other name."""
    match = re.fullmatch(r"(?:experiment|screen)([A-Z]+)", folder)
    if match is None:
        return None
    number = 0
    for letter in match.group(1):
        number = number * 26 + (ord(letter) - ord("A") + 1)
    return number


def _letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def component_file(accession: str, folder: str, suffix: str) -> str:
    """``idr0032-experimentA-assays.txt`` from (``idr0032``, ``experimentA``, ``assays.txt``)."""
    return f"{accession}-{folder}-{suffix}"


def study_file(accession: str) -> str:
    return f"{accession}-study.txt"
