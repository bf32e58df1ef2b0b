from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import authenticated_user
from projects import access
from projects.models import Project
from projects.selectors import project_list
from repositories import embargo, selectors, services, tasks
from repositories.forms import (
    AccessionForm,
    ReleaseDateForm,
    RouterForm,
    SubmissionCreateForm,
    TransitionForm,
)
from repositories.models import WITH_THE_ARCHIVE, CalendarFeedToken, State, Submission
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
        "accession_open": submission.state in WITH_THE_ARCHIVE,
        "entries": selectors.package_entries(submission),
        "next_steps": target.next_steps(submission) if target else [],
        "accession_form": AccessionForm(initial={"accession": submission.accession, "doi": submission.doi}),
        "deposit": tasks.deposit_status(submission),
        "deposit_possible": tasks.deposit_possible(submission),
        **_embargo_context(submission),
    }


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission, project_access = _submission_for_user(request, pk)
    context = _detail_context(submission, project_access)
    panel = request.headers.get("HX-Target", "") if request.headers.get("HX-Request") else ""
    if panel not in _PANELS:
        return render(request, "repositories/submission_detail.html", context)
    template, running = _PANELS[panel]
    response = render(request, template, context)
    # The panel polls while its task runs. Once the task has ended, the state badge, the
    # actions and the messages around the panel are out of date too: reload the whole page.
    if not running(context):
        response["HX-Refresh"] = "true"
    return response


# The parts of the submission page that poll while their task runs: their template and whether
# the task still runs.
_PANELS: dict[str, tuple[str, Callable[[dict[str, Any]], object]]] = {
    "package": ("repositories/submission_detail.html#package", lambda c: c["submission"].is_building),
    "deposit": ("repositories/submission_detail.html#deposit", lambda c: c["deposit"].running_since),
    "archive-release": (
        "repositories/embargo_section.html#archive-release",
        lambda c: c["archive_release"] is not None and c["archive_release"].running_since,
    ),
}


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
def submission_deposit(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.role_needed(State.SUBMITTED))
    try:
        tasks.submission_deposit_start(submission=submission, user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        label = submission.get_target_display()
        messages.success(request, f"The deposit to {label} is queued; this page shows its outcome.")
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


# Embargoes ----------------------------------------------------------------------------------------


class EmbargoChangeForm(forms.Form):
    release_date = forms.DateField(required=False)
    release_now = forms.BooleanField(required=False)
    # The service says why a reason is needed, in words fitting the change.
    reason = forms.CharField(max_length=2000, required=False)
    confirm_past = forms.BooleanField(required=False)


class PublicationDoiForm(forms.Form):
    publication_doi = forms.CharField(max_length=300, required=False)


def _embargo_context(submission: Submission) -> dict[str, Any]:
    now = timezone.now()
    release = submission.release_date
    return {
        "embargo_state": embargo.submission_state(submission, now=now),
        "embargo_days": embargo.days_until(release, submission.project.time_zone, now) if release else None,
        "embargo_open": submission.state not in embargo.SETTLED,
        "embargo_changes": submission.embargo_changes.select_related("user"),
        "reminders": submission.reminders.all(),
        "archive_release": tasks.archive_release(submission, now=now),
    }


@login_required
@require_POST
def submission_embargo(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.RELEASE_DATE_ROLE)
    form = EmbargoChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the release date as a date, e.g. 2027-06-30.")
        return redirect(submission)
    data = form.cleaned_data
    old = submission.release_date
    try:
        embargo.embargo_change(
            submission=submission,
            user=authenticated_user(request),
            reason=data["reason"],
            new_date=data["release_date"],
            release_now=data["release_now"],
            confirm_past=data["confirm_past"],
        )
    except embargo.PastDateNeedsConfirmation as exc:
        return render(
            request,
            "repositories/embargo_confirm.html",
            {
                "submission": submission,
                "project": submission.project,
                "data": data,
                "message": _error_text(exc),
            },
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        submission.refresh_from_db()
        messages.success(
            request, f"The release date changed from {old or 'none'} to {submission.release_date:%Y-%m-%d}."
        )
    return redirect(submission)


@login_required
@require_POST
def submission_release_update(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.RELEASE_DATE_ROLE)
    label = submission.get_target_display()
    if tasks.release_update_start(submission=submission, user=authenticated_user(request)):
        messages.success(request, f"The release date is being sent to {label}; this page shows the outcome.")
    else:
        messages.error(
            request,
            f"FAIRlight does not manage this record's access at {label}: it was not deposited through "
            f"{label}'s API, or it is public or withdrawn. Change the release date at {label} itself.",
        )
    return redirect(submission)


@login_required
@require_POST
def submission_publication_doi(request: HttpRequest, pk: int) -> HttpResponse:
    submission, _ = _submission_for_user(request, pk, needs=services.RELEASE_DATE_ROLE)
    form = PublicationDoiForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A DOI is at most 300 characters long.")
        return redirect(submission)
    try:
        embargo.submission_set_publication_doi(
            submission=submission, doi=form.cleaned_data["publication_doi"], user=authenticated_user(request)
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, "Publication DOI saved.")
    return redirect(submission)


def _embargo_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "repositories/embargo_dashboard.html", context)


@login_required
def embargo_dashboard(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    return _embargo_page(
        request,
        {
            "scope": "user",
            "overview": embargo.embargo_overview(embargo.user_submissions(user), now=timezone.now()),
            "projects": project_list(user=user, status=Project.Status.ACTIVE),
            "facilities": access.facilities_stewarded(user),
            "feed": CalendarFeedToken.objects.filter(user=user).first(),
        },
    )


@login_required
def embargo_project(request: HttpRequest, pk: int) -> HttpResponse:
    project = access.project_for_user(request.user, pk).project
    submissions = embargo.project_submissions(project)
    return _embargo_page(
        request,
        {
            "scope": "project",
            "project": project,
            "overview": embargo.embargo_overview(submissions, now=timezone.now()),
        },
    )


@login_required
def embargo_facility(request: HttpRequest, pk: int) -> HttpResponse:
    facility = access.facility_for_steward(request.user, pk)
    submissions = embargo.facility_submissions(facility)
    return _embargo_page(
        request,
        {
            "scope": "facility",
            "facility": facility,
            "overview": embargo.embargo_overview(submissions, now=timezone.now()),
            "show_project": True,
        },
    )


@login_required
@require_POST
def calendar_token_create(request: HttpRequest) -> HttpResponse:
    try:
        _, key = embargo.calendar_token_create(user=authenticated_user(request))
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("embargoes:dashboard")
    url = embargo.absolute_url(reverse("embargoes:calendar_feed", args=[key]))
    return render(request, "repositories/embargo_calendar_created.html", {"url": url})


@login_required
@require_POST
def calendar_token_revoke(request: HttpRequest) -> HttpResponse:
    if embargo.calendar_token_revoke(user=authenticated_user(request)):
        messages.success(
            request, "The calendar address was revoked; calendars using it get nothing from now on."
        )
    return redirect("embargoes:dashboard")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The release dates of a person's projects; the secret address is the only credential."""
    user = embargo.calendar_feed_user(token)
    if user is None:
        raise Http404("No such calendar.")
    response = HttpResponse(
        embargo.calendar_feed(user=user, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="fairlight-releases.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
