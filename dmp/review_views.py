"""Pages and form posts for comments on a plan and for reviews by the facility's data stewards.

Every form works without JavaScript (POST, then a redirect back to the comment thread); with htmx
the thread is swapped in place and the sidebar's open-comment count is updated out of band.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from dmp import review, selectors, wizard
from dmp.answers import questions_by_key
from dmp.models import Comment, Plan, ReviewRequest
from projects import access


def _thread_response(
    request: HttpRequest,
    plan: Plan,
    project_access: access.ProjectAccess,
    *,
    question_key: str,
    block_id: str,
    error: str = "",
    draft: str = "",
) -> HttpResponse:
    thread = review.thread_of(plan, question_key=question_key, block_id=block_id)
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        section = wizard.section_of(plan, question_key)
        url = reverse("dmp:plan_section", args=[plan.pk, section])
        return redirect(f"{url}?open={thread.dom_id}#{thread.dom_id}")
    # Errors come back with 200 so that htmx swaps the thread in and shows them beside the form.
    return render(
        request,
        "dmp/includes/comment_response.html",
        {
            "plan": plan,
            "access": project_access,
            "thread": thread,
            "error": error,
            "draft": draft,
            "open_comments": review.open_comment_count(plan),
        },
    )


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    key, block_id, text = (request.POST.get(name, "") for name in ("question", "block", "text"))
    if key not in questions_by_key(plan.template):
        raise Http404("No such question.")
    error = ""
    try:
        review.comment_add(
            plan=plan, user=authenticated_user(request), question_key=key, block_id=block_id, text=text
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    return _thread_response(
        request,
        plan,
        project_access,
        question_key=key,
        block_id=block_id,
        error=error,
        draft=text if error else "",
    )


def _comment_settle(request: HttpRequest, pk: int, comment_pk: int, *, reopen: bool) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    comment = Comment.objects.select_related("plan__project").filter(pk=comment_pk, plan=plan).first()
    if comment is None:
        raise Http404("No such comment.")
    settle = review.comment_reopen if reopen else review.comment_resolve
    settle(comment=comment, user=authenticated_user(request))
    return _thread_response(
        request, plan, project_access, question_key=comment.question_key, block_id=comment.block_id
    )


@login_required
@require_POST
def comment_resolve(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    return _comment_settle(request, pk, comment_pk, reopen=False)


@login_required
@require_POST
def comment_reopen(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    return _comment_settle(request, pk, comment_pk, reopen=True)


def _back_to_plan(plan: Plan, section: str) -> HttpResponse:
    if section in {s["key"] for s in wizard.top_sections(plan)}:
        return redirect("dmp:plan_section", pk=plan.pk, section=section)
    return redirect("dmp:plan_detail", pk=plan.pk)


@login_required
@require_POST
def review_request(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk)
    try:
        sent = review.review_request(
            plan=plan, user=authenticated_user(request), message=request.POST.get("message", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Feedback requested: the data stewards of {sent.facility} have been emailed."
        )
    return _back_to_plan(plan, request.POST.get("section", ""))


def _review_for(request: HttpRequest, pk: int) -> tuple[ReviewRequest, access.ProjectAccess]:
    found = (
        ReviewRequest.objects.select_related(
            "plan", "plan__template", "plan__project", "facility", "requested_by", "reviewed_by"
        )
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such review request.")
    return found, access.project_for_user(request.user, found.plan.project_id)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    queue = review.review_queue(authenticated_user(request))
    if not queue.facilities:
        raise PermissionDenied("Only the data stewards of a facility have a review queue.")
    return render(request, "dmp/review_queue.html", {"queue": queue})


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found, project_access = _review_for(request, pk)
    user = authenticated_user(request)
    return render(
        request,
        "dmp/review_detail.html",
        {
            "review": found,
            "plan": found.plan,
            "access": project_access,
            "open_comments": review.open_comment_list(found.plan),
            "user_is_steward": review.is_steward(user, found.facility),
            "user_may_withdraw": found.requested_by_id == user.pk or project_access.can_manage,
        },
    )


@login_required
@require_POST
def review_complete(request: HttpRequest, pk: int) -> HttpResponse:
    found, _ = _review_for(request, pk)
    try:
        review.review_complete(
            review=found, user=authenticated_user(request), summary=request.POST.get("summary", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dmp:review_detail", pk=found.pk)
    messages.success(request, f"“{found.plan}” is marked reviewed; the person who asked is emailed.")
    return redirect("dmp:review_queue")


@login_required
@require_POST
def review_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    found, _ = _review_for(request, pk)
    try:
        review.review_withdraw(review=found, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dmp:review_detail", pk=found.pk)
    messages.success(request, "The review request is withdrawn; the plan is a draft again.")
    return redirect("dmp:plan_detail", pk=found.plan_id)
