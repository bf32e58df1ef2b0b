"""Reads an IDR study folder back into an ``IdrStudy``.

It keeps what the writer can write again: the study section, each component's terms,
protocols and phenotypes, the images of the assays file and the wells and plates of a
screen. Curators' extras (processed data, feature files, rendering settings) are left out.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path, PurePosixPath

from repositories.idr.identifiers import date_problem
from repositories.idr.model import (
    AssayImage,
    Characteristic,
    Component,
    Contact,
    Experiment,
    IdrStudy,
    Phenotype,
    Plate,
    Protocol,
    Publication,
    Screen,
    Term,
    Well,
    component_file,
    component_folder,
)
from repositories.idr.studyfile import Section, Table, is_hint_row, parse_study_text, parse_tsv, read_text

# Assay columns the model rebuilds from its own fields instead of carrying them as annotations.
STRUCTURAL_COLUMNS = frozenset(
    name.casefold()
    for name in (
        "Source Name",
        "Protocol REF",
        "Assay Name",
        "Dataset Name",
        "Image File",
        "Image Name",
        "Comment [Image File Path]",
        "Processed Data File",
        "Plate",
        "Well",
    )
)
TERM_COLUMN = re.compile(r"Term Source \d* ?(REF|Accession)", re.IGNORECASE)
IMPORT_TARGET_CELL = re.compile(r"(?:Project|Dataset|Screen):")


class IdrReadError(ValueError):
    """The folder cannot be read as an IDR study; the message says why."""


def read_study(folder: Path, *, upload_root: str | PurePosixPath = "/") -> IdrStudy:
    """The study in ``folder``; absolute image and plate paths become relative to ``upload_root``."""
    studies = sorted(
        path for path in folder.glob("idr*-study.txt") if re.fullmatch(r"idr\d{4}-study\.txt", path.name)
    )
    if len(studies) != 1:
        raise IdrReadError(f"{folder} must hold exactly one idrNNNN-study.txt file (found {len(studies)})")
    parsed = parse_study_text(read_text(studies[0]))
    section = parsed.study
    accession = section.value("Comment[IDR Study Accession]") or studies[0].name.removesuffix("-study.txt")
    root = PurePosixPath(upload_root)
    release = section.value("Study Public Release Date")
    study = IdrStudy(
        title=section.value("Study Title"),
        description=section.value("Study Description"),
        study_type=next(iter(_terms(section, "Study Type")), None),
        name_suffix=_name_suffix(folder, accession, parsed.components),
        accession=accession,
        key_words=[word for word in section.values("Study Key Words") if word],
        external_url=section.value("Study External URL"),
        release_date=date.fromisoformat(release) if release and not date_problem(release) else None,
        publications=_publications(section),
        contacts=_contacts(section),
        licence=section.value("Study License") or section.value("Study License URL"),
        copyright=section.value("Study Copyright"),
        data_publisher=section.value("Study Data Publisher"),
        data_doi=section.value("Study Data DOI"),
        term_sources=_term_sources(section),
    )
    study_organisms = _terms(section, "Study Organism")
    for number, block in enumerate(parsed.components, start=1):
        name = component_folder(block.kind, number)
        base = folder / name
        if block.kind == "Experiment":
            experiment = Experiment(description="", sample_type="")
            _fill_component(experiment, block, study_organisms)
            experiment.images = _images(base, accession, name, block, root)
            study.components.append(experiment)
        else:
            screen = Screen(description="", sample_type="")
            _fill_component(screen, block, study_organisms)
            _fill_screen(screen, base, accession, name, block, root)
            study.components.append(screen)
    return study


def _name_suffix(folder: Path, accession: str, components: list[Section]) -> str:
    for block in components:
        name = block.value(f"Comment[IDR {block.kind} Name]")
        if name.startswith(accession + "-") and "/" in name:
            return name.split("/")[0].removeprefix(accession + "-")
    return folder.name.removeprefix(accession + "-")


def _terms(
    section: Section, key: str, *, ref_key: str | None = None, accession_key: str | None = None
) -> list[Term]:
    names = section.values(key)
    refs = section.values(ref_key or f"{key} Term Source REF")
    accessions = section.values(accession_key or f"{key} Term Accession")
    return [
        Term(name=name, source=_at(refs, index), accession=_at(accessions, index))
        for index, name in enumerate(names)
        if name
    ]


def _at(values: list[str], index: int) -> str:
    return values[index] if index < len(values) else ""


def _publications(section: Section) -> list[Publication]:
    titles = section.values("Study Publication Title")
    authors = section.values("Study Author List")
    pubmed = section.values("Study PubMed ID")
    pmc = section.values("Study PMC ID")
    dois = section.values("Study DOI")
    return [
        Publication(
            title=title,
            authors=_at(authors, index),
            pubmed_id=_at(pubmed, index),
            pmc_id=_at(pmc, index),
            doi=_at(dois, index),
        )
        for index, title in enumerate(titles)
        if title
    ]


def _contacts(section: Section) -> list[Contact]:
    columns = {
        key: section.values(f"Study Person {key}")
        for key in ("First Name", "Email", "Address", "ORCID", "Roles")
    }
    contacts = []
    for index, last_name in enumerate(section.values("Study Person Last Name")):
        if not last_name:
            continue
        roles = tuple(
            role.strip() for role in re.split(r"[;,]", _at(columns["Roles"], index)) if role.strip()
        )
        contacts.append(
            Contact(
                last_name=last_name,
                first_name=_at(columns["First Name"], index),
                email=_at(columns["Email"], index),
                address=_at(columns["Address"], index),
                orcid=_at(columns["ORCID"], index),
                roles=roles,
            )
        )
    return contacts


def _term_sources(section: Section) -> dict[str, str]:
    names = section.values("Term Source Name")
    uris = section.values("Term Source URI") or section.values("Term Source File")
    return {name: _at(uris, index) for index, name in enumerate(names) if name and _at(uris, index)}


def _fill_component(component: Component, block: Section, study_organisms: list[Term]) -> None:
    kind = block.kind
    component.description = block.value(f"{kind} Description")
    component.sample_type = block.value(f"{kind} Sample Type")
    component.imaging_methods = _terms(block, f"{kind} Imaging Method")
    component.organisms = _terms(block, f"{kind} Organism") or list(study_organisms)
    component.comments = block.value(f"{kind} Comments")
    component.data_doi = block.value(f"{kind} Data DOI")
    protocol_types = _term_at(
        block, "Protocol Type", "Protocol Type Term Source REF", "Protocol Type Term Accession"
    )
    descriptions = block.values("Protocol Description")
    component.protocols = [
        Protocol(name=name, type=protocol_types(index), description=_at(descriptions, index))
        for index, name in enumerate(block.values("Protocol Name"))
        if name
    ]
    phenotype_terms = _term_at(
        block, "Phenotype Term Name", "Phenotype Term Source REF", "Phenotype Term Accession"
    )
    component.phenotypes = [
        Phenotype(
            name=name,
            description=_at(block.values("Phenotype Description"), index),
            score_type=_at(block.values("Phenotype Score Type"), index),
            term=phenotype_terms(index),
        )
        for index, name in enumerate(block.values("Phenotype Name"))
        if name
    ]


def _term_at(block: Section, key: str, ref_key: str, accession_key: str) -> Callable[[int], Term | None]:
    """The term in column ``index`` of a list whose names, sources and accessions are parallel rows."""
    names, refs, accessions = block.values(key), block.values(ref_key), block.values(accession_key)

    def term(index: int) -> Term | None:
        name = _at(names, index)
        return Term(name=name, source=_at(refs, index), accession=_at(accessions, index)) if name else None

    return term


def _table(base: Path, block: Section, key: str, conventional: str) -> Table:
    named = block.value(key)
    path = base / named if named and (base / named).is_file() else base / conventional
    if not path.is_file():
        raise IdrReadError(f"{base.name}/ has no {conventional}")
    return parse_tsv(read_text(path))


def _characteristics(table: Table, cells: list[str]) -> tuple[Characteristic, ...]:
    """Each annotated column of a row, with the Term Source columns that follow it."""
    found: list[Characteristic] = []
    for index, column in enumerate(table.header):
        value = cells[index].strip() if index < len(cells) else ""
        term = TERM_COLUMN.fullmatch(column)
        if term is not None:
            if found and value:
                last = found[-1]
                field = "source" if term.group(1).casefold() == "ref" else "accession"
                found[-1] = Characteristic(
                    column=last.column,
                    value=last.value,
                    source=value if field == "source" else last.source,
                    accession=value if field == "accession" else last.accession,
                )
            continue
        if column.casefold() in STRUCTURAL_COLUMNS or not column:
            found.append(Characteristic(column="", value=""))  # keeps term columns from attaching here
            continue
        found.append(Characteristic(column=column, value=value))
    # Blank cells are kept so that a rewritten table keeps the original's column order.
    return tuple(c for c in found if c.column)


def _relative(value: str, root: PurePosixPath) -> PurePosixPath:
    path = PurePosixPath(value)
    if path.is_absolute():
        return path.relative_to(root) if path.is_relative_to(root) else path.relative_to("/")
    return path


def _images(base: Path, accession: str, name: str, block: Section, root: PurePosixPath) -> list[AssayImage]:
    table = _table(base, block, "Experiment Assay File", component_file(accession, name, "assays.txt"))
    dataset_column = table.column("Dataset Name")
    image_column = table.column("Image File", "Image Name")
    path_column = table.column("Comment [Image File Path]")
    source_column = table.column("Source Name")
    if image_column is None:
        raise IdrReadError(f"the assays file of {name} has no 'Image File' column")
    images = []
    for _, cells in table.rows:
        if is_hint_row(cells):
            continue
        image = _at(cells, image_column).strip()
        path = _at(cells, path_column).strip() if path_column is not None else ""
        images.append(
            AssayImage(
                dataset=_at(cells, dataset_column).strip() if dataset_column is not None else name,
                name=image,
                path=_relative(path, root) if path else PurePosixPath(image),
                characteristics=_characteristics(table, cells),
                source_name=_at(cells, source_column).strip() if source_column is not None else "",
            )
        )
    return images


def _fill_screen(
    screen: Screen, base: Path, accession: str, name: str, block: Section, root: PurePosixPath
) -> None:
    screen.screen_type = next(iter(_terms(block, "Screen Type")), None)
    technology_ref = (
        "Screen Technology Type Term Source REF"
        if block.entry("Screen Technology Type Term Source REF")
        else "Screen Technology Term Source REF"
    )
    screen.technology_types = _terms(
        block,
        "Screen Technology Type",
        ref_key=technology_ref,
        accession_key=technology_ref.replace("Term Source REF", "Term Accession"),
    )
    screen.library_type = next(iter(_terms(block, "Library Type")), None)
    screen.library_manufacturer = block.value("Library Manufacturer")
    screen.library_version = block.value("Library Version")
    table = _table(base, block, "Library File Name", component_file(accession, name, "library.txt"))
    for _, cells in table.rows:
        if is_hint_row(cells):
            continue
        screen.wells.append(
            Well(
                plate=_at(cells, 0).strip(),
                well=_at(cells, 1).strip(),
                characteristics=_characteristics(table, cells),
            )
        )
    plates_file = base / component_file(accession, name, "plates.tsv")
    if plates_file.is_file():
        for line in read_text(plates_file).splitlines():
            cells = [cell.strip() for cell in line.split("\t")]
            if len(cells) < 2 or not cells[1]:
                continue
            path = _plate_path(cells[1], name, root)
            plate = path.name if IMPORT_TARGET_CELL.match(cells[0]) else cells[0]
            screen.plates.append(Plate(name=plate, path=path))
    else:
        names = dict.fromkeys(well.plate for well in screen.wells)
        screen.plates = [Plate(name=plate, path=PurePosixPath(plate)) for plate in names]


def _plate_path(value: str, component: str, root: PurePosixPath) -> PurePosixPath:
    """Plate paths relative to the upload root; relative ones are resolved from the component folder."""
    if PurePosixPath(value).is_absolute():
        return _relative(value, root)
    normal = posixpath.normpath(posixpath.join(component, value))
    if normal.startswith(".."):
        raise IdrReadError(f"the plate path {value} of {component} leads outside the study folder")
    return PurePosixPath(normal)
