"""Migration 0003 fills in what Zenodo holds for records FAIRlight deposited before it existed:
the access the deposit set, from the release date of that day, and nothing for records whose
accession was typed in by hand."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("repositories", "0002_embargo_tracking")]
AFTER = [("repositories", "0003_archive_access")]
DEPOSITED = "Deposited to Zenodo and published as record {}."


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_deposits_made_before_the_migration_get_the_access_they_set() -> None:
    old = _migrate(BEFORE)
    try:
        project = old.get_model("projects", "Project").objects.create(title="Old", time_zone="UTC")
        submission_model = old.get_model("repositories", "Submission")
        deposit_day = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)

        def made(accession: str, release: datetime.date, state: str = "embargoed") -> Any:
            return submission_model.objects.create(
                project=project,
                target="zenodo",
                state=state,
                title=accession,
                release_date=release,
                accession=accession,
            )

        unchanged = made("101", datetime.date(2027, 1, 1))
        changed_later = made("102", datetime.date(2028, 6, 1))
        public_at_once = made("103", datetime.date(2026, 2, 1), state="public")
        made("104", datetime.date(2027, 1, 1))  # its accession typed in by hand: no deposit event
        for submission in (unchanged, changed_later, public_at_once):
            submission.events.create(
                from_state="packaged",
                to_state="submitted",
                at=deposit_day,
                note=DEPOSITED.format(submission.accession),
            )
        changed_later.embargo_changes.create(
            kind="extend",
            old_date=datetime.date(2027, 3, 1),
            new_date=datetime.date(2028, 6, 1),
            at=deposit_day + datetime.timedelta(days=30),
        )
    finally:
        new = _migrate(AFTER)
    held = {
        accession: (at is not None and at.date(), release)
        for accession, at, release in new.get_model("repositories", "Submission").objects.values_list(
            "accession", "archive_access_set_at", "archive_release_date"
        )
    }
    assert held == {
        "101": (deposit_day.date(), datetime.date(2027, 1, 1)),
        "102": (deposit_day.date(), datetime.date(2027, 3, 1)),  # the date on the day of the deposit
        "103": (deposit_day.date(), None),  # public at once
        "104": (False, None),  # deposited by hand: FAIRlight never set its access
    }
