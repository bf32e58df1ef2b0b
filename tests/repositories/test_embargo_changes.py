"""Changing an embargo (extend, shorten, release now): who, when, old → new and why are recorded,
a past date asks for confirmation, and refusals change nothing, in the service, on the
submission page and through the API."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from projects.models import Project
from repositories import embargo, services
from repositories.embargo import EmbargoState, PastDateNeedsConfirmation, embargo_change
from repositories.models import EmbargoChange, State, Submission
from tests.conftest import World
from tests.repositories.conftest import in_days
from tests.repositories.test_embargo_reminders import tracked


def snapshot(submission: Submission) -> tuple[Any, ...]:
    fresh = Submission.objects.get(pk=submission.pk)
    return (fresh.release_date, fresh.state, fresh.events.count(), EmbargoChange.objects.count())


@pytest.fixture
def embargoed(world: World) -> Submission:
    return tracked(world.project, release=in_days(30), accession="S-BIAD1")


def test_extending_records_who_when_old_new_and_why(world: World, embargoed: Submission) -> None:
    manager = world.users["manager"]
    before = timezone.now()
    embargo_change(submission=embargoed, user=manager, new_date=in_days(60), reason="  Paper delayed. ")
    change = embargoed.embargo_changes.get()
    assert (change.kind, change.old_date, change.new_date, change.user, change.reason) == (
        "extend",
        in_days(30),
        in_days(60),
        manager,
        "Paper delayed.",
    )
    assert before <= change.at <= timezone.now()
    assert embargoed.release_date == in_days(60)
    assert embargoed.events.last().note == (  # type: ignore[union-attr]
        f"Release date changed from {in_days(30)} to {in_days(60)}. Paper delayed."
    )


def test_shortening_is_recorded_as_such(world: World, embargoed: Submission) -> None:
    embargo_change(
        submission=embargoed, user=world.users["owner"], new_date=in_days(5), reason="Reviewers asked."
    )
    assert embargoed.embargo_changes.get().kind == "shorten"
    assert embargoed.state == State.EMBARGOED


def test_release_now_ends_the_embargo_today_in_the_projects_zone(world: World, embargoed: Submission) -> None:
    # Kiritimati is 14 hours ahead of UTC: "today" there is often tomorrow in UTC.
    Project.objects.filter(pk=world.project.pk).update(time_zone="Pacific/Kiritimati")
    embargoed.refresh_from_db()
    embargo_change(
        submission=embargoed, user=world.users["manager"], release_now=True, reason="The paper is out."
    )
    today = timezone.localdate(timezone=ZoneInfo("Pacific/Kiritimati"))
    change = embargoed.embargo_changes.get()
    assert (change.kind, change.new_date, embargoed.release_date) == ("release_now", today, today)
    assert embargo.submission_state(embargoed, now=timezone.now()) == EmbargoState.OVERDUE


def test_a_past_date_needs_confirmation(world: World, embargoed: Submission) -> None:
    before = snapshot(embargoed)
    yesterday = in_days(-1)
    with pytest.raises(PastDateNeedsConfirmation) as raised:
        embargo_change(
            submission=embargoed, user=world.users["manager"], new_date=yesterday, reason="Out already."
        )
    assert raised.value.message_dict["release_date"] == [
        f"{yesterday:%Y-%m-%d} is in the past (today is {in_days(0):%Y-%m-%d} in UTC): the record will be "
        "reported overdue at once. Confirm the date to set it anyway."
    ]
    assert snapshot(embargoed) == before
    embargo_change(
        submission=embargoed,
        user=world.users["manager"],
        new_date=yesterday,
        reason="Out already.",
        confirm_past=True,
    )
    assert embargoed.release_date == yesterday
    assert embargoed.embargo_changes.get().kind == "shorten"
    assert embargo.submission_state(embargoed, now=timezone.now()) == EmbargoState.OVERDUE


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"new_date": "LATER", "reason": " "},
            "Say why the embargo changes; the reason is kept in its history.",
        ),
        ({"reason": "Why not."}, "Choose a new release date, or release now."),
        (
            {"new_date": "LATER", "release_now": True, "reason": "Both."},
            "Choose either a new release date or “release now”, not both.",
        ),
        ({"new_date": "SAME", "reason": "Again."}, "The release date is SAME already."),
        ({"new_date": "FAR", "reason": "Long."}, "is too far ahead: the latest release date allowed is"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    world: World, embargoed: Submission, arguments: dict[str, Any], message: str
) -> None:
    dates = {"LATER": in_days(40), "SAME": in_days(30), "FAR": in_days(6 * 365)}
    arguments = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in arguments.items()}
    message = message.replace("SAME", f"{in_days(30):%Y-%m-%d}")
    before = snapshot(embargoed)
    with pytest.raises(ValidationError, match=re.escape(message)):
        embargo_change(submission=embargoed, user=world.users["manager"], **arguments)
    assert snapshot(embargoed) == before


def test_release_now_is_refused_once_the_date_has_come(world: World) -> None:
    submission = tracked(world.project, release=in_days(0))
    with pytest.raises(ValidationError, match="has come already"):
        embargo_change(submission=submission, user=None, release_now=True, reason="Now.")
    assert not EmbargoChange.objects.exists()


@pytest.mark.parametrize("state", [State.PUBLIC, State.WITHDRAWN])
def test_settled_release_dates_are_final(world: World, state: str) -> None:
    submission = tracked(world.project, release=in_days(3), state=state)
    with pytest.raises(ValidationError, match=f"The submission is {state}; its release date is final."):
        embargo_change(submission=submission, user=None, new_date=in_days(9), reason="Later.")


def test_a_packaged_submission_goes_back_to_draft(world: World) -> None:
    submission = tracked(world.project, release=in_days(30), state=State.PACKAGED)
    embargo_change(
        submission=submission, user=world.users["manager"], new_date=in_days(31), reason="One more day."
    )
    assert submission.state == State.DRAFT


def test_the_release_date_endpoint_is_recorded_as_an_embargo_change(world: World) -> None:
    submission = tracked(world.project, release=None, state=State.DRAFT)
    services.submission_set_release_date(
        submission=submission, release_date=in_days(10), user=world.users["owner"]
    )
    services.submission_set_release_date(
        submission=submission, release_date=in_days(20), user=None, note="Why."
    )
    assert [(c.kind, c.old_date, c.new_date, c.reason) for c in submission.embargo_changes.all()] == [
        ("set", None, in_days(10), ""),
        ("extend", in_days(10), in_days(20), "Why."),
    ]


# The submission page ------------------------------------------------------------------------------


def test_the_page_shows_the_embargo_and_its_history(world: World, embargoed: Submission) -> None:
    embargo_change(
        submission=embargoed, user=world.users["manager"], new_date=in_days(45), reason="Paper delayed."
    )
    manager = world.client("manager").get(f"/submissions/{embargoed.pk}/").content.decode()
    assert "Under embargo" in manager
    assert "45 days from now" in manager
    assert "Paper delayed." in manager
    assert f"{in_days(30):%Y-%m-%d} → {in_days(45):%Y-%m-%d}" in manager
    assert "Release now" in manager
    assert "Save the publication DOI" in manager
    viewer = world.client("viewer").get(f"/submissions/{embargoed.pk}/").content.decode()
    assert "Paper delayed." in viewer
    assert "Release now" not in viewer
    assert "Save the publication DOI" not in viewer


def test_a_past_date_on_the_page_asks_before_changing(world: World, embargoed: Submission) -> None:
    client = world.client("manager")
    before = snapshot(embargoed)
    data = {"release_date": in_days(-3).isoformat(), "reason": "Released by the archive early."}
    asked = client.post(f"/submissions/{embargoed.pk}/embargo/", data)
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "Set a release date in the past?" in page
    assert "is in the past (today is" in page
    assert 'name="confirm_past" value="on"' in page
    assert f'value="{in_days(-3):%Y-%m-%d}"' in page
    assert snapshot(embargoed) == before
    confirmed = client.post(f"/submissions/{embargoed.pk}/embargo/", {**data, "confirm_past": "on"})
    assert confirmed.status_code == 302
    embargoed.refresh_from_db()
    assert embargoed.release_date == in_days(-3)


def test_refusals_on_the_page_are_shown_as_messages(world: World, embargoed: Submission) -> None:
    client = world.client("owner")
    page = client.post(
        f"/submissions/{embargoed.pk}/embargo/",
        {"release_date": in_days(50).isoformat(), "reason": ""},
        follow=True,
    ).content.decode()
    assert "Say why the embargo changes" in page
    page = client.post(
        f"/submissions/{embargoed.pk}/embargo/", {"release_date": "next spring", "reason": "x"}, follow=True
    ).content.decode()
    assert "Enter the release date as a date, e.g. 2027-06-30." in page
    page = client.post(
        f"/submissions/{embargoed.pk}/publication-doi/", {"publication_doi": "doi please"}, follow=True
    ).content.decode()
    assert "“doi please” is not a DOI" in page
    assert not EmbargoChange.objects.exists()


def test_release_now_and_the_doi_from_the_page(world: World, embargoed: Submission) -> None:
    client = world.client("manager")
    response = client.post(
        f"/submissions/{embargoed.pk}/publication-doi/", {"publication_doi": "10.1038/nature12373"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/submissions/{embargoed.pk}/embargo/", {"release_now": "on", "reason": "Paper out."}
    )
    assert response.status_code == 302
    embargoed.refresh_from_db()
    assert embargoed.publication_doi == "10.1038/nature12373"
    assert embargoed.embargo_changes.get().kind == "release_now"
    page = client.get(f"/submissions/{embargoed.pk}/").content.decode()
    assert "Released now" in page
    assert "“The paper is out: release now?” (10.1038/nature12373)" in page


# The API ------------------------------------------------------------------------------------------


def test_the_api_changes_an_embargo_and_asks_to_confirm_a_past_date(
    world: World, embargoed: Submission
) -> None:
    api = world.api("manager")
    url = f"/api/v1/submissions/{embargoed.pk}/embargo/"
    refused = api.post(url, {"release_date": in_days(-2).isoformat(), "reason": "Early."}, format="json")
    assert refused.status_code == 400
    assert set(refused.json()) == {"release_date", "confirm_past"}
    assert refused.json()["confirm_past"] == ['Send "confirm_past": true to set this date anyway.']
    assert not EmbargoChange.objects.exists()
    done = api.post(
        url,
        {"release_date": in_days(-2).isoformat(), "reason": "Early.", "confirm_past": True},
        format="json",
    )
    assert done.status_code == 200
    body = done.json()
    assert body["embargo_state"] == "overdue"
    assert body["days_until"] == -2
    assert body["time_zone"] == "UTC"
    assert [(c["kind"], c["old_date"], c["new_date"], c["user"], c["reason"]) for c in body["changes"]] == [
        ("shorten", in_days(30).isoformat(), in_days(-2).isoformat(), "manager", "Early.")
    ]
    assert api.get(url).json() == body


def test_the_api_records_a_publication_doi(world: World, embargoed: Submission) -> None:
    api = world.api("owner")
    response = api.post(
        f"/api/v1/submissions/{embargoed.pk}/publication-doi/",
        {"publication_doi": "doi:10.1038/nature12373"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["publication_doi"] == "10.1038/nature12373"
    assert [r["kind"] for r in response.json()["reminders"]] == ["publication"]
    detail = api.get(f"/api/v1/submissions/{embargoed.pk}/").json()
    assert (detail["publication_doi"], detail["embargo_state"]) == ("10.1038/nature12373", "under_embargo")
    bad = api.post(
        f"/api/v1/submissions/{embargoed.pk}/publication-doi/", {"publication_doi": "12373"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "publication_doi": ["“12373” is not a DOI; a DOI looks like 10.1038/s41592-019-0582-9."]
    }
