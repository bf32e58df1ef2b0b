"""The Image Data Resource as a FAIRlight target: its rules, pre-flight, package and next steps.

A submission becomes one IDR study: each dataset's images form an experiment and its plates
(files the scan found plate metadata in) a screen, described from the REMBI records, the
project's authors and the per-image annotation columns. The package is the study folder IDR
asks for (written by ``write_study``), a SHA-256 manifest and a README; a build whose study
folder fails ``check_study_folder`` fails, so no package IDR would refuse is ever marked done.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.text import get_text_list, slugify

from metadata.imaging.errors import InspectionError
from metadata.imaging.formats import Format
from metadata.imaging.inspect import zarr_attrs
from metadata.imaging.ome import children_named
from metadata.models import ImageFile, RembiRecord
from metadata.services import dataset_folder
from repositories.base import (
    FilenameRules,
    Finding,
    Level,
    PreflightReport,
    RepositoryRules,
    RepositoryTarget,
)
from repositories.idr.checker import check_study_folder
from repositories.idr.identifiers import orcid_problem
from repositories.idr.model import (
    AssayImage,
    Characteristic,
    Contact,
    Experiment,
    IdrStudy,
    Plate,
    Protocol,
    Publication,
    Screen,
    Term,
    Well,
)
from repositories.idr.writer import IdrWriteError, write_study
from repositories.models import Submission
from repositories.packaging import (
    MANIFEST,
    README,
    DatasetDescription,
    Description,
    describe,
    name_parts,
    write_manifest,
    write_readme,
)
from repositories.preflight import shared_findings

IDR_RULES = RepositoryRules(
    format_flag="idr",
    # The IDR publishes under CC BY 4.0 by default, or CC0.
    licences=("CC-BY-4.0", "CC0-1.0"),
    # The IDR embargoes data until the paper appears and publishes no maximum; FAIRlight refuses
    # release dates more than five years ahead so that a mistyped year does not hide data for decades.
    max_embargo_days=5 * 365 + 1,
    filenames=FilenameRules(spaces=Level.WARNING, non_ascii=Level.ERROR),
    accession_pattern=r"idr\d{4}",
    accession_example="idr0123",
)
IDR_EMAIL = "idr@openmicroscopy.org"
# Where IDR's curators place an upload; they name the final folder when they assign the accession.
UPLOAD_BASE = PurePosixPath("/uod/idr/filesets")
# What the scan notes for a file holding high-content screening plates (metadata/imaging/inspect.py).
PLATE_NOTE = "High-content screening plate"
HIGH_CONTENT_SCREEN = Term("high content screen", "EFO", "EFO_0007550")
IMAGING_ASSAY = Term("imaging assay", "OBI", "OBI_0000185")
# Suffixes dropped from a plate file's name to name the plate in IDR.
PLATE_SUFFIXES = (".ome.zarr", ".zarr", ".ome.tiff", ".ome.tif", ".ome.xml", ".tiff", ".tif", ".xml")
# Columns whose header already says what they are ("Characteristics [Genotype]", "Comment [Well]").
BRACKETED_COLUMN = re.compile(r"\S.*\[.+\]")


@dataclass(frozen=True)
class PlateFile:
    """A file (or OME-Zarr folder) of a dataset that holds one plate, with its wells."""

    image: ImageFile
    upload_path: str
    name: str
    wells: list[str]
    problem: str = ""  # why the wells could not be read, in plain words


class IdrTarget(RepositoryTarget):
    key = "idr"
    label = "Image Data Resource"
    label_in_text = "the IDR"
    rules = IDR_RULES

    # -- pre-flight --------------------------------------------------------------------------

    def preflight(self, submission: Submission) -> PreflightReport:
        findings = shared_findings(submission, rules=self.rules, label=self.label_in_text)
        description = describe(submission)
        findings += _publication_findings(description.study_data)
        findings += _contact_findings(description.study_data)
        plates: list[PlateFile] = []
        for described in description.datasets:
            findings += _organism_findings(described)
            findings += _imaging_method_findings(described)
            found = plate_files(described)
            plates += found
            findings += _content_findings(described, found)
        findings += _scope_findings(plates)
        return PreflightReport(target=self.key, findings=findings)

    # -- the package -------------------------------------------------------------------------

    def build_package(self, submission: Submission, dest: Path) -> Path:
        description = describe(submission)
        study = idr_study(description)
        try:
            written = write_study(study, output=dest, upload_root=UPLOAD_BASE / study.name)
        except IdrWriteError as exc:
            raise ValidationError(f"The IDR study files could not be written: {exc}.") from None
        report = check_study_folder(written.folder)
        if not report.ok:
            shown = "; ".join(str(finding) for finding in report.errors[:5])
            more = f" (and {len(report.errors) - 5} more)" if len(report.errors) > 5 else ""
            raise ValidationError(
                "The IDR study files FAIRlight wrote break IDR's rules, so no package was made: "
                f"{shown}{more}."
            )
        write_manifest(dest, description)
        files = [path.relative_to(dest).as_posix() for path in written.files] + [MANIFEST, README]
        write_readme(
            dest, description=description, label=self.label, steps=self.next_steps(submission), files=files
        )
        return dest

    def next_steps(self, submission: Submission) -> list[str]:
        release = f"{submission.release_date:%Y-%m-%d}" if submission.release_date else "not set yet"
        return [
            f"E-mail the IDR curators ({IDR_EMAIL}) before uploading: describe the study, its size and "
            "formats and the paper it belongs to, and ask whether it fits the IDR; attach the study file "
            "(idr0000-study.txt) from the package.",
            "Upload the data files from their storage folders, keeping the folder structure, with Aspera "
            "(ascp) or FTP to the location and credentials the curators send you.",
            "Send the curators the package's study folder (study file, assays or library files, "
            "annotation.csv, filePaths.tsv or plates.tsv and bulk.yml) and the SHA-256 manifest; the "
            "paths in filePaths.tsv and plates.tsv assume the upload lands in "
            f"{UPLOAD_BASE}/idr0000-…, which the curators adjust.",
            "The curators check and import the data, assign the accession (idrNNNN) and release the study "
            f"with the paper; record the accession here. The release date is {release}.",
        ]


# -- what the datasets hold ------------------------------------------------------------------


def _files(described: DatasetDescription) -> QuerySet[ImageFile]:
    # The OME-XML stays behind: only plates need it, and it is read for them alone.
    return described.dataset.files.order_by("relative_path").only(
        "relative_path", "format", "is_image", "annotations", "metadata", "dataset_id"
    )


def _is_plate(image: ImageFile) -> bool:
    notes = image.metadata.get("notes", []) if isinstance(image.metadata, dict) else []
    return any(str(note).startswith(PLATE_NOTE) for note in notes)


def plate_files(described: DatasetDescription) -> list[PlateFile]:
    """The dataset's plate files with their wells, each named uniquely within the dataset."""
    found = [image for image in _files(described).iterator(chunk_size=2_000) if _is_plate(image)]
    stems = [_plate_stem(PurePosixPath(image.relative_path).name) for image in found]
    unique = len(set(stems)) == len(stems)
    plates = []
    for image, stem in zip(found, stems, strict=True):
        wells, problem = _wells(described, image)
        upload = described.upload_path(image.relative_path)
        # Clashing file names (plate1/data.zarr, plate2/data.zarr) are told apart by their folders.
        name = stem if unique else _plate_stem(upload).replace("/", "_")
        plates.append(PlateFile(image=image, upload_path=upload, name=name, wells=wells, problem=problem))
    return plates


