"""The project's journey: Plan, Register data, Describe, Validate, Package, Submit, Release.

Each step gets a state, what blocks it in plain words (each with the page where it is fixed)
and the action that moves it on; the first step not done gives the project's next action.
It is computed on read from the plans, datasets, REMBI records and submissions, with the same
number of queries however many datasets and submissions the project has.

It lives in dmp, the top-most app it reads from (projects < metadata < repositories < dmp),
and the project page loads it by URL (see templates/projects/project_detail.html).

States:

- done: nothing left to do in this step;
- blocked: something must be fixed before the step can finish (a failed scan, unreadable
  files, an invalid REMBI record, pre-flight errors, a failed package build, a release
  date passed without the data being public);
- in progress: started, with work (or a wait) left;
- not started: nothing done yet.

The four submission steps follow every submission that is not withdrawn: a step is done when
all of them are past it, and lists what holds back those that wait at it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.urls import reverse
from django.utils import timezone

from dmp.answers import is_visible
from dmp.models import Comment, Plan, ReviewRequest
from dmp.template_files import iter_sections
from metadata.models import REMBI_CLASS_CHOICES, Dataset, RembiRecord
from metadata.rembi import CORE_CLASSES
from metadata.validation import Level, validate_record
from projects import access
from projects.models import Project, Role
from repositories import embargo
from repositories.base import PreflightReport
from repositories.models import State, Submission

MAX_BLOCKERS = 5


class StepState(StrEnum):
    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    NOT_STARTED = "not_started"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    StepState.DONE: "Done",
    StepState.IN_PROGRESS: "In progress",
    StepState.BLOCKED: "Blocked",
    StepState.NOT_STARTED: "Not started",
}


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    needs: str = access.VIEW  # the lowest role for whom the link is worth showing


@dataclass(frozen=True)
class Blocker:
    text: str
    link: Link | None = None
    hard: bool = False  # must be fixed (blocked) rather than still to do (in progress)


@dataclass
class Step:
    key: str
    title: str
    state: StepState = StepState.NOT_STARTED
    summary: str = ""
    blockers: list[Blocker] = field(default_factory=list)
    more: int = 0  # blockers beyond the ones listed
    action: Link | None = None  # what moves the step on
    action_needs: str = ""  # the role the action needs, when the user's role is too low for it
    place: Link | None = None  # where to look at the step's work


@dataclass
class Journey:
    project: Project
    role: Role
    steps: list[Step]

    @property
    def next_step(self) -> Step | None:
        return next((step for step in self.steps if step.state != StepState.DONE), None)

    @property
    def next_action(self) -> Link | None:
        step = self.next_step
        return step.action if step is not None else None


# Plan ------------------------------------------------------------------------------------------


def _unanswered_by_section(
    plan: Plan, values: dict[tuple[str, str], Any]
) -> list[tuple[int, dict[str, Any], int]]:
    """(section number, section, required questions unanswered) for each top-level section,
    counting questions as plan_progress does (conditions and planned datasets included)."""
    block_ids = [b["id"] for b in plan.blocks]
    rows = []
    for number, section in enumerate(plan.template.content["sections"], start=1):
        missing = 0
        for part, block_kind in iter_sections([section]):
            for question in part.get("questions", []):
                if not question.get("required"):
                    continue
                for block_id in block_ids if block_kind else [""]:
                    if is_visible(question, values, block_id):
                        missing += values.get((question["key"], block_id)) in (None, "", [])
        if missing:
            rows.append((number, section, missing))
    return rows


@dataclass(frozen=True)
class _PlanFacts:
    plan: Plan
    values: dict[tuple[str, str], Any]
    open_comments: int
    in_review: bool


def _plan_facts(project: Project) -> _PlanFacts | None:
    """The project's most recently changed plan with its answers, open comments and review."""
    plan = (
        Plan.objects.filter(project=project).select_related("template").order_by("-updated_at", "-pk").first()
    )
    if plan is None:
        return None
    return _PlanFacts(
        plan=plan,
        values={(a.question_key, a.block_id): a.value for a in plan.answers.all()},
        open_comments=Comment.objects.filter(plan=plan, resolved=False).count(),
        in_review=ReviewRequest.objects.filter(plan=plan, status=ReviewRequest.Status.OPEN).exists(),
    )


