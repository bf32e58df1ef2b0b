"""Emails about plan reviews, sent by a worker so a slow mail server never holds up a page."""

from __future__ import annotations

from django.tasks import task

from dmp import review
from dmp.models import ReviewRequest


@task()
def send_review_requested_email(*, review_id: int) -> int:
    """Email each steward of the facility; 0 when the request was withdrawn or settled meanwhile."""
    request = (
        ReviewRequest.objects.select_related("plan", "plan__project", "facility", "requested_by")
        .filter(pk=review_id, status=ReviewRequest.Status.OPEN)
        .first()
    )
    if request is None:
        return 0
    return review.review_email_stewards(request)


@task()
def send_review_completed_email(*, review_id: int) -> bool:
    """Email the person who asked for feedback that the stewards have reviewed the plan."""
    request = (
        ReviewRequest.objects.select_related(
            "plan", "plan__project", "facility", "requested_by", "reviewed_by"
        )
        .filter(pk=review_id, status=ReviewRequest.Status.REVIEWED)
        .first()
    )
    if request is None:
        return False
    return review.review_email_requester(request)
