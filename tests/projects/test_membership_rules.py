"""Membership and invitation rules that hold whoever calls the services."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from projects import services
from projects.models import Invitation, Membership, Role
from projects.notifications import invitation_token
from tests.conftest import World, make_user


def membership(world: World, who: str) -> Membership:
    return world.project.memberships.get(user__username=who)


def test_last_owner_cannot_leave_or_be_demoted(world: World) -> None:
    owner = membership(world, "owner")
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_remove(membership=owner, actor=world.users["owner"], actor_role=Role.OWNER)
    with pytest.raises(ValidationError, match="at least one owner"):
        services.membership_change_role(membership=owner, actor_role=Role.OWNER, role=Role.EDITOR)
    services.membership_change_role(
        membership=membership(world, "manager"), actor_role=Role.OWNER, role=Role.OWNER
    )
    services.membership_change_role(membership=owner, actor_role=Role.OWNER, role=Role.EDITOR)
    assert membership(world, "owner").role == Role.EDITOR


def test_manager_cannot_grant_or_revoke_ownership(world: World) -> None:
    with pytest.raises(PermissionDenied, match="Only an owner"):
        services.membership_change_role(
            membership=membership(world, "viewer"), actor_role=Role.MANAGER, role=Role.OWNER
        )
    with pytest.raises(PermissionDenied, match="Only an owner"):
        services.membership_remove(
            membership=membership(world, "owner"), actor=world.users["manager"], actor_role=Role.MANAGER
        )
    with pytest.raises(PermissionDenied, match="Only an owner"):
        services.invitation_create(
            project=world.project,
            actor=world.users["manager"],
            actor_role=Role.MANAGER,
            email="boss@example.org",
            role=Role.OWNER,
        )


def test_web_role_change_by_manager_to_owner_is_refused(world: World) -> None:
    response = world.client("manager").post(
        f"/projects/{world.project.pk}/members/{membership(world, 'viewer').pk}/role/", {"role": "owner"}
    )
    assert response.status_code == 403
    assert membership(world, "viewer").role == Role.VIEWER


def _invite(world: World, email: str, role: str = Role.EDITOR) -> None:
    response = world.client("manager").post(
        f"/projects/{world.project.pk}/members/", {"email": email, "role": role}
    )
    assert response.status_code == 302


def _link_from_last_email() -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/projects/invitations/\S+/)", str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


def test_invitation_is_emailed_by_the_worker_and_accepted(
    world: World,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _invite(world, "newcomer@example.org")
    assert mail.outbox == []  # sent by the worker, not inside the request
    run_tasks()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@example.org"]
    assert "Zebrafish mitochondria" in mail.outbox[0].subject
    link = _link_from_last_email()

    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "Log in, or create an account, to accept." in page

    newcomer = make_user("newcomer")
    client = Client()
    client.force_login(newcomer)
    response = client.post(link)
    assert response.status_code == 302
    assert membership(world, "newcomer").role == Role.EDITOR
    again = client.get(link)
    assert again.status_code == 404
    assert "already been used" in again.content.decode()


def test_reinviting_renews_the_open_invitation(world: World) -> None:
    _invite(world, "twice@example.org", Role.VIEWER)
    _invite(world, "twice@example.org", Role.REVIEWER)
    invitation = Invitation.objects.get(email="twice@example.org")
    assert invitation.role == Role.REVIEWER


def test_inviting_a_member_is_refused(world: World) -> None:
    response = world.client("manager").post(
        f"/projects/{world.project.pk}/members/", {"email": "VIEWER@example.org", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "already belongs to a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_expired_tampered_and_withdrawn_links_are_refused(world: World) -> None:
    invitation = services.invitation_create(
        project=world.project,
        actor=world.users["owner"],
        actor_role=Role.OWNER,
        email="x@example.org",
        role="viewer",
    )
    token = invitation_token(invitation)
    client = world.client("outsider")

    tampered = client.post(f"/projects/invitations/{token[:-2]}xx/")
    assert tampered.status_code == 404
    assert "not valid" in tampered.content.decode()

    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    expired = client.post(f"/projects/invitations/{token}/")
    assert "expired" in expired.content.decode()

    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() + datetime.timedelta(days=1))
    world.client("owner").post(f"/projects/{world.project.pk}/invitations/{invitation.pk}/revoke/")
    withdrawn = client.post(f"/projects/invitations/{token}/")
    assert "withdrawn" in withdrawn.content.decode()
    assert not world.project.memberships.filter(user=world.users["outsider"]).exists()


def test_accepting_keeps_a_higher_existing_role(world: World) -> None:
    invitation = services.invitation_create(
        project=world.project,
        actor=world.users["owner"],
        actor_role=Role.OWNER,
        email="someone@example.org",
        role=Role.VIEWER,
    )
    services.invitation_accept(token=invitation_token(invitation), user=world.users["manager"])
    assert membership(world, "manager").role == Role.MANAGER


def test_team_needs_a_member(world: World) -> None:
    services.team_remove_member(team=world.team, user=world.users["editor"])
    with pytest.raises(ValidationError, match="at least one member"):
        services.team_remove_member(team=world.team, user=world.users["owner"])
