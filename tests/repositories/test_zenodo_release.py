"""A changed release date reaches the Zenodo record FAIRlight deposited: extended, shortened or
released now, by a task, with the record kept (same id, DOI and files); a failure says why on the
submission page, which offers to send the date again; records deposited by hand are left alone."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core.management import call_command
from django.utils import timezone

from repositories import services
from repositories.models import State, Submission
from repositories.tasks import (
    RELEASE_FAILED,
    RELEASE_QUEUED,
    RELEASE_STARTED,
    archive_release,
    release_update_start,
)
from tests.conftest import ALL_USERS, World
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.projects.test_access_matrix import expected, outcome
from tests.repositories.conftest import in_days
from tests.repositories.invenio_server import InvenioServer
from tests.repositories.test_access import snapshot
from tests.repositories.test_zenodo import zenodo  # noqa: F401 - the contract server fixture
from tests.repositories.test_zenodo_target import (  # noqa: F401 - fixtures among them
    bare_zenodo,
    configured,
    deposit,
    events,
    zenodo_packaged,
    zenodo_scanned,
)

CaptureOnCommit = Callable[..., AbstractContextManager[object]]
ARCHIVE_PART = {"HX-Request": "true", "HX-Target": "archive-release"}


@pytest.fixture
def deposited(
    world: World,
    configured: InvenioServer,  # noqa: F811
    zenodo_packaged: Submission,  # noqa: F811
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> Submission:
    deposit(world, zenodo_packaged, run_tasks, django_capture_on_commit_callbacks)
    assert zenodo_packaged.state == State.EMBARGOED
    return zenodo_packaged


def change_date(world: World, submission: Submission, capture: CaptureOnCommit, **data: str) -> None:
    with capture(execute=True):
        response = world.client("manager").post(f"/submissions/{submission.pk}/embargo/", data)
    assert response.status_code == 302


def test_a_deposit_records_what_zenodo_holds(world: World, deposited: Submission) -> None:
    assert deposited.archive_release_date == deposited.release_date
    assert deposited.archive_access_set_at is not None
    page = world.client("viewer").get(f"/submissions/{deposited.pk}/").content.decode()
    assert (
        f"Zenodo keeps the files restricted until {deposited.release_date:%Y-%m-%d}, as FAIRlight set it"
        in page
    )
    assert "FAIRlight sends it at once" not in page  # viewers see no form
    manager = world.client("manager").get(f"/submissions/{deposited.pk}/").content.decode()
    assert "changes the date at Zenodo too: FAIRlight sends it at once" in manager
    assert "Send the release date to Zenodo again" not in manager  # in step
    archive = world.api("viewer").get(f"/api/v1/submissions/{deposited.pk}/embargo/").json()["archive"]
    assert archive["archive_date"] == f"{deposited.release_date:%Y-%m-%d}"
    assert (archive["in_step"], archive["running_since"], archive["error"]) == (True, None, "")


def test_a_new_release_date_reaches_the_zenodo_record(
    world: World,
    configured: InvenioServer,  # noqa: F811
    deposited: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    record = configured.records[deposited.accession]
    revision, doi, files = record.revision, record.doi, dict(record.files)
    later = in_days(200)
    change_date(
        world,
        deposited,
        django_capture_on_commit_callbacks,
        release_date=later.isoformat(),
        reason="Paper delayed.",
    )

    polled = world.client("manager").get(f"/submissions/{deposited.pk}/", headers=ARCHIVE_PART)
    assert "HX-Refresh" not in polled  # the update has not run: the part keeps polling
    fragment = polled.content.decode()
    assert fragment.strip().startswith('<div id="archive-release"')
    assert "Sending the release date to Zenodo" in fragment
    assert record.access["embargo"]["until"] != later.isoformat()  # nothing sent before a worker runs it

    run_tasks()
    deposited.refresh_from_db()
    assert record.access["embargo"] == {
        "active": True,
        "until": later.isoformat(),
        "reason": f"The data are released on {later}.",
    }
    assert record.access["files"] == "restricted"
    assert (record.doi, record.files) == (doi, files)
    assert record.revision > revision
    assert len(configured.records) == 1  # the same record, not a new version
    assert configured.paths("POST")[-2:] == [
        f"/api/records/{deposited.accession}/draft",
        f"/api/records/{deposited.accession}/draft/actions/publish",
    ]
    assert deposited.archive_release_date == later
    assert deposited.state == State.EMBARGOED
    record_name = f"Zenodo (record {deposited.accession})"
    before = deposited.embargo_changes.get().old_date
    assert [note for *_, note in events(deposited)][-4:] == [
        f"Release date changed from {before} to {later}. Paper delayed.",
        RELEASE_QUEUED,
        RELEASE_STARTED,
        f"Files restricted on {record_name} until {later}.",
    ]
    finished = world.client("manager").get(f"/submissions/{deposited.pk}/", headers=ARCHIVE_PART)
    assert finished["HX-Refresh"] == "true"  # done: the whole page reloads
    page = world.client("manager").get(f"/submissions/{deposited.pk}/").content.decode()
    assert f"Zenodo keeps the files restricted until {later:%Y-%m-%d}, as FAIRlight set it" in page


def test_release_now_opens_the_files_on_zenodo_and_makes_the_submission_public(
    world: World,
    configured: InvenioServer,  # noqa: F811
    deposited: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    change_date(
        world, deposited, django_capture_on_commit_callbacks, release_now="on", reason="The paper is out."
    )
    run_tasks()
    deposited.refresh_from_db()
    record = configured.records[deposited.accession]
    assert record.access["files"] == "public"
    assert record.access["embargo"]["active"] is False
    assert deposited.state == State.PUBLIC
    assert deposited.archive_release_date is None
    assert events(deposited)[-1] == (
        "embargoed",
        "public",
        None,
        f"The files are public on Zenodo (record {deposited.accession}).",
    )


def test_a_failed_update_says_why_and_the_date_can_be_sent_again(
    world: World,
    configured: InvenioServer,  # noqa: F811
    deposited: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    held = deposited.release_date
    assert held is not None
    later = in_days(120)
    configured.fail_next(503)
    change_date(
        world,
        deposited,
        django_capture_on_commit_callbacks,
        release_date=later.isoformat(),
        reason="Reviewers asked for more.",
    )
    run_tasks()
    deposited.refresh_from_db()
    record = configured.records[deposited.accession]
    assert record.access["embargo"]["until"] == held.isoformat()  # Zenodo kept its date
    assert deposited.release_date == later  # and FAIRlight kept the new one
    assert deposited.archive_release_date == held
    last = events(deposited)[-1][3]
    assert last.startswith(RELEASE_FAILED)
    assert "503" in last

    page = world.client("manager").get(f"/submissions/{deposited.pk}/").content.decode()
    said = f"Zenodo keeps the files restricted until {held:%Y-%m-%d}, not as this page says"
    assert f"{said}: the last update failed:" in page
    assert "Send the release date to Zenodo again</button>" in page
    assert (
        "Send the release date to Zenodo again"
        not in world.client("editor").get(f"/submissions/{deposited.pk}/").content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("manager").post(f"/submissions/{deposited.pk}/release-update/", follow=True)
    assert "The release date is being sent to Zenodo" in response.content.decode()
    run_tasks()
    deposited.refresh_from_db()
    assert record.access["embargo"]["until"] == later.isoformat()
    assert deposited.archive_release_date == later
    assert (
        "Send the release date to Zenodo again"
        not in world.client("manager").get(f"/submissions/{deposited.pk}/").content.decode()
    )


def test_a_record_deposited_by_hand_is_left_alone(
    world: World,
    configured: InvenioServer,  # noqa: F811
    bare_zenodo: Submission,  # noqa: F811
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    """Its accession was typed in: FAIRlight never set its access, so it does not touch it."""
    services.submission_transition(
        submission=bare_zenodo, to_state=State.SUBMITTED, user=world.users["manager"]
    )
    services.submission_record_accession(submission=bare_zenodo, accession="4242", doi="", user=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.submission_set_release_date(
            submission=bare_zenodo, release_date=in_days(40), user=world.users["manager"]
        )
    run_tasks()
    assert configured.requests == []
    assert release_update_start(submission=bare_zenodo, user=None) is False
    page = world.client("manager").get(f"/submissions/{bare_zenodo.pk}/").content.decode()
    assert "tells FAIRlight the date you set at the archive; change it there too" in page
    assert (
        world.api("manager").get(f"/api/v1/submissions/{bare_zenodo.pk}/embargo/").json()["archive"] is None
    )


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_release_update_matrix(world: World, bare_zenodo: Submission, who: str) -> None:  # noqa: F811
    """Managers may ask; for a record FAIRlight did not deposit, the answer says why nothing is sent."""
    before = snapshot(bare_zenodo)
    response = world.client(who).post(f"/submissions/{bare_zenodo.pk}/release-update/")
    assert outcome(response) == expected(who, "manager", success=302)
    assert snapshot(bare_zenodo) == before


def test_the_past_is_compared_as_released(world: World, deposited: Submission) -> None:
    """Once both dates have come, Zenodo and FAIRlight agree the files are public: in step."""
    Submission.objects.filter(pk=deposited.pk).update(
        release_date=in_days(-3), archive_release_date=in_days(-1)
    )
    deposited.refresh_from_db()
    status = archive_release(deposited, now=timezone.now())
    assert status is not None
    assert status.in_step
    Submission.objects.filter(pk=deposited.pk).update(
        release_date=in_days(-3), archive_release_date=in_days(5)
    )
    deposited.refresh_from_db()
    status = archive_release(deposited, now=timezone.now())
    assert status is not None
    assert not status.in_step


def sweep() -> str:
    out = io.StringIO()
    call_command("embargo_sweep", stdout=out)
    return out.getvalue()


def test_the_sweep_marks_the_submission_public_once_zenodo_has_lifted_the_embargo(
    world: World,
    configured: InvenioServer,  # noqa: F811
    deposited: Submission,
    run_tasks: Callable[[], None],
) -> None:
    assert sweep().endswith("0 records at the archive to check for release.\n")  # the date lies ahead
    Submission.objects.filter(pk=deposited.pk).update(
        release_date=in_days(-1), archive_release_date=in_days(-1)
    )

    assert sweep().endswith("1 record at the archive to check for release.\n")
    run_tasks()
    deposited.refresh_from_db()
    assert deposited.state == State.EMBARGOED  # Zenodo has not lifted it yet: nothing changes
    assert "overdue" in world.client("manager").get(f"/submissions/{deposited.pk}/").content.decode().lower()

    configured.lift_embargo(deposited.accession)
    sweep()
    run_tasks()
    deposited.refresh_from_db()
    assert deposited.state == State.PUBLIC
    assert deposited.archive_release_date is None
    assert events(deposited)[-1] == (
        "embargoed",
        "public",
        None,
        f"The files are public on Zenodo (record {deposited.accession}).",
    )
    assert sweep().endswith("0 records at the archive to check for release.\n")
