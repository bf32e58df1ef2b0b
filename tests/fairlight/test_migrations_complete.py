"""Every model change has its migration: a choice added to a model without one is caught here,
not by a deployment whose database disagrees with the code."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_migrations_describe_the_models() -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", check=True, dry_run=True, stdout=out)
    except SystemExit:
        pytest.fail(f"Models changed without a migration (run manage.py makemigrations):\n{out.getvalue()}")
