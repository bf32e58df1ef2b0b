"""Roles × users for the project pages and endpoints that test_access_matrix.py leaves out: the
dashboard, creating projects, facilities, invitations, teams and whole-membership updates.

Teams have no roles: their members manage them, everyone else gets a 404.
"""

from __future__ import annotations

import pytest

from projects.models import Invitation, Membership, Project, Team
from tests.conftest import ALL_USERS, World, make_user
from tests.projects.test_access_matrix import api_expected, expected, outcome

TEAM_MEMBERS = ("owner", "editor")  # of Lab A, in the world fixture


def _team_outcome(who: str, success: int) -> int | str:
    return {"anonymous": "login"}.get(who, success if who in TEAM_MEMBERS else 404)


@pytest.mark.parametrize("who", ALL_USERS)
def test_dashboard_and_project_list_matrix(world: World, who: str) -> None:
    client = world.client(who)
    for url in ("/", "/projects/"):
        response = client.get(url)
        assert outcome(response) == ("login" if who == "anonymous" else 200), url
        if who != "anonymous":
            page = response.content.decode()
            assert (world.project.title in page) == (who != "outsider"), url
            assert (world.other_project.title in page) == (who == "outsider"), url


@pytest.mark.parametrize("who", ALL_USERS)
def test_project_create_matrix(world: World, who: str) -> None:
    client = world.client(who)
    assert outcome(client.get("/projects/new/")) == ("login" if who == "anonymous" else 200)
    response = client.post(
        "/projects/new/", {"title": f"New of {who}", "time_zone": "UTC", "status": "active"}
    )
    created = Project.objects.filter(title=f"New of {who}").first()
    if who == "anonymous":
        assert outcome(response) == "login"
        assert created is None
        return
    assert created is not None
    assert outcome(response) == 302
    assert response["Location"] == f"/projects/{created.pk}/"
    assert created.memberships.get().user == world.users[who]


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_project_create_matrix(world: World, who: str) -> None:
    response = world.api(who).post("/api/v1/projects/", {"title": f"API project of {who}"}, format="json")
    assert response.status_code == (401 if who == "anonymous" else 201)
    created = Project.objects.filter(title=f"API project of {who}").first()
    assert (created is not None) == (who != "anonymous")
    if created is not None:
        assert response.json()["role"] == "owner"
        assert created.memberships.get().user == world.users[who]


@pytest.mark.parametrize("who", ALL_USERS)
def test_facility_list_matrix(world: World, who: str) -> None:
    response = world.client(who).get("/projects/facilities/")
    assert outcome(response) == ("login" if who == "anonymous" else 200)
    if who != "anonymous":
        # Members see their project's facility, stewards their own; the outsider works with none.
        assert (world.facility.name in response.content.decode()) == (who != "outsider")


@pytest.mark.parametrize("who", ALL_USERS)
def test_invitation_revoke_matrix(world: World, who: str) -> None:
    world.client("manager").post(
        f"/projects/{world.project.pk}/members/", {"email": "guest@example.org", "role": "viewer"}
    )
    invitation = Invitation.objects.get(email="guest@example.org")
    response = world.client(who).post(f"/projects/{world.project.pk}/invitations/{invitation.pk}/revoke/")
    want = expected(who, "manager", success=302)
    assert outcome(response) == want
    assert Invitation.objects.filter(pk=invitation.pk).exists() == (want != 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_team_pages_matrix(world: World, who: str) -> None:
    client = world.client(who)
    listing = client.get("/projects/teams/")
    assert outcome(listing) == ("login" if who == "anonymous" else 200)
    if who != "anonymous":
        assert (world.team.name in listing.content.decode()) == (who in TEAM_MEMBERS)
    assert outcome(client.get(f"/projects/teams/{world.team.pk}/")) == _team_outcome(who, 200)
    make_user("newcomer")
    added = client.post(f"/projects/teams/{world.team.pk}/", {"username": "newcomer"})
    assert outcome(added) == _team_outcome(who, 302)
    assert world.team.members.filter(username="newcomer").exists() == (who in TEAM_MEMBERS)
    created = client.post("/projects/teams/", {"name": f"Team of {who}"})
    assert outcome(created) == ("login" if who == "anonymous" else 302)
    assert Team.objects.filter(name=f"Team of {who}").exists() == (who != "anonymous")


@pytest.mark.parametrize("who", ALL_USERS)
def test_team_member_remove_matrix(world: World, who: str) -> None:
    """A member removes the editor (the editor leaving is the same request); others get nothing."""
    editor = world.users["editor"]
    response = world.client(who).post(f"/projects/teams/{world.team.pk}/members/{editor.pk}/remove/")
    assert outcome(response) == _team_outcome(who, 302)
    assert world.team.members.filter(pk=editor.pk).exists() == (who not in TEAM_MEMBERS)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_team_writes_matrix(world: World, who: str) -> None:
    api = world.api(who)
    created = api.post("/api/v1/teams/", {"name": f"API team of {who}"}, format="json")
    assert created.status_code == (401 if who == "anonymous" else 201)
    assert Team.objects.filter(name=f"API team of {who}", members=world.users.get(who)).exists() == (
        who != "anonymous"
    )
    replaced = api.put(
        f"/api/v1/teams/{world.team.pk}/", {"name": "Lab A", "description": "Replaced"}, format="json"
    )
    wanted = {"anonymous": 401}.get(who, 200 if who in TEAM_MEMBERS else 404)
    assert replaced.status_code == wanted
    world.team.refresh_from_db()
    assert (world.team.description == "Replaced") == (wanted == 200)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_membership_put_matrix(world: World, who: str) -> None:
    membership = world.project.memberships.get(user__username="viewer")
    response = world.api(who).put(
        f"/api/v1/projects/{world.project.pk}/memberships/{membership.pk}/",
        {"role": "reviewer"},
        format="json",
    )
    wanted = api_expected(who, "manager", success=200)
    assert response.status_code == wanted, response.content
    assert Membership.objects.get(pk=membership.pk).role == ("reviewer" if wanted == 200 else "viewer")
