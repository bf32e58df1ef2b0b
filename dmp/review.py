"""Collaboration on a plan: comments per question, and feedback requested from the data
stewards of the project's facility, who comment and mark the plan reviewed.

Commenting needs the reviewer role (stewards hold it on their facility's projects); changing
answers stays with editors, which `dmp.answers.answer_save` enforces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from dmp.answers import questions_by_key
from dmp.models import Comment, Plan, ReviewRequest
from dmp.tasks import send_review_completed_email, send_review_requested_email
from dmp.wizard import card_dom_id, section_of
from projects import access
from projects.models import Facility

if TYPE_CHECKING:
    from dmp.wizard import Page

MAX_TEXT = 5000
RECENTLY_REVIEWED = 20


# Reads -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    """The comments on one question (of one planned dataset), as shown under its answer card."""

    question_key: str
    block_id: str
    dom_id: str
    comments: list[Comment]

    @property
    def open_count(self) -> int:
        return sum(1 for comment in self.comments if not comment.resolved)


def thread_dom_id(card_dom_id: str) -> str:
    return f"comments-{card_dom_id}"


def comments_by_question(plan: Plan) -> dict[tuple[str, str], list[Comment]]:
    """Every comment of the plan in one query, keyed by (question key, block id), oldest first."""
    grouped: dict[tuple[str, str], list[Comment]] = defaultdict(list)
    for comment in plan.comments.select_related("author", "resolved_by").order_by("created_at", "pk"):
        grouped[(comment.question_key, comment.block_id)].append(comment)
    return dict(grouped)


def thread_of(plan: Plan, *, question_key: str, block_id: str) -> Thread:
    """One question's thread, for re-rendering it after a change; the question must exist."""
    comments = list(
        plan.comments.filter(question_key=question_key, block_id=block_id)
        .select_related("author", "resolved_by")
        .order_by("created_at", "pk")
    )
    return Thread(question_key, block_id, thread_dom_id(_card_dom_id(plan, block_id, question_key)), comments)


def open_comment_count(plan: Plan) -> int:
    return plan.comments.filter(resolved=False).count()


@dataclass(frozen=True)
class OpenComment:
    comment: Comment
    question_text: str
    block_title: str
    url: str


def open_comment_list(plan: Plan) -> list[OpenComment]:
    """The plan's unresolved comments with their question, in template order, each with a link."""
    questions = questions_by_key(plan.template)
    order = {key: index for index, key in enumerate(questions)}
    blocks = {block["id"]: block["title"] for block in plan.blocks}
    comments = plan.comments.filter(resolved=False).select_related("author").order_by("created_at", "pk")
    listed = []
    for comment in sorted(comments, key=lambda c: order.get(c.question_key, len(order))):
        if comment.question_key not in questions:
            continue
        question, _ = questions[comment.question_key]
        dom_id = thread_dom_id(_card_dom_id(plan, comment.block_id, comment.question_key))
        section = reverse("dmp:plan_section", args=[plan.pk, section_of(plan, comment.question_key)])
        listed.append(
            OpenComment(
                comment=comment,
                question_text=str(question["text"]),
                block_title=blocks.get(comment.block_id, ""),
                url=f"{section}?open={dom_id}#{dom_id}",
            )
        )
    return listed


def open_review(plan: Plan) -> ReviewRequest | None:
    return (
        plan.review_requests.filter(status=ReviewRequest.Status.OPEN)
        .select_related("facility", "requested_by")
        .first()
    )


def is_steward(user: access.AnyUser, facility: Facility | None) -> bool:
    """True for a data steward of this very facility (site staff are not stewards by rank)."""
    if facility is None or not user.is_authenticated:
        return False
    return facility.stewards.filter(pk=user.pk).exists()


@dataclass(frozen=True)
class ReviewQueue:
    waiting: Sequence[ReviewRequest]
    recently_reviewed: Sequence[ReviewRequest]
    facilities: list[Facility]


def review_queue(user: User) -> ReviewQueue:
    """Open requests to facilities the user stewards (oldest first) and the latest reviewed ones."""
    facilities = list(Facility.objects.filter(stewards=user).order_by("name"))
    requests = (
        ReviewRequest.objects.filter(facility__in=facilities)
        .select_related("plan", "plan__project", "facility", "requested_by", "reviewed_by")
        .annotate(open_comments=Count("plan__comments", filter=Q(plan__comments__resolved=False)))
    )
    waiting = list(requests.filter(status=ReviewRequest.Status.OPEN).order_by("requested_at", "pk"))
    reviewed = list(
        requests.filter(status=ReviewRequest.Status.REVIEWED).order_by("-reviewed_at", "-pk")[
            :RECENTLY_REVIEWED
        ]
    )
    return ReviewQueue(waiting=waiting, recently_reviewed=reviewed, facilities=facilities)


