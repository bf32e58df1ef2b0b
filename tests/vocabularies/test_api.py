from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import make_user
from vocabularies.models import OntologyTerm


@pytest.fixture
def api(ontologies: None) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("annotator"))
    return client


def test_search_returns_ranked_terms_with_their_identifiers(api: APIClient) -> None:
    response = api.get("/api/v1/terms/", {"q": "confocal", "ontology": "fbbi", "limit": "10"})
    assert response.status_code == 200
    terms = response.json()
    assert 1 <= len(terms) <= 10
    assert terms[0] == {
        "id": OntologyTerm.objects.get(curie="FBbi:00000251").pk,
        "ontology": "fbbi",
        "curie": "FBbi:00000251",
        "iri": "http://purl.obolibrary.org/obo/FBbi_00000251",
        "label": "confocal microscopy",
        "synonyms": [],
        "definition": terms[0]["definition"],
    }
    assert {term["ontology"] for term in terms} == {"fbbi"}


def test_several_ontologies_by_repetition_or_commas(api: APIClient) -> None:
    repeated = api.get("/api/v1/terms/?q=mouse&ontology=ncbitaxon&ontology=spdx").json()
    commas = api.get("/api/v1/terms/?q=mouse&ontology=ncbitaxon,spdx").json()
    assert repeated == commas
    assert repeated[0]["curie"] == "NCBITaxon:10090"
    assert repeated[0]["synonyms"] == ["house mouse", "mouse", "mice"]


def test_a_term_can_be_fetched_by_id(api: APIClient) -> None:
    mit = OntologyTerm.objects.get(ontology="spdx", curie="MIT")
    response = api.get(f"/api/v1/terms/{mit.pk}/")
    assert response.status_code == 200
    assert response.json()["label"] == "MIT License"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "q", "at least 2 letters or digits"),
        ({"q": ""}, "q", "at least 2 letters or digits"),
        ({"q": "m"}, "q", "at least 2 letters or digits"),
        ({"q": "-.-"}, "q", "at least 2 letters or digits"),
        ({"q": "mouse", "ontology": "genes"}, "ontology", "Unknown ontology “genes”; choose from edam_"),
        ({"q": "mouse", "limit": "0"}, "limit", "greater than or equal to 1"),
        ({"q": "mouse", "limit": "51"}, "limit", "less than or equal to 50"),
        ({"q": "mouse", "limit": "many"}, "limit", "A valid integer is required."),
    ],
)
def test_bad_queries_get_a_400_that_says_what_is_wrong(
    api: APIClient, params: dict[str, str], field: str, message: str
) -> None:
    response = api.get("/api/v1/terms/", params)
    assert response.status_code == 400
    assert message in str(response.json()[field])


def test_the_api_needs_a_signed_in_user(ontologies: None) -> None:
    anonymous = APIClient()
    assert anonymous.get("/api/v1/terms/", {"q": "mouse"}).status_code == 401
    mit = OntologyTerm.objects.get(ontology="spdx", curie="MIT")
    assert anonymous.get(f"/api/v1/terms/{mit.pk}/").status_code == 401
