"""Writes on submissions: creating them, the pre-flight check, package builds, state changes,
release dates and accessions. Every state change goes through `submission_transition`, which
refuses what `TRANSITIONS` does not allow and records who made the change and when.

Who may do what (checked by views and the API through projects.access, see `role_needed`):
editors prepare a submission (create, check, build, send it back to draft); managers and
owners act towards the archive (mark it submitted, record the accession, change the release
date, release or withdraw it).
"""

from __future__ import annotations

import datetime
import errno
import re
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_text_list

from accounts.identifiers import bare_doi
from accounts.models import User
from audit.models import Action
from audit.services import record
from metadata.models import Dataset
from projects import access
from projects.models import Project
from repositories import registry
from repositories.base import PreflightReport
from repositories.models import (
    DOI_PATTERN,
    TRANSITIONS,
    WITH_THE_ARCHIVE,
    EmbargoChange,
    EmbargoChangeKind,
    State,
    Submission,
    SubmissionEvent,
)
from repositories.preflight import NOT_YET_SUBMITTED, project_today

# A build that has not finished after this long is assumed lost (its worker died).
BUILD_TIMEOUT = datetime.timedelta(hours=6)

_ROLE_NEEDED = {
    State.DRAFT: access.EDIT,
    State.CHECKED: access.EDIT,
    State.PACKAGED: access.EDIT,
    State.SUBMITTED: access.MANAGE,
    State.ACCESSIONED: access.MANAGE,
    State.EMBARGOED: access.MANAGE,
    State.PUBLIC: access.MANAGE,
    State.WITHDRAWN: access.MANAGE,
}
# Changing the release date and recording accessions speak for the project to the archive.
RELEASE_DATE_ROLE = access.MANAGE
ACCESSION_ROLE = access.MANAGE


def role_needed(to_state: str) -> str:
    """The lowest project role that may move a submission into ``to_state``."""
    return _ROLE_NEEDED[State(to_state)]


def packages_root() -> Path:
    return Path(settings.VAR_DIR) / "packages"


def _label(state: str) -> str:
    return str(State(state).label).lower()


def _transition_error(from_state: str, to_state: str) -> ValidationError:
    allowed = TRANSITIONS[from_state]
    if not allowed:
        return ValidationError(f"A {_label(from_state)} submission cannot change its state any more.")
    targets = get_text_list([_label(s) for s in allowed], "or")
    return ValidationError(
        f"A submission can go from {_label(from_state)} to {targets}, not to {_label(to_state)}."
    )


def _record(submission: Submission, from_state: str, to_state: str, user: User | None, note: str) -> None:
    SubmissionEvent.objects.create(
        submission=submission, from_state=from_state, to_state=to_state, user=user, note=note
    )


def _discard_package(submission: Submission) -> None:
    """A package describes the submission as it was checked; a changed one needs a new package."""
    folder = Path(submission.package_path) if submission.package_path else None
    # Only ever delete inside FAIRlight's own package folder, whatever the field says.
    if folder is not None and folder.resolve().is_relative_to(packages_root().resolve()):
        shutil.rmtree(folder, ignore_errors=True)
    submission.package_path = ""
    submission.packaged_at = None


def _guard(submission: Submission, to_state: str) -> None:
    """Conditions a state needs besides being reachable."""
    if to_state == State.CHECKED:
        report = PreflightReport.from_json(submission.preflight)
        if report is None or not report.ok or report.target != submission.target:
            raise ValidationError(
                "Run the pre-flight check: it marks the submission as checked when nothing blocks it."
            )
    elif to_state == State.PACKAGED:
        if not submission.package_path or not Path(submission.package_path).is_dir():
            raise ValidationError(
                "Build the package: the submission is packaged when its package is complete."
            )
    elif to_state == State.ACCESSIONED and not submission.accession:
        raise ValidationError(
            "Record the accession the archive assigned; that marks the submission accessioned."
        )
    elif to_state == State.EMBARGOED and (
        submission.release_date is None or submission.release_date <= project_today(submission)
    ):
        raise ValidationError("Only a submission whose release date lies ahead can be embargoed.")


