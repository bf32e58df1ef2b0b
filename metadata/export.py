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
    compacted: dict[str, Any] = jsonld.compact(document, {"@context": rembi_context()})
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
