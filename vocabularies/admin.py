from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from vocabularies.models import OntologyTerm


@admin.register(OntologyTerm)
class OntologyTermAdmin(admin.ModelAdmin[OntologyTerm]):
    """Read-only: terms come from the files in vocabularies/data/ and `manage.py load_ontologies`
    would overwrite any edit made here."""

    list_display = ("label", "curie", "ontology", "obsolete")
    list_filter = ("ontology", "obsolete")
    search_fields = ("label", "curie", "iri")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OntologyTerm | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OntologyTerm | None = None) -> bool:
        return False
