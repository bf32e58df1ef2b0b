"""The project journey: a project walked from empty to released through each app's services,
with every step's state and blockers along the way; actions only for roles that may do them;
a constant number of queries; the page, the project page's hook and the API, for every role."""

from __future__ import annotations

import copy
import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dmp.answers import plan_create
from dmp.journey import Journey, Step, StepState, project_journey
from dmp.models import Template
from dmp.review import comment_add, comment_resolve
from metadata.models import Dataset, ImageFile, RembiRecord, ScanRun
from projects.models import StorageRoot
from repositories import services as repository_services
from repositories.models import State, Submission
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import demo_fill, loaded  # noqa: F401 - a fixture
from tests.metadata.conftest import root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.metadata.rembi_corpus import examples
from tests.projects.test_access_matrix import api_expected, expected, outcome
from tests.repositories.conftest import describe, in_days, packages_dir  # noqa: F401 - a fixture

D, P, B, N = StepState.DONE, StepState.IN_PROGRESS, StepState.BLOCKED, StepState.NOT_STARTED
STEPS = ["plan", "register", "describe", "validate", "package", "submit", "release"]


def states(journey: Journey) -> list[StepState]:
    return [step.state for step in journey.steps]


def step(journey: Journey, key: str) -> Step:
    return next(s for s in journey.steps if s.key == key)


def texts(journey: Journey, key: str) -> list[str]:
    return [blocker.text for blocker in step(journey, key).blockers]


