from __future__ import annotations

from django.test import Client

from accounts.models import User
from vocabularies.models import OntologyTerm


def test_staff_find_terms_by_label_or_short_id_and_cannot_edit_them(ontologies: None) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw-admin"))
    by_label = client.get("/admin/vocabularies/ontologyterm/", {"q": "confocal microscopy"}).content.decode()
    assert "spinning disk confocal microscopy" in by_label
    by_curie = client.get("/admin/vocabularies/ontologyterm/", {"q": "NCBITaxon:10090"}).content.decode()
    assert "Mus musculus" in by_curie
    mouse = OntologyTerm.objects.get(curie="NCBITaxon:10090")
    page = client.get(f"/admin/vocabularies/ontologyterm/{mouse.pk}/change/").content.decode()
    assert "View ontology term" in page  # read-only: load_ontologies would overwrite any edit
    assert client.get("/admin/vocabularies/ontologyterm/add/").status_code == 403