def _plate_stem(path: str) -> str:
    name = path
    for suffix in PLATE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _well_name(row: int, column: int) -> str:
    """IDR's library and annotation files write wells as row letter and column number: A1, H12, AA3."""
    letters = ""
    number = row + 1
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"{letters}{column + 1}"


def _wells(described: DatasetDescription, image: ImageFile) -> tuple[list[str], str]:
    """The wells of a plate file, from its OME-XML or (for OME-Zarr) its plate metadata on disk."""
    if image.format == Format.OME_ZARR:
        return _zarr_wells(described, image)
    if not image.ome_xml_gz:
        return [], "the scan kept no OME-XML to read its wells from"
    try:
        root = parse_xml(zlib.decompress(bytes(image.ome_xml_gz)))
    except (ET.ParseError, DefusedXmlException, zlib.error):
        return [], "its OME-XML could not be read"
    plates = children_named(root, "Plate")
    if len(plates) != 1:
        return [], f"it holds {len(plates)} plates; IDR imports one plate per file"
    wells = []
    for well in children_named(plates[0], "Well"):
        try:
            wells.append(_well_name(int(well.attrib["Row"]), int(well.attrib["Column"])))
        except (KeyError, ValueError):
            return [], "a well in its OME-XML has no row or column number"
    return wells, ""


