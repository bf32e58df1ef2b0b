from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.requests import authenticated_user
from audit import selectors as audit_selectors
from audit.forms import AuditFilterForm
from projects import access, selectors, services
from projects.forms import MemberAddForm, ProjectForm, RoleForm, TeamForm, TeamMemberForm
from projects.models import Invitation, Membership, Project, Role


def _form_error(form: forms.BaseForm, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    projects = selectors.project_list(user=user, status=Project.Status.ACTIVE)
    return render(
        request,
        "projects/dashboard.html",
        {
            "projects": projects[:10],
            "project_count": projects.count(),
            "invitations": selectors.invitations_for_user(user=user),
            "teams": selectors.teams_for_user(user=user),
        },
    )


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in Project.Status.values:
        status = ""
    projects = selectors.project_list(user=authenticated_user(request), search=search, status=status)
    template = "projects/project_list.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "project-results":
        template += "#results"
    return render(
        request,
        template,
        {"projects": projects, "q": search, "status": status, "statuses": Project.Status.choices},
    )


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    form = ProjectForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(creator=user, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Project “{project}” was created; you are its owner.")
            return redirect(project)
    return render(request, "projects/project_form.html", {"form": form, "creating": True})


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk)
    project = project_access.project
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "access": project_access,
            "members": selectors.project_members(project=project),
            "audit_log": access.may_read_audit_log(request.user, project_access),
        },
    )


@login_required
def project_audit(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's audit log, newest first, for its owners and its facility's stewards."""
    project = access.project_for_audit_log(request.user, pk).project
    form = AuditFilterForm(request.GET, actors=audit_selectors.project_actors(project_id=project.pk))
    page = None
    if form.is_valid():
        page = audit_selectors.event_page(
            project_id=project.pk,
            action=form.cleaned_data["action"],
            actor_id=form.cleaned_data["actor"],
            before=form.cleaned_data["before"],
        )
    return render(
        request,
        "projects/audit_log.html",
        {"project": project, "form": form, "page": page},
        status=200 if page is not None else 400,
    )


@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.MANAGE)
    project = project_access.project
    form = ProjectForm(request.POST or None, instance=project, user=authenticated_user(request))
    if request.method == "POST" and form.is_valid():
        services.project_update(project=project, **form.cleaned_data)
        messages.success(request, "The project was saved.")
        return redirect(project)
    return render(
        request,
        "projects/project_form.html",
        {"form": form, "project": project, "access": project_access, "creating": False},
    )


@login_required
def project_members(request: HttpRequest, pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk)
    project = project_access.project
    form = MemberAddForm(request.POST or None)
    if request.method == "POST":
        access.require_role(request.user, project, access.MANAGE)
        if form.is_valid():
            try:
                invitation = services.invitation_create(
                    project=project,
                    actor=authenticated_user(request),
                    actor_role=project_access.role,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, f"An invitation is on its way to {invitation.email}.")
                return redirect("projects:members", pk=project.pk)
    return render(
        request,
        "projects/project_members.html",
        {
            "project": project,
            "access": project_access,
            "members": selectors.project_members(project=project),
            "invitations": selectors.project_open_invitations(project=project)
            if project_access.can_manage
            else [],
            "form": form,
            "roles": Role.choices,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def membership_update(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.MANAGE)
    membership = get_object_or_404(Membership, pk=membership_pk, project=project_access.project)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                membership=membership,
                actor_role=project_access.role,
                role=form.cleaned_data["role"],
                actor=authenticated_user(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"{membership.user.display_name()} is now {membership.get_role_display()}."
            )
    else:
        messages.error(request, "Choose one of the listed roles.")
    return redirect("projects:members", pk=pk)


@login_required
@require_POST
def membership_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk)
    membership = get_object_or_404(Membership, pk=membership_pk, project=project_access.project)
    try:
        services.membership_remove(
            membership=membership, actor=authenticated_user(request), actor_role=project_access.role
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("projects:members", pk=pk)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left “{project_access.project}”.")
        return redirect("projects:list")
    messages.success(request, f"{membership.user.display_name()} was removed from the project.")
    return redirect("projects:members", pk=pk)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    project_access = access.project_for_user(request.user, pk, needs=access.MANAGE)
    invitation = get_object_or_404(
        Invitation, pk=invitation_pk, project=project_access.project, accepted_at__isnull=True
    )
    services.invitation_revoke(
        invitation=invitation, actor_role=project_access.role, actor=authenticated_user(request)
    )
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("projects:members", pk=pk)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_token(token)
    except services.InvitationInvalid as exc:
        return render(request, "projects/invitation_invalid.html", {"reason": str(exc)}, status=404)
    if request.method == "POST" and request.user.is_authenticated:
        membership = services.invitation_accept(token=token, user=authenticated_user(request))
        messages.success(request, f"Welcome to “{membership.project}” as {membership.get_role_display()}.")
        return redirect(membership.project)
    return render(
        request,
        "projects/invitation_accept.html",
        {"invitation": invitation, "here": reverse("projects:invitation_accept", args=[token])},
    )


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.team_create(creator=user, **form.cleaned_data)
        messages.success(request, f"Team “{team}” was created.")
        return redirect("projects:team_detail", pk=team.pk)
    return render(
        request,
        "projects/team_list.html",
        {"teams": selectors.teams_for_user(user=user), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.team_for_user(request.user, pk)
    form = TeamMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.team_add_member(team=team, user=form.cleaned_data["username"])
        messages.success(request, f"{form.cleaned_data['username'].display_name()} joined the team.")
        return redirect("projects:team_detail", pk=team.pk)
    return render(
        request,
        "projects/team_detail.html",
        {
            "team": team,
            "members": team.members.order_by("username"),
            "projects": access.visible_projects(request.user).filter(team=team),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    team = access.team_for_user(request.user, pk)
    member = get_object_or_404(team.members, pk=user_pk)
    try:
        services.team_remove_member(team=team, user=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.display_name()} left the team.")
    if member.pk == request.user.pk:
        return redirect("projects:team_list")
    return redirect("projects:team_detail", pk=pk)


@login_required
def facility_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "projects/facility_list.html",
        {"facilities": selectors.facilities_for_user(user=authenticated_user(request))},
    )