@transaction.atomic
def submission_transition(
    *, submission: Submission, to_state: str, user: User | None, note: str = ""
) -> Submission:
    """Move the submission to ``to_state`` and record the change; ValidationError if not allowed."""
    if to_state not in State.values:
        raise ValidationError(f"“{to_state}” is not a state of a submission.")
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    from_state = locked.state
    if to_state not in TRANSITIONS[from_state]:
        raise _transition_error(from_state, to_state)
    _guard(locked, to_state)
    if to_state == State.DRAFT:
        _discard_package(locked)
    locked.state = to_state
    locked.full_clean()
    locked.save()
    _record(locked, from_state, to_state, user, note)
    record(
        action=Action.SUBMISSION_STATE,
        project_id=locked.project_id,
        actor=user,
        object_type="submission",
        object_id=locked.pk,
        object_label=str(locked),
        old=from_state,
        new=to_state,
        note=note,
    )
    if submission is not locked:
        submission.refresh_from_db()  # the caller's object shows the change too
    return locked


def submission_create(
    *,
    project: Project,
    datasets: list[Dataset],
    target: str,
    title: str,
    release_date: datetime.date | None,
    user: User | None,
) -> Submission:
    """A draft submission of ``datasets`` to ``target``; ValidationError names what is wrong."""
    registry.target_for(target)
    if not datasets:
        raise ValidationError({"datasets": "Choose at least one dataset."})
    foreign = [str(d) for d in datasets if d.project_id != project.pk]
    if foreign:
        raise ValidationError(
            {"datasets": f"These datasets belong to another project: {', '.join(foreign)}."}
        )
    submission = Submission(
        project=project, target=target, title=title.strip(), release_date=release_date, created_by=user
    )
    submission.full_clean()
    if release_date is not None:
        _check_release_date(submission, release_date)
    with transaction.atomic():
        submission.save()
        submission.datasets.set(datasets)
        _record(submission, State.DRAFT, State.DRAFT, user, "Created.")
    return submission


def submission_check(*, submission: Submission, user: User | None) -> PreflightReport:
    """Run the target's pre-flight check, store the report, and move to checked (or back to draft)."""
    if submission.state not in NOT_YET_SUBMITTED:
        raise ValidationError(
            "The submission is with the archive already; the pre-flight check comes before."
        )
    report = registry.target_for(submission.target).preflight(submission)
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        locked.preflight = report.to_json()
        locked.checked_at = report.checked_at
        locked.save(update_fields=["preflight", "checked_at", "updated_at"])
        errors = len(report.errors)
        if report.ok and locked.state == State.DRAFT:
            submission_transition(
                submission=locked, to_state=State.CHECKED, user=user, note="Pre-flight passed."
            )
        elif not report.ok and locked.state in (State.CHECKED, State.PACKAGED):
            note = f"Pre-flight found {errors} problem{'s' if errors != 1 else ''}."
            submission_transition(submission=locked, to_state=State.DRAFT, user=user, note=note)
    submission.refresh_from_db()
    return report


def package_build_start(*, submission: Submission, user: User | None) -> None:
    """Queue the package build; the task moves the submission to packaged when it is complete."""
    from repositories.tasks import package_build_task

    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.state != State.CHECKED:
            raise ValidationError(
                "Only a checked submission is packaged: run the pre-flight check first"
                + (
                    " (send it back to draft to rebuild its package)."
                    if locked.state == State.PACKAGED
                    else "."
                )
            )
        if locked.build_started_at is not None and timezone.now() - locked.build_started_at < BUILD_TIMEOUT:
            raise ValidationError(
                "A package build is already queued or running "
                f"(since {locked.build_started_at:%Y-%m-%d %H:%M})."
            )
        locked.build_started_at = timezone.now()
        locked.package_error = ""
        locked.save(update_fields=["build_started_at", "package_error", "updated_at"])
        transaction.on_commit(lambda: package_build_task.enqueue(submission_id=locked.pk))
    submission.refresh_from_db()


# Why a build whose worker died shows as failed rather than building on and on.
BUILD_LOST = (
    "The package build stopped before it finished: the worker building it ended (it was stopped, "
    "restarted or ran out of memory). Build the package again."
)
# Out of space on a disk, or over the quota of its owner: either way the disk is full for us.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return (
            f"The disk holding the packages is full: {exc.strerror or exc}. Free space in "
            f"{packages_root()}, then build the package again."
        )
    if isinstance(exc, OSError):
        return f"Writing the package failed: {exc.strerror or exc}."
    return f"The package could not be built: {exc}"