def _zarr_wells(described: DatasetDescription, image: ImageFile) -> tuple[list[str], str]:
    try:
        attrs = zarr_attrs(dataset_folder(described.dataset) / image.relative_path)
    except InspectionError as exc:
        return [], str(exc)
    plate = attrs.get("plate")
    if not isinstance(plate, dict):
        return [], "its plate metadata is missing from the folder"
    wells = []
    for well in plate.get("wells", []):
        row, column = well.get("rowIndex"), well.get("columnIndex")
        if isinstance(row, int) and isinstance(column, int):
            wells.append(_well_name(row, column))
        elif isinstance(well.get("path"), str) and "/" in well["path"]:
            # NGFF before 0.4 names wells only by path: "<row name>/<column name>".
            row_name, column_name = well["path"].split("/", 1)
            wells.append(f"{row_name}{column_name}")
        else:
            return [], "a well in its plate metadata has neither indices nor a row/column path"
    return wells, ""


def _experiment_images(described: DatasetDescription) -> Iterator[ImageFile]:
    for image in _files(described).filter(is_image=True).iterator(chunk_size=2_000):
        if not _is_plate(image):
            yield image


# -- pre-flight rules ------------------------------------------------------------------------


def _publication_findings(study: dict[str, Any]) -> list[Finding]:
    publications = study.get("related_publication") or []
    if not publications:
        return [
            Finding(
                Level.ERROR,
                "idr_publication",
                "The IDR publishes image data behind a publication, and the Study lists none.",
                "Add the paper under the Study's related publications; a manuscript you are about to "
                "submit counts too (give its title now, its DOI once it appears).",
            )
        ]
    unlisted = [str(p.get("title") or "?") for p in publications if not p.get("authors_name")]
    if unlisted:
        return [
            Finding(
                Level.ERROR,
                "idr_publication_authors",
                "The IDR lists the authors of each publication, and the Study gives none for "
                f"{get_text_list([f'“{title}”' for title in unlisted], 'and')}.",
                "Add the authors as the paper lists them (e.g. “Yang W, Schuster C, Wightman R”) "
                "to the publication in the Study.",
            )
        ]
    if not any(p.get("doi") or p.get("pubmed_id") for p in publications):
        return [
            Finding(
                Level.WARNING,
                "idr_publication_pending",
                "The Study's publication has no DOI or PubMed ID yet; "
                "the IDR releases the data with the paper.",
                "Add its DOI or PubMed ID to the Study once it is published.",
            )
        ]
    return [Finding(Level.OK, "idr_publication", "The Study names the publication the data belong to.")]


def _contact_findings(study: dict[str, Any]) -> list[Finding]:
    authors = study.get("author") or []
    findings = []
    for author in authors:
        orcid = str(author.get("orcid") or "")
        problem = orcid_problem(orcid) if orcid else None
        if problem:
            findings.append(
                Finding(
                    Level.ERROR,
                    "idr_orcid",
                    f"The ORCID iD {orcid} of {author.get('display_name', '?')} {problem}.",
                    "Correct it in the Study's authors.",
                )
            )
    if authors and not any(author.get("contact_email") for author in authors):
        findings.append(
            Finding(
                Level.WARNING,
                "idr_contact_email",
                "No author has an e-mail address; the IDR's curators write to the submitter.",
                "Add an e-mail address to at least one author in the Study.",
            )
        )
    return findings