def _plan_step(project: Project, facts: _PlanFacts | None) -> Step:
    step = Step("plan", "Plan")
    if facts is None:
        new = Link("Start a plan", reverse("dmp:plan_new", args=[project.pk]), access.EDIT)
        step.blockers.append(Blocker("No plan yet — start one.", new))
        step.action = new
        return step
    plan = facts.plan
    place = step.place = Link(f"Open “{plan}”", reverse("dmp:plan_detail", args=[plan.pk]))
    for number, section, missing in _unanswered_by_section(plan, facts.values):
        url = reverse("dmp:plan_section", args=[plan.pk, section["key"]])
        questions = "required question" + ("s" if missing != 1 else "")
        step.blockers.append(
            Blocker(
                f"{missing} {questions} unanswered in section {number} ({section['title']}).",
                Link(f"Answer them in “{section['title']}”", url),
            )
        )
    if step.blockers:
        step.action = Link(
            "Continue the plan",
            step.blockers[0].link.url if step.blockers[0].link else place.url,
            access.EDIT,
        )
    if facts.open_comments:
        comments = "review comment" + ("s are" if facts.open_comments != 1 else " is")
        step.blockers.append(Blocker(f"{facts.open_comments} {comments} still open.", place))
        step.action = step.action or Link("Resolve the comments", place.url, access.EDIT)
    if facts.in_review:
        # Waiting for the stewards is nobody's action in the project.
        step.blockers.append(Blocker("The facility's data stewards have not reviewed the plan yet.", place))
    if step.blockers:
        step.state = StepState.IN_PROGRESS
    else:
        step.state = StepState.DONE
        step.summary = f"“{plan}”: every required question is answered."
    return step


# Register data ---------------------------------------------------------------------------------


def _register_step(project: Project, datasets: list[Dataset]) -> Step:
    step = Step("register", "Register data")
    step.place = Link("Datasets", reverse("metadata:project_datasets", args=[project.pk]))
    register = Link(
        "Register a dataset", reverse("metadata:dataset_register", args=[project.pk]), access.EDIT
    )
    if not datasets:
        step.blockers.append(
            Blocker("No dataset registered yet — register the folder of your images.", register)
        )
        step.action = register
        return step
    for dataset in datasets:
        url = dataset.get_absolute_url()
        if dataset.status == Dataset.Status.FAILED:
            step.blockers.append(
                Blocker(f"The scan of “{dataset}” failed.", Link("See why and scan again", url), hard=True)
            )
        elif dataset.status == Dataset.Status.SCANNING:
            step.blockers.append(Blocker(f"“{dataset}” is being scanned.", Link("Follow the scan", url)))
        elif dataset.status == Dataset.Status.REGISTERED:
            step.blockers.append(Blocker(f"“{dataset}” has not been scanned yet.", Link("Scan it", url)))
        if dataset.error_count:
            files = "unreadable file" + ("s" if dataset.error_count != 1 else "")
            step.blockers.append(
                Blocker(
                    f"Dataset “{dataset}” has {dataset.error_count} {files}.",
                    Link("See them", f"{url}?with_errors=on"),
                    hard=True,
                )
            )
    if step.blockers:
        step.state = _worst(step.blockers)
        first = step.blockers[0].link
        if first is not None:
            step.action = Link(first.label, first.url, access.EDIT)
    else:
        step.state = StepState.DONE
        file_total = sum(d.file_count for d in datasets)
        step.summary = (
            f"{len(datasets)} dataset{'s' if len(datasets) != 1 else ''}, {file_total} files, all read."
        )
    return step


def _worst(blockers: list[Blocker]) -> StepState:
    return StepState.BLOCKED if any(b.hard for b in blockers) else StepState.IN_PROGRESS


# Describe --------------------------------------------------------------------------------------


_LABELS = dict(REMBI_CLASS_CHOICES)


def _records_by_dataset(
    records: list[RembiRecord], links: list[tuple[int, int]]
) -> tuple[RembiRecord | None, dict[int, dict[str, RembiRecord]]]:
    """The project's Study and, per dataset, its first record of each module (by id), as
    metadata.rembi.record_for picks them."""
    by_pk = {record.pk: record for record in records}
    study = next((r for r in records if r.class_name == "Study"), None)
    used: dict[int, dict[str, RembiRecord]] = defaultdict(dict)
    for record_id, dataset_id in sorted(links):
        record = by_pk.get(record_id)
        if record is not None and record.class_name in CORE_CLASSES:
            used[dataset_id].setdefault(record.class_name, record)
    return study, used


