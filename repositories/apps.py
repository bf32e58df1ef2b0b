from __future__ import annotations

from django.apps import AppConfig


class RepositoriesConfig(AppConfig):
    name = "repositories"
    verbose_name = "Repository submissions"
