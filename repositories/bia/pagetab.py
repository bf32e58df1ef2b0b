"""The same study as PageTab, the tab-separated format of the BioStudies submission tool.

Blocks are separated by an empty line; a block starts with `Type<TAB>AccNo[<TAB>ParentAccNo]`
and continues with `Name<TAB>Value` attributes; `<affiliation>` marks a reference to an
organisation block. Each study component names its own file list (`Files` header, one row
per data file), as the BioImage Archive's web submission expects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from metadata.imaging.formats import FORMAT_LABELS, Format
from repositories.bia.crate import annotation_headers
from repositories.packaging import DatasetDescription, Description, files_of

SUBMISSION_FILE = "pagetab/submission.tsv"
# PageTab names licences as BioStudies displays them.
LICENCE_NAMES = {"CC0-1.0": "CC0", "CC-BY-4.0": "CC BY 4.0"}

Rows = list[list[str]]


def file_list_name(number: int) -> str:
    return f"file_list_study_component_{number}.tsv"


def _attributes(pairs: list[tuple[str, Any]]) -> Rows:
    rows: Rows = []
    for name, value in pairs:
        values = value if isinstance(value, list) else [value]
        rows.extend([name, str(item)] for item in values if item not in (None, ""))
    return rows


def _block(head: list[str], pairs: list[tuple[str, Any]]) -> Rows:
    return [head, *_attributes(pairs), []]


def _authors(study: dict[str, Any]) -> Rows:
    rows: Rows = []
    organisations: dict[str, tuple[str, dict[str, Any]]] = {}
    for author in study.get("author", []):
        references = []
        for affiliation in author.get("affiliation", []):
            key = affiliation.get("rorid") or affiliation["display_name"]
            if key not in organisations:
                organisations[key] = (f"o{len(organisations) + 1}", affiliation)
            references.append(organisations[key][0])
        rows += _block(
            ["Author"],
            [
                ("Name", author["display_name"]),
                ("E-mail", author.get("contact_email")),
                ("Role", author.get("role")),
                ("ORCID", author.get("orcid")),
                ("<affiliation>", references),
            ],
        )
    for accno, affiliation in organisations.values():
        rows += _block(
            ["Organisation", accno],
            [
                ("Name", affiliation["display_name"]),
                ("RORID", affiliation.get("rorid")),
                ("Website", affiliation.get("website")),
            ],
        )
    return rows


def _funding_and_publications(study: dict[str, Any]) -> Rows:
    rows: Rows = []
    for grant in study.get("grant", []):
        rows += _block(["Funding"], [("Agency", grant["funder"]), ("grant_id", grant["grant_id"])])
    for publication in study.get("related_publication", []):
        rows += _block(
            ["Publication"],
            [
                ("Title", publication["title"]),
                ("Authors", publication.get("authors_name")),
                ("DOI", publication.get("doi")),
                ("Year", publication.get("year")),
                ("Pubmed ID", publication.get("pubmed_id")),
            ],
        )
    return rows


def _organism(taxon: dict[str, Any]) -> str:
    common = taxon.get("common_name")
    return f"{taxon['scientific_name']} ({common})" if common else str(taxon["scientific_name"])


def _protocol_blocks(description: Description) -> tuple[Rows, dict[int, str]]:
    """Biosample, Specimen and Image acquisition blocks, each shared record once."""
    rows: Rows = []
    accnos: dict[int, str] = {}
    counters = {"Biosample": 0, "Specimen": 0, "ImageAcquisition": 0}
    for described in description.datasets:
        for class_name in counters:
            for record in described.records.get(class_name, []):
                if record.pk in accnos:
                    continue
                counters[class_name] += 1
                data = record.data
                if class_name == "Biosample":
                    accno = f"Biosample-{counters[class_name]}"
                    pairs = [
                        ("Title", record.title),
                        ("Organism", [_organism(t) for t in data.get("organism_classification", [])]),
                        ("Biological entity", data.get("biological_entity_description")),
                        ("Intrinsic variable", data.get("intrinsic_variable_description", [])),
                        ("Extrinsic variable", data.get("extrinsic_variable_description", [])),
                        ("Experimental variable", data.get("experimental_variable_description", [])),
                        ("Growth protocol", data.get("growth_protocol")),
                    ]
                    head = ["Biosample", accno]
                elif class_name == "Specimen":
                    accno = f"Specimen-{counters[class_name]}"
                    channels = data.get("signal_channel_information", [])
                    pairs = [
                        ("Title", record.title),
                        ("Sample preparation protocol", data.get("protocol_description")),
                        (
                            "Signal/contrast mechanism",
                            [c.get("signal_contrast_mechanism_description") for c in channels],
                        ),
                        ("Channel - content", [c.get("channel_content_description") for c in channels]),
                        (
                            "Channel - biological entity",
                            [c.get("channel_biological_entity") for c in channels],
                        ),
                    ]
                    head = ["Specimen", accno]
                else:
                    accno = f"Image acquisition-{counters[class_name]}"
                    pairs = [
                        ("Title", record.title),
                        ("Imaging instrument", data.get("imaging_instrument_description")),
                        ("Image acquisition parameters", data.get("protocol_description")),
                        ("Imaging method", data.get("imaging_method_name", [])),
                        ("FBbi ID", data.get("fbbi_id", [])),
                    ]
                    head = ["Image acquisition", accno]
                accnos[record.pk] = accno
                rows += _block(head, pairs)
    return rows, accnos


def _component(number: int, described: DatasetDescription) -> Rows:
    accno = f"Study Component-{number}"
    rows = _block(
        ["Study Component", accno],
        [
            ("Name", described.name),
            ("Description", described.description),
            ("File List", file_list_name(number)),
        ],
    )
    titles = [
        [record.title for record in described.records.get(name, [])] or [""]
        for name in ("Biosample", "Specimen", "ImageAcquisition")
    ]
    for index, (biosample, specimen, acquisition) in enumerate(itertools.product(*titles), start=1):
        rows += _block(
            ["Associations", f"{accno}-associations-{index}", accno],
            [("Biosample", biosample), ("Specimen", specimen), ("Image acquisition", acquisition)],
        )
    return rows


def submission_rows(description: Description) -> Rows:
    submission = description.submission
    study = description.study_data
    release = submission.release_date.isoformat() if submission.release_date else ""
    title = study.get("title") or submission.title
    # Without an accession the line names no AccNo: BioStudies assigns one on submission.
    rows = _block(
        ["Submission", submission.accession] if submission.accession else ["Submission"],
        [("Title", title), ("ReleaseDate", release), ("AttachTo", "BioImages"), ("Template", "BioImages.v4")],
    )
    rows += _block(
        ["Study"],
        [
            ("Title", title),
            ("Description", study.get("description")),
            ("License", LICENCE_NAMES.get(str(study.get("licence")), study.get("licence"))),
            ("Keywords", study.get("keyword", [])),
            ("Acknowledgements", study.get("acknowledgement")),
            ("Funding statement", study.get("funding_statement")),
        ],
    )
    rows += _authors(study)
    rows += _funding_and_publications(study)
    protocol_rows, _ = _protocol_blocks(description)
    rows += protocol_rows
    for number, described in enumerate(description.datasets, start=1):
        rows += _component(number, described)
    return rows[:-1]  # no empty line after the last block


def file_list_rows(description: Description, described: DatasetDescription) -> Iterator[list[str]]:
    yield ["Files", "Format", "Size", "SHA-256", *annotation_headers(description)]
    column_ids = [str(column.pk) for column in description.annotation_columns]
    for image in files_of(described).iterator(chunk_size=5_000):
        yield [
            described.upload_path(image.relative_path),
            FORMAT_LABELS.get(Format(image.format), image.format) if image.format else "",
            str(image.size_bytes),
            image.sha256,
            *(str(image.annotations.get(column_id, "")) for column_id in column_ids),
        ]