def _describe_step(datasets: list[Dataset], records: list[RembiRecord], links: list[tuple[int, int]]) -> Step:
    step = Step("describe", "Describe")
    if not datasets:
        step.summary = "Register data first: each dataset is described with REMBI."
        return step
    study, used = _records_by_dataset(records, links)
    step.place = Link("Describe", reverse("metadata:dataset_describe", args=[datasets[0].pk]))
    problems: dict[int, list[str]] = {}  # record id → its errors, each record validated once
    started = study is not None or bool(used)
    for dataset in datasets:
        modules = {"Study": study, **used.get(dataset.pk, {})}
        for class_name in CORE_CLASSES:
            label = _LABELS[class_name]
            url = reverse("metadata:rembi_edit", args=[dataset.pk, class_name])
            record = modules.get(class_name)
            if record is None:
                if class_name == "Study" and dataset is not datasets[0]:
                    continue  # the Study is the project's: reported once
                step.blockers.append(
                    Blocker(f"REMBI: no {label} for “{dataset}” yet.", Link(f"Describe the {label}", url))
                )
                continue
            if record.pk not in problems:
                problems[record.pk] = [
                    p.message for p in validate_record(record.data, class_name) if p.level == Level.ERROR
                ]
                for message in problems[record.pk]:
                    step.blockers.append(
                        Blocker(
                            f"REMBI: {label} “{record.title}”: {message}",
                            Link(f"Correct the {label}", url),
                            hard=True,
                        )
                    )
    if step.blockers:
        step.state = _worst(step.blockers) if started else StepState.NOT_STARTED
        first = step.blockers[0].link
        if first is not None:
            step.action = Link(first.label, first.url, access.EDIT)
    else:
        step.state = StepState.DONE
        step.summary = "Every dataset has a complete and valid REMBI description."
    return step


# Validate, Package, Submit, Release ------------------------------------------------------------

# How far a submission has come: the number of submission steps it is past.
_STAGE = {
    State.DRAFT: 0,
    State.CHECKED: 1,
    State.PACKAGED: 2,
    State.SUBMITTED: 3,
    State.ACCESSIONED: 3,
    State.EMBARGOED: 3,
    State.PUBLIC: 4,
}


def _validate_blockers(submission: Submission) -> list[Blocker]:
    url = submission.get_absolute_url()
    report = PreflightReport.from_json(submission.preflight)
    if report is None:
        return [
            Blocker(
                f"Pre-flight not run for “{submission}”.", Link("Run the pre-flight check", url, access.EDIT)
            )
        ]
    errors = len(report.errors)
    if errors:
        first = report.errors[0]
        noun = "error" if errors == 1 else "errors"
        return [
            Blocker(
                f"Pre-flight of “{submission}”: {errors} {noun}, the first: {first.message}",
                Link("See the report", url),
                hard=True,
            )
        ]
    return [
        Blocker(
            f"“{submission}” changed since its pre-flight check passed; run it again.",
            Link("Run the pre-flight check", url, access.EDIT),
        )
    ]


def _package_blockers(submission: Submission) -> list[Blocker]:
    url = submission.get_absolute_url()
    if submission.is_building:
        return [Blocker(f"The package of “{submission}” is being built.", Link("Follow the build", url))]
    if submission.package_error:
        return [
            Blocker(
                f"The package build of “{submission}” failed: {submission.package_error}",
                Link("Build it again", url, access.EDIT),
                hard=True,
            )
        ]
    return [Blocker(f"Package not built for “{submission}”.", Link("Build the package", url, access.EDIT))]


def _submit_blockers(submission: Submission) -> list[Blocker]:
    return [
        Blocker(
            f"Submission “{submission}” not sent to the {submission.get_target_display()} yet.",
            Link("Send it", submission.get_absolute_url(), access.MANAGE),
        )
    ]


def _release_blockers(submission: Submission, now: datetime.datetime) -> list[Blocker]:
    url = submission.get_absolute_url()
    if not submission.accession:
        return [
            Blocker(
                f"No accession recorded for “{submission}” yet.",
                Link("Record the accession", url, access.MANAGE),
            )
        ]
    state = embargo.submission_state(submission, now=now)
    release = submission.release_date
    if state == embargo.EmbargoState.OVERDUE and release is not None:
        return [
            Blocker(
                f"Release date {release:%Y-%m-%d} has passed but “{submission}” is not public yet.",
                Link("Mark it public", url, access.MANAGE),
                hard=True,
            )
        ]
    if state == embargo.EmbargoState.UNDER_EMBARGO and release is not None:
        # A wait, not a task: the link shows the embargo and whoever may change it can.
        return [Blocker(f"Release date {release:%Y-%m-%d}, under embargo.", Link("See the embargo", url))]
    return [Blocker(f"“{submission}” has no release date.", Link("Set the release date", url, access.MANAGE))]