def test_a_project_walked_from_empty_to_released(
    world: World,
    loaded: None,  # noqa: F811
    root: StorageRoot,  # noqa: F811
    samples: Path,  # noqa: F811
    scan_now: Callable[[Dataset], ScanRun],  # noqa: F811
    packages_dir: Path,  # noqa: F811
) -> None:
    owner, editor, manager = (world.users[name] for name in ("owner", "editor", "manager"))
    project = world.project

    # Nothing yet: every step waits, the first says what to do.
    journey = project_journey(project, editor)
    assert [s.key for s in journey.steps] == STEPS
    assert states(journey) == [N] * 7
    assert texts(journey, "plan") == ["No plan yet — start one."]
    assert journey.next_action is not None
    assert journey.next_action.label == "Start a plan"
    assert journey.next_action.url == f"/plans/project/{project.pk}/new/"
    assert texts(journey, "register")[0].startswith("No dataset registered yet")
    assert texts(journey, "validate")[0].startswith("No submission yet")

    # A plan: the unanswered required questions, section by section.
    plan = plan_create(
        project=project, template=Template.objects.get(key="bioimaging-facility"), title="DMP", user=owner
    )
    journey = project_journey(project, editor)
    assert step(journey, "plan").state == P
    assert "3 required questions unanswered in section 3 (Analysis)." in texts(journey, "plan")
    section_link = step(journey, "plan").blockers[0].link
    assert section_link is not None
    assert section_link.url.startswith(f"/plans/{plan.pk}/s/")
    assert journey.next_action is not None
    assert journey.next_action.label == "Continue the plan"
    demo_fill(plan)
    comment = comment_add(
        plan=plan,
        user=world.users["steward"],
        question_key="bif.roles.pi",
        block_id="",
        text="Name a deputy.",
    )
    journey = project_journey(project, editor)
    assert step(journey, "plan").state == P
    assert texts(journey, "plan") == ["1 review comment is still open."]
    comment_resolve(comment=comment, user=editor)
    journey = project_journey(project, editor)
    assert step(journey, "plan").state == D
    assert journey.next_step is not None
    assert journey.next_step.key == "register"

    # Data registered, then scanned: the truncated sample PNG cannot be read.
    registered = Dataset.objects.create(
        project=project, title="Zebrafish light-sheet", storage_root=root, relative_path="samples"
    )
    journey = project_journey(project, editor)
    assert step(journey, "register").state == P
    assert texts(journey, "register") == ["“Zebrafish light-sheet” has not been scanned yet."]
    scan_now(registered)
    journey = project_journey(project, editor)
    assert step(journey, "register").state == B
    assert texts(journey, "register") == ["Dataset “Zebrafish light-sheet” has 1 unreadable file."]
    link = step(journey, "register").blockers[0].link
    assert link is not None
    assert link.url == f"/datasets/{registered.pk}/?with_errors=on"
    shutil.rmtree(samples / "broken")
    scan_now(registered)
    journey = project_journey(project, editor)
    assert step(journey, "register").state == D
    assert step(journey, "describe").state == N
    assert "REMBI: no Biosample for “Zebrafish light-sheet” yet." in texts(journey, "describe")

    # A submission before the description is complete: the pre-flight check fails.
    submission = repository_services.submission_create(
        project=project,
        datasets=[registered],
        target="bia",
        title="Mitochondria",
        release_date=in_days(30),
        user=editor,
    )
    journey = project_journey(project, editor)
    assert step(journey, "validate").state == P
    assert texts(journey, "validate") == ["Pre-flight not run for “Mitochondria”."]
    assert states(journey)[4:] == [N, N, N]
    repository_services.submission_check(submission=submission, user=editor)
    journey = project_journey(project, editor)
    assert step(journey, "validate").state == B
    (blocker,) = texts(journey, "validate")
    assert blocker.startswith("Pre-flight of “Mitochondria”: ")
    assert " errors, the first: " in blocker

    # Described, but the biosample lacks its organism.
    records = describe(registered, release=in_days(30))
    biosample = records["Biosample"]
    broken = copy.deepcopy(examples()["Biosample"])
    del broken["organism_classification"]
    RembiRecord.objects.filter(pk=biosample.pk).update(data=broken)
    journey = project_journey(project, editor)
    assert step(journey, "describe").state == B
    assert texts(journey, "describe") == [
        f"REMBI: Biosample “{biosample.title}”: Organism classification is required."
    ]
    link = step(journey, "describe").blockers[0].link
    assert link is not None
    assert link.url == f"/datasets/{registered.pk}/describe/Biosample/"
    RembiRecord.objects.filter(pk=biosample.pk).update(data=examples()["Biosample"])
    assert step(project_journey(project, editor), "describe").state == D

    # Checked, packaged, sent.
    repository_services.submission_check(submission=submission, user=editor)
    journey = project_journey(project, editor)
    assert states(journey)[:5] == [D, D, D, D, P]
    assert texts(journey, "package") == ["Package not built for “Mitochondria”."]
    repository_services.package_build(submission_id=submission.pk)
    journey = project_journey(project, editor)
    assert step(journey, "package").state == D
    assert texts(journey, "submit") == ["Submission “Mitochondria” not sent to the BioImage Archive yet."]
    # Sending is a manager's act: the editor sees what waits, with no action of their own.
    assert journey.next_action is None
    assert step(journey, "submit").action_needs == "Manager"
    assert project_journey(project, manager).next_action is not None
    repository_services.submission_transition(submission=submission, to_state=State.SUBMITTED, user=manager)
    journey = project_journey(project, manager)
    assert step(journey, "submit").state == D
    assert texts(journey, "release") == ["No accession recorded for “Mitochondria” yet."]

    # Accessioned and under embargo; overdue once the date has passed without release.
    repository_services.submission_record_accession(
        submission=submission, accession="S-BIAD1494", doi="10.6019/S-BIAD1494", user=manager
    )
    repository_services.submission_transition(submission=submission, to_state=State.EMBARGOED, user=manager)
    release = in_days(30)
    journey = project_journey(project, manager)
    assert step(journey, "release").state == P
    assert texts(journey, "release") == [f"Release date {release:%Y-%m-%d}, under embargo."]
    assert journey.next_action is None  # a wait, not a task
    later = timezone.now() + datetime.timedelta(days=32)
    journey = project_journey(project, manager, now=later)
    assert step(journey, "release").state == B
    assert texts(journey, "release") == [
        f"Release date {release:%Y-%m-%d} has passed but “Mitochondria” is not public yet."
    ]
    assert journey.next_action is not None
    assert journey.next_action.label == "Mark it public"

    repository_services.submission_transition(submission=submission, to_state=State.PUBLIC, user=manager)
    journey = project_journey(project, manager)
    assert states(journey) == [D] * 7
    assert step(journey, "release").summary == "Public: S-BIAD1494."
    assert journey.next_step is None
    assert journey.next_action is None


def test_a_withdrawn_submission_is_not_followed(world: World, root: StorageRoot) -> None:  # noqa: F811
    scanned = Dataset.objects.create(
        project=world.project, title="D", storage_root=root, relative_path="d", status=Dataset.Status.SCANNED
    )
    gone = Submission.objects.create(project=world.project, target="bia", title="Old", state=State.WITHDRAWN)
    gone.datasets.add(scanned)
    journey = project_journey(world.project, world.users["viewer"])
    assert texts(journey, "validate")[0].startswith("No submission yet")


@pytest.mark.parametrize("who", ["viewer", "reviewer", "steward"])
def test_roles_that_cannot_act_see_blockers_without_actions(world: World, loaded: None, who: str) -> None:  # noqa: F811
    journey = project_journey(world.project, world.users[who])
    first = journey.steps[0]
    assert texts(journey, "plan") == ["No plan yet — start one."]
    assert first.blockers[0].link is None  # starting a plan needs an editor
    assert first.action is None
    assert first.action_needs == "Editor"
    assert journey.next_action is None


