"""The facility dashboard: storage by team and project against the storage roots' quotas, projects
near or over quota, datasets whose copy is not verified, published data; stewards only."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metadata.models import Dataset, VerifyState
from projects.models import Facility, Membership, Project, Role, StorageRoot, Team
from repositories import oversight
from repositories.models import State, Submission
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import outcome

KB = 1024


class Fixture:
    def __init__(self, world: World) -> None:
        now = timezone.now()
        self.world = world
        facility = world.facility
        self.near = StorageRoot.objects.create(
            facility=facility, name="near", path="/data/near", quota_bytes=1000 * KB
        )
        self.over = StorageRoot.objects.create(
            facility=facility, name="over", path="/data/over", quota_bytes=1000 * KB
        )
        self.free = StorageRoot.objects.create(facility=facility, name="free", path="/data/free")
        self.calm = StorageRoot.objects.create(
            facility=facility, name="calm", path="/data/calm", quota_bytes=10_000 * KB
        )
        elsewhere = Facility.objects.create(name="Other core")
        self.elsewhere_root = StorageRoot.objects.create(
            facility=elsewhere, name="theirs", path="/data/theirs"
        )
        lab_b = Team.objects.create(name="Lab B", facility=facility)
        self.second = Project.objects.create(title="Drosophila wings", team=lab_b, facility=facility)
        self.teamless = Project.objects.create(title="Pilot", acronym="PIL", facility=facility)
        # A project of another facility (or none) may use these roots; it is counted, never named.
        self.foreign = Project.objects.create(title="Foreign secret project", facility=elsewhere)
        Membership.objects.create(project=self.foreign, user=world.users["outsider"], role=Role.OWNER)
        verified_after_scan = {
            "verify_state": VerifyState.INTACT,
            "scanned_at": now - datetime.timedelta(days=2),
            "verified_at": now - datetime.timedelta(days=1),
        }
        self.datasets = {
            # near: 850 KB of 1000 (85 %): Lab A 500, Lab B 200, others 150
            "zm-1": self._dataset(world.project, self.near, 400 * KB, 4, **verified_after_scan),
            "zm-2": self._dataset(world.project, self.near, 100 * KB, 1, verify_state=VerifyState.NEVER),
            "dw-1": self._dataset(
                self.second,
                self.near,
                200 * KB,
                2,
                verify_state=VerifyState.DIFFERS,
                verified_at=now,
                verify_message="2 changed",
                scanned_at=now - datetime.timedelta(days=3),
            ),
            "foreign": self._dataset(self.foreign, self.near, 150 * KB, 9),
            # over: 1200 KB of 1000 (120 %)
            "pil-1": self._dataset(
                self.teamless,
                self.over,
                1200 * KB,
                12,
                verify_state=VerifyState.INTACT,
                verified_at=now - datetime.timedelta(days=5),
                scanned_at=now - datetime.timedelta(days=1),
            ),
            # free: no quota
            "zm-3": self._dataset(world.project, self.free, 50 * KB, 5, **verified_after_scan),
            # calm: 1 % of its quota
            "dw-2": self._dataset(self.second, self.calm, 100 * KB, 1, **verified_after_scan),
            # another facility's storage: not this dashboard's business
            "theirs": self._dataset(self.foreign, self.elsewhere_root, 999 * KB, 1),
        }
        self.public = self._submission(
            world.project, "Public study", State.PUBLIC, "S-BIAD1", "10.6019/S-BIAD1"
        )
        self.embargoed = self._submission(self.second, "Wings", State.EMBARGOED, "S-BIAD2", "")
        self.accessioned = self._submission(self.second, "Wings 2", State.ACCESSIONED, "S-BIAD3", "")
        self._submission(world.project, "Draft", State.DRAFT, "", "")
        self._submission(world.project, "Withdrawn", State.WITHDRAWN, "S-BIAD4", "")
        self._submission(self.foreign, "Foreign public", State.PUBLIC, "S-BIAD5", "")

    def _dataset(
        self, project: Project, root: StorageRoot, size: int, files: int, **extra: object
    ) -> Dataset:
        extra.setdefault("scanned_at", timezone.now() - datetime.timedelta(days=3))
        return Dataset.objects.create(
            project=project,
            title=f"{project.title} on {root.name} ({size})",
            storage_root=root,
            relative_path=f"{project.pk}-{size}",
            status=Dataset.Status.SCANNED,
            total_bytes=size,
            file_count=files,
            **extra,
        )

    def _submission(self, project: Project, title: str, state: str, accession: str, doi: str) -> Submission:
        return Submission.objects.create(
            project=project,
            title=title,
            target="bia",
            state=state,
            accession=accession,
            doi=doi,
            release_date=datetime.date(2027, 6, 30),
        )


@pytest.fixture
def setup(world: World) -> Fixture:
    return Fixture(world)


def test_storage_by_root_team_and_project_against_quotas(setup: Fixture) -> None:
    dashboard = oversight.facility_dashboard(setup.world.facility)
    roots = {root.root.name: root for root in dashboard.roots}
    assert list(roots) == ["calm", "free", "near", "over"]
    near, over, free, calm = roots["near"], roots["over"], roots["free"], roots["calm"]
    assert (near.used, near.files, near.percent, near.status) == (850 * KB, 16, 85.0, "near")
    assert (over.used, over.percent, over.status) == (1200 * KB, 120.0, "over")
    assert (free.used, free.percent, free.status) == (50 * KB, None, "no quota")
    assert (calm.percent, calm.status) == (1.0, "ok")
    assert [(t.label, t.bytes, t.percent) for t in near.teams] == [
        ("Lab A", 500 * KB, 50.0),
        ("Lab B", 200 * KB, 20.0),
        (oversight.OTHER_PROJECTS, 150 * KB, 15.0),
    ]
    assert [(p.label, p.bytes, p.project_id) for p in near.projects] == [
        ("ZM: Zebrafish mitochondria", 500 * KB, setup.world.project.pk),
        ("Drosophila wings", 200 * KB, setup.second.pk),
        (oversight.OTHER_PROJECTS, 150 * KB, None),
    ]
    assert [(t.label, t.bytes) for t in over.teams] == [(oversight.NO_TEAM, 1200 * KB)]
    assert dashboard.used == (850 + 1200 + 50 + 100) * KB
    assert dashboard.quota == 12_000 * KB
    # The chart: segments side by side, scaled to the quota (or the use when it is larger).
    segments = near.team_segments
    assert [(s.x, s.width) for s in segments] == [(0.0, 50.0), (50.0, 20.0), (70.0, 15.0)]
    assert (near.quota_x, near.near_x) == (100.0, 80.0)
    assert over.project_segments[0].width == 100.0
    assert over.quota_x == pytest.approx(100 / 1.2)


def test_projects_near_or_over_quota(setup: Fixture) -> None:
    alerts = oversight.facility_dashboard(setup.world.facility).alerts
    assert [(a.project.label, a.root.root.name, a.root.status) for a in alerts] == [
        ("PIL: Pilot", "over", "over"),
        ("ZM: Zebrafish mitochondria", "near", "near"),
        ("Drosophila wings", "near", "near"),
    ]


def test_unverified_copies(setup: Fixture) -> None:
    dashboard = oversight.facility_dashboard(setup.world.facility)
    listed = {item.dataset.pk: item.reason for item in dashboard.unverified}
    d = setup.datasets
    assert set(listed) == {d["zm-2"].pk, d["dw-1"].pk, d["pil-1"].pk}
    assert dashboard.unverified_count == 3
    assert listed[d["zm-2"].pk] == "Never verified."
    assert listed[d["dw-1"].pk].endswith("found differences: 2 changed")
    assert listed[d["pil-1"].pk].startswith("Scanned again on")


def test_published_projects(setup: Fixture) -> None:
    published = oversight.facility_dashboard(setup.world.facility).published
    assert [(entry.title, [s.title for s in entry.submissions]) for entry in published] == [
        ("Drosophila wings", ["Wings", "Wings 2"]),
        ("ZM: Zebrafish mitochondria", ["Public study"]),
    ]


def test_page_shows_the_numbers_and_names_no_foreign_project(setup: Fixture) -> None:
    response = setup.world.client("steward").get(f"/facilities/{setup.world.facility.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Foreign secret project" not in page
    assert oversight.OTHER_PROJECTS in page
    assert "850.0\xa0KB in 16 files, 85% of 1000.0\xa0KB" in page
    assert "https://doi.org/10.6019/S-BIAD1" in page
    assert f"/submissions/{setup.embargoed.pk}/" in page
    assert "Never verified." in page
    assert 'class="chart-seg-0"' in page
    assert 'class="chart-quota"' in page
    assert '<meter min="0" max="100" low="80" high="100" optimum="0" value="50.0">' in page
    # The CSP forbids inline styles and scripts.
    assert "style=" not in page
    assert "<script>" not in page


def test_constant_number_of_queries(setup: Fixture) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            oversight.facility_dashboard(setup.world.facility)
        return len(captured.captured_queries)

    before = queries()
    for index in range(10):
        setup._dataset(setup.second, setup.over, index + 1, 1)
        setup._submission(setup.second, f"More {index}", State.PUBLIC, f"S-BIAD9{index}", "")
    assert queries() == before


# Access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ALL_USERS)
def test_dashboard_matrix(world: World, who: str) -> None:
    """Stewards of the facility only; project members, even owners, get a 404 like strangers."""
    response = world.client(who).get(f"/facilities/{world.facility.pk}/")
    assert outcome(response) == {"steward": 200, "anonymous": "login"}.get(who, 404)


@pytest.mark.parametrize("who", ALL_USERS)
def test_dashboard_api_matrix(world: World, who: str) -> None:
    response = world.api(who).get(f"/api/v1/facilities/{world.facility.pk}/dashboard/")
    assert response.status_code == {"steward": 200, "anonymous": 401}.get(who, 404)
    if who == "steward":
        assert response.json()["facility"] == world.facility.pk


@pytest.mark.parametrize("who", ALL_USERS)
def test_index_lists_only_stewarded_facilities(world: World, who: str) -> None:
    response = world.client(who).get("/facilities/")
    assert outcome(response) == ("login" if who == "anonymous" else 200)
    if who != "anonymous":
        assert (f"/facilities/{world.facility.pk}/" in response.content.decode()) == (who == "steward")


def test_another_facilitys_steward_sees_nothing(setup: Fixture) -> None:
    other = Facility.objects.get(name="Other core")
    other.stewards.add(setup.world.users["outsider"])
    client = setup.world.client("outsider")
    assert client.get(f"/facilities/{setup.world.facility.pk}/").status_code == 404
    assert client.get(f"/facilities/{other.pk}/").status_code == 200


def test_nav_links_stewards_to_the_dashboards(world: World) -> None:
    assert 'href="/facilities/"' in world.client("steward").get("/").content.decode()
    assert 'href="/facilities/"' not in world.client("owner").get("/").content.decode()


def test_api_numbers(setup: Fixture) -> None:
    data = setup.world.api("steward").get(f"/api/v1/facilities/{setup.world.facility.pk}/dashboard/").json()
    near = next(root for root in data["roots"] if root["name"] == "near")
    assert (near["used_bytes"], near["quota_bytes"], near["status"]) == (850 * KB, 1000 * KB, "near")
    assert [p["name"] for p in near["projects"]] == [
        "ZM: Zebrafish mitochondria",
        "Drosophila wings",
        oversight.OTHER_PROJECTS,
    ]
    assert data["quota_alerts"][0]["title"] == "PIL: Pilot"
    assert data["unverified_count"] == 3
    assert {s["accession"] for p in data["published"] for s in p["submissions"]} == {
        "S-BIAD1",
        "S-BIAD2",
        "S-BIAD3",
    }
    assert "Foreign secret project" not in str(data)
