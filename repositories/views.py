from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from projects import access
from projects.models import Project
from projects.selectors import project_list
from repositories import selectors, services
from repositories.forms import (
    AccessionForm,
    ReleaseDateForm,
    RouterForm,
    SubmissionCreateForm,
    TransitionForm,
)
from repositories.models import State, Submission
from repositories.preflight import today_in


def _submission_for_user(
    request: HttpRequest, pk: int, *, needs: str = access.VIEW
) -> tuple[Submission, access.ProjectAccess]:
    submission = Submission.objects.select_related("project").filter(pk=pk).first()
    if submission is None:
        raise Http404("No such submission.")
    return submission, access.project_for_user(request.user, submission.project_id, needs=needs)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def submissions_index(request: HttpRequest) -> HttpResponse:
    projects = project_list(user=request.user, status=Project.Status.ACTIVE)
    submissions = selectors.submissions_visible_to(request.user).order_by("-updated_at")
    return render(
        request, "repositories/submissions_index.html", {"projects": projects, "submissions": submissions}
    )


@login_required
def project_submissions(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk)
    project = project_access.project
    return render(
        request,
        "repositories/project_submissions.html",
        {"project": project, "access": project_access, "submissions": selectors.project_submissions(project)},
    )


@login_required
def submission_new(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.EDIT)
    project = project_access.project
    available = list(selectors.project_datasets(project))
    form = SubmissionCreateForm(
        request.POST or None,
        project=project,
        initial={"title": project.title, "datasets": available, "target": "bia"},
    )
    router_form = RouterForm(request.GET or None)
    router_data = router_form.cleaned_data if router_form.is_valid() else {}
    advice = selectors.router_advice(
        project=project,
        datasets=available,
        modality=router_data.get("modality") or RouterForm.base_fields["modality"].initial,
        is_screen=bool(router_data.get("is_screen")),
        is_reference=bool(router_data.get("is_reference")),
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            submission = services.submission_create(
                project=project,
                datasets=list(data["datasets"]),
                target=data["target"],
                title=data["title"],
                release_date=data["release_date"],
                user=authenticated_user(request),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, f"Submission “{submission}” created; run its pre-flight check next.")
            return redirect(submission)
    return render(
        request,
        "repositories/submission_new.html",
        {
            "project": project,
            "form": form,
            "router_form": router_form,
            "advice": advice,
            "total_bytes": sum(d.total_bytes for d in available),
            "today": today_in(project),
        },
        status=400 if form.errors else 200,
    )


def _detail_context(submission: Submission, project_access: access.ProjectAccess) -> dict[str, Any]:
    target = selectors.target_of(submission)
    return {
        "submission": submission,
        "project": submission.project,
        "access": project_access,
        "target": target,
        "report": selectors.preflight_report(submission),
        "datasets": submission.datasets.order_by("title"),
        "events": submission.events.select_related("user"),
        "state_actions": [
            state
            for state in selectors.manual_next_states(submission)
            if project_access.can(services.role_needed(state))
        ],
        "can_prepare": project_access.can(access.EDIT),
        "can_act": project_access.can(access.MANAGE),
        "can_check": submission.state in (State.DRAFT, State.CHECKED, State.PACKAGED),
        "accession_open": submission.state
        in (State.SUBMITTED, State.ACCESSIONED, State.EMBARGOED, State.PUBLIC),
        "release_date_open": submission.state not in (State.PUBLIC, State.WITHDRAWN),
        "entries": selectors.package_entries(submission),
        "next_steps": target.next_steps(submission) if target else [],
        "release_form": ReleaseDateForm(initial={"release_date": submission.release_date}),
        "accession_form": AccessionForm(initial={"accession": submission.accession, "doi": submission.doi}),
    }


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission, project_access = _submission_for_user(request, pk)
    template = "repositories/submission_detail.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "package":
        template += "#package"
    return render(request, template, _detail_context(submission, project_access))


@login_required
@require_POST
def submission_check(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=access.EDIT)
    try:
        report = services.submission_check(submission=submission, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if report.ok:
            messages.success(request, "Nothing blocks packaging: the submission is checked.")
        else:
            count = len(report.errors)
            messages.error(
                request, f"{count} problem{'s' if count != 1 else ''} must be fixed before packaging."
            )
    return redirect(submission)


@login_required
@require_POST
def submission_build(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=access.EDIT)
    try:
        services.package_build_start(submission=submission, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "The package is being built; this page shows when it is ready.")
    return redirect(submission)


@login_required
@require_POST
def submission_transition(request: HttpRequest, pk: int) -> HttpResponse:
    form = TransitionForm(request.POST)
    if not form.is_valid():
        _submission_for_user(request, pk)  # a stranger learns nothing, even from bad input
        return HttpResponse("Choose a state of a submission.", status=400)
    to_state = form.cleaned_data["to_state"]
    submission, _ = _submission_for_user(request, pk, needs=services.role_needed(to_state))
    try:
        services.submission_transition(
            submission=submission,
            to_state=to_state,
            user=authenticated_user(request),
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"The submission is now {State(to_state).label.lower()}.")
    return redirect(submission)


@login_required
@require_POST
def submission_release_date(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.RELEASE_DATE_ROLE)
    form = ReleaseDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the release date as a date, e.g. 2027-06-30.")
        return redirect(submission)
    try:
        services.submission_set_release_date(
            submission=submission,
            release_date=form.cleaned_data["release_date"],
            user=authenticated_user(request),
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Release date saved.")
    return redirect(submission)


@login_required
@require_POST
def submission_accession(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.ACCESSION_ROLE)
    form = AccessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the accession the archive assigned.")
        return redirect(submission)
    try:
        services.submission_record_accession(
            submission=submission,
            accession=form.cleaned_data["accession"],
            doi=form.cleaned_data["doi"],
            user=authenticated_user(request),
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Accession recorded.")
    return redirect(submission)


@login_required
def package_download(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    submission, _ = _submission_for_user(request, pk)
    if not selectors.package_entries(submission):
        raise Http404("This submission has no package yet.")
    response = StreamingHttpResponse(selectors.package_zip_chunks(submission), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{submission.target}-submission-{submission.pk}.zip"
    )
    return response