def _linked(described: DatasetDescription, class_name: str) -> list[RembiRecord]:
    return described.records.get(class_name, [])


def _organism_findings(described: DatasetDescription) -> list[Finding]:
    findings = []
    for biosample in _linked(described, "Biosample"):
        taxa = biosample.data.get("organism_classification") or []
        without = [str(t.get("scientific_name", "?")) for t in taxa if not _taxon_term(t).accession]
        if without:
            findings.append(
                Finding(
                    Level.ERROR,
                    "idr_organism",
                    f"The IDR names organisms by NCBI Taxonomy; Biosample “{biosample.title}” gives no "
                    f"NCBITaxon identifier for {get_text_list(without, 'and')}.",
                    "Add the identifier (e.g. NCBITaxon:9606 for Homo sapiens) "
                    "to the organism in the Biosample.",
                )
            )
    return findings


def _imaging_method_findings(described: DatasetDescription) -> list[Finding]:
    findings = []
    for acquisition in _linked(described, "ImageAcquisition"):
        if not acquisition.data.get("fbbi_id"):
            findings.append(
                Finding(
                    Level.ERROR,
                    "idr_imaging_method",
                    f"The IDR names imaging methods by the FBbi ontology; Image Acquisition "
                    f"“{acquisition.title}” gives no FBbi identifier.",
                    "Add the FBbi identifier of each imaging method (e.g. FBbi:00000251 for confocal "
                    "microscopy) to the Image Acquisition.",
                )
            )
    return findings


def _content_findings(described: DatasetDescription, plates: list[PlateFile]) -> list[Finding]:
    dataset = described.dataset
    url = dataset.get_absolute_url()
    images = next(_experiment_images(described), None)
    if images is None and not plates:
        return [
            Finding(
                Level.ERROR,
                "idr_no_images",
                f"Dataset “{dataset}” holds no image the IDR could import.",
                "Add the images, in a format Bio-Formats reads, and scan the dataset again.",
                url,
            )
        ]
    findings = []
    for plate in plates:
        if plate.problem or not plate.wells:
            findings.append(
                Finding(
                    Level.ERROR,
                    "idr_plate_wells",
                    f"The wells of plate {plate.upload_path} cannot be listed: "
                    f"{plate.problem or 'its metadata describes no well'}.",
                    "The IDR's library file lists every well; export the plate with its plate layout.",
                    url,
                )
            )
    bare = [
        plate.upload_path for plate in plates if not any(str(v) for v in plate.image.annotations.values())
    ]
    if bare:
        findings.append(
            Finding(
                Level.ERROR,
                "idr_screen_annotation",
                "The IDR describes screens well by well (gene, siRNA, compound, treatment), and "
                f"{len(bare)} plate{'s have' if len(bare) != 1 else ' has'} no annotation: "
                f"{get_text_list(bare[:3], 'and')}{' and more' if len(bare) > 3 else ''}.",
                "Fill in the annotation columns of these plate files on the dataset page.",
                url,
            )
        )
    return findings


def _scope_findings(plates: list[PlateFile]) -> list[Finding]:
    if not plates:
        return [
            Finding(
                Level.WARNING,
                "idr_scope",
                "The IDR takes high-content screens and reference datasets of lasting value; "
                "data behind a single paper usually belong in the BioImage Archive.",
                f"Ask the curators ({IDR_EMAIL}) whether this dataset qualifies before uploading.",
            )
        ]
    return [
        Finding(
            Level.OK,
            "idr_scope",
            f"{len(plates)} plate{'s' if len(plates) != 1 else ''}: screens are what the IDR curates.",
        ),
        Finding(
            Level.WARNING,
            "idr_screen_details",
            "FAIRlight records annotations per file, so every well of a plate gets its plate's values, "
            "and it does not record whether a screen is primary, secondary or validation (the study "
            "file says “high content screen”).",
            "If the wells of a plate differ, send the curators the library (plate, well and reagent of "
            "each well), and tell them the screen type.",
        ),
    ]


