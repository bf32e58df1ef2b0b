"""A dataset's REMBI description as linked data: JSON-LD compacted with the generated context,
and Turtle. Two processors meet here on purpose: pyld builds both documents, rdflib reads
them back in the tests, so a context or mapping error shows up as differing triples."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import rdflib
from django.conf import settings
from django.urls import reverse
from pyld import jsonld

from metadata.models import Dataset, RembiRecord
from metadata.schema.generate import CONTEXT


@cache
def rembi_context() -> dict[str, Any]:
    return dict(json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"])


def _records(dataset: Dataset) -> list[RembiRecord]:
    study = RembiRecord.objects.filter(project=dataset.project_id, class_name="Study")
    return [*study, *dataset.rembi_records.exclude(class_name="Study").order_by("class_name", "title")]


def _node_id(dataset: Dataset, record: RembiRecord) -> str:
    path = reverse("metadata:dataset_detail", args=[dataset.pk])
    return f"{settings.FAIRLIGHT_BASE_URL.rstrip('/')}{path}rembi/{record.class_name}/{record.pk}"


def dataset_document(dataset: Dataset) -> dict[str, Any]:
    """The records as a JSON-LD document with the context inline (no network needed to read it)."""
    graph = [
        {"@id": _node_id(dataset, record), "@type": record.class_name, **record.data}
        for record in _records(dataset)
    ]
    return {"@context": rembi_context(), "@graph": graph}


def dataset_jsonld(dataset: Dataset) -> dict[str, Any]:
    """Compacted JSON-LD of the dataset's REMBI description."""
    document = dataset_document(dataset)
    # "graph": a top-level @graph even for a single record, so clients see one shape.
    compacted: dict[str, Any] = jsonld.compact(document, {"@context": rembi_context()}, {"graph": True})
    return compacted


def dataset_turtle(dataset: Dataset) -> str:
    """Turtle of the same description: pyld's RDF, written by rdflib."""
    nquads = jsonld.to_rdf(dataset_document(dataset), {"format": "application/n-quads"})
    graph = rdflib.Graph()
    # Everything is in the default graph, so the N-Quads are N-Triples.
    graph.parse(data=nquads, format="nt")
    graph.bind("rembi", "https://w3id.org/fairlight/rembi/")
    graph.bind("bia", "http://bia/")
    graph.bind("schema", "http://schema.org/")
    return graph.serialize(format="turtle")


def _orcid_url(orcid: str | None) -> str | None:
    return f"https://orcid.org/{orcid}" if orcid else None


def schema_org_dataset(dataset: Dataset) -> dict[str, Any]:
    """schema.org Dataset markup for the dataset page, from what its REMBI records say."""
    records = {record.class_name: record.data for record in _records(dataset)}
    study = records.get("Study", {})
    acquisition = records.get("ImageAcquisition", {})
    biosample = records.get("Biosample", {})
    creators = [
        {
            "@type": "Person",
            "name": author.get("display_name"),
            **({"identifier": _orcid_url(author.get("orcid"))} if author.get("orcid") else {}),
            **(
                {
                    "affiliation": [
                        {"@type": "Organization", "name": a.get("display_name")}
                        for a in author["affiliation"]
                    ]
                }
                if author.get("affiliation")
                else {}
            ),
        }
        for author in study.get("author", [])
    ]
    techniques = [
        f"http://purl.obolibrary.org/obo/FBbi_{term.split(':', 1)[1]}"
        for term in acquisition.get("fbbi_id", [])
    ] or acquisition.get("imaging_method_name", [])
    variables = [
        *biosample.get("experimental_variable_description", []),
        *biosample.get("extrinsic_variable_description", []),
    ]
    markup: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": dataset.title,
        "description": dataset.description or study.get("description") or dataset.title,
        "creator": creators,
        "license": f"https://spdx.org/licenses/{study['licence']}" if study.get("licence") else None,
        "keywords": study.get("keyword"),
        "measurementTechnique": techniques,
        "variableMeasured": variables,
        "datePublished": study.get("release_date"),
        "isPartOf": {"@type": "Dataset", "name": study["title"]} if study.get("title") else None,
    }
    return {key: value for key, value in markup.items() if value not in (None, [], "")}
