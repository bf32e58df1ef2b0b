from __future__ import annotations

import pytest

from vocabularies.models import Ontology
from vocabularies.search import normalize, search_text
from vocabularies.selectors import term_search


def first_curie(query: str, *, ontologies: list[str] | None = None, include_obsolete: bool = False) -> str:
    results = term_search(query, ontologies=ontologies, include_obsolete=include_obsolete)
    assert results, f"nothing found for {query!r}"
    return results[0].curie


def test_normalizing_ignores_case_and_punctuation() -> None:
    assert normalize("  OME-TIFF ") == normalize("ome_tiff") == "ome tiff"
    assert normalize("NCBITaxon:10090") == "ncbitaxon 10090"
    assert search_text("OME-TIFF", [".ome.tif", "OME TIFF", "format_3727"]) == "ome tiff|ome tif|format 3727"


def test_confocal_finds_the_fbbi_confocal_microscopy_term_first(ontologies: None) -> None:
    assert first_curie("confocal", ontologies=[Ontology.FBBI]) == "FBbi:00000251"
    # Unfiltered, EDAM-bioimaging's "Confocal microscopy" ties; the stable FBbi id comes first.
    results = term_search("confocal")
    assert [r.curie for r in results[:1]] == ["FBbi:00000251"]
    assert results[1].ontology == Ontology.EDAM_BIOIMAGING
    assert results[1].label == "Confocal microscopy"


@pytest.mark.parametrize("query", ["Mus musculus", "mus MUSCULUS", "mouse", "house mouse", "NCBITaxon:10090"])
def test_the_mouse_is_found_by_scientific_name_common_name_and_id(ontologies: None, query: str) -> None:
    assert first_curie(query) == "NCBITaxon:10090"


@pytest.mark.parametrize("query", ["OME-TIFF", "ome tiff", "ome.tiff", "format_3727"])
def test_ome_tiff_is_found_by_label_extension_and_id(ontologies: None, query: str) -> None:
    assert first_curie(query) == "format_3727"


def test_mit_finds_the_mit_licence_before_its_variants(ontologies: None) -> None:
    results = term_search("MIT", ontologies=[Ontology.SPDX], limit=5)
    assert results[0].curie == "MIT"
    assert results[0].label == "MIT License"
    assert results[0].iri == "https://spdx.org/licenses/MIT"
    assert all(r.label.startswith("MIT") for r in results[1:])


def test_ranking_exact_then_prefix_then_synonym_then_word(ontologies: None) -> None:
    # Exact labels first: the stable EDAM TIFF before EDAM-bioimaging's provisional "tiff".
    assert [r.curie for r in term_search("tiff", limit=3)] == ["format_3591", "format_tiff", "format_3727"]
    # A label prefix before a synonym prefix, before a word inside a label.
    zebra = term_search("zebra", limit=3)
    assert zebra[0].curie == "NCBITaxon:7955"  # "zebrafish" is a synonym of Danio rerio
    segmentation = [r.label for r in term_search("segmentation", ontologies=[Ontology.EDAM_BIOIMAGING])]
    assert segmentation[:2] == ["Cell segmentation", "Image segmentation"]  # words, shorter first


def test_obsolete_terms_are_left_out_unless_asked_for(ontologies: None) -> None:
    # GPL-2.0 is a deprecated SPDX id; GPL-2.0-only and GPL-2.0-or-later replace it.
    assert first_curie("GPL-2.0", ontologies=[Ontology.SPDX]) in {"GPL-2.0-only", "GPL-2.0-or-later"}
    assert "GPL-2.0" not in [r.curie for r in term_search("GPL-2.0", limit=50)]
    assert first_curie("GPL-2.0", ontologies=[Ontology.SPDX], include_obsolete=True) == "GPL-2.0"


def test_filters_limit_and_empty_queries(ontologies: None) -> None:
    assert len(term_search("microscopy", limit=7)) == 7
    assert {r.ontology for r in term_search("microscopy", ontologies=[Ontology.FBBI], limit=50)} == {"fbbi"}
    assert term_search("microscopy", ontologies=[]) == []
    assert term_search(" -- ") == []
    assert term_search("no such term anywhere") == []
    assert first_curie("CZI") == "fairlight_format:czi"
