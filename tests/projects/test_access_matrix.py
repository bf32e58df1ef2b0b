"""Roles × objects: every project page and API endpoint, for every kind of user.

Expected outcomes: 404 for anyone without access (never a hint that the project
exists), 403 for members whose role is too low, success otherwise; anonymous web
requests are sent to the login page and anonymous API requests get 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ALL_USERS, World

if TYPE_CHECKING:  # the stubs name the test client's response type; Django does not export it
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

# The lowest role each action needs; "steward" counts as reviewer.
RANK = {"viewer": 1, "reviewer": 2, "steward": 2, "editor": 3, "manager": 4, "owner": 5}


def expected(who: str, needs: str, *, success: int) -> int | str:
    if who == "anonymous":
        return "login"
    if who == "outsider":
        return 404
    return success if RANK[who] >= RANK[needs] else 403


def outcome(response: TestResponse) -> int | str:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return response.status_code


WebCase = tuple[str, Callable[[World], str], dict[str, str] | None, str, int]

WEB_CASES: list[WebCase] = [
    ("project detail", lambda w: f"/projects/{w.project.pk}/", None, "viewer", 200),
    ("project members", lambda w: f"/projects/{w.project.pk}/members/", None, "viewer", 200),
    ("project edit form", lambda w: f"/projects/{w.project.pk}/edit/", None, "manager", 200),
    (
        "project edit save",
        lambda w: f"/projects/{w.project.pk}/edit/",
        {"title": "Renamed", "time_zone": "UTC", "status": "active"},
        "manager",
        302,
    ),
    (
        "invite member",
        lambda w: f"/projects/{w.project.pk}/members/",
        {"email": "new@example.org", "role": "viewer"},
        "manager",
        302,
    ),
    (
        "change role",
        lambda w: (
            f"/projects/{w.project.pk}/members/{w.project.memberships.get(user__username='viewer').pk}/role/"
        ),
        {"role": "editor"},
        "manager",
        302,
    ),
]


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "url", "data", "needs", "success"), WEB_CASES, ids=[c[0] for c in WEB_CASES]
)
def test_web_matrix(
    world: World,
    who: str,
    name: str,
    url: Callable[[World], str],
    data: dict[str, str] | None,
    needs: str,
    success: int,
) -> None:
    client = world.client(who)
    address = url(world)
    response = client.get(address) if data is None else client.post(address, data)
    assert outcome(response) == expected(who, needs, success=success), name


@pytest.mark.parametrize("who", ALL_USERS)
def test_remove_member_matrix(world: World, who: str) -> None:
    target = world.project.memberships.get(user__username="editor")
    response = world.client(who).post(f"/projects/{world.project.pk}/members/{target.pk}/remove/")
    if who == "editor":  # anyone may leave a project
        assert outcome(response) == 302
    else:
        assert outcome(response) == expected(who, "manager", success=302)
    assert world.project.memberships.filter(pk=target.pk).exists() == (outcome(response) != 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_other_projects_are_invisible(world: World, who: str) -> None:
    """Nobody but its owner learns that the outsider's project exists."""
    client = world.client(who)
    for suffix in ("", "members/", "edit/"):
        response = client.get(f"/projects/{world.other_project.pk}/{suffix}")
        assert outcome(response) in ({"outsider": 200, "anonymous": "login"}.get(who, 404),)
    listing = client.get("/projects/")
    if who != "anonymous":
        assert (world.other_project.title in listing.content.decode()) == (who == "outsider")
        assert (world.project.title in listing.content.decode()) == (who != "outsider")


def api_expected(who: str, needs: str, *, success: int) -> int:
    if who == "anonymous":
        return 401
    result = expected(who, needs, success=success)
    assert isinstance(result, int)
    return result


ApiCase = tuple[str, str, Callable[[World], str], dict[str, object] | None, str, int]

API_CASES: list[ApiCase] = [
    ("get project", "get", lambda w: f"/api/v1/projects/{w.project.pk}/", None, "viewer", 200),
    (
        "patch project",
        "patch",
        lambda w: f"/api/v1/projects/{w.project.pk}/",
        {"acronym": "ZM2"},
        "manager",
        200,
    ),
    (
        "put project",
        "put",
        lambda w: f"/api/v1/projects/{w.project.pk}/",
        {"title": "New title"},
        "manager",
        200,
    ),
    ("list members", "get", lambda w: f"/api/v1/projects/{w.project.pk}/memberships/", None, "viewer", 200),
    (
        "get member",
        "get",
        lambda w: (
            f"/api/v1/projects/{w.project.pk}/memberships/{w.project.memberships.get(user__username='viewer').pk}/"
        ),
        None,
        "viewer",
        200,
    ),
    (
        "add member",
        "post",
        lambda w: f"/api/v1/projects/{w.project.pk}/memberships/",
        {"username": "newcomer", "role": "viewer"},
        "manager",
        201,
    ),
    (
        "change member role",
        "patch",
        lambda w: (
            f"/api/v1/projects/{w.project.pk}/memberships/{w.project.memberships.get(user__username='viewer').pk}/"
        ),
        {"role": "reviewer"},
        "manager",
        200,
    ),
    (
        "remove member",
        "delete",
        lambda w: (
            f"/api/v1/projects/{w.project.pk}/memberships/{w.project.memberships.get(user__username='reviewer').pk}/"
        ),
        None,
        "manager",
        204,
    ),
]


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "method", "url", "data", "needs", "success"), API_CASES, ids=[c[0] for c in API_CASES]
)
def test_api_matrix(
    world: World,
    who: str,
    name: str,
    method: str,
    url: Callable[[World], str],
    data: dict[str, object] | None,
    needs: str,
    success: int,
) -> None:
    from tests.conftest import make_user

    make_user("newcomer")
    response = getattr(world.api(who), method)(url(world), data, format="json")
    if name == "remove member" and who == "reviewer":
        assert response.status_code == 204  # removing yourself is leaving
        return
    assert response.status_code == api_expected(who, needs, success=success), (name, response.content)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_other_project_is_404(world: World, who: str) -> None:
    client = world.api(who)
    pk = world.other_project.pk
    for method, url in (
        ("get", f"/api/v1/projects/{pk}/"),
        ("patch", f"/api/v1/projects/{pk}/"),
        ("get", f"/api/v1/projects/{pk}/memberships/"),
        ("post", f"/api/v1/projects/{pk}/memberships/"),
    ):
        response = getattr(client, method)(url, {}, format="json")
        wanted = {"anonymous": 401, "outsider": response.status_code}.get(who, 404)
        assert response.status_code == wanted, (method, url)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_project_list_shows_only_visible(world: World, who: str) -> None:
    response = world.api(who).get("/api/v1/projects/")
    if who == "anonymous":
        assert response.status_code == 401
        return
    titles = {row["title"] for row in response.json()["results"]}
    if who == "outsider":
        assert titles == {world.other_project.title}
    else:
        assert titles == {world.project.title}


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_teams(world: World, who: str) -> None:
    client = world.api(who)
    listing = client.get("/api/v1/teams/")
    detail = client.get(f"/api/v1/teams/{world.team.pk}/")
    update = client.patch(f"/api/v1/teams/{world.team.pk}/", {"description": "Imaging lab"}, format="json")
    if who == "anonymous":
        assert (listing.status_code, detail.status_code, update.status_code) == (401, 401, 401)
        return
    is_member = who in ("owner", "editor")
    assert [t["name"] for t in listing.json()["results"]] == (["Lab A"] if is_member else [])
    assert detail.status_code == (200 if is_member else 404)
    assert update.status_code == (200 if is_member else 404)
