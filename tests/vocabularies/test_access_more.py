"""Roles × users for term search: the vocabularies are reference data shared by every project, so
any signed-in person may search them; anonymous visitors may not (login page, or 401 from the API)."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import outcome
from vocabularies.models import OntologyTerm


@pytest.mark.parametrize("who", ALL_USERS)
def test_term_search_matrix(world: World, ontologies: None, who: str) -> None:
    term = OntologyTerm.objects.get(curie="NCBITaxon:7955")
    signed_in = who != "anonymous"
    options = world.client(who).get("/vocabularies/terms/", {"q": "danio", "listbox": "organism-options"})
    assert outcome(options) == (200 if signed_in else "login")
    api = world.api(who)
    found = api.get("/api/v1/terms/", {"q": "danio rerio"})
    detail = api.get(f"/api/v1/terms/{term.pk}/")
    assert (found.status_code, detail.status_code) == ((200, 200) if signed_in else (401, 401))
    if signed_in:
        assert term.label in options.content.decode()
        assert term.iri in [row["iri"] for row in found.json()]
        assert detail.json()["label"] == term.label
