"""Writes to projects, teams, memberships and invitations. Callers check access first
(projects.access); these functions enforce the rules that hold whoever calls them."""

from __future__ import annotations

import datetime
import hmac
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.models import Action
from audit.services import record
from projects.access import OWN, RANK, role_at_least
from projects.models import Facility, Invitation, Membership, Project, Role, Team
from projects.notifications import INVITATION_SALT
from projects.tasks import send_invitation_email

PROJECT_FIELDS = (
    "title",
    "acronym",
    "description",
    "funder",
    "grant_id",
    "start_date",
    "end_date",
    "time_zone",
    "team",
    "facility",
    "status",
)


def project_create(*, creator: User, **fields: Any) -> Project:
    """Create a project with its creator as owner."""
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown project fields: {', '.join(sorted(unknown))}")
    project = Project(**fields)
    project.full_clean()
    with transaction.atomic():
        project.save()
        Membership.objects.create(project=project, user=creator, role=Role.OWNER)
    return project


def project_update(*, project: Project, **fields: Any) -> Project:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown project fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    return project


def _owner_count(project: Project) -> int:
    return Membership.objects.filter(project=project, role=Role.OWNER).count()


def _audit_membership(
    action: Action, membership: Membership, actor: User | None, old: str | None, new: str | None
) -> None:
    record(
        action=action,
        project_id=membership.project_id,
        actor=actor,
        object_type="membership",
        object_id=membership.pk,
        object_label=membership.user.display_name(),
        old=old,
        new=new,
    )


def _check_role_grant(*, actor_role: str, role: str) -> None:
    # Only owners hand out or take away ownership; managers manage everyone else.
    if role == Role.OWNER and not role_at_least(actor_role, OWN):
        raise PermissionDenied("Only an owner can make someone an owner.")


def membership_add(
    *, project: Project, actor_role: str, user: User, role: str, actor: User | None = None
) -> Membership:
    _check_role_grant(actor_role=actor_role, role=role)
    if Membership.objects.filter(project=project, user=user).exists():
        raise ValidationError(f"{user.display_name()} is already a member of this project.")
    membership = Membership(project=project, user=user, role=role)
    membership.full_clean()
    with transaction.atomic():
        membership.save()
        _audit_membership(Action.MEMBERSHIP_ADDED, membership, actor, None, role)
    return membership


def membership_change_role(
    *, membership: Membership, actor_role: str, role: str, actor: User | None = None
) -> Membership:
    if membership.role == role:
        return membership
    _check_role_grant(actor_role=actor_role, role=role)
    _check_role_grant(actor_role=actor_role, role=membership.role)
    with transaction.atomic():
        if membership.role == Role.OWNER and _owner_count(membership.project) == 1:
            raise ValidationError("A project needs at least one owner; make someone else owner first.")
        old_role, membership.role = membership.role, role
        membership.full_clean()
        membership.save(update_fields=["role"])
        _audit_membership(Action.MEMBERSHIP_ROLE_CHANGED, membership, actor, old_role, role)
    return membership


def membership_remove(*, membership: Membership, actor: User, actor_role: str) -> None:
    """Remove a member; anyone may leave, managers remove non-owners, owners anyone."""
    if membership.user_id != actor.pk:
        if not role_at_least(actor_role, Role.MANAGER):
            raise PermissionDenied("Only managers and owners can remove other members.")
        _check_role_grant(actor_role=actor_role, role=membership.role)
    with transaction.atomic():
        if membership.role == Role.OWNER and _owner_count(membership.project) == 1:
            raise ValidationError("A project needs at least one owner; make someone else owner first.")
        _audit_membership(Action.MEMBERSHIP_REMOVED, membership, actor, membership.role, None)
        membership.delete()


def invitation_create(*, project: Project, actor: User, actor_role: str, email: str, role: str) -> Invitation:
    """Invite an address, or renew the open invitation for it; the email goes out as a task."""
    _check_role_grant(actor_role=actor_role, role=role)
    email = email.strip()
    if Membership.objects.filter(project=project, user__email__iexact=email).exists():
        raise ValidationError(f"{email} already belongs to a member of this project.")
    expires_at = timezone.now() + datetime.timedelta(days=settings.FAIRLIGHT_INVITATION_DAYS)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(project=project, email__iexact=email, accepted_at__isnull=True)
            .first()
        )
        if invitation is None:
            invitation = Invitation(project=project, email=email)
        old_role = invitation.role if invitation.pk else None
        invitation.role = role
        invitation.invited_by = actor
        invitation.expires_at = expires_at
        invitation.full_clean()
        invitation.save()
        _audit_invitation(Action.INVITATION_SENT, invitation, actor, old_role, role)
        transaction.on_commit(lambda: send_invitation_email.enqueue(invitation_id=invitation.pk))
    return invitation


def _audit_invitation(
    action: Action, invitation: Invitation, actor: User | None, old: str | None, new: str | None
) -> None:
    record(
        action=action,
        project_id=invitation.project_id,
        actor=actor,
        object_type="invitation",
        object_id=invitation.pk,
        object_label=invitation.email,
        old=old,
        new=new,
    )


class InvitationInvalid(Exception):
    """The link is wrong, expired, revoked or already used; the message says which."""


def invitation_from_token(token: str) -> Invitation:
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        raise InvitationInvalid("This invitation link is not valid; ask for a new one.") from None
    invitation = (
        Invitation.objects.select_related("project", "invited_by").filter(pk=payload.get("i")).first()
    )
    if invitation is None or not hmac.compare_digest(invitation.nonce, str(payload.get("n"))):
        raise InvitationInvalid("This invitation was withdrawn; ask for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used.")
    if invitation.expires_at < timezone.now():
        raise InvitationInvalid("This invitation has expired; ask for a new one.")
    return invitation


def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the project; a member who already has a higher role keeps it."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        membership, created = Membership.objects.get_or_create(
            project=invitation.project, user=user, defaults={"role": invitation.role}
        )
        old_role = None if created else membership.role
        if not created and RANK[invitation.role] > RANK[membership.role]:
            membership.role = invitation.role
            membership.save(update_fields=["role"])
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _audit_membership(Action.INVITATION_ACCEPTED, membership, user, old_role, membership.role)
    return membership


def invitation_revoke(*, invitation: Invitation, actor_role: str, actor: User | None = None) -> None:
    _check_role_grant(actor_role=actor_role, role=invitation.role)
    with transaction.atomic():
        _audit_invitation(Action.INVITATION_WITHDRAWN, invitation, actor, invitation.role, None)
        invitation.delete()


def team_create(*, creator: User, name: str, description: str = "", facility: Facility | None = None) -> Team:
    team = Team(name=name, description=description, facility=facility)
    team.full_clean()
    with transaction.atomic():
        team.save()
        team.members.add(creator)
    return team


def team_update(*, team: Team, **fields: Any) -> Team:
    for name in fields:
        if name not in {"name", "description", "facility"}:
            raise TypeError(f"Unknown team field: {name}")
        setattr(team, name, fields[name])
    team.full_clean()
    team.save()
    return team


def team_add_member(*, team: Team, user: User) -> None:
    team.members.add(user)


def team_remove_member(*, team: Team, user: User) -> None:
    if team.members.count() == 1 and team.members.filter(pk=user.pk).exists():
        raise ValidationError("A team needs at least one member.")
    team.members.remove(user)
