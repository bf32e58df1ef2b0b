"""The BioImage Archive RO-Crate: `ro-crate-metadata.json` and its file list.

The root data entity is the study (Dataset + bia:Study); each FAIRlight dataset is a
bia:Dataset with its REMBI associations (biosamples, specimen preparation, acquisition,
annotation, analysis and correlation methods); one file list (`file_list.tsv`, a bia:FileList
with a csvw table schema) has a row per data file, pointing at its dataset. Entity ids are
local ("#biosample-12") except where a global one exists: ORCID, ROR, NCBI Taxonomy, DOI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from metadata.imaging.formats import FORMAT_LABELS, Format
from metadata.models import RembiRecord
from repositories.bia import context
from repositories.packaging import DatasetDescription, Description, all_files

FILE_LIST = "file_list.tsv"
METADATA_FILE = "ro-crate-metadata.json"
# The archive assigns the accession (S-BIAD…) when it accepts the study.
PENDING_ACCESSION = "S-BIAD-PENDING"
LICENCE_URLS = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
}
# Standard columns of the file list: name and csvw:propertyUrl (None: a plain metadata column).
STANDARD_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("file_path", context.FILE_PATH),
    ("dataset", context.PART_OF),
    ("type", context.RDF_TYPE),
    ("size_in_bytes", context.SIZE_IN_BYTES),
    ("sha256", None),
    ("format", None),
)


def ref(identifier: str) -> dict[str, str]:
    return {"@id": identifier}


def _local(kind: str, record: RembiRecord) -> str:
    return f"#{kind}-{record.pk}"


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _without_empty(entity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entity.items() if value not in (None, "", [])}


def fbbi_iri(curie: str) -> str:
    """FBbi:00000253 as the OBO IRI http://purl.obolibrary.org/obo/FBbi_00000253."""
    return f"http://purl.obolibrary.org/obo/FBbi_{curie.split(':', 1)[1]}"


def taxon_id(taxon: dict[str, Any]) -> str:
    ncbi = str(taxon.get("ncbi_id") or "")
    if re.fullmatch(r"NCBITaxon:\d+", ncbi):
        return f"http://purl.obolibrary.org/obo/NCBITaxon_{ncbi.split(':')[1]}"
    return f"#taxon-{slugify(taxon.get('scientific_name', 'unknown'))}"


def annotation_headers(description: Description) -> list[str]:
    """Per-image annotation columns, renamed where they would clash with a standard column."""
    taken = {name for name, _ in STANDARD_COLUMNS}
    headers = []
    for column in description.annotation_columns:
        name = column.name if column.name not in taken else f"{column.name} (annotation)"
        taken.add(name)
        headers.append(name)
    return headers


def dataset_id(described: DatasetDescription) -> str:
    return f"#dataset-{described.dataset.pk}"


def file_list_rows(description: Description) -> Iterator[list[str]]:
    """The header, then one row per data file; paths are relative to the upload's root."""
    yield [name for name, _ in STANDARD_COLUMNS] + annotation_headers(description)
    column_ids = [str(column.pk) for column in description.annotation_columns]
    for described, image in all_files(description):
        kind = context.IMAGE if image.is_image else context.FILE_REFERENCE
        yield [
            described.upload_path(image.relative_path),
            dataset_id(described),
            kind,
            str(image.size_bytes),
            image.sha256,
            FORMAT_LABELS.get(Format(image.format), image.format) if image.format else "",
            *(str(image.annotations.get(column_id, "")) for column_id in column_ids),
        ]


class _Graph:
    """Entities by id, in insertion order; an entity met twice (a shared record) is kept once."""

    def __init__(self) -> None:
        self.entities: dict[str, dict[str, Any]] = {}

    def add(self, entity: dict[str, Any]) -> dict[str, str]:
        self.entities.setdefault(entity["@id"], _without_empty(entity))
        return ref(entity["@id"])


def _contributors(graph: _Graph, authors: list[dict[str, Any]]) -> list[dict[str, str]]:
    refs = []
    for number, author in enumerate(authors, start=1):
        affiliations = []
        for affiliation in author.get("affiliation", []):
            ror = affiliation.get("rorid")
            org_id = (
                f"https://ror.org/{ror}" if ror else f"#organisation-{slugify(affiliation['display_name'])}"
            )
            affiliations.append(
                graph.add(
                    {
                        "@id": org_id,
                        "@type": ["Organization", "bia:Affiliation"],
                        "name": affiliation["display_name"],
                        "website": affiliation.get("website"),
                    }
                )
            )
        orcid = author.get("orcid")
        refs.append(
            graph.add(
                {
                    "@id": f"https://orcid.org/{orcid}" if orcid else f"#contributor-{number}",
                    "@type": ["Person", "bia:Contributor"],
                    "name": author["display_name"],
                    "email": author.get("contact_email"),
                    "role": [author["role"]] if author.get("role") else [],
                    "memberOf": affiliations,
                }
            )
        )
    return refs


