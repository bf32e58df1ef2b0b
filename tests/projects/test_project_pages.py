from __future__ import annotations

from django.test import Client

from projects.models import Membership, Project, Role
from tests.conftest import World


def test_create_project_makes_the_creator_owner(world: World) -> None:
    client = world.client("editor")
    response = client.post(
        "/projects/new/",
        {
            "title": "Axon regeneration atlas",
            "acronym": "ARA",
            "funder": "NIH",
            "grant_id": "R01-NS123456",
            "start_date": "2027-01-01",
            "end_date": "2029-12-31",
            "time_zone": "America/New_York",
            "team": world.team.pk,
            "facility": world.facility.pk,
        },
    )
    project = Project.objects.get(acronym="ARA")
    assert response["Location"] == f"/projects/{project.pk}/"
    assert Membership.objects.get(project=project).role == Role.OWNER
    assert "you are its owner" in client.get(response["Location"]).content.decode()


def test_invalid_project_input_is_explained_and_nothing_is_saved(world: World) -> None:
    before = Project.objects.count()
    response = world.client("editor").post(
        "/projects/new/",
        {"title": "", "start_date": "2027-05-01", "end_date": "2027-01-01", "time_zone": "Mars/Olympus"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "The end date is before the start date." in page
    assert "Mars/Olympus is not a known time zone." in page
    assert Project.objects.count() == before


def test_impossible_date_is_refused(world: World) -> None:
    response = world.client("manager").post(
        f"/projects/{world.project.pk}/edit/",
        {"title": "T", "start_date": "2027-02-30", "time_zone": "UTC", "status": "active"},
    )
    assert "Enter a valid date." in response.content.decode()
    world.project.refresh_from_db()
    assert world.project.title == "Zebrafish mitochondria"


def test_team_of_someone_else_cannot_be_chosen(world: World) -> None:
    response = world.client("viewer").post(
        "/projects/new/", {"title": "Mine", "time_zone": "UTC", "team": world.team.pk}
    )
    assert "Select a valid choice." in response.content.decode()


def test_project_list_search_returns_an_htmx_fragment(world: World) -> None:
    client = world.client("viewer")
    full = client.get("/projects/?q=zebra").content.decode()
    assert "<nav" in full
    assert "Zebrafish mitochondria" in full
    fragment = client.get("/projects/?q=zebra", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="project-results")
    body = fragment.content.decode()
    assert "<nav" not in body
    assert "Zebrafish mitochondria" in body
    assert "No projects found." in client.get("/projects/?q=nothing-like-this").content.decode()


def test_text_is_escaped_everywhere(world: World) -> None:
    Project.objects.filter(pk=world.project.pk).update(title="<script>alert(1)</script>")
    page = world.client("viewer").get(f"/projects/{world.project.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_pages_send_a_strict_csp_and_use_no_inline_script(world: World) -> None:
    response = world.client("owner").get("/")
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "script-src 'self' 'nonce-" in policy
    page = response.content.decode()
    assert page.count("<script") == page.count('<script src="/static/')


def test_anonymous_users_are_sent_to_login(db: None) -> None:
    response = Client().get("/projects/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_section_pages_and_facility_page_render(world: World) -> None:
    client = world.client("steward")
    for url in ("/datasets/", "/plans/", "/submissions/", "/projects/teams/"):
        assert client.get(url).status_code == 200
    facility_page = client.get("/projects/facilities/").content.decode()
    assert "Imaging Core" in facility_page
    assert "Imaging Core" not in world.client("outsider").get("/projects/facilities/").content.decode()
