from __future__ import annotations

from django.apps import AppConfig


class VocabulariesConfig(AppConfig):
    name = "vocabularies"
    verbose_name = "Ontologies and vocabularies"