def _project_with(world: World, storage: StorageRoot, count: int) -> None:
    """``count`` more datasets, described (sharing records), some with unreadable files, each in a
    submission at another step."""
    for index in range(count):
        item = Dataset.objects.create(
            project=world.project,
            title=f"Dataset {count}-{index}",
            storage_root=storage,
            relative_path=f"d{count}-{index}",
            status=Dataset.Status.SCANNED,
            error_count=index % 2,
            file_count=3,
        )
        ImageFile.objects.create(
            dataset=item,
            relative_path="a.tif",
            size_bytes=1,
            mtime=0,
            format="tiff",
            scanned_at=timezone.now(),
        )
        if not RembiRecord.objects.filter(project=world.project, class_name="Study").exists():
            describe(item, release=in_days(30))
        for record in RembiRecord.objects.filter(
            project=world.project, class_name__in=["Biosample", "Specimen", "ImageAcquisition"]
        ):
            record.datasets.add(item)
        RembiRecord.objects.create(
            project=world.project, class_name="StudyComponent", title=f"Component of {item}", data={}
        ).datasets.add(item)
        submission = Submission.objects.create(
            project=world.project,
            target="bia",
            title=f"Submission {count}-{index}",
            state=[State.DRAFT, State.CHECKED, State.PACKAGED, State.EMBARGOED][index % 4],
            release_date=in_days(10),
            preflight={"target": "bia", "checked_at": timezone.now().isoformat(), "findings": []},
            accession=f"S-BIAD{count}{index}" if index % 4 == 3 else "",
        )
        submission.datasets.add(item)


def test_constant_number_of_queries(world: World, loaded: None, root: StorageRoot) -> None:  # noqa: F811
    plan = plan_create(
        project=world.project,
        template=Template.objects.get(key="bioimaging-facility"),
        title="P",
        user=world.users["owner"],
    )
    demo_fill(plan)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            project_journey(world.project, world.users["editor"])
        return len(captured.captured_queries)

    _project_with(world, root, 1)
    small = queries()
    _project_with(world, root, 8)
    journey = project_journey(world.project, world.users["editor"])
    assert Dataset.objects.filter(project=world.project).count() == 9
    assert step(journey, "describe").more > 0  # the long list is cut, with the rest counted
    assert queries() == small
    assert small <= 10


# Pages and API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ALL_USERS)
def test_journey_page_matrix(world: World, who: str) -> None:
    response = world.client(who).get(f"/projects/{world.project.pk}/journey/")
    assert outcome(response) == expected(who, "viewer", success=200)
    if outcome(response) == 200:
        assert "From plan to release" in response.content.decode()


@pytest.mark.parametrize("who", ALL_USERS)
def test_journey_api_matrix(world: World, who: str) -> None:
    response = world.api(who).get(f"/api/v1/projects/{world.project.pk}/journey/")
    assert response.status_code == api_expected(who, "viewer", success=200)
    if response.status_code == 200:
        data = response.json()
        assert [s["key"] for s in data["steps"]] == STEPS
        assert data["next_step"] == "plan"
        can_start = who in ("owner", "manager", "editor")
        assert (data["next_action"] is not None) == can_start
        assert data["steps"][0]["blockers"][0]["text"] == "No plan yet — start one."


def test_other_projects_journey_is_invisible(world: World) -> None:
    assert world.client("viewer").get(f"/projects/{world.other_project.pk}/journey/").status_code == 404
    assert world.api("steward").get(f"/api/v1/projects/{world.other_project.pk}/journey/").status_code == 404


def test_project_page_loads_the_journey(world: World) -> None:
    page = world.client("viewer").get(f"/projects/{world.project.pk}/").content.decode()
    assert f'hx-get="/projects/{world.project.pk}/journey/"' in page
    assert 'hx-trigger="load"' in page
    panel = world.client("viewer").get(
        f"/projects/{world.project.pk}/journey/", headers={"HX-Request": "true", "HX-Target": "journey"}
    )
    text = panel.content.decode()
    assert "<html" not in text
    assert 'id="journey"' in text
    assert "No plan yet — start one." in text
    # A viewer is told who can act, and gets no link to a page they may not use.
    assert f"/plans/project/{world.project.pk}/new/" not in text
    assert "editor or above" in text
    editor = world.client("editor").get(f"/projects/{world.project.pk}/journey/").content.decode()
    assert f"/plans/project/{world.project.pk}/new/" in editor