@dataclass(frozen=True)
class PlanReview:
    """What the plan page's sidebar shows about feedback, for the current user."""

    open_request: ReviewRequest | None
    last_reviewed: ReviewRequest | None
    open_comments: int
    user_is_steward: bool
    user_may_withdraw: bool


def plan_review_context(
    *, plan: Plan, page: Page, project_access: access.ProjectAccess, user: access.AnyUser
) -> dict[str, Any]:
    """The plan page's comment threads and review state, in a constant number of queries.

    Each card of the page gets its thread as ``card.comment_thread``.
    """
    grouped = comments_by_question(plan)
    for _part, _depth, groups in page.parts:
        for _block, cards in groups:
            for card in cards:
                block_id = card.block["id"] if card.block else ""
                key = (card.question["key"], block_id)
                thread = Thread(key[0], block_id, thread_dom_id(card.dom_id), grouped.get(key, []))
                card.comment_thread = thread
    open_request = open_review(plan)
    last_reviewed = (
        None
        if open_request
        else plan.review_requests.filter(status=ReviewRequest.Status.REVIEWED)
        .select_related("reviewed_by")
        .order_by("-reviewed_at", "-pk")
        .first()
    )
    return {
        "plan_review": PlanReview(
            open_request=open_request,
            last_reviewed=last_reviewed,
            open_comments=sum(1 for c in _flatten(grouped) if not c.resolved),
            user_is_steward=open_request is not None and is_steward(user, open_request.facility),
            user_may_withdraw=open_request is not None
            and (open_request.requested_by_id == user.pk or project_access.can_manage),
        )
    }


def _flatten(grouped: dict[tuple[str, str], list[Comment]]) -> list[Comment]:
    return [comment for comments in grouped.values() for comment in comments]


def _card_dom_id(plan: Plan, block_id: str, question_key: str) -> str:
    block = next((b for b in plan.blocks if b["id"] == block_id), None)
    return card_dom_id(question_key, block)


# Comments ----------------------------------------------------------------------------------------


def _clean_text(text: str, *, what: str, required: bool = True) -> str:
    text = text.strip()
    if required and not text:
        raise ValidationError(f"Write the {what} first; it is empty.")
    if len(text) > MAX_TEXT:
        raise ValidationError(f"The {what} is longer than {MAX_TEXT:,} characters ({len(text):,}).")
    return text


def comment_add(*, plan: Plan, user: User, question_key: str, block_id: str, text: str) -> Comment:
    """Comment on one question; reviewers, stewards, editors, managers and owners may."""
    access.require_role(user, plan.project, access.REVIEW)
    questions = questions_by_key(plan.template)
    if question_key not in questions:
        raise ValidationError(f"This plan has no question {question_key!r}.")
    _, block_kind = questions[question_key]
    if block_kind and block_id not in {b["id"] for b in plan.blocks}:
        raise ValidationError(
            "That planned dataset does not exist in this plan (it may have been removed); reload the page."
        )
    if not block_kind and block_id:
        raise ValidationError(
            f"Question {question_key!r} is asked once for the whole plan, not per planned dataset."
        )
    comment = Comment(
        plan=plan,
        question_key=question_key,
        block_id=block_id,
        author=user,
        text=_clean_text(text, what="comment"),
    )
    comment.full_clean()
    comment.save()
    return comment


def _require_resolver(user: User, comment: Comment) -> None:
    """Editors and above settle any comment; reviewers and stewards only their own."""
    role = access.require_role(user, comment.plan.project, access.VIEW)
    if access.role_at_least(role, access.EDIT):
        return
    if comment.author_id == user.pk and access.role_at_least(role, access.REVIEW):
        return
    raise PermissionDenied(
        f"Your role in this project is {role.label}; "
        "resolving another person's comment needs Editor or higher."
    )


def comment_resolve(*, comment: Comment, user: User) -> Comment:
    """Mark a comment resolved; resolving it again keeps who resolved it first."""
    _require_resolver(user, comment)
    if comment.resolved:
        return comment
    comment.resolved, comment.resolved_by, comment.resolved_at = True, user, timezone.now()
    comment.save(update_fields=["resolved", "resolved_by", "resolved_at"])
    return comment


def comment_reopen(*, comment: Comment, user: User) -> Comment:
    _require_resolver(user, comment)
    if not comment.resolved:
        return comment
    comment.resolved, comment.resolved_by, comment.resolved_at = False, None, None
    comment.save(update_fields=["resolved", "resolved_by", "resolved_at"])
    return comment


# Review requests ---------------------------------------------------------------------------------


def _set_plan_status(plan: Plan, status: Plan.Status) -> None:
    plan.status = status
    plan.save(update_fields=["status", "updated_at"])


