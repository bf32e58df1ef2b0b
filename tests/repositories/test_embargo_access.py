"""Roles × embargo pages and endpoints: who gets 200/302, 403, 404, the login page or 401, and that
a refused request changes nothing. Viewers (and stewards, as reviewers) read a project's
embargoes; managers and owners change them; a facility's dashboard is for its stewards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from repositories.models import CalendarFeedToken, EmbargoChange, ReminderSent, Submission
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import api_expected, expected, outcome
from tests.repositories.conftest import in_days
from tests.repositories.test_embargo_reminders import tracked


@pytest.fixture
def embargoed(world: World) -> Submission:
    return tracked(world.project, release=in_days(30), accession="S-BIAD1")


def snapshot(submission: Submission) -> tuple[Any, ...]:
    fresh = Submission.objects.get(pk=submission.pk)
    return (
        fresh.release_date,
        fresh.publication_doi,
        fresh.events.count(),
        EmbargoChange.objects.count(),
        ReminderSent.objects.count(),
    )


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[World, Submission], str]
    data: dict[str, Any] | None
    needs: str
    success: int


WEB_CASES = [
    Case("project dashboard", "get", lambda w, s: f"/embargoes/project/{w.project.pk}/", None, "viewer", 200),
    Case(
        "change the embargo",
        "post",
        lambda w, s: f"/submissions/{s.pk}/embargo/",
        {"release_date": in_days(60).isoformat(), "reason": "Paper delayed."},
        "manager",
        302,
    ),
    Case(
        "past date asks to confirm",
        "post",
        lambda w, s: f"/submissions/{s.pk}/embargo/",
        {"release_date": in_days(-1).isoformat(), "reason": "Out."},
        "manager",
        200,
    ),
    Case(
        "release now",
        "post",
        lambda w, s: f"/submissions/{s.pk}/embargo/",
        {"release_now": "on", "reason": "Paper out."},
        "manager",
        302,
    ),
    Case(
        "publication DOI",
        "post",
        lambda w, s: f"/submissions/{s.pk}/publication-doi/",
        {"publication_doi": "10.1038/nature12373"},
        "manager",
        302,
    ),
]


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize("case", WEB_CASES, ids=[c.name for c in WEB_CASES])
def test_web_matrix(world: World, embargoed: Submission, who: str, case: Case) -> None:
    before = snapshot(embargoed)
    client = world.client(who)
    url = case.url(world, embargoed)
    response = client.get(url) if case.method == "get" else client.post(url, case.data)
    wanted = expected(who, case.needs, success=case.success)
    assert outcome(response) == wanted, case.name
    if case.method == "post":
        changed = snapshot(embargoed) != before
        # Asking to confirm a past date is an answer, not a change.
        assert changed == (wanted == case.success and case.success == 302), f"{case.name}: changed={changed}"


@pytest.mark.parametrize("who", ALL_USERS)
def test_the_facility_dashboard_is_for_its_stewards(world: World, who: str) -> None:
    response = world.client(who).get(f"/embargoes/facility/{world.facility.pk}/")
    assert outcome(response) == {"anonymous": "login", "steward": 200}.get(who, 404)


@pytest.mark.parametrize("who", ALL_USERS)
def test_everyone_logged_in_has_an_embargo_dashboard(world: World, who: str) -> None:
    response = world.client(who).get("/embargoes/")
    assert outcome(response) == ("login" if who == "anonymous" else 200)


@pytest.mark.parametrize("who", ALL_USERS)
def test_everyone_logged_in_manages_their_own_calendar_address(world: World, who: str) -> None:
    client = world.client(who)
    made = client.post("/embargoes/calendar/")
    assert outcome(made) == ("login" if who == "anonymous" else 200)
    assert CalendarFeedToken.objects.count() == (0 if who == "anonymous" else 1)
    revoked = client.post("/embargoes/calendar/revoke/")
    assert outcome(revoked) == ("login" if who == "anonymous" else 302)
    assert not CalendarFeedToken.objects.exists()


@pytest.mark.parametrize("who", ALL_USERS)
def test_others_cannot_revoke_an_address(world: World, who: str) -> None:
    world.client("owner").post("/embargoes/calendar/")
    world.client(who).post("/embargoes/calendar/revoke/")  # revokes the poster's own, if any
    assert CalendarFeedToken.objects.filter(user=world.users["owner"]).exists() == (who != "owner")


def test_calendar_pages_take_no_get_for_changes(world: World) -> None:
    client = world.client("viewer")
    assert client.get("/embargoes/calendar/").status_code == 405
    assert client.get("/embargoes/calendar/revoke/").status_code == 405
    assert Client().post("/embargoes/calendar/x.ics").status_code == 405


@pytest.mark.parametrize("who", ALL_USERS)
def test_other_projects_embargoes_are_invisible(world: World, who: str) -> None:
    response = world.client(who).get(f"/embargoes/project/{world.other_project.pk}/")
    assert outcome(response) == {"anonymous": "login", "outsider": 200}.get(who, 404)


API_CASES = [
    Case("get embargo", "get", lambda w, s: f"/api/v1/submissions/{s.pk}/embargo/", None, "viewer", 200),
    Case(
        "change embargo",
        "post",
        lambda w, s: f"/api/v1/submissions/{s.pk}/embargo/",
        {"release_date": in_days(45).isoformat(), "reason": "Delayed."},
        "manager",
        200,
    ),
    Case(
        "release now",
        "post",
        lambda w, s: f"/api/v1/submissions/{s.pk}/embargo/",
        {"release_now": True, "reason": "Out."},
        "manager",
        200,
    ),
    Case(
        "publication DOI",
        "post",
        lambda w, s: f"/api/v1/submissions/{s.pk}/publication-doi/",
        {"publication_doi": "10.1038/nature12373"},
        "manager",
        200,
    ),
    Case(
        "project dashboard",
        "get",
        lambda w, s: f"/api/v1/submissions/embargoes/?project={w.project.pk}",
        None,
        "viewer",
        200,
    ),
]


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize("case", API_CASES, ids=[c.name for c in API_CASES])
def test_api_matrix(world: World, embargoed: Submission, who: str, case: Case) -> None:
    before = snapshot(embargoed)
    client = world.api(who)
    response = getattr(client, case.method)(case.url(world, embargoed), case.data, format="json")
    wanted = api_expected(who, case.needs, success=case.success)
    assert response.status_code == wanted, (case.name, getattr(response, "content", b"")[:300])
    if case.method == "post":
        assert (snapshot(embargoed) != before) == (wanted == case.success), case.name


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_facility_dashboard_is_for_its_stewards(world: World, who: str) -> None:
    response = world.api(who).get(f"/api/v1/submissions/embargoes/?facility={world.facility.pk}")
    assert response.status_code == {"anonymous": 401, "steward": 200}.get(who, 404)


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize("url", ["/api/v1/submissions/embargoes/", "/api/v1/submissions/upcoming-releases/"])
def test_api_personal_lists_need_a_login_only(
    world: World, embargoed: Submission, who: str, url: str
) -> None:
    response = world.api(who).get(url)
    assert response.status_code == (401 if who == "anonymous" else 200)
    if who != "anonymous":
        listed = response.json() if isinstance(response.json(), list) else response.json()["upcoming"]
        assert [row["title"] for row in listed] == ([] if who == "outsider" else ["Neurons"])


def test_api_refusals_say_why(world: World, embargoed: Submission) -> None:
    response = world.api("editor").post(
        f"/api/v1/submissions/{embargoed.pk}/embargo/", {"release_now": True, "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role in this project is Editor; this needs Manager or higher."
    response = world.api("viewer").get("/api/v1/submissions/embargoes/?project=nonsense")
    assert response.status_code == 404
