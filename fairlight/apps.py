from __future__ import annotations

from django.apps import AppConfig


class FairlightConfig(AppConfig):
    """The composition layer: commands that bring all apps together (quickstart)."""

    name = "fairlight"
    verbose_name = "FAIRlight"