def _funding(graph: _Graph, grants: list[dict[str, Any]]) -> list[dict[str, str]]:
    refs = []
    for number, grant in enumerate(grants, start=1):
        funder = graph.add(
            {
                "@id": f"#funder-{slugify(grant['funder'])}",
                "@type": "bia:FundingBody",
                "name": grant["funder"],
            }
        )
        refs.append(
            graph.add(
                {
                    "@id": f"#grant-{number}",
                    "@type": "bia:Grant",
                    "identifier": grant["grant_id"],
                    "funder": [funder],
                }
            )
        )
    return refs


def _publications(graph: _Graph, publications: list[dict[str, Any]]) -> list[dict[str, str]]:
    refs = []
    for number, publication in enumerate(publications, start=1):
        doi = publication.get("doi")
        refs.append(
            graph.add(
                {
                    "@id": f"https://doi.org/{doi}" if doi else f"#publication-{number}",
                    "@type": "bia:Publication",
                    "name": publication["title"],
                    "authorNames": publication.get("authors_name"),
                    "yearPublished": publication.get("year"),
                    "pubmedId": publication.get("pubmed_id"),
                    "doi": doi,
                }
            )
        )
    return refs


def _biosample(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    data = record.data
    taxa = [
        graph.add(
            {
                "@id": taxon_id(taxon),
                "@type": "bia:Taxon",
                "scientificName": taxon.get("scientific_name"),
                "commonName": taxon.get("common_name"),
            }
        )
        for taxon in data.get("organism_classification", [])
    ]
    growth = None
    if data.get("growth_protocol"):
        growth = graph.add(
            {
                "@id": _local("growth-protocol", record),
                "@type": "bia:Protocol",
                "name": f"Growth of {record.title}",
                "description": data["growth_protocol"],
            }
        )
    return graph.add(
        {
            "@id": _local("biosample", record),
            "@type": "bia:BioSample",
            "name": record.title,
            "description": data.get("biological_entity_description"),
            "organismClassification": taxa,
            "intrinsicVariableDescription": data.get("intrinsic_variable_description", []),
            "extrinsicVariableDescription": data.get("extrinsic_variable_description", []),
            "experimentalVariableDescription": data.get("experimental_variable_description", []),
            "growthProtocol": growth,
        }
    )


def _specimen(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    channels = [
        graph.add(
            {
                "@id": f"{_local('specimen', record)}-channel-{number}",
                "@type": "bia:SignalChannel",
                "signalContrastMechanismDescription": channel.get("signal_contrast_mechanism_description"),
                "channelContentDescription": channel.get("channel_content_description"),
                "channelBiologicalEntity": channel.get("channel_biological_entity"),
                "identifier": channel.get("channel_label"),
            }
        )
        for number, channel in enumerate(record.data.get("signal_channel_information", []), start=1)
    ]
    return graph.add(
        {
            "@id": _local("specimen", record),
            "@type": "bia:SpecimenImagingPreparationProtocol",
            "name": record.title,
            "description": record.data.get("protocol_description"),
            "signalChannelInformation": channels,
        }
    )


def _acquisition(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    data = record.data
    # The BIA model has no objective or detector field; they belong to the protocol's text.
    parts = [data.get("protocol_description")] + [
        f"{label}: {data[key]}."
        for key, label in (("objective", "Objective"), ("detector", "Detector"))
        if data.get(key)
    ]
    return graph.add(
        {
            "@id": _local("acquisition", record),
            "@type": "bia:ImageAcquisitionProtocol",
            "name": record.title,
            "description": " ".join(str(part) for part in parts if part),
            "imagingInstrumentDescription": data.get("imaging_instrument_description"),
            "imagingMethodName": data.get("imaging_method_name", []),
            "fbbiId": [fbbi_iri(curie) for curie in data.get("fbbi_id", [])],
        }
    )


def _annotation_method(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    data = record.data
    return graph.add(
        {
            "@id": _local("annotation-method", record),
            "@type": "bia:AnnotationMethod",
            "name": record.title,
            "description": data.get("protocol_description"),
            "annotationCriteria": data.get("annotation_criteria"),
            "annotationCoverage": data.get("annotation_coverage"),
            "spatialInformation": data.get("spatial_information"),
            "methodType": data.get("annotation_type", []),
            "annotationSourceIndicator": data.get("annotation_source"),
        }
    )


def _analysis(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    data = record.data
    kind = f"Analysis type: {data['analysis_type']}." if data.get("analysis_type") else None
    return graph.add(
        {
            "@id": _local("analysis", record),
            "@type": "bia:ImageAnalysisMethod",
            "name": record.title,
            "description": " ".join(p for p in (data.get("protocol_description"), kind) if p),
            "featuresAnalysed": data.get("features_analysed"),
        }
    )


def _correlation(graph: _Graph, record: RembiRecord) -> dict[str, str]:
    data = record.data
    return graph.add(
        {
            "@id": _local("correlation", record),
            "@type": "bia:ImageCorrelationMethod",
            "name": record.title,
            "description": data.get("protocol_description"),
            "fiducialsUsed": data.get("fiducials_used"),
            "transformationMatrix": data.get("transformation_matrix"),
        }
    )


_ASSOCIATIONS = {
    "Biosample": ("associatedBiologicalEntity", _biosample),
    "Specimen": ("associatedSpecimenImagingPreparationProtocol", _specimen),
    "ImageAcquisition": ("associatedImageAcquisitionProtocol", _acquisition),
    "AnnotationMethod": ("associatedAnnotationMethod", _annotation_method),
    "AnalyzedData": ("associatedImageAnalysisMethod", _analysis),
    "ImageCorrelation": ("associatedImageCorrelationMethod", _correlation),
}


def _dataset(graph: _Graph, described: DatasetDescription) -> dict[str, str]:
    entity: dict[str, Any] = {
        "@id": dataset_id(described),
        "@type": ["Dataset", "bia:Dataset"],
        "name": described.name,
        "description": described.description,
    }
    for class_name, records in described.records.items():
        prop, build = _ASSOCIATIONS[class_name]
        entity[prop] = [build(graph, record) for record in records]
    return graph.add(entity)


def _file_list(graph: _Graph, headers: list[str]) -> dict[str, str]:
    properties = dict(STANDARD_COLUMNS)
    columns = [
        graph.add(
            {
                "@id": f"#column-{number}",
                "@type": "csvw:Column",
                "columnName": name,
                "propertyUrl": properties.get(name),
            }
        )
        for number, name in enumerate(headers, start=1)
    ]
    schema = graph.add({"@id": "#file-list-schema", "@type": "csvw:Schema", "column": columns})
    return graph.add(
        {"@id": FILE_LIST, "@type": ["File", "bia:FileList", "csvw:Table"], "tableSchema": schema}
    )


def crate_document(description: Description, *, headers: list[str]) -> dict[str, Any]:
    """`ro-crate-metadata.json` as a dict; ``headers`` are the file list's column names."""
    submission = description.submission
    study = description.study_data
    licence = LICENCE_URLS.get(str(study.get("licence")))
    if licence is None or submission.release_date is None:
        raise ValidationError("The study needs a licence the BioImage Archive accepts and a release date.")
    graph = _Graph()
    graph.add(
        {
            "@id": METADATA_FILE,
            "@type": "CreativeWork",
            "conformsTo": ref(context.RO_CRATE_PROFILE),
            "about": ref("./"),
        }
    )
    root: dict[str, Any] = {"@id": "./", "@type": ["Dataset", "bia:Study"]}
    graph.entities["./"] = root  # first after the descriptor, filled in below
    parts = [_dataset(graph, described) for described in description.datasets]
    parts.append(_file_list(graph, headers))
    root.update(
        _without_empty(
            {
                "name": study.get("title") or submission.title,
                "description": study.get("description"),
                "license": licence,
                "datePublished": submission.release_date.isoformat(),
                "author": _contributors(graph, study.get("author", [])),
                "keywords": study.get("keyword", []),
                "accessionId": submission.accession or PENDING_ACCESSION,
                "doi": submission.doi,
                "hasPart": parts,
                "acknowledgement": _text(study.get("acknowledgement")),
                "funding": _funding(graph, study.get("grant", [])),
                "fundingStatement": _text(study.get("funding_statement")),
                "relatedPublication": _publications(graph, study.get("related_publication", [])),
            }
        )
    )
    return {"@context": context.CONTEXT, "@graph": list(graph.entities.values())}
