"""Writes an ``IdrStudy`` as the folder IDR asks submitters for.

Layout (for a study ``idr0000-lastname-topic`` with one experiment and one screen)::

    idr0000-lastname-topic/
        idr0000-study.txt
        experimentA/  idr0000-experimentA-assays.txt, -annotation.csv, -filePaths.tsv, -bulk.yml
        screenB/      idr0000-screenB-library.txt, -annotation.csv, -plates.tsv, -bulk.yml

``idr0000`` stands in until IDR assigns the accession. Image data are never copied: the
filePaths.tsv and plates.tsv rows point below ``upload_root``, the absolute folder under
which IDR will see the uploaded files.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from repositories.idr.identifiers import licence_id, licence_label, licence_url
from repositories.idr.model import (
    ACCESSION_PATTERN,
    KNOWN_TERM_SOURCES,
    Characteristic,
    Experiment,
    IdrStudy,
    Screen,
    Term,
    component_file,
    component_folder,
    known_term_source,
    study_file,
)

# IDR's own defaults for importing in place (idr-metadata bulk.yml).
BULK_DEFAULTS: dict[str, Any] = {
    "continue": "true",
    "transfer": "ln_s",
    "exclude": "clientpath",
    "checksum_algorithm": "File-Size-64",
}
NAME_SUFFIX = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
WELL = re.compile(r"[A-Z]{1,2}\d{1,3}")
# What would split a cell when the file is read back: tabs, and whatever str.splitlines ends a line at.
CELL_BREAKS = re.compile(r"[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")

Row = list[str]


class IdrWriteError(ValueError):
    """The study cannot be written as IDR files; the message says what to change."""


@dataclass(frozen=True)
class WrittenStudy:
    folder: Path
    files: list[Path]


def write_study(
    study: IdrStudy, *, output: Path, upload_root: str | PurePosixPath, overwrite: bool = False
) -> WrittenStudy:
    """Write ``study`` into ``output/<accession>-<name_suffix>/`` and return what was written.

    Raises ``IdrWriteError`` before writing anything when the study cannot be expressed in
    IDR's files (no components, unsafe paths, clashing image names, unknown Term Sources).
    """
    root = _upload_root(upload_root)
    _validate(study)
    sources = _term_sources(study)
    folder = output / study.name
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise IdrWriteError(f"{folder} already exists and is not empty; choose another output folder")
    folder.mkdir(parents=True, exist_ok=True)
    files = [_write_text(folder / study_file(study.accession), _tsv(_study_rows(study, sources)))]
    for number, component in enumerate(study.components, start=1):
        name = component_folder(component.kind, number)
        (folder / name).mkdir(exist_ok=True)
        if isinstance(component, Experiment):
            files += _write_experiment(study, component, folder / name, name, root)
        else:
            files += _write_screen(study, component, folder / name, name, root)
    return WrittenStudy(folder=folder, files=files)


# -- checks before writing ---------------------------------------------------------------------


def _upload_root(value: str | PurePosixPath) -> PurePosixPath:
    root = PurePosixPath(value)
    if not root.is_absolute() or ".." in root.parts:
        raise IdrWriteError(
            f"the upload root {value} must be an absolute path without '..', "
            "such as /uod/idr/filesets/idr0000-lastname-topic"
        )
    return root


def _validate(study: IdrStudy) -> None:
    if not ACCESSION_PATTERN.fullmatch(study.accession):
        raise IdrWriteError(f"'{study.accession}' is not an IDR accession; use idr0000 until IDR assigns one")
    if not NAME_SUFFIX.fullmatch(study.name_suffix):
        raise IdrWriteError(
            f"the study name '{study.name_suffix}' must be lower-case words joined by "
            "hyphens, such as lastname-topic"
        )
    if not study.components:
        raise IdrWriteError("the study has no experiment or screen to describe")
    for number, component in enumerate(study.components, start=1):
        label = f"{component.kind.lower()} {number}"
        if isinstance(component, Experiment):
            _validate_experiment(component, label)
        else:
            _validate_screen(component, label)


def _validate_experiment(experiment: Experiment, label: str) -> None:
    if not experiment.images:
        raise IdrWriteError(f"{label} has no images")
    seen: set[tuple[str, str]] = set()
    for image in experiment.images:
        _check_path(image.path, f"the image {image.name} of {label}")
        for value, what in ((image.dataset, "dataset name"), (image.name, "image name")):
            if not value.strip() or _unwritable(value):
                raise IdrWriteError(
                    f"{label} has an image with the {what} '{value}', which is empty or "
                    "contains a tab or line break"
                )
        if (image.dataset, image.name) in seen:
            raise IdrWriteError(f"{label} has two images named {image.name} in the dataset {image.dataset}")
        seen.add((image.dataset, image.name))


def _validate_screen(screen: Screen, label: str) -> None:
    if not screen.plates:
        raise IdrWriteError(f"{label} has no plates")
    names = [plate.name for plate in screen.plates]
    for plate in screen.plates:
        _check_path(plate.path, f"the plate {plate.name} of {label}")
        if not plate.name.strip() or _unwritable(plate.name):
            raise IdrWriteError(f"{label} has a plate named '{plate.name}', which is empty or contains a tab")
    if len(set(names)) != len(names):
        raise IdrWriteError(f"{label} has two plates with the same name")
    seen: set[tuple[str, str]] = set()
    for well in screen.wells:
        if well.plate not in names:
            raise IdrWriteError(
                f"{label} describes well {well.well} of the plate {well.plate}, "
                "which is not one of its plates"
            )
        if not WELL.fullmatch(well.well):
            raise IdrWriteError(f"'{well.well}' is not a well position such as A1 ({label})")
        if (well.plate, well.well) in seen:
            raise IdrWriteError(f"{label} describes well {well.well} of {well.plate} twice")
        seen.add((well.plate, well.well))


def _check_path(path: PurePosixPath, what: str) -> None:
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise IdrWriteError(
            f"{what} has the path '{path}'; paths are relative to the upload root, without '..'"
        )
    if _unwritable(str(path)):
        raise IdrWriteError(f"{what} has a tab or line break in its path, which IDR's lists cannot hold")


def _unwritable(value: str) -> bool:
    return any(char in value for char in "\t\r\n")


def _term_sources(study: IdrStudy) -> dict[str, str]:
    """Every Term Source the study uses, in order of first use, with its URI."""
    extra = {name.casefold(): uri for name, uri in study.term_sources.items()}
    sources: dict[str, str] = {}
    spelled: set[str] = set()
    for source in _used_sources(study):
        if source.casefold() in spelled:
            continue
        spelled.add(source.casefold())
        known = known_term_source(source)
        uri = extra.get(source.casefold()) or (KNOWN_TERM_SOURCES[known] if known else None)
        if uri is None:
            raise IdrWriteError(
                f"the Term Source {source} is not one we know; give its URI in the study's term_sources"
            )
        sources[source] = uri
    return sources


def _used_sources(study: IdrStudy) -> Iterable[str]:
    terms: list[Term | None] = [study.study_type]
    characteristics: list[Characteristic] = []
    for component in study.components:
        terms += [*component.imaging_methods, *component.organisms]
        terms += [protocol.type for protocol in component.protocols]
        terms += [phenotype.term for phenotype in component.phenotypes]
        if isinstance(component, Experiment):
            characteristics += [c for image in component.images for c in image.characteristics]
        else:
            terms += [component.screen_type, *component.technology_types, component.library_type]
            characteristics += [c for well in component.wells for c in well.characteristics]
    for term in terms:
        if term is not None and term.source:
            yield term.source
    for characteristic in characteristics:
        if characteristic.source:
            yield characteristic.source


# -- the study file ----------------------------------------------------------------------------


def _cell(value: str) -> str:
    """One spreadsheet cell: IDR's files have no line breaks or tabs inside values, so each run of
    them becomes one space. Other whitespace is the value's own (real curated values carry double
    spaces) and is kept; only the ends are trimmed, as the reader trims them."""
    value = CELL_BREAKS.sub(" ", value).strip()
    if value.startswith("#"):
        raise IdrWriteError(f"the value '{value[:40]}' starts with #, which IDR reads as a template hint")
    return value


def _tsv(rows: Sequence[Row]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


def _line(key: str, *values: str) -> Row:
    return [key, *(_cell(value) for value in values)]


def _term_lines(key: str, terms: Sequence[Term | None], *, accession_key: str | None = None) -> list[Row]:
    """The three lines of a list of terms: names, then Term Source REF, then Term Accession."""
    present = [term or Term(name="") for term in terms]
    return [
        _line(key, *(term.name for term in present)),
        _line(f"{key} Term Source REF", *(term.source for term in present)),
        _line(accession_key or f"{key} Term Accession", *(term.accession for term in present)),
    ]


def _shared_organisms(study: IdrStudy) -> list[Term]:
    """Organisms go to the study section when every component has the same ones (IDR wants one place)."""
    first = study.components[0].organisms
    if first and all(component.organisms == first for component in study.components):
        return list(first)
    return []


def _study_rows(study: IdrStudy, sources: dict[str, str]) -> list[Row]:
    shared = _shared_organisms(study)
    experiments = sum(isinstance(component, Experiment) for component in study.components)
    screens = len(study.components) - experiments
    spdx = licence_id(study.licence) if study.licence else None
    publications = study.publications
    rows: list[Row] = [
        ["# Study"],
        _line("Comment[IDR Study Accession]", study.accession),
        _line("Study Title", study.title),
        *_term_lines("Study Type", [study.study_type]),
        _line("Study Description", study.description),
        _line("Study Key Words", *study.key_words),
        *_term_lines("Study Organism", shared),
    ]
    if experiments:
        rows.append(_line("Study Experiments Number", str(experiments)))
    if screens:
        rows.append(_line("Study Screens Number", str(screens)))
    rows += [
        _line("Study External URL", study.external_url),
        _line("Study Public Release Date", study.release_date.isoformat() if study.release_date else ""),
        [],
        ["# Study Publication"],
        _line("Study PubMed ID", *(p.pubmed_id for p in publications)),
        _line("Study Publication Title", *(p.title for p in publications)),
        _line("Study Author List", *(p.authors for p in publications)),
        _line("Study PMC ID", *(p.pmc_id for p in publications)),
        _line("Study DOI", *(p.doi for p in publications)),
        [],
        ["# Study Contacts"],
        _line("Study Person Last Name", *(c.last_name for c in study.contacts)),
        _line("Study Person First Name", *(c.first_name for c in study.contacts)),
        _line("Study Person Email", *(c.email for c in study.contacts)),
        _line("Study Person Address", *(c.address for c in study.contacts)),
        _line("Study Person ORCID", *(c.orcid for c in study.contacts)),
        _line("Study Person Roles", *("; ".join(c.roles) for c in study.contacts)),
        [],
        ["# Study License and Data DOI"],
        _line("Study License", licence_label(spdx) if spdx else study.licence),
        _line("Study License URL", licence_url(spdx) if spdx else ""),
        _line("Study Copyright", study.copyright),
        _line("Study Data Publisher", study.data_publisher),
        _line("Study Data DOI", study.data_doi),
        [],
        ["# Term Sources"],
        _line("Term Source Name", *sources),
        _line("Term Source URI", *sources.values()),
    ]
    for number, component in enumerate(study.components, start=1):
        rows += [[], []]
        if isinstance(component, Experiment):
            rows += _experiment_rows(study, component, number, shared)
        else:
            rows += _screen_rows(study, component, number, shared)
    return rows


def _component_head(
    study: IdrStudy, component: Experiment | Screen, number: int, size: list[str]
) -> list[Row]:
    kind = component.kind
    return [
        [f"# {kind}"],
        _line(f"{kind} Number", str(number)),
        _line(f"Comment[IDR {kind} Name]", f"{study.name}/{component_folder(kind, number)}"),
        _line(f"{kind} Description", component.description),
        _line(f"{kind} Sample Type", component.sample_type),
        _line(f"{kind} Size", *size),
        _line(f"{kind} Example Images"),
        *_term_lines(f"{kind} Imaging Method", component.imaging_methods),
    ]


def _component_tail(component: Experiment | Screen, shared: list[Term]) -> list[Row]:
    kind = component.kind
    rows: list[Row] = []
    if not shared:
        rows += _term_lines(f"{kind} Organism", component.organisms)
    rows.append(_line(f"{kind} Comments", component.comments))
    if component.data_doi:
        rows.append(_line(f"{kind} Data DOI", component.data_doi))
    return rows


def _protocol_and_phenotype_rows(component: Experiment | Screen) -> list[Row]:
    protocols = component.protocols
    phenotypes = component.phenotypes
    types = [protocol.type or Term(name="") for protocol in protocols]
    terms = [phenotype.term or Term(name="") for phenotype in phenotypes]
    return [
        _line("Quality Control Description"),
        [],
        ["# Protocols"],
        _line("Protocol Name", *(protocol.name for protocol in protocols)),
        _line("Protocol Type", *(term.name for term in types)),
        _line("Protocol Type Term Source REF", *(term.source for term in types)),
        _line("Protocol Type Term Accession", *(term.accession for term in types)),
        _line("Protocol Description", *(protocol.description for protocol in protocols)),
        [],
        ["# Phenotypes"],
        _line("Phenotype Name", *(phenotype.name for phenotype in phenotypes)),
        _line("Phenotype Description", *(phenotype.description for phenotype in phenotypes)),
        _line("Phenotype Score Type", *(phenotype.score_type for phenotype in phenotypes)),
        _line("Phenotype Term Source REF", *(term.source for term in terms)),
        _line("Phenotype Term Name", *(term.name for term in terms)),
        _line("Phenotype Term Accession", *(term.accession for term in terms)),
    ]


def _experiment_rows(study: IdrStudy, experiment: Experiment, number: int, shared: list[Term]) -> list[Row]:
    folder = component_folder("Experiment", number)
    datasets = {image.dataset for image in experiment.images}
    size = [f"Datasets: {len(datasets)}", f"5D Images: {len(experiment.images)}"]
    return [
        *_component_head(study, experiment, number, size),
        *_component_tail(experiment, shared),
        [],
        ["# assay files"],
        _line("Experiment Assay File", component_file(study.accession, folder, "assays.txt")),
        _line("Experiment Assay File Format", "tab-delimited text"),
        _line("Assay Experimental Conditions"),
        _line("Assay Experimental Conditions Term Source REF"),
        _line("Assay Experimental Conditions Term Accession"),
        *_protocol_and_phenotype_rows(experiment),
    ]


def _screen_rows(study: IdrStudy, screen: Screen, number: int, shared: list[Term]) -> list[Row]:
    folder = component_folder("Screen", number)
    size = [f"Plates: {len(screen.plates)}"]
    return [
        *_component_head(study, screen, number, size),
        *_term_lines("Screen Technology Type", screen.technology_types),
        *_term_lines("Screen Type", [screen.screen_type]),
        *_component_tail(screen, shared),
        [],
        ["# Library"],
        _line("Library File Name", component_file(study.accession, folder, "library.txt")),
        _line("Library File Format", "tab-delimited text"),
        *_term_lines("Library Type", [screen.library_type]),
        _line("Library Manufacturer", screen.library_manufacturer),
        _line("Library Version", screen.library_version),
        _line("Library Experimental Conditions"),
        _line("Library Experimental Conditions Term Source REF"),
        _line("Library Experimental Conditions Term Accession"),
        *_protocol_and_phenotype_rows(screen),
    ]


# -- component files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    """The annotated columns of a set of rows: each column, and whether it carries a term."""

    names: list[str]
    with_terms: set[str]

    @classmethod
    def of(cls, rows: Iterable[Sequence[Characteristic]]) -> _Columns:
        names: list[str] = []
        with_terms: set[str] = set()
        for characteristics in rows:
            for characteristic in characteristics:
                if characteristic.column not in names:
                    names.append(characteristic.column)
                if characteristic.source or characteristic.accession:
                    with_terms.add(characteristic.column)
        return cls(names=names, with_terms=with_terms)

    def header(self) -> Row:
        header: Row = []
        number = 0
        for name in self.names:
            header.append(name)
            if name in self.with_terms:
                number += 1
                header += [f"Term Source {number} REF", f"Term Source {number} Accession"]
        return header

    def cells(self, characteristics: Sequence[Characteristic]) -> Row:
        by_column = {characteristic.column: characteristic for characteristic in characteristics}
        cells: Row = []
        for name in self.names:
            found = by_column.get(name)
            cells.append(_cell(found.value) if found else "")
            if name in self.with_terms:
                cells += [found.source, found.accession] if found else ["", ""]
        return cells


def _write_experiment(
    study: IdrStudy, experiment: Experiment, folder: Path, name: str, root: PurePosixPath
) -> list[Path]:
    columns = _Columns.of(image.characteristics for image in experiment.images)
    protocols = [protocol.name for protocol in experiment.protocols]
    assays: list[Row] = [
        [
            "Source Name",
            *columns.header(),
            *(["Protocol REF"] * len(protocols)),
            "Assay Name",
            "Dataset Name",
            "Image File",
            "Comment [Image File Path]",
        ]
    ]
    annotation: list[Row] = [["Dataset Name", "Image Name", *columns.header()]]
    file_paths: list[Row] = []
    for image in experiment.images:
        characteristics = columns.cells(image.characteristics)
        assays.append(
            [
                _cell(image.source_name or image.dataset),
                *characteristics,
                *(_cell(protocol) for protocol in protocols),
                _cell(image.name),
                image.dataset,
                image.path.name,
                str(image.path),
            ]
        )
        annotation.append([image.dataset, image.name, *characteristics])
        target = f"Project:name:{study.name}/{name}/Dataset:name:{image.dataset}"
        file_paths.append([target, str(root / image.path), image.name])
    file_paths_name = component_file(study.accession, name, "filePaths.tsv")
    return [
        _write_text(folder / component_file(study.accession, name, "assays.txt"), _tsv(assays)),
        _write_text(folder / component_file(study.accession, name, "annotation.csv"), _csv(annotation)),
        _write_text(folder / file_paths_name, _tsv(file_paths)),
        _write_text(
            folder / component_file(study.accession, name, "bulk.yml"),
            _bulk({"path": file_paths_name, "columns": ["target", "path", "name"]}),
        ),
    ]


def _write_screen(
    study: IdrStudy, screen: Screen, folder: Path, name: str, root: PurePosixPath
) -> list[Path]:
    columns = _Columns.of(well.characteristics for well in screen.wells)
    library: list[Row] = [["Plate", "Well", *columns.header()]]
    annotation: list[Row] = [["Plate", "Well", *columns.header()]]
    for well in screen.wells:
        characteristics = columns.cells(well.characteristics)
        library.append([well.plate, well.well, *characteristics])
        annotation.append([well.plate, well.well, *characteristics])
    plates = [[plate.name, str(root / plate.path)] for plate in screen.plates]
    plates_name = component_file(study.accession, name, "plates.tsv")
    return [
        _write_text(folder / component_file(study.accession, name, "library.txt"), _tsv(library)),
        _write_text(folder / component_file(study.accession, name, "annotation.csv"), _csv(annotation)),
        _write_text(folder / plates_name, _tsv(plates)),
        _write_text(
            folder / component_file(study.accession, name, "bulk.yml"),
            _bulk(
                {
                    "target": f"Screen:name:{study.name}/{name}",
                    "path": plates_name,
                    "columns": ["name", "path"],
                }
            ),
        ),
    ]


def _csv(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _bulk(settings: dict[str, Any]) -> str:
    return yaml.safe_dump({**settings, **BULK_DEFAULTS}, sort_keys=False, explicit_start=True)


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
