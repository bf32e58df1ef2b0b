"""A submission's states: the allowed path with who and when, refusals that change nothing,
release dates and accessions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from metadata.models import Dataset
from repositories import services
from repositories.models import State, Submission
from tests.conftest import World
from tests.repositories.conftest import RELEASE_IN_DAYS, in_days


def force(submission: Submission, state: State, **fields: object) -> Submission:
    """Put a submission into a state directly, to test what happens from there."""
    Submission.objects.filter(pk=submission.pk).update(state=state, **fields)
    submission.refresh_from_db()
    return submission


def history(submission: Submission) -> list[tuple[str, str, str | None]]:
    return [
        (e.from_state, e.to_state, e.user.username if e.user else None)
        for e in submission.events.select_related("user")
    ]


def test_the_whole_way_to_public_is_recorded(world: World, packaged: Submission) -> None:
    manager = world.users["manager"]
    services.submission_transition(submission=packaged, to_state=State.SUBMITTED, user=manager, note="Sent.")
    services.submission_record_accession(submission=packaged, accession="S-BIAD1494", doi="", user=manager)
    services.submission_transition(submission=packaged, to_state=State.EMBARGOED, user=manager)
    services.submission_transition(submission=packaged, to_state=State.PUBLIC, user=world.users["owner"])
    packaged.refresh_from_db()
    assert packaged.state == State.PUBLIC
    assert history(packaged) == [
        ("draft", "draft", "editor"),
        ("draft", "checked", "editor"),
        ("checked", "packaged", None),
        ("packaged", "submitted", "manager"),
        ("submitted", "accessioned", "manager"),
        ("accessioned", "embargoed", "manager"),
        ("embargoed", "public", "owner"),
    ]
    notes = list(packaged.events.values_list("note", flat=True))
    assert notes[3:5] == ["Sent.", "Accession S-BIAD1494 recorded."]
    times = list(packaged.events.values_list("at", flat=True))
    assert times == sorted(times)


def test_a_refused_transition_says_why_and_changes_nothing(world: World, packaged: Submission) -> None:
    events = packaged.events.count()
    with pytest.raises(ValidationError) as refused:
        services.submission_transition(submission=packaged, to_state=State.PUBLIC, user=world.users["owner"])
    assert refused.value.messages == [
        "A submission can go from packaged to submitted, draft or withdrawn, not to public."
    ]
    packaged.refresh_from_db()
    assert packaged.state == State.PACKAGED
    assert packaged.events.count() == events


def test_withdrawn_is_final(world: World, submission: Submission) -> None:
    services.submission_transition(
        submission=submission, to_state=State.WITHDRAWN, user=world.users["manager"], note="Paper retracted."
    )
    with pytest.raises(
        ValidationError, match=re.escape("A withdrawn submission cannot change its state any more.")
    ):
        services.submission_transition(submission=submission, to_state=State.DRAFT, user=world.users["owner"])
    assert history(submission)[-1] == ("draft", "withdrawn", "manager")


def test_unknown_state(world: World, submission: Submission) -> None:
    with pytest.raises(ValidationError, match=re.escape("“sent” is not a state of a submission.")):
        services.submission_transition(submission=submission, to_state="sent", user=None)


def test_checked_and_packaged_come_only_from_their_actions(world: World, submission: Submission) -> None:
    with pytest.raises(ValidationError, match=re.escape("Run the pre-flight check")):
        services.submission_transition(submission=submission, to_state=State.CHECKED, user=None)
    force(submission, State.CHECKED)
    with pytest.raises(ValidationError, match=re.escape("Build the package")):
        services.submission_transition(submission=submission, to_state=State.PACKAGED, user=None)
    force(submission, State.SUBMITTED)
    with pytest.raises(ValidationError, match=re.escape("Record the accession")):
        services.submission_transition(submission=submission, to_state=State.ACCESSIONED, user=None)


def test_only_a_future_release_date_can_be_embargoed(world: World, submission: Submission) -> None:
    force(submission, State.ACCESSIONED, accession="S-BIAD1", release_date=in_days(0))
    with pytest.raises(ValidationError, match=re.escape("release date lies ahead")):
        services.submission_transition(submission=submission, to_state=State.EMBARGOED, user=None)
    services.submission_transition(submission=submission, to_state=State.PUBLIC, user=None)
    assert submission.events.last().to_state == State.PUBLIC  # type: ignore[union-attr]


def test_back_to_draft_discards_the_package(world: World, packaged: Submission) -> None:
    folder = Path(packaged.package_path)
    assert folder.is_dir()
    services.submission_transition(submission=packaged, to_state=State.DRAFT, user=world.users["editor"])
    packaged.refresh_from_db()
    assert (packaged.package_path, packaged.packaged_at) == ("", None)
    assert not folder.exists()


def test_building_needs_a_checked_submission(world: World, submission: Submission) -> None:
    with pytest.raises(ValidationError, match=re.escape("run the pre-flight check first.")):
        services.package_build_start(submission=submission, user=world.users["editor"])
    assert not submission.is_building


def test_a_new_release_date_sends_a_package_back_to_draft(world: World, packaged: Submission) -> None:
    services.submission_set_release_date(
        submission=packaged, release_date=in_days(60), user=world.users["manager"], note="Paper delayed."
    )
    packaged.refresh_from_db()
    assert packaged.release_date == in_days(60)
    assert packaged.state == State.DRAFT
    assert packaged.package_path == ""
    last = packaged.events.last()
    assert last is not None
    assert (last.from_state, last.to_state, last.user) == ("packaged", "draft", world.users["manager"])
    assert last.note == (
        f"Release date changed from {in_days(RELEASE_IN_DAYS):%Y-%m-%d} to {in_days(60):%Y-%m-%d}. "
        "Paper delayed."
    )


def test_an_embargo_can_be_extended_and_is_recorded(world: World, submission: Submission) -> None:
    force(submission, State.EMBARGOED, accession="S-BIAD7")
    services.submission_set_release_date(
        submission=submission, release_date=in_days(90), user=world.users["owner"]
    )
    submission.refresh_from_db()
    assert submission.state == State.EMBARGOED
    assert history(submission)[-1] == ("embargoed", "embargoed", "owner")


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (-1, "is in the past (today is"),
        (6 * 365, "is too far ahead: the latest release date allowed is"),
    ],
)
def test_bad_release_dates_are_refused(world: World, submission: Submission, days: int, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        services.submission_set_release_date(
            submission=submission, release_date=in_days(days), user=world.users["manager"]
        )
    submission.refresh_from_db()
    assert submission.release_date == in_days(RELEASE_IN_DAYS)
    assert submission.events.count() == 1


def test_public_release_dates_are_final(world: World, submission: Submission) -> None:
    force(submission, State.PUBLIC)
    with pytest.raises(
        ValidationError, match=re.escape("The submission is public; its release date is final.")
    ):
        services.submission_set_release_date(submission=submission, release_date=in_days(5), user=None)


def test_accessions_are_checked_and_unique(world: World, submission: Submission, described: Dataset) -> None:
    manager = world.users["manager"]
    with pytest.raises(ValidationError, match=re.escape("after the submission has been sent")):
        services.submission_record_accession(
            submission=submission, accession="S-BIAD12", doi="", user=manager
        )
    force(submission, State.SUBMITTED)
    with pytest.raises(
        ValidationError,
        match=re.escape("“idr0001” is not an accession of this archive; it looks like S-BIAD1494."),
    ):
        services.submission_record_accession(submission=submission, accession="idr0001", doi="", user=manager)
    with pytest.raises(ValidationError, match=re.escape("is not a DOI")):
        services.submission_record_accession(
            submission=submission, accession="S-BIAD12", doi="S-BIAD12", user=manager
        )
    services.submission_record_accession(
        submission=submission, accession=" S-BIAD12 ", doi="https://doi.org/10.6019/S-BIAD12", user=manager
    )
    submission.refresh_from_db()
    assert (submission.state, submission.accession, submission.doi) == (
        "accessioned",
        "S-BIAD12",
        "10.6019/S-BIAD12",
    )
    other = services.submission_create(
        project=world.project,
        datasets=[described],
        target="bia",
        title="Again",
        release_date=None,
        user=manager,
    )
    force(other, State.SUBMITTED)
    with pytest.raises(
        ValidationError, match=re.escape("S-BIAD12 is recorded for another submission already.")
    ):
        services.submission_record_accession(submission=other, accession="S-BIAD12", doi="", user=manager)


def test_creation_refuses_what_cannot_be_packaged(world: World, described: Dataset) -> None:
    editor = world.users["editor"]
    with pytest.raises(ValidationError, match=re.escape("“figshare” is not a repository FAIRlight knows.")):
        services.submission_create(
            project=world.project,
            datasets=[described],
            target="figshare",
            title="T",
            release_date=None,
            user=editor,
        )
    with pytest.raises(ValidationError, match=re.escape("Choose at least one dataset.")):
        services.submission_create(
            project=world.project, datasets=[], target="bia", title="T", release_date=None, user=editor
        )
    with pytest.raises(ValidationError, match=re.escape("belong to another project: S")):
        services.submission_create(
            project=world.other_project,
            datasets=[described],
            target="bia",
            title="T",
            release_date=None,
            user=editor,
        )
    with pytest.raises(ValidationError, match=re.escape("is in the past (today is")):
        services.submission_create(
            project=world.project,
            datasets=[described],
            target="bia",
            title="T",
            release_date=in_days(-1),
            user=editor,
        )
    assert not Submission.objects.exists()
