"""The plan's tools beside the wizard: the storage and cost estimator and the FAIR score."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.requests import authenticated_user
from dmp import answers, estimator, fair, selectors, wizard
from dmp.forms import EstimateForm


@login_required
def plan_estimate(request: HttpRequest, pk: int) -> HttpResponse:
    """Viewers may calculate; editors also keep the inputs and insert the results into answers."""
    plan, project_access = selectors.plan_for_user(request.user, pk)
    tiers = estimator.facility_tiers(plan.project.facility)
    result = None
    if request.method == "POST":
        form = EstimateForm(request.POST, tiers=tiers)
        if form.is_valid():
            try:
                inputs = form.acquisition_plan()
                result = estimator.estimate(inputs)
                if project_access.can_edit and request.POST.get("action") == "insert":
                    saved = estimator.estimate_insert(
                        plan=plan,
                        user=authenticated_user(request),
                        inputs=inputs,
                        refs=request.POST.getlist("target"),
                    )
                    messages.success(request, f"{len(saved)} answer(s) filled in from the estimate.")
                    return redirect("dmp:plan_estimate", pk=plan.pk)
                if project_access.can_edit:
                    estimator.estimate_remember(plan=plan, user=authenticated_user(request), inputs=inputs)
            except ValidationError as exc:
                form.add_error(None, exc)
            except answers.AnswerConflict:
                form.add_error(None, "Someone changed one of those answers just now; check it and try again.")
    else:
        form = EstimateForm(initial=EstimateForm.initial_from(plan.estimate, tiers), tiers=tiers)
        result = estimator.remembered(plan)
    return render(
        request,
        "dmp/plan_estimate.html",
        {
            "plan": plan,
            "project": plan.project,
            "access": project_access,
            "form": form,
            "result": result,
            "tiers": tiers,
            "targets": estimator.targets(plan),
        },
    )


@login_required
def plan_fair(request: HttpRequest, pk: int) -> HttpResponse:
    plan, project_access = selectors.plan_for_user(request.user, pk)
    scores = fair.fair_score(plan)
    sections = {
        score.letter: [
            (
                item,
                reverse("dmp:plan_section", args=[plan.pk, wizard.section_of(plan, item.question["key"])])
                + "#"
                + wizard.card_dom_id(item.question["key"], item.block),
            )
            for item in score.unanswered
        ]
        for score in scores
    }
    return render(
        request,
        "dmp/plan_fair.html",
        {
            "plan": plan,
            "project": plan.project,
            "access": project_access,
            "scores": [(score, sections[score.letter]) for score in scores],
        },
    )
