"""Writes: loading the shipped vocabularies into OntologyTerm rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import transaction

from vocabularies import search
from vocabularies.models import Ontology, OntologyTerm
from vocabularies.sources import SOURCES, TermRecord

# Everything the loader writes; comparing these decides between "updated" and "unchanged".
TERM_FIELDS = ("iri", "curie", "label", "synonyms", "definition", "parents", "obsolete", "search_text")
BATCH_SIZE = 500


@dataclass(frozen=True)
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows whose term left the source: kept, because records may point at them, but hidden from search.
    made_obsolete: int = 0
    # Rows that follow their term to a new IRI (counted in updated too).
    moved: int = 0


def ontology_load(
    *, ontology: Ontology, records: Sequence[TermRecord], rematch_by_label: bool = False
) -> LoadResult:
    """Make the rows of ``ontology`` match ``records``, in one transaction.

    Rows are matched by IRI. With ``rematch_by_label``, a record under a new IRI takes over the row
    of a term that disappeared with the same label (unambiguous on both sides), so foreign keys and
    stored IRIs follow the term instead of pointing at an obsolete copy.
    """
    wanted = {record.iri: record for record in records}
    if len(wanted) != len(records):
        duplicates = [iri for iri, count in Counter(r.iri for r in records).items() if count > 1]
        raise ValueError(f"{ontology.label}: IRIs listed more than once: {', '.join(duplicates[:5])}.")
    with transaction.atomic():
        existing = {row.iri: row for row in OntologyTerm.objects.filter(ontology=ontology)}
        moves = _moves_by_label(existing, wanted) if rematch_by_label else {}
        to_create, to_update = [], []
        unchanged = made_obsolete = 0
        for iri, record in wanted.items():
            row = existing.get(iri) or moves.get(iri)
            if row is None:
                to_create.append(_apply(OntologyTerm(ontology=ontology), record))
            elif _differs(row, record):
                to_update.append(_apply(row, record))
            else:
                unchanged += 1
        moved_away = {row.pk for row in moves.values()}
        for iri, row in existing.items():
            if iri in wanted or row.pk in moved_away:
                continue
            if row.obsolete:
                unchanged += 1
            else:
                row.obsolete = True
                to_update.append(row)
                made_obsolete += 1
        for row in [*to_create, *to_update]:
            # Field checks only: uniqueness holds by construction (one row per IRI above) and the
            # database constraint backs it; a query per row would make loading slow.
            row.full_clean(validate_unique=False, validate_constraints=False)
        OntologyTerm.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        OntologyTerm.objects.bulk_update(to_update, TERM_FIELDS, batch_size=BATCH_SIZE)
    return LoadResult(
        created=len(to_create),
        updated=len(to_update) - made_obsolete,
        unchanged=unchanged,
        made_obsolete=made_obsolete,
        moved=len(moves),
    )


def ontologies_load(*, only: Collection[Ontology] | None = None) -> dict[Ontology, LoadResult]:
    """Load every shipped vocabulary (or those in ``only``), each in its own transaction."""
    return {
        source.ontology: ontology_load(
            ontology=source.ontology, records=source.read(), rematch_by_label=source.rematch_by_label
        )
        for source in SOURCES
        if only is None or source.ontology in only
    }


def _moves_by_label(
    existing: dict[str, OntologyTerm], wanted: dict[str, TermRecord]
) -> dict[str, OntologyTerm]:
    """New IRI -> the row of a vanished term with the same label, where the label names one of each."""
    vanished = Counter(search.normalize(row.label) for iri, row in existing.items() if iri not in wanted)
    arriving = Counter(search.normalize(r.label) for iri, r in wanted.items() if iri not in existing)
    rows_by_label = {
        search.normalize(row.label): row
        for iri, row in existing.items()
        if iri not in wanted and vanished[search.normalize(row.label)] == 1
    }
    return {
        iri: rows_by_label[label]
        for iri, record in wanted.items()
        if iri not in existing
        and (label := search.normalize(record.label)) in rows_by_label
        and arriving[label] == 1
    }


def _values(record: TermRecord) -> dict[str, object]:
    return {
        "iri": record.iri,
        "curie": record.curie,
        "label": record.label,
        "synonyms": list(record.synonyms),
        "definition": record.definition,
        "parents": list(record.parents),
        "obsolete": record.obsolete,
        "search_text": search.search_text(record.label, [*record.synonyms, record.curie]),
    }


def _differs(row: OntologyTerm, record: TermRecord) -> bool:
    return any(getattr(row, field) != value for field, value in _values(record).items())


def _apply(row: OntologyTerm, record: TermRecord) -> OntologyTerm:
    for field, value in _values(record).items():
        setattr(row, field, value)
    return row