def _building_prefix(submission_pk: int) -> str:
    return f".building-{submission_pk}-"


def _remove_leftovers(submission_pk: int) -> None:
    """Delete the temporary folders of builds of this submission whose worker died mid-build.

    Builds of one submission never overlap (``package_build_start`` refuses a second one), so
    any such folder found when a build starts or is declared lost belongs to a dead build."""
    root = packages_root()
    if root.is_dir():
        for folder in root.glob(_building_prefix(submission_pk) + "*"):
            shutil.rmtree(folder, ignore_errors=True)


def package_build_lost(*, submission_id: int) -> None:
    """Record that the worker building this submission's package died, and clean up after it.

    Called when the build's task is delivered again after its worker stopped beating. It does
    not build again: whatever killed the worker (memory, a full disk) may kill the next one."""
    _remove_leftovers(submission_id)
    Submission.objects.filter(pk=submission_id, build_started_at__isnull=False).update(
        build_started_at=None, package_error=BUILD_LOST
    )


def package_build(*, submission_id: int) -> Submission | None:
    """Build the package into a temporary folder and move it into place only when complete.

    A failure (a full disk included) removes the temporary folder, records why and re-raises,
    so the task shows as failed and the submission stays checked without a package.
    """
    submission = Submission.objects.select_related("project").filter(pk=submission_id).first()
    if submission is None:
        return None
    if submission.state != State.CHECKED:
        Submission.objects.filter(pk=submission.pk).update(build_started_at=None)
        return submission
    root = packages_root()
    final = root / f"submission-{submission.pk}"
    building: Path | None = None
    moved = False
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(submission.pk)
        # In the same folder as the final one, so that moving it into place is one rename.
        building = Path(tempfile.mkdtemp(prefix=_building_prefix(submission.pk), dir=root))
        registry.target_for(submission.target).build_package(submission, building)
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            if locked.state != State.CHECKED:
                raise ValidationError("The submission changed while its package was built; build it again.")
            if final.exists():
                shutil.rmtree(final)  # left by an earlier package of this submission
            building.rename(final)
            moved = True
            locked.package_path = str(final)
            locked.packaged_at = timezone.now()
            locked.build_started_at = None
            locked.save(update_fields=["package_path", "packaged_at", "build_started_at", "updated_at"])
            return submission_transition(
                submission=locked, to_state=State.PACKAGED, user=None, note="Package built."
            )
    except Exception as exc:
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        elif building is not None:
            shutil.rmtree(building, ignore_errors=True)
        Submission.objects.filter(pk=submission.pk).update(
            build_started_at=None, package_error=_failure_text(exc), package_path=""
        )
        raise


def _check_release_date(
    submission: Submission, release_date: datetime.date, *, allow_past: bool = False
) -> None:
    today = project_today(submission)
    if release_date < today and not allow_past:
        raise ValidationError(
            {
                "release_date": f"{release_date:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} in "
                f"{submission.project.time_zone}); choose today or a later date."
            }
        )
    rules = registry.target_for(submission.target).rules
    limit = today + datetime.timedelta(days=rules.max_embargo_days)
    if release_date > limit:
        raise ValidationError(
            {
                "release_date": f"{release_date:%Y-%m-%d} is too far ahead: the latest release date allowed "
                f"is {limit:%Y-%m-%d}."
            }
        )


def _change_kind(before: datetime.date | None, after: datetime.date) -> EmbargoChangeKind:
    if before is None:
        return EmbargoChangeKind.SET
    return EmbargoChangeKind.EXTEND if after > before else EmbargoChangeKind.SHORTEN


