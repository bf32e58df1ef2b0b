from __future__ import annotations

from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Datasets and metadata"