# -- the IDR study ---------------------------------------------------------------------------


def _taxon_term(taxon: dict[str, Any]) -> Term:
    ncbi = str(taxon.get("ncbi_id") or "")
    name = str(taxon.get("scientific_name") or ncbi)
    if re.fullmatch(r"NCBITaxon:\d+", ncbi):
        return Term(name, "NCBITaxon", ncbi.replace(":", "_"))
    return Term(name)


def _organisms(described: DatasetDescription) -> list[Term]:
    terms: dict[str, Term] = {}
    for biosample in _linked(described, "Biosample"):
        for taxon in biosample.data.get("organism_classification") or []:
            term = _taxon_term(taxon)
            terms.setdefault(term.accession or term.name, term)
    return list(terms.values())


def _imaging_methods(described: DatasetDescription) -> list[Term]:
    terms: dict[str, Term] = {}
    for acquisition in _linked(described, "ImageAcquisition"):
        names = acquisition.data.get("imaging_method_name") or []
        ids = acquisition.data.get("fbbi_id") or []
        for name, fbbi in zip_longest(names, ids):
            term = Term(str(name or fbbi), "FBbi", fbbi.replace(":", "_")) if fbbi else Term(str(name))
            terms.setdefault(term.accession or term.name, term)
    return list(terms.values())


def _protocols(described: DatasetDescription) -> list[Protocol]:
    """The dataset's REMBI protocols, named after their kind and record as IDR lists them."""
    protocols = []
    for biosample in _linked(described, "Biosample"):
        if biosample.data.get("growth_protocol"):
            protocols.append(_protocol("growth protocol", biosample, biosample.data["growth_protocol"]))
    for specimen in _linked(described, "Specimen"):
        protocols.append(
            _protocol("specimen preparation protocol", specimen, specimen.data.get("protocol_description"))
        )
    for acquisition in _linked(described, "ImageAcquisition"):
        data = acquisition.data
        details = [
            str(data.get("protocol_description") or ""),
            f"Instrument: {data['imaging_instrument_description']}."
            if data.get("imaging_instrument_description")
            else "",
            f"Objective: {data['objective']}." if data.get("objective") else "",
            f"Detector: {data['detector']}." if data.get("detector") else "",
        ]
        protocols.append(
            _protocol("image acquisition protocol", acquisition, " ".join(part for part in details if part))
        )
    for class_name in ("AnnotationMethod", "AnalyzedData"):
        for record in _linked(described, class_name):
            protocols.append(
                _protocol("data analysis protocol", record, record.data.get("protocol_description"))
            )
    return protocols


def _protocol(kind: str, record: RembiRecord, text: object) -> Protocol:
    return Protocol(name=f"{kind}: {record.title}", type=Term(kind), description=str(text or ""))


def _sample_type(described: DatasetDescription) -> str:
    """IDR's "Sample Type": what was imaged, from the Biosamples' descriptions of their entity."""
    entities = [
        str(record.data.get("biological_entity_description") or record.title)
        for record in _linked(described, "Biosample")
    ]
    return "; ".join(dict.fromkeys(entities)) or described.dataset.title


def _column_header(name: str) -> str:
    return name if BRACKETED_COLUMN.fullmatch(name) else f"Characteristics [{name}]"


def _characteristics(
    description: Description, image: ImageFile, organism: Term | None
) -> tuple[Characteristic, ...]:
    found: list[Characteristic] = []
    if organism is not None:
        found.append(Characteristic.of("Organism", organism))
    for column in description.annotation_columns:
        value = str(image.annotations.get(str(column.pk), "")).strip()
        if value:
            found.append(Characteristic(column=_column_header(column.name), value=value))
    return tuple(found)


def _idr_dataset_name(described: DatasetDescription, upload_path: str) -> str:
    """Images are grouped into IDR datasets by the folder they lie in."""
    folder = str(PurePosixPath(upload_path).parent)
    return folder if folder != "." else described.dataset.title


