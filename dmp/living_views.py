"""Pages of the living DMP: planned vs actual with the drift report, linking datasets to planned
datasets, answering questions with what the data say, and a new plan version from reality."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from dmp import living, selectors, wizard
from dmp.answers import AnswerConflict, questions_by_key
from dmp.models import Plan
from dmp.versions import display_value
from metadata.models import Dataset
from projects import access


def _living_url(plan: Plan, anchor: str = "") -> str:
    return reverse("dmp:living", args=[plan.pk]) + (f"#{anchor}" if anchor else "")


@login_required
def plan_living(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    return render(
        request,
        "dmp/living_plan.html",
        {
            "plan": plan,
            "project": plan.project,
            "access": project_access,
            "report": living.living_report(plan),
        },
    )


@login_required
def living_offers(request: HttpRequest, pk: int) -> HttpResponse:
    """For a wizard page: the drift count for the sidebar, and after each card whose question the
    data answer differently, "Actual: … — use this" (swapped in out of band)."""
    plan, project_access = selectors.plan_for_user(request.user, pk)
    section = request.GET.get("section", "")
    found = [
        (offer, wizard.card_dom_id(offer.question["key"], offer.block))
        for offer in living.offers(plan, section_key=section)
        if offer.visible and not offer.agrees
    ]
    return render(
        request,
        "dmp/living_offers.html",
        {
            "plan": plan,
            "access": project_access,
            "section": section,
            "offers": found,
            "has_links": bool(living.live_links(plan)),
            "drift_count": len(living.drift(plan)),
        },
    )


@login_required
@require_POST
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    dataset_id = request.POST.get("dataset", "")
    dataset = (
        Dataset.objects.filter(pk=dataset_id, project=plan.project_id).first()
        if dataset_id.isdigit()
        else None
    )
    if dataset is None:
        messages.error(request, "Choose a dataset of this project.")
        return redirect(_living_url(plan, "link-datasets"))
    try:
        link = living.link_create(
            plan=plan,
            block_id=request.POST.get("block", ""),
            dataset=dataset,
            user=authenticated_user(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_living_url(plan, "link-datasets"))
    block = next(b for b in plan.blocks if b["id"] == link.block_id)
    messages.success(request, f"“{dataset}” is linked to the planned dataset “{block['title']}”.")
    return redirect(_living_url(plan, f"planned-{link.block_id}"))


@login_required
@require_POST
def link_delete(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    link = plan.dataset_links.select_related("dataset", "plan__project").filter(pk=link_pk).first()
    if link is None:
        raise Http404("No such link.")
    living.link_delete(link=link, user=authenticated_user(request))
    messages.success(request, f"“{link.dataset}” is no longer linked to this plan.")
    return redirect(_living_url(plan, "link-datasets"))


def _back(plan: Plan, section: str, question_key: str, block_id: str) -> str:
    """Where "use this" returns: the wizard card it was pressed beside, or the living page."""
    if section not in {s["key"] for s in wizard.top_sections(plan)}:
        return _living_url(plan, f"planned-{block_id}" if block_id else "whole-plan")
    block = next((b for b in plan.blocks if b["id"] == block_id), None)
    return (
        reverse("dmp:plan_section", args=[plan.pk, section]) + "#" + wizard.card_dom_id(question_key, block)
    )


@login_required
@require_POST
def offer_use(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    question_key = request.POST.get("question", "")
    block_id = request.POST.get("block", "")
    back = _back(plan, request.POST.get("section", ""), question_key, block_id)
    version = request.POST.get("version", "")
    if not version.isdigit():
        messages.error(request, "The form lacks the answer's version; reload the page.")
        return redirect(back)
    try:
        answer = living.offer_use(
            plan=plan,
            user=authenticated_user(request),
            question_key=question_key,
            block_id=block_id,
            version=int(version),
        )
    except AnswerConflict as conflict:
        messages.error(
            request,
            f"Someone else changed this answer since you loaded the page; it now says "
            f"“{conflict.current.value}”. Nothing was overwritten: check it and try again.",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        shown = display_value(questions_by_key(plan.template)[question_key][0], answer.value)
        messages.success(request, f"Answered with what the data say: {shown}.")
    return redirect(back)


@login_required
@require_POST
def snapshot_from_current(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    try:
        report = living.snapshot_from_current(
            plan=plan, user=authenticated_user(request), name=request.POST.get("name", "")
        )
    except AnswerConflict:
        messages.error(
            request, "Someone changed an answer of this plan just now; nothing was changed. Try again."
        )
        return redirect(_living_url(plan))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_living_url(plan))
    return render(
        request,
        "dmp/living_snapshot.html",
        {"plan": plan, "project": plan.project, "access": project_access, "report": report},
    )
