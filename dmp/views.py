from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dmp import selectors, services
from dmp.models import Template
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