def review_request(*, plan: Plan, user: User, message: str) -> ReviewRequest:
    """Send the plan to its facility's data stewards: the plan goes in review, each steward gets an email."""
    access.require_role(user, plan.project, access.EDIT)
    facility = plan.project.facility
    if facility is None:
        raise ValidationError(
            "This project belongs to no facility, so there are no data stewards to ask; "
            "a project manager can choose the facility in the project's settings."
        )
    if not facility.stewards.exists():
        raise ValidationError(f"{facility} has no data stewards yet; ask the facility to name one.")
    if plan.status == Plan.Status.FINAL:
        raise ValidationError("This plan is final; feedback can be requested on a draft only.")
    current = open_review(plan)
    if current is not None:
        raise ValidationError(_already_waiting(current))
    review = ReviewRequest(
        plan=plan,
        facility=facility,
        message=_clean_text(message, what="message", required=False),
        requested_by=user,
    )
    review.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            review.save()
            _set_plan_status(plan, Plan.Status.IN_REVIEW)
    except IntegrityError:
        # Someone else asked in the same moment; the constraint keeps one open request per plan.
        raced = open_review(plan)
        raise ValidationError(
            _already_waiting(raced) if raced else "This plan is already waiting for review."
        ) from None
    transaction.on_commit(lambda: send_review_requested_email.enqueue(review_id=review.pk))
    return review


def _already_waiting(review: ReviewRequest) -> str:
    who = review.requested_by.display_name() if review.requested_by else "someone"
    return (
        f"This plan is already waiting for review (asked by {who} on "
        f"{review.requested_at:%Y-%m-%d}); withdraw that request first to send a new one."
    )


def _require_open(review: ReviewRequest) -> None:
    if review.status != ReviewRequest.Status.OPEN:
        raise ValidationError(f"This review request is no longer open: it was {review.get_status_display()}.")


def review_complete(*, review: ReviewRequest, user: User, summary: str) -> ReviewRequest:
    """A steward of the request's facility marks the plan reviewed; the requester gets an email."""
    access.require_role(user, review.plan.project, access.VIEW)
    if not is_steward(user, review.facility):
        raise PermissionDenied(f"Only the data stewards of {review.facility} complete this review.")
    _require_open(review)
    review.summary = _clean_text(summary, what="review summary")
    review.status = ReviewRequest.Status.REVIEWED
    review.reviewed_by, review.reviewed_at = user, timezone.now()
    review.full_clean(validate_constraints=False)
    with transaction.atomic():
        review.save(update_fields=["summary", "status", "reviewed_by", "reviewed_at"])
        _set_plan_status(review.plan, Plan.Status.DRAFT)
    transaction.on_commit(lambda: send_review_completed_email.enqueue(review_id=review.pk))
    return review


def review_withdraw(*, review: ReviewRequest, user: User) -> ReviewRequest:
    """The requester or a manager takes the request back; the plan returns to draft."""
    role = access.require_role(user, review.plan.project, access.VIEW)
    if review.requested_by_id != user.pk and not access.role_at_least(role, access.MANAGE):
        raise PermissionDenied(
            f"Your role in this project is {role.label}; only the person who asked or a Manager "
            "can withdraw a review request."
        )
    _require_open(review)
    review.status = ReviewRequest.Status.WITHDRAWN
    with transaction.atomic():
        review.save(update_fields=["status"])
        _set_plan_status(review.plan, Plan.Status.DRAFT)
    return review


# Emails (sent by dmp.tasks) ----------------------------------------------------------------------


def _absolute(path: str) -> str:
    return str(settings.FAIRLIGHT_BASE_URL).rstrip("/") + path


def review_email_stewards(review: ReviewRequest) -> int:
    """One email to each steward of the facility who has an address; the number sent."""
    context = {
        "review": review,
        "plan_url": _absolute(reverse("dmp:plan_detail", args=[review.plan_id])),
        "review_url": _absolute(reverse("dmp:review_detail", args=[review.pk])),
    }
    subject = f"Feedback requested on the plan “{review.plan}” ({review.plan.project})"
    body = render_to_string("dmp/review_requested_email.txt", context)
    addresses = sorted({s.email for s in review.facility.stewards.all() if s.email})
    return int(send_mass_mail([(subject, body, None, [address]) for address in addresses]))


def review_email_requester(review: ReviewRequest) -> bool:
    """Tell the person who asked that the review is done; False when they have no address."""
    if review.requested_by is None or not review.requested_by.email:
        return False
    context = {
        "review": review,
        "plan_url": _absolute(reverse("dmp:plan_detail", args=[review.plan_id])),
        "review_url": _absolute(reverse("dmp:review_detail", args=[review.pk])),
    }
    subject = f"Your plan “{review.plan}” was reviewed by {review.facility}"
    body = render_to_string("dmp/review_completed_email.txt", context)
    return bool(send_mass_mail([(subject, body, None, [review.requested_by.email])]))
