"""Embargo dashboards for a user, a project and a facility: upcoming releases by month, overdue
ones and missing accessions, with a controlled clock and on the pages and the API."""

from __future__ import annotations

import datetime

from django.utils import timezone

from projects.models import Project
from repositories.embargo import (
    EmbargoRow,
    EmbargoState,
    embargo_overview,
    project_submissions,
    release_instant,
)
from repositories.models import State, Submission
from tests.conftest import World
from tests.repositories.conftest import in_days
from tests.repositories.test_embargo_reminders import tracked

NOW = datetime.datetime(2030, 5, 20, 12, tzinfo=datetime.UTC)


def titles(rows: list[EmbargoRow]) -> list[str]:
    return [row.submission.title for row in rows]


def test_the_overview_sorts_submissions_by_what_needs_doing(world: World) -> None:
    project = world.project
    tracked(project, release=datetime.date(2030, 7, 2), title="July", accession="S-BIAD1")
    tracked(project, release=datetime.date(2030, 6, 30), title="June late", accession="S-BIAD2")
    tracked(project, release=datetime.date(2030, 6, 1), title="June", accession="S-BIAD3")
    tracked(project, release=datetime.date(2030, 5, 20), title="Due today", accession="S-BIAD4")
    tracked(project, release=datetime.date(2030, 5, 1), title="Public", state=State.PUBLIC)
    tracked(project, release=None, title="Just sent", state=State.SUBMITTED)
    tracked(project, release=datetime.date(2030, 5, 2), title="Gone", state=State.WITHDRAWN)
    tracked(project, release=datetime.date(2030, 9, 1), title="Draft", state=State.DRAFT)
    overview = embargo_overview(project_submissions(project), now=NOW)
    assert titles(overview.upcoming) == ["June", "June late", "July", "Draft"]
    assert [(g.month, titles(g.rows)) for g in overview.months] == [
        (datetime.date(2030, 6, 1), ["June", "June late"]),
        (datetime.date(2030, 7, 1), ["July"]),
        (datetime.date(2030, 9, 1), ["Draft"]),
    ]
    assert titles(overview.overdue) == ["Due today"]
    assert overview.overdue[0].days_overdue == 0
    assert titles(overview.missing_accessions) == ["Public", "Just sent"]
    assert overview.upcoming[0].days == 12
    assert overview.upcoming[0].state == EmbargoState.UNDER_EMBARGO


def test_overdue_follows_the_projects_time_zone(world: World) -> None:
    Project.objects.filter(pk=world.project.pk).update(time_zone="America/Los_Angeles")
    tracked(world.project, release=datetime.date(2030, 5, 21), title="Tomorrow in LA")
    due_at = release_instant(datetime.date(2030, 5, 21), "America/Los_Angeles")
    assert due_at == datetime.datetime(2030, 5, 21, 7, tzinfo=datetime.UTC)
    before = embargo_overview(project_submissions(world.project), now=due_at - datetime.timedelta(seconds=1))
    after = embargo_overview(project_submissions(world.project), now=due_at)
    assert (titles(before.upcoming), titles(before.overdue)) == (["Tomorrow in LA"], [])
    assert (titles(after.upcoming), titles(after.overdue)) == ([], ["Tomorrow in LA"])


def _seed(world: World) -> None:
    tracked(world.project, release=in_days(10), title="Mine ahead", accession="S-BIAD1")
    tracked(world.project, release=in_days(-4), title="Mine overdue", accession="S-BIAD2")
    tracked(world.project, release=None, title="Mine without accession", state=State.SUBMITTED)
    tracked(world.other_project, release=in_days(5), title="Secret release", accession="S-BIAD3")


def test_the_user_dashboard_shows_every_visible_project(world: World) -> None:
    _seed(world)
    page = world.client("viewer").get("/embargoes/").content.decode()
    assert 'aria-current="page">Embargoes</a>' in page
    for text in ("Mine ahead", "in 10 days", "Mine overdue", "4 days overdue", "Mine without accession"):
        assert text in page
    assert "Secret release" not in page
    assert f"/embargoes/project/{world.project.pk}/" in page
    assert "Facility: Imaging Core" not in page
    assert "Make a calendar address" in page
    outsider = world.client("outsider").get("/embargoes/").content.decode()
    assert "Secret release" in outsider
    assert "Mine ahead" not in outsider
    steward = world.client("steward").get("/embargoes/").content.decode()
    assert "Mine ahead" in steward
    assert f"/embargoes/facility/{world.facility.pk}/" in steward


def test_the_project_and_facility_dashboards(world: World) -> None:
    _seed(world)
    project_page = world.client("viewer").get(f"/embargoes/project/{world.project.pk}/").content.decode()
    assert "Embargoes of “ZM: Zebrafish mitochondria”" in project_page
    assert "Mine overdue" in project_page
    assert "Secret release" not in project_page
    assert in_days(10).strftime("%B %Y") in project_page
    facility_page = world.client("steward").get(f"/embargoes/facility/{world.facility.pk}/").content.decode()
    assert "Embargoes at Imaging Core" in facility_page
    assert "Mine ahead" in facility_page
    assert "Secret release" not in facility_page  # the outsider's project is in no facility


def test_the_submission_page_links_to_the_projects_dashboard(world: World) -> None:
    submission = tracked(world.project, release=in_days(3))
    page = world.client("viewer").get(f"/submissions/{submission.pk}/").content.decode()
    assert f'href="/embargoes/project/{world.project.pk}/"' in page


def test_the_api_dashboard_and_upcoming_releases(world: World) -> None:
    _seed(world)
    api = world.api("viewer")
    overview = api.get("/api/v1/submissions/embargoes/").json()
    assert [r["title"] for r in overview["upcoming"]] == ["Mine ahead"]
    assert [r["title"] for r in overview["overdue"]] == ["Mine overdue"]
    assert [r["title"] for r in overview["missing_accessions"]] == ["Mine without accession"]
    row = overview["upcoming"][0]
    assert row | {"submission": 0, "project": 0} == {
        "submission": 0,
        "title": "Mine ahead",
        "project": 0,
        "project_title": "Zebrafish mitochondria",
        "target": "bia",
        "state": "embargoed",
        "embargo_state": "under_embargo",
        "release_date": in_days(10).isoformat(),
        "time_zone": "UTC",
        "days_until": 10,
        "accession": "S-BIAD1",
    }
    scoped = api.get(f"/api/v1/submissions/embargoes/?project={world.project.pk}").json()
    assert scoped == overview
    facility = world.api("steward").get(f"/api/v1/submissions/embargoes/?facility={world.facility.pk}").json()
    assert [r["title"] for r in facility["overdue"]] == ["Mine overdue"]
    soon = api.get("/api/v1/submissions/upcoming-releases/?days=9")
    assert soon.status_code == 200
    assert soon.json() == []
    assert [r["title"] for r in api.get("/api/v1/submissions/upcoming-releases/?days=10").json()] == [
        "Mine ahead"
    ]
    assert [r["title"] for r in api.get("/api/v1/submissions/upcoming-releases/").json()] == ["Mine ahead"]
    bad = api.get("/api/v1/submissions/upcoming-releases/?days=0")
    assert bad.status_code == 400
    assert "days" in bad.json()


def test_withdrawn_submissions_are_not_tracked(world: World) -> None:
    submission = tracked(world.project, release=in_days(-1), title="Withdrawn")
    Submission.objects.filter(pk=submission.pk).update(state=State.WITHDRAWN)
    overview = embargo_overview(project_submissions(world.project), now=timezone.now())
    assert overview.is_empty
