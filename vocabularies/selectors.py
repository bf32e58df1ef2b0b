"""Reads: finding terms for autocompletion, the API and form validation."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length

from vocabularies.models import Ontology, OntologyTerm
from vocabularies.search import SEPARATOR, normalize

MAX_LIMIT = 50
# Shorter queries match too much to be useful (counted in letters and digits, see search.normalize).
MIN_QUERY_LENGTH = 2


def term_search(
    query: str,
    *,
    ontologies: Collection[str] | None = None,
    limit: int = 20,
    include_obsolete: bool = False,
) -> list[OntologyTerm]:
    """Terms whose label, synonyms or short id match ``query``, best first.

    Ranks: 0 the exact label, 1 an exact synonym or short id ("mouse", "MIT"), 2 a label prefix,
    3 a synonym or id prefix, 4 a word prefix anywhere, 5 any other substring. Within a rank,
    shorter labels first; on a tie, terms with stable ids before EDAM-bioimaging's provisional ones.
    """
    q = normalize(query)
    if not q or limit < 1:
        return []
    # Every rank is a substring of search_text, so one LIKE '%q%' finds the candidates and the CASE
    # below only orders them. No B-tree index serves '%q%': this scans, which at the ~2,000 shipped
    # terms takes about 2 ms (bench/term_lookup.py).
    terms = OntologyTerm.objects.filter(search_text__contains=q)
    if not include_obsolete:
        terms = terms.filter(obsolete=False)
    if ontologies is not None:
        terms = terms.filter(ontology__in=list(ontologies))
    rank = Case(
        When(Q(search_text=q) | Q(search_text__startswith=q + SEPARATOR), then=Value(0)),
        When(
            Q(search_text__contains=SEPARATOR + q + SEPARATOR) | Q(search_text__endswith=SEPARATOR + q),
            then=Value(1),
        ),
        When(search_text__startswith=q, then=Value(2)),
        When(search_text__contains=SEPARATOR + q, then=Value(3)),
        When(search_text__contains=" " + q, then=Value(4)),
        default=Value(5),
        output_field=IntegerField(),
    )
    provisional = Case(
        When(ontology=Ontology.EDAM_BIOIMAGING, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    ranked = terms.annotate(rank=rank, provisional=provisional, label_length=Length("label"))
    return list(
        ranked.order_by("rank", "label_length", "provisional", "label", "pk")[: min(limit, MAX_LIMIT)]
    )


def term_by_iri(iri: str, *, ontologies: Collection[str]) -> OntologyTerm | None:
    """The term with this IRI in one of ``ontologies`` (obsolete ones included), or None."""
    return OntologyTerm.objects.filter(iri=iri, ontology__in=list(ontologies)).first()