def _submission_step(
    key: str,
    title: str,
    threshold: int,
    project: Project,
    submissions: list[Submission],
    now: datetime.datetime,
) -> Step:
    step = Step(key, title)
    step.place = Link("Submissions", reverse("repositories:project_submissions", args=[project.pk]))
    if not submissions:
        if key == "validate":
            new = Link(
                "Create a submission", reverse("repositories:submission_new", args=[project.pk]), access.EDIT
            )
            step.blockers.append(Blocker("No submission yet — create one to run the pre-flight check.", new))
            step.action = new
        return step
    stages = [_STAGE[State(s.state)] for s in submissions]
    if all(stage >= threshold for stage in stages):
        step.state = StepState.DONE
        step.summary = _done_summary(key, submissions)
        return step
    waiting = [s for s, stage in zip(submissions, stages, strict=True) if stage == threshold - 1]
    for submission in waiting:
        match key:
            case "validate":
                step.blockers.extend(_validate_blockers(submission))
            case "package":
                step.blockers.extend(_package_blockers(submission))
            case "submit":
                step.blockers.extend(_submit_blockers(submission))
            case _:
                step.blockers.extend(_release_blockers(submission, now))
    if step.blockers:
        step.state = _worst(step.blockers)
        first = next(
            (b.link for b in step.blockers if b.link is not None and b.link.needs != access.VIEW), None
        )
        step.action = first
    elif any(stage >= threshold for stage in stages):
        step.state = StepState.IN_PROGRESS
    return step


def _done_summary(key: str, submissions: list[Submission]) -> str:
    if key == "release":
        accessions = ", ".join(s.accession for s in submissions if s.accession)
        return f"Public{': ' + accessions if accessions else ''}."
    return {
        "validate": "The pre-flight check passed.",
        "package": "The package is built.",
        "submit": "Sent to the archive.",
    }[key]


# The journey ------------------------------------------------------------------------------------


def _allowed(link: Link | None, role: Role) -> Link | None:
    return link if link is not None and access.role_at_least(role, link.needs) else None


def _for_role(step: Step, role: Role) -> Step:
    """Keep only the links the user's role can use; say who can act when the user cannot."""
    if step.action is not None and not access.role_at_least(role, step.action.needs):
        step.action_needs = str(Role(step.action.needs).label)
        step.action = None
    step.blockers = [Blocker(b.text, _allowed(b.link, role), b.hard) for b in step.blockers]
    if len(step.blockers) > MAX_BLOCKERS:
        step.more = len(step.blockers) - MAX_BLOCKERS
        step.blockers = step.blockers[:MAX_BLOCKERS]
    return step


def project_journey(
    project: Project, user: access.AnyUser, *, now: datetime.datetime | None = None
) -> Journey:
    """The seven steps of the project for this user (404/403 through projects.access)."""
    role = access.require_role(user, project, access.VIEW)
    now = now or timezone.now()
    datasets = list(
        Dataset.objects.filter(project=project)
        .only("pk", "title", "status", "error_count", "file_count", "project_id")
        .order_by("title", "pk")
    )
    records = list(
        RembiRecord.objects.filter(project=project, class_name__in=CORE_CLASSES)
        .only("pk", "class_name", "title", "data")
        .order_by("pk")
    )
    links = list(
        RembiRecord.datasets.through.objects.filter(rembirecord__project=project).values_list(
            "rembirecord_id", "dataset_id"
        )
    )
    submissions = list(
        Submission.objects.filter(project=project)
        .exclude(state=State.WITHDRAWN)
        .select_related("project")
        .order_by("created_at", "pk")
    )
    steps = [
        _plan_step(project, _plan_facts(project)),
        _register_step(project, datasets),
        _describe_step(datasets, records, links),
        _submission_step("validate", "Validate", 1, project, submissions, now),
        _submission_step("package", "Package", 2, project, submissions, now),
        _submission_step("submit", "Submit", 3, project, submissions, now),
        _submission_step("release", "Release", 4, project, submissions, now),
    ]
    return Journey(project=project, role=role, steps=[_for_role(step, role) for step in steps])
