"""The one place that decides who may see and do what in a project.

Views, API endpoints and services of every app ask here. Non-members get a 404
(never a hint that the project exists); members whose role is too low get a 403
that names the role they would need.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from accounts.models import User
from projects.models import Facility, Membership, Project, Role, Team

RANK: dict[str, int] = {
    Role.VIEWER: 10,
    Role.REVIEWER: 20,
    Role.EDITOR: 30,
    Role.MANAGER: 40,
    Role.OWNER: 50,
}

# What each role is for; services and views name these rather than bare roles.
VIEW = Role.VIEWER  # read the project, its plans, datasets and submissions
REVIEW = Role.REVIEWER  # comment on and review plans
EDIT = Role.EDITOR  # write plans, register and describe datasets
MANAGE = Role.MANAGER  # edit project details, invite and manage members
OWN = Role.OWNER  # grant or revoke ownership

# Data stewards see every project of their facility and may review its plans.
STEWARD_ROLE = Role.REVIEWER

AnyUser = User | AnonymousUser


def role_at_least(role: str | None, needed: str) -> bool:
    return role is not None and RANK[role] >= RANK[needed]


def effective_role(user: AnyUser, project: Project) -> Role | None:
    """The user's role in the project, counting facility stewardship; None if no access."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(project=project, user=user).only("role").first()
    role = Role(membership.role) if membership else None
    outranks_steward = role is not None and RANK[role] >= RANK[STEWARD_ROLE]
    if (
        not outranks_steward
        and project.facility is not None
        and project.facility.stewards.filter(pk=user.pk).exists()
    ):
        role = STEWARD_ROLE
    return role


def visible_projects(user: AnyUser) -> QuerySet[Project]:
    """Projects the user may see, each annotated with ``member_role`` (None for stewards)."""
    if not user.is_authenticated:
        return Project.objects.none()
    own_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Project.objects.filter(Q(memberships__user=user) | Q(facility__stewards=user))
        .distinct()
        .annotate(member_role=Subquery(own_role))
    )


@dataclass(frozen=True)
class ProjectAccess:
    """A project together with the role the current user holds in it."""

    project: Project
    role: Role

    def can(self, needs: str) -> bool:
        return role_at_least(self.role, needs)

    @property
    def can_review(self) -> bool:
        return self.can(REVIEW)

    @property
    def can_edit(self) -> bool:
        return self.can(EDIT)

    @property
    def can_manage(self) -> bool:
        return self.can(MANAGE)

    @property
    def is_owner(self) -> bool:
        return self.can(OWN)


def require_role(user: AnyUser, project: Project, needs: str) -> Role:
    """The user's role in ``project``; 404 for non-members, 403 when the role is too low."""
    role = effective_role(user, project)
    if role is None:
        raise Http404("No such project.")
    if not role_at_least(role, needs):
        raise PermissionDenied(
            f"Your role in this project is {role.label}; this needs {Role(needs).label} or higher."
        )
    return role


def project_for_user(user: AnyUser, pk: int | str, *, needs: str = VIEW) -> ProjectAccess:
    """Load a project the user may act on with the given role, or raise 404/403."""
    try:
        project = Project.objects.select_related("facility", "team").get(pk=int(pk))
    except (Project.DoesNotExist, ValueError, TypeError):
        raise Http404("No such project.") from None
    return ProjectAccess(project=project, role=require_role(user, project, needs))


# The audit log names people and their changes across the project: its owners answer for it and
# the facility's stewards oversee it. A steward is recognised as such even with a member role.
def _stewards_project(user: AnyUser, project: Project) -> bool:
    return (
        user.is_authenticated
        and project.facility is not None
        and project.facility.stewards.filter(pk=user.pk).exists()
    )


def may_read_audit_log(user: AnyUser, project_access: ProjectAccess) -> bool:
    return project_access.is_owner or _stewards_project(user, project_access.project)


def project_for_audit_log(user: AnyUser, pk: int | str) -> ProjectAccess:
    """A project whose audit log the user may read; 404 for non-members, 403 for other members."""
    project_access = project_for_user(user, pk)
    if not may_read_audit_log(user, project_access):
        raise PermissionDenied(
            "The audit log is open to the project's owners and its facility's data stewards."
        )
    return project_access


def team_for_user(user: AnyUser, pk: int | str) -> Team:
    """A team the user belongs to (members manage their own team), else 404."""
    if not user.is_authenticated:
        raise Http404("No such team.")
    try:
        return Team.objects.select_related("facility").get(pk=int(pk), members=user)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404("No such team.") from None


def facilities_stewarded(user: AnyUser) -> QuerySet[Facility]:
    """Facilities whose instruments and storage the user may manage (site staff: all)."""
    if not user.is_authenticated:
        return Facility.objects.none()
    if user.is_staff:
        return Facility.objects.all()
    return Facility.objects.filter(stewards=user)


def facility_for_steward(user: AnyUser, pk: int | str) -> Facility:
    """A facility the user stewards, else 404 (never a hint that it exists)."""
    try:
        return facilities_stewarded(user).get(pk=int(pk))
    except (Facility.DoesNotExist, ValueError, TypeError):
        raise Http404("No such facility.") from None
