"""The audit log page and API: who may read them, filters, paging newest first, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.models import User
from audit.models import Action, AuditEvent
from audit.selectors import PAGE_SIZE
from audit.services import record
from projects import access
from projects.models import Membership, Project, Role
from tests.conftest import ALL_USERS, World, make_user
from tests.projects.test_access_matrix import outcome

# Owners answer for the project and stewards oversee it; every other member gets 403, strangers 404.
PAGE_OUTCOME = {
    "owner": 200,
    "steward": 200,
    "manager": 403,
    "editor": 403,
    "reviewer": 403,
    "viewer": 403,
    "outsider": 404,
    "anonymous": "login",
}
API_OUTCOME = {**PAGE_OUTCOME, "anonymous": 401}


def add_event(
    project: Project, actor: User | None, action: Action = Action.ANSWER_CHANGED, **values: Any
) -> AuditEvent:
    return record(
        action=action,
        project_id=project.pk,
        actor=actor,
        object_type=values.pop("object_type", "answer"),
        object_id=values.pop("object_id", 1),
        object_label=values.pop("object_label", "Our DMP: What data will you collect?"),
        **values,
    )


@pytest.fixture
def logged(world: World) -> World:
    add_event(world.project, world.users["editor"], old="Imaging organoids", new="Imaging zebrafish")
    add_event(
        world.project,
        world.users["manager"],
        Action.MEMBERSHIP_ROLE_CHANGED,
        object_type="membership",
        object_label="viewer",
        old="viewer",
        new="editor",
    )
    add_event(world.other_project, world.users["outsider"], old="", new="Secret answer of the outsider")
    return world


@pytest.mark.parametrize("who", ALL_USERS)
def test_page_matrix(logged: World, who: str) -> None:
    response = logged.client(who).get(f"/projects/{logged.project.pk}/audit/")
    assert outcome(response) == PAGE_OUTCOME[who]
    page = response.content.decode()
    if response.status_code == 200:
        assert "Imaging zebrafish" in page
        assert "Secret answer of the outsider" not in page
    else:
        assert "Imaging zebrafish" not in page


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_matrix(logged: World, who: str) -> None:
    response = logged.api(who).get(f"/api/v1/projects/{logged.project.pk}/audit/")
    assert response.status_code == API_OUTCOME[who]
    if response.status_code == 200:
        rows = response.json()["results"]
        assert [(r["action"], r["actor_name"], r["old"], r["new"]) for r in rows] == [
            ("membership.role_changed", "manager", "viewer", "editor"),
            ("answer.changed", "editor", "Imaging organoids", "Imaging zebrafish"),
        ]
        assert rows[0]["actor"] == logged.users["manager"].pk


@pytest.mark.parametrize("who", ALL_USERS)
def test_another_projects_log_is_not_found(logged: World, who: str) -> None:
    """Only the outsider owns the other project; it has no facility, so no steward sees it."""
    page = logged.client(who).get(f"/projects/{logged.other_project.pk}/audit/")
    api = logged.api(who).get(f"/api/v1/projects/{logged.other_project.pk}/audit/")
    if who == "outsider":
        assert (page.status_code, api.status_code) == (200, 200)
        assert [r["new"] for r in api.json()["results"]] == ["Secret answer of the outsider"]
    else:
        assert outcome(page) == {"anonymous": "login"}.get(who, 404)
        assert api.status_code == {"anonymous": 401}.get(who, 404)


def test_a_steward_with_a_member_role_still_reads_the_log(logged: World) -> None:
    steward = logged.users["steward"]
    Membership.objects.create(project=logged.project, user=steward, role=Role.EDITOR)
    assert logged.client("steward").get(f"/projects/{logged.project.pk}/audit/").status_code == 200
    assert logged.api("steward").get(f"/api/v1/projects/{logged.project.pk}/audit/").status_code == 200


def test_stewards_of_another_facility_see_nothing(logged: World) -> None:
    logged.project.facility = None
    logged.project.save()
    assert logged.client("steward").get(f"/projects/{logged.project.pk}/audit/").status_code == 404


def test_the_access_helper_agrees_with_the_pages(world: World) -> None:
    for who in ALL_USERS:
        user = AnonymousUser() if who == "anonymous" else world.users[who]
        role = access.effective_role(user, world.project)
        if role is None:
            continue
        project_access = access.ProjectAccess(project=world.project, role=role)
        assert access.may_read_audit_log(user, project_access) == (PAGE_OUTCOME[who] == 200), who


@pytest.mark.parametrize("who", ["owner", "steward", "manager", "viewer"])
def test_the_project_page_links_the_log_for_those_who_may_read_it(world: World, who: str) -> None:
    page = world.client(who).get(f"/projects/{world.project.pk}/").content.decode()
    assert (f'href="/projects/{world.project.pk}/audit/"' in page) == (PAGE_OUTCOME[who] == 200)


def test_values_names_and_labels_are_escaped(world: World) -> None:
    attacker = make_user("attacker", first_name="<b>Mallory</b>")
    add_event(
        world.project,
        attacker,
        object_label="<img src=x onerror=alert(1)>",
        old="<script>alert('old')</script>",
        new=["<script>alert('new')</script>"],
        note="<iframe src=//evil.example>",
    )
    page = world.client("owner").get(f"/projects/{world.project.pk}/audit/").content.decode()
    for raw in ("<script>alert", "<img src=x", "<b>Mallory", "<iframe"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#x27;old&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in page
    assert "&lt;iframe src=//evil.example&gt;" in page


def test_the_page_pages_newest_first_by_keyset(world: World) -> None:
    for number in range(PAGE_SIZE * 2 + 20):
        add_event(world.project, world.users["editor"], new=f"value {number:03d}")
    client = world.client("owner")
    base = f"/projects/{world.project.pk}/audit/"
    url = base
    seen: list[str] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [event.new for event in page.events]
        pages += 1
        url = f"{base}?before={page.older}" if page.older else ""
        if page.older:  # the link the page offers is the one followed here
            assert f'href="?before={page.older}"' in response.content.decode()
    assert pages == 3
    assert seen == [f"value {number:03d}" for number in reversed(range(PAGE_SIZE * 2 + 20))]


def test_the_page_costs_the_same_queries_however_long_the_log(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = world.client("owner")
    url = f"/projects/{world.project.pk}/audit/"
    add_event(world.project, world.users["editor"], new="one")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for number in range(PAGE_SIZE + 5):
        add_event(world.project, world.users["manager"], new=f"value {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_filters_by_action_and_person(logged: World) -> None:
    client = logged.client("owner")
    url = f"/projects/{logged.project.pk}/audit/"
    by_action = client.get(url, {"action": "membership.role_changed"}).context["page"]
    assert [e.action for e in by_action.events] == ["membership.role_changed"]
    by_person = client.get(url, {"actor": logged.users["editor"].pk}).context["page"]
    assert [e.actor_name for e in by_person.events] == ["editor"]
    nothing = client.get(url, {"action": "plan.upgraded"})
    assert "Nothing has been recorded for this choice yet." in nothing.content.decode()
    # People to filter by: those in this project's log only.
    choices = dict(client.get(url).context["form"].fields["actor"].choices)
    assert set(choices.values()) == {"Everyone", "editor", "manager"}

    api = logged.api("steward")
    rows = api.get(f"/api/v1/projects/{logged.project.pk}/audit/", {"action": "answer.changed"}).json()
    assert [r["actor_name"] for r in rows["results"]] == ["editor"]
    rows = api.get(
        f"/api/v1/projects/{logged.project.pk}/audit/", {"actor": logged.users["manager"].pk}
    ).json()
    assert [r["action"] for r in rows["results"]] == ["membership.role_changed"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"action": "answer.deleted"}, "Select a valid choice"),
        ({"actor": "somebody"}, "Select a valid choice"),
        ({"before": "-4"}, "greater than or equal to 1"),
    ],
)
def test_bad_filters_on_the_page_are_explained(logged: World, query: dict[str, str], message: str) -> None:
    response = logged.client("owner").get(f"/projects/{logged.project.pk}/audit/", query)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [({"action": "answer.deleted"}, "action"), ({"actor": "somebody"}, "actor"), ({"actor": "0"}, "actor")],
)
def test_bad_filters_in_the_api_are_400(logged: World, query: dict[str, str], field: str) -> None:
    response = logged.api("owner").get(f"/api/v1/projects/{logged.project.pk}/audit/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_bad_filters_do_not_reveal_a_project_to_strangers(logged: World) -> None:
    url = f"/api/v1/projects/{logged.project.pk}/audit/"
    assert logged.api("outsider").get(url, {"action": "answer.deleted"}).status_code == 404
    assert logged.api("viewer").get(url, {"action": "answer.deleted"}).status_code == 403


def test_the_api_pages_by_cursor_newest_first(world: World) -> None:
    for number in range(PAGE_SIZE + 7):
        add_event(world.project, world.users["editor"], new=number)
    api = world.api("owner")
    url: str | None = f"/api/v1/projects/{world.project.pk}/audit/"
    seen: list[int] = []
    while url:
        body = api.get(url).json()
        seen += [row["new"] for row in body["results"]]
        url = body["next"]
    assert seen == list(reversed(range(PAGE_SIZE + 7)))
    bad = api.get(f"/api/v1/projects/{world.project.pk}/audit/", {"cursor": "not-a-cursor"})
    assert bad.status_code == 404


def test_the_admin_shows_events_but_changes_none(world: World) -> None:
    event = add_event(world.project, world.users["editor"], new="kept")
    admin = User.objects.create_superuser("admin", "admin@example.org", "pw-admin")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, new="kept").exists()
