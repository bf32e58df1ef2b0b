"""Reads for the project pages and API; access filtering comes from projects.access."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from projects.access import AnyUser, visible_projects
from projects.models import Facility, Invitation, Membership, Project, Team


def project_list(*, user: AnyUser, search: str = "", status: str = "") -> QuerySet[Project]:
    projects = visible_projects(user).select_related("team", "facility")
    if search:
        projects = projects.filter(
            Q(title__icontains=search)
            | Q(acronym__icontains=search)
            | Q(grant_id__icontains=search)
            | Q(funder__icontains=search)
        )
    if status:
        projects = projects.filter(status=status)
    return projects.order_by("-updated_at")


def project_members(*, project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("user__username")


def project_open_invitations(*, project: Project) -> QuerySet[Invitation]:
    return project.invitations.filter(accepted_at__isnull=True).select_related("invited_by")


def invitations_for_user(*, user: User) -> QuerySet[Invitation]:
    """Open invitations addressed to the user's email (shown on the dashboard)."""
    if not user.email:
        return Invitation.objects.none()
    return Invitation.objects.filter(email__iexact=user.email, accepted_at__isnull=True).select_related(
        "project"
    )


def teams_for_user(*, user: AnyUser) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return (
        Team.objects.filter(members=user)
        .select_related("facility")
        .annotate(
            member_count=Count("members", distinct=True), project_count=Count("projects", distinct=True)
        )
        .order_by("name")  # Meta.ordering does not apply to aggregated queries
    )


def facilities_for_user(*, user: AnyUser) -> QuerySet[Facility]:
    """Facilities the user works with: as steward, through a project or through a team."""
    if not user.is_authenticated:
        return Facility.objects.none()
    return (
        Facility.objects.filter(
            Q(stewards=user) | Q(projects__memberships__user=user) | Q(teams__members=user)
        )
        .distinct()
        .prefetch_related("storage_roots", "stewards")
    )