def _component_parts(described: DatasetDescription) -> dict[str, Any]:
    return {
        "description": described.description,
        "sample_type": _sample_type(described),
        "imaging_methods": _imaging_methods(described),
        "organisms": _organisms(described),
        "protocols": _protocols(described),
    }


def _experiment(description: Description, described: DatasetDescription) -> Experiment | None:
    organisms = _organisms(described)
    organism = organisms[0] if organisms else None
    images = []
    for image in _experiment_images(described):
        upload = described.upload_path(image.relative_path)
        path = PurePosixPath(upload)
        images.append(
            AssayImage(
                dataset=_idr_dataset_name(described, upload),
                name=path.name,
                path=path,
                characteristics=_characteristics(description, image, organism),
            )
        )
    if not images:
        return None
    return Experiment(**_component_parts(described), images=images)


def _screen(description: Description, described: DatasetDescription) -> Screen | None:
    plates = plate_files(described)
    if not plates:
        return None
    organisms = _organisms(described)
    organism = organisms[0] if organisms else None
    wells = [
        Well(
            plate=plate.name, well=well, characteristics=_characteristics(description, plate.image, organism)
        )
        for plate in plates
        for well in dict.fromkeys(plate.wells)
    ]
    return Screen(
        **_component_parts(described),
        screen_type=HIGH_CONTENT_SCREEN,
        plates=[Plate(name=plate.name, path=PurePosixPath(plate.upload_path)) for plate in plates],
        wells=wells,
    )


def _contacts(authors: Iterable[dict[str, Any]]) -> list[Contact]:
    contacts = []
    submitter_named = False
    for author in authors:
        last, first = name_parts(str(author.get("display_name") or ""))
        roles = [str(author["role"])] if author.get("role") else []
        # The first author with an e-mail address speaks for the study to the curators.
        if author.get("contact_email") and not submitter_named:
            roles.insert(0, "submitter")
            submitter_named = True
        contacts.append(
            Contact(
                last_name=last,
                first_name=first,
                email=str(author.get("contact_email") or ""),
                address="; ".join(str(a.get("display_name", "")) for a in author.get("affiliation") or []),
                orcid=str(author.get("orcid") or ""),
                roles=tuple(roles) or ("author",),
            )
        )
    return contacts


def _name_suffix(study: dict[str, Any], title: str) -> str:
    """IDR's "lastname-topic" study name, from the first author and the first keyword or the title."""
    authors = study.get("author") or []
    last = name_parts(str(authors[0].get("display_name") or ""))[0] if authors else ""
    keywords = study.get("keyword") or []
    topic = str(keywords[0]) if keywords else title
    words = [slugify(last), *slugify(topic).split("-")[:3]]
    suffix = "-".join(word for word in "-".join(words).split("-") if word.isascii() and word)
    return suffix or "fairlight-study"


def idr_study(description: Description) -> IdrStudy:
    """The submission as an IDR study: one experiment and/or one screen per dataset."""
    submission = description.submission
    study = description.study_data
    components: list[Experiment | Screen] = []
    for described in description.datasets:
        experiment = _experiment(description, described)
        if experiment is not None:
            components.append(experiment)
        screen = _screen(description, described)
        if screen is not None:
            components.append(screen)
    title = str(study.get("title") or submission.title)
    return IdrStudy(
        title=title,
        description=str(study.get("description") or ""),
        study_type=HIGH_CONTENT_SCREEN if any(isinstance(c, Screen) for c in components) else IMAGING_ASSAY,
        name_suffix=_name_suffix(study, title),
        key_words=[str(keyword) for keyword in study.get("keyword") or []],
        release_date=submission.release_date,
        publications=[
            Publication(
                title=str(p.get("title") or ""),
                authors=str(p.get("authors_name") or ""),
                pubmed_id=str(p.get("pubmed_id") or ""),
                doi=str(p.get("doi") or ""),
            )
            for p in study.get("related_publication") or []
        ],
        contacts=_contacts(study.get("author") or []),
        licence=str(study.get("licence") or ""),
        components=components,
    )
