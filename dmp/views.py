from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from dmp import answers, madmp, review, selectors, services, wizard
from dmp.models import Plan, Template
from projects import access
from projects.models import Facility, Project
from projects.selectors import project_list


@login_required
def plans_index(request: HttpRequest) -> HttpResponse:
    templates = selectors.current_templates()
    return render(
        request,
        "dmp/plans_index.html",
        {
            "projects": project_list(user=request.user, status=Project.Status.ACTIVE),
            "templates": [(template, selectors.question_count(template)) for template in templates],
            "plans": Plan.objects.filter(project__in=access.visible_projects(request.user))
            .select_related("project", "template")
            .order_by("-updated_at"),
        },
    )


def _facilities_for(request: HttpRequest) -> tuple[list[Facility], list[Facility]]:
    """Facilities whose guidance the user sees, and those whose guidance the user may edit."""
    user = request.user
    stewarded = list(access.facilities_stewarded(user))
    projects = access.visible_projects(user)
    seen = Facility.objects.filter(Q(pk__in=[f.pk for f in stewarded]) | Q(projects__in=projects)).distinct()
    return list(seen), stewarded


@login_required
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(Template, pk=pk)
    visible, stewarded = _facilities_for(request)
    outline = selectors.template_outline(template, Facility.objects.filter(pk__in=[f.pk for f in visible]))
    return render(
        request,
        "dmp/template_detail.html",
        {
            "template": template,
            "outline": outline,
            "stewarded": stewarded,
            "question_count": selectors.question_count(template),
        },
    )


@login_required
@require_POST
def guidance_save(request: HttpRequest, pk: int, facility_pk: int) -> HttpResponse:
    template = get_object_or_404(Template, pk=pk)
    facility = access.facility_for_steward(request.user, facility_pk)
    question_key = request.POST.get("question", "")
    try:
        services.guidance_set(
            facility=facility, template=template, question_key=question_key, text=request.POST.get("text", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Guidance of {facility} for this question saved.")
    return redirect(reverse("dmp:template_detail", args=[template.pk]) + f"#q-{question_key}")


@login_required
def plan_new(request: HttpRequest, project_pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, project_pk, needs=access.EDIT)
    templates = selectors.current_templates()
    if request.method == "POST":
        template = get_object_or_404(Template, pk=request.POST.get("template"))
        plan = answers.plan_create(
            project=project_access.project,
            template=template,
            title=request.POST.get("title", ""),
            user=authenticated_user(request),
        )
        messages.success(request, f"Plan “{plan}” created from {template}.")
        return redirect("dmp:plan_detail", pk=plan.pk)
    return render(request, "dmp/plan_new.html", {"project": project_access.project, "templates": templates})


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk)
    return redirect("dmp:plan_section", pk=plan.pk, section=wizard.top_sections(plan)[0]["key"])


@login_required
def plan_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    page = wizard.build_page(plan, section)
    if page is None:
        raise Http404("No such section.")
    sections = wizard.top_sections(plan)
    index = next(i for i, s in enumerate(sections) if s["key"] == section)
    media = forms.Media()
    for _part, _depth, groups in page.parts:
        for _block, cards in groups:
            for card in cards:
                media += card.media
    return render(
        request,
        "dmp/plan_section.html",
        {
            "plan": plan,
            "project": plan.project,
            "access": project_access,
            "page": page,
            "sections": sections,
            "previous": sections[index - 1] if index > 0 else None,
            "next": sections[index + 1] if index + 1 < len(sections) else None,
            "progress": answers.plan_progress(plan),
            "media": media,
            "licences": wizard.LICENCES,
            "repositories": wizard.REPOSITORIES,
            **review.plan_review_context(
                plan=plan, page=page, project_access=project_access, user=request.user
            ),
        },
    )


@login_required
@require_POST
def answer_save(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    key = request.POST.get("question", "")
    block_id = request.POST.get("block", "")
    questions = answers.questions_by_key(plan.template)
    if key not in questions:
        raise Http404("No such question.")
    question, block_kind = questions[key]
    block = next((b for b in plan.blocks if b["id"] == block_id), None) if block_kind else None
    raw: Any = (
        request.POST.getlist("value")
        if question["type"] == "multiple_choice"
        else request.POST.get("value", "")
    )
    try:
        version = int(request.POST.get("version", "0"))
    except ValueError:
        version = -1
    status = 200
    error, yours, saved = "", None, False
    try:
        answers.answer_save(
            plan=plan,
            user=authenticated_user(request),
            question_key=key,
            block_id=block_id,
            raw=raw,
            version=version,
        )
    except answers.AnswerConflict as conflict:
        yours, status = conflict.yours, 409
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 400
    else:
        saved = True
    state = wizard.PlanState(plan)
    card = state.card(question, block)
    card.error, card.conflict_yours, card.saved = error, yours, saved
    # An answer that could not be saved is shown even where its condition would hide it.
    card.visible = card.visible or status != 200
    if not request.headers.get("HX-Request"):
        if status != 200:
            messages.error(
                request, card.error or "Someone else changed this answer; both versions are shown."
            )
        section = wizard.section_of(plan, key)
        return redirect(reverse("dmp:plan_section", args=[plan.pk, section]) + f"#{card.dom_id}")
    return render(
        request,
        "dmp/includes/answer_response.html",
        {
            "plan": plan,
            "card": card,
            "dependents": wizard.dependents(state, key, block),
            "access": project_access,
            "progress": answers.plan_progress(plan),
        },
        status=status,
    )


@login_required
@require_POST
def plan_blocks(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk, needs=access.EDIT)
    try:
        answers.blocks_change(
            plan=plan,
            action=request.POST.get("action", ""),
            block_id=request.POST.get("block", ""),
            title=request.POST.get("title", ""),
            user=authenticated_user(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    section = request.POST.get("section", "")
    if section not in {s["key"] for s in wizard.top_sections(plan)}:
        return redirect("dmp:plan_detail", pk=plan.pk)
    return redirect("dmp:plan_section", pk=plan.pk, section=section)


@login_required
def plan_madmp_download(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = selectors.plan_for_user(request.user, pk)
    response = HttpResponse(json.dumps(madmp.plan_madmp(plan), indent=2), content_type="application/json")
    filename = f"{slugify(plan.title) or 'plan'}-madmp.json"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
