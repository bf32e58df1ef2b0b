"""Submission tasks: thin wrappers that load by id and call repositories.services."""

from __future__ import annotations

from django.tasks import task

from repositories import services


@task()
def package_build_task(*, submission_id: int) -> str:
    submission = services.package_build(submission_id=submission_id)
    return submission.package_path if submission is not None else ""