def submission_set_release_date(
    *,
    submission: Submission,
    release_date: datetime.date,
    user: User | None,
    note: str = "",
    allow_past: bool = False,
    kind: EmbargoChangeKind | None = None,
) -> Submission:
    """Change the release date and record it as an EmbargoChange (``kind`` by default from the
    dates); a checked or packaged submission goes back to draft. A past date is refused unless
    ``allow_past`` (repositories.embargo asks for a confirmation first)."""
    _check_release_date(submission, release_date, allow_past=allow_past)
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.state in (State.PUBLIC, State.WITHDRAWN):
            raise ValidationError(f"The submission is {_label(locked.state)}; its release date is final.")
        before = locked.release_date
        if before != release_date:
            text = f"Release date changed from {before or 'none'} to {release_date:%Y-%m-%d}." + (
                f" {note}" if note else ""
            )
            locked.release_date = release_date
            locked.save(update_fields=["release_date", "updated_at"])
            EmbargoChange.objects.create(
                submission=locked,
                kind=kind or _change_kind(before, release_date),
                old_date=before,
                new_date=release_date,
                user=user,
                reason=note,
            )
            record(
                action=Action.EMBARGO_CHANGED,
                project_id=locked.project_id,
                actor=user,
                object_type="submission",
                object_id=locked.pk,
                object_label=str(locked),
                old=before,
                new=release_date,
                note=note,
            )
            if locked.state in (State.CHECKED, State.PACKAGED):
                submission_transition(submission=locked, to_state=State.DRAFT, user=user, note=text)
            else:
                _record(locked, locked.state, locked.state, user, text)
    submission.refresh_from_db()
    if before != release_date:
        # A record whose access FAIRlight set through the archive's API (Zenodo) gets the new date
        # there too, by a task. tasks imports this module, hence the import here.
        from repositories.tasks import release_update_start

        release_update_start(submission=submission, user=user)
    return submission


def submission_archive_access_set(
    *, submission: Submission, until: datetime.date | None, archive: str
) -> Submission:
    """Record the access FAIRlight has just set at the archive through its API: files restricted
    ``until`` a date, or (None) public, which makes an embargoed submission public."""
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        locked.archive_release_date = until
        locked.archive_access_set_at = timezone.now()
        locked.save(update_fields=["archive_release_date", "archive_access_set_at", "updated_at"])
        if until is not None:
            _record(
                locked,
                locked.state,
                locked.state,
                None,
                f"Files restricted on {archive} until {until:%Y-%m-%d}.",
            )
        elif locked.state == State.EMBARGOED:
            submission_transition(
                submission=locked,
                to_state=State.PUBLIC,
                user=None,
                note=f"The files are public on {archive}.",
            )
        else:
            _record(locked, locked.state, locked.state, None, f"The files are public on {archive}.")
    submission.refresh_from_db()
    return submission


def submission_record_accession(
    *, submission: Submission, accession: str, doi: str, user: User | None
) -> Submission:
    """Store the archive's accession (and DOI); a submitted submission becomes accessioned."""
    accession, doi = accession.strip(), bare_doi(doi)
    rules = registry.target_for(submission.target).rules
    if not re.fullmatch(rules.accession_pattern, accession):
        raise ValidationError(
            {
                "accession": f"“{accession}” is not an accession of this archive; "
                f"it looks like {rules.accession_example}."
            }
        )
    if doi and not DOI_PATTERN.fullmatch(doi):
        raise ValidationError({"doi": f"“{doi}” is not a DOI; a DOI looks like 10.6019/S-BIAD1494."})
    taken = Submission.objects.filter(target=submission.target, accession=accession).exclude(pk=submission.pk)
    if taken.exists():
        raise ValidationError({"accession": f"{accession} is recorded for another submission already."})
    try:
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=submission.pk)
            if locked.state not in WITH_THE_ARCHIVE:
                raise ValidationError(
                    "Record the accession after the submission has been sent to the archive."
                )
            locked.accession, locked.doi = accession, doi
            locked.full_clean()
            locked.save(update_fields=["accession", "doi", "updated_at"])
            text = f"Accession {accession}" + (f", DOI {doi}" if doi else "") + " recorded."
            if locked.state == State.SUBMITTED:
                submission_transition(submission=locked, to_state=State.ACCESSIONED, user=user, note=text)
            else:
                _record(locked, locked.state, locked.state, user, text)
    except IntegrityError:
        # Two people recording the same accession at once: the constraint catches the second.
        raise ValidationError(
            {"accession": f"{accession} is recorded for another submission already."}
        ) from None
    submission.refresh_from_db()
    return submission
