"""Versions of a plan: named snapshots, the differences between any two states of a plan,
restoring a snapshot as a new version, the history of every saved answer, and moving a plan to
the newest version of its template.

Restores and upgrades write answers through ``answer_save`` like any editor, so versions rise,
revisions are recorded and a stale form open elsewhere gets a conflict instead of overwriting.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from audit.models import Action
from audit.services import record
from dmp.answers import AnswerConflict, answer_save, clean_value, new_block, questions_by_key
from dmp.models import Plan, PlanSnapshot, Template
from dmp.selectors import current_templates
from dmp.template_files import iter_sections
from projects import access

Question = dict[str, Any]
Block = dict[str, str]
AnswerKey = tuple[str, str]

REMOVED_QUESTION = "The question is not in this version of the template."


def _is_empty(value: Any) -> bool:
    return value in (None, "", [])


def display_value(question: Question | None, value: Any) -> str:
    """An answer as a person reads it: choice labels, Yes/No, numbers without a needless “.0”."""
    if _is_empty(value):
        return ""
    labels = {choice["value"]: choice["label"] for choice in (question or {}).get("choices", [])}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(labels.get(item, item)) for item in value)
    if isinstance(value, float):
        # Never scientific notation: a 97 kB dataset in GB reads 0.0000996, not 9.96e-05.
        number = str(int(value)) if value.is_integer() else format(Decimal(str(value)).normalize(), "f")
        unit = (question or {}).get("unit")
        return f"{number} {unit}" if unit else number
    return str(labels.get(value, value))


# ---------------------------------------------------------------------------------- snapshots


def _freeze(plan: Plan, name: str, user: User) -> PlanSnapshot:
    snapshot = PlanSnapshot(
        plan=plan,
        name=name.strip()[:200],
        template=plan.template,
        title=plan.title,
        blocks=[dict(block) for block in plan.blocks],
        answers=[
            {"question_key": answer.question_key, "block_id": answer.block_id, "value": answer.value}
            for answer in plan.answers.order_by("question_key", "block_id")
            if not _is_empty(answer.value)
        ],
        created_by=user,
    )
    snapshot.full_clean()
    snapshot.save()
    return snapshot


def snapshot_create(*, plan: Plan, name: str, user: User) -> PlanSnapshot:
    """Keep the plan's current answers and planned datasets under a name (editors and above)."""
    access.require_role(user, plan.project, access.EDIT)
    name = name.strip()
    if not name:
        raise ValidationError("Give the version a name, e.g. “Submitted to the funder”.")
    if len(name) > 200:
        raise ValidationError(f"The name is {len(name)} characters long; keep it to 200.")
    return _freeze(plan, name, user)


# --------------------------------------------------------------------------------------- diff


def version_lookup(plan: Plan, raw: str) -> Plan | PlanSnapshot | None:
    """“current” (the plan itself) or one of its snapshots by id; None if it has no such version."""
    if raw == "current":
        return plan
    if not raw.isdigit():
        return None
    return plan.snapshots.select_related("template").filter(pk=int(raw)).first()


@dataclass(frozen=True)
class PlanVersion:
    """What a plan held at one moment: its current state, or one of its snapshots."""

    label: str
    snapshot: PlanSnapshot | None
    template: Template
    title: str
    blocks: list[Block]
    values: dict[AnswerKey, Any]


def version_of(source: Plan | PlanSnapshot) -> PlanVersion:
    if isinstance(source, PlanSnapshot):
        return PlanVersion(
            label=f"“{source.name}” ({source.created_at:%Y-%m-%d %H:%M})",
            snapshot=source,
            template=source.template,
            title=source.title,
            blocks=list(source.blocks),
            values={(item["question_key"], item["block_id"]): item["value"] for item in source.answers},
        )
    return PlanVersion(
        label="the current plan",
        snapshot=None,
        template=source.template,
        title=source.title,
        blocks=list(source.blocks),
        values={(answer.question_key, answer.block_id): answer.value for answer in source.answers.all()},
    )


@dataclass(frozen=True)
class Change:
    question_key: str
    question_text: str
    block: Block | None
    old: str
    new: str


@dataclass(frozen=True)
class PlanDiff:
    old: PlanVersion
    new: PlanVersion
    title: tuple[str, str] | None
    blocks_added: list[Block]
    blocks_removed: list[Block]
    blocks_renamed: list[tuple[Block, Block]]
    changes: list[Change]

    @property
    def template_changed(self) -> bool:
        return self.old.template.pk != self.new.template.pk

    @property
    def is_empty(self) -> bool:
        return not (
            self.title
            or self.template_changed
            or self.blocks_added
            or self.blocks_removed
            or self.blocks_renamed
            or self.changes
        )


def snapshot_diff(*, old: Plan | PlanSnapshot, new: Plan | PlanSnapshot) -> PlanDiff:
    """Every changed answer from ``old`` to ``new``, in template order, planned datasets matched by id."""
    before, after = version_of(old), version_of(new)
    old_blocks = {block["id"]: block for block in before.blocks}
    new_blocks = {block["id"]: block for block in after.blocks}
    # Removed datasets follow the remaining ones so their cleared answers still show.
    blocks = [*after.blocks, *(block for block in before.blocks if block["id"] not in new_blocks)]
    old_questions = questions_by_key(before.template)
    new_questions = questions_by_key(after.template)
    changes: list[Change] = []
    compared: set[AnswerKey] = set()

    def compare(key: str, block: Block | None) -> None:
        answer_key = (key, block["id"] if block else "")
        compared.add(answer_key)
        old_value, new_value = before.values.get(answer_key), after.values.get(answer_key)
        if old_value == new_value or (_is_empty(old_value) and _is_empty(new_value)):
            return
        old_question = old_questions.get(key, (None, None))[0]
        new_question = new_questions.get(key, (None, None))[0]
        shown = new_question or old_question
        changes.append(
            Change(
                question_key=key,
                question_text=str(shown["text"]) if shown else key,
                block=block,
                old=display_value(old_question or new_question, old_value),
                new=display_value(new_question or old_question, new_value),
            )
        )

    templates = [after.template]
    if before.template.pk != after.template.pk:
        templates.append(before.template)
    asked: set[str] = set()
    for template in templates:
        for section, block_kind in iter_sections(template.sections):
            questions = [q for q in section.get("questions", []) if q["key"] not in asked]
            asked.update(question["key"] for question in questions)
            for block in blocks if block_kind else [None]:
                for question in questions:
                    compare(question["key"], block)
    # Answers whose question changed between plan level and planned datasets across templates.
    for key, block_id in sorted((before.values.keys() | after.values.keys()) - compared):
        compare(key, old_blocks.get(block_id) or new_blocks.get(block_id))
    return PlanDiff(
        old=before,
        new=after,
        title=(before.title, after.title) if before.title != after.title else None,
        blocks_added=[block for block in after.blocks if block["id"] not in old_blocks],
        blocks_removed=[block for block in before.blocks if block["id"] not in new_blocks],
        blocks_renamed=[
            (old_blocks[block["id"]], block)
            for block in after.blocks
            if block["id"] in old_blocks and old_blocks[block["id"]]["title"] != block["title"]
        ],
        changes=changes,
    )


# ----------------------------------------------------------------------- carrying answers over


@dataclass(frozen=True)
class Carried:
    question_key: str
    question_text: str
    block_title: str
    value: str


@dataclass(frozen=True)
class Leftover:
    """An answer that could not be written into the plan, and why; it stays in a snapshot."""

    question_key: str
    question_text: str
    block_title: str
    value: str
    reason: str


def _fit(
    items: list[dict[str, Any]],
    *,
    source: dict[str, tuple[Question, str | None]],
    target: dict[str, tuple[Question, str | None]],
    blocks: list[Block],
) -> tuple[dict[AnswerKey, Any], list[Carried], list[Leftover]]:
    """Which answers (from ``source``'s template) still fit ``target``'s, cleaned for it."""
    titles = {block["id"]: block["title"] for block in blocks}
    fitting: dict[AnswerKey, Any] = {}
    carried: list[Carried] = []
    left_out: list[Leftover] = []
    for item in items:
        key, block_id, value = item["question_key"], item["block_id"], item["value"]
        old_question = source.get(key, target.get(key, ({"text": key}, None)))[0]
        shown = {
            "question_key": key,
            "question_text": str(old_question["text"]),
            "block_title": titles.get(block_id, ""),
            "value": display_value(old_question, value),
        }
        if key not in target:
            left_out.append(Leftover(**shown, reason=REMOVED_QUESTION))
            continue
        question, block_kind = target[key]
        if bool(block_kind) != bool(block_id):
            where = "for each planned dataset" if block_kind else "once for the whole plan"
            left_out.append(Leftover(**shown, reason=f"This version asks the question {where}."))
            continue
        try:
            fitting[(key, block_id)] = clean_value(question, value)
        except ValidationError as exc:
            left_out.append(
                Leftover(**shown, reason=f"The value is no longer valid: {' '.join(exc.messages)}")
            )
            continue
        carried.append(Carried(**shown))
    return fitting, carried, left_out


def _clear(plan: Plan, user: User, keep: set[AnswerKey]) -> int:
    """Empty every answer not in ``keep``, through the versioned path so each gets a revision."""
    cleared = 0
    for answer in plan.answers.all():
        if (answer.question_key, answer.block_id) not in keep and not _is_empty(answer.value):
            answer_save(
                plan=plan,
                user=user,
                question_key=answer.question_key,
                block_id=answer.block_id,
                raw=None,
                version=answer.version,
            )
            cleared += 1
    return cleared


def _drop_unasked(plan: Plan) -> None:
    """Delete answers the plan's template and datasets no longer ask, as removing a dataset does."""
    questions = questions_by_key(plan.template)
    block_ids = {block["id"] for block in plan.blocks}

    def asked(key: str, block_id: str) -> bool:
        if key not in questions:
            return False
        return block_id in block_ids if questions[key][1] else block_id == ""

    answers = plan.answers.values_list("pk", "question_key", "block_id")
    plan.answers.filter(pk__in=[pk for pk, key, block_id in answers if not asked(key, block_id)]).delete()


def _fill(plan: Plan, user: User, wanted: dict[AnswerKey, Any]) -> int:
    """Save each wanted value that differs from the plan's; the number saved."""
    current = {(a.question_key, a.block_id): (a.version, a.value) for a in plan.answers.all()}
    saved = 0
    for (key, block_id), value in wanted.items():
        version, present = current.get((key, block_id), (0, None))
        if version and present == value:
            continue
        answer_save(plan=plan, user=user, question_key=key, block_id=block_id, raw=value, version=version)
        saved += 1
    return saved


@contextmanager
def _all_or_nothing(what: str) -> Iterator[None]:
    """Someone saving an answer in the middle of a restore or upgrade undoes all of it."""
    try:
        yield
    except AnswerConflict:
        raise ValidationError(
            f"Someone saved an answer during the {what}, so nothing was changed; try again."
        ) from None


def _has_blocks(questions: dict[str, tuple[Question, str | None]]) -> bool:
    return any(block for _, block in questions.values())


@dataclass(frozen=True)
class RestoreReport:
    backup: PlanSnapshot
    changed: int
    left_out: list[Leftover]


def snapshot_restore(*, snapshot: PlanSnapshot, user: User) -> RestoreReport:
    """Make a snapshot's answers, planned datasets and title the plan's newest version.

    The current state is kept first as an automatic snapshot. Answers the snapshot does not
    have are cleared. A snapshot of an older template version gives back what still fits the
    plan's template and lists the rest.
    """
    access.require_role(user, snapshot.plan.project, access.EDIT)
    with _all_or_nothing("restore"), transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("template", "project").get(pk=snapshot.plan_id)
        backup = _freeze(plan, f"Before restoring “{snapshot.name}”", user)
        target = questions_by_key(plan.template)
        blocks = [dict(block) for block in snapshot.blocks] if _has_blocks(target) else []
        if _has_blocks(target) and not blocks:
            blocks = list(plan.blocks)
        wanted, _, left_out = _fit(
            snapshot.answers, source=questions_by_key(snapshot.template), target=target, blocks=blocks
        )
        changed = _clear(plan, user, keep=set(wanted))
        plan.title, plan.blocks = snapshot.title, blocks
        plan.save(update_fields=["title", "blocks", "updated_at"])
        _drop_unasked(plan)
        changed += _fill(plan, user, wanted)
        record(
            action=Action.PLAN_RESTORED,
            project_id=plan.project_id,
            actor=user,
            object_type="plan",
            object_id=plan.pk,
            object_label=plan.title,
            new=snapshot.name,
            note=f"{changed} answers changed, {len(left_out)} left out; the plan as it was is "
            f"kept as the snapshot “{backup.name}”.",
        )
    return RestoreReport(backup=backup, changed=changed, left_out=left_out)


# ----------------------------------------------------------------------------------- history


@dataclass(frozen=True)
class HistoryEntry:
    """One saved answer: who, when, and the value before (None when it was never recorded)."""

    question_key: str
    question_text: str
    block_title: str
    old: str | None
    new: str
    version: int
    changed_by: User | None
    changed_at: datetime.datetime


def _known_questions(plan: Plan) -> dict[str, Question]:
    """Questions of the plan's template and of the older versions its snapshots were taken on."""
    known: dict[str, Question] = {}
    for template in [*Template.objects.filter(pk__in=plan.snapshots.values("template")), plan.template]:
        known.update({key: question for key, (question, _) in questions_by_key(template).items()})
    return known


def _known_blocks(plan: Plan) -> dict[str, str]:
    """Titles of planned datasets, including removed ones a snapshot still remembers."""
    titles: dict[str, str] = {}
    for blocks in [
        *plan.snapshots.order_by("created_at", "pk").values_list("blocks", flat=True),
        plan.blocks,
    ]:
        titles.update({block["id"]: block["title"] for block in blocks})
    return titles


def plan_history(plan: Plan, *, question_key: str = "") -> list[HistoryEntry]:
    """Every saved answer of the plan (of one question, if given), newest first."""
    revisions = plan.revisions.select_related("changed_by").order_by("pk")
    if question_key:
        revisions = revisions.filter(question_key=question_key)
    questions = _known_questions(plan)
    titles = _known_blocks(plan)
    previous: dict[AnswerKey, Any] = {}
    entries: list[HistoryEntry] = []
    for revision in revisions:
        answer_key = (revision.question_key, revision.block_id)
        question = questions.get(revision.question_key)
        if answer_key in previous:
            old: str | None = display_value(question, previous[answer_key])
        else:
            # Answers saved before history was kept start at a later version.
            old = "" if revision.version == 1 else None
        previous[answer_key] = revision.value
        entries.append(
            HistoryEntry(
                question_key=revision.question_key,
                question_text=str(question["text"]) if question else revision.question_key,
                block_title=titles.get(revision.block_id, "a removed planned dataset")
                if revision.block_id
                else "",
                old=old,
                new=display_value(question, revision.value),
                version=revision.version,
                changed_by=revision.changed_by,
                changed_at=revision.changed_at,
            )
        )
    entries.reverse()
    return entries


def history_questions(plan: Plan) -> list[tuple[str, str]]:
    """(key, text) of every question with a saved answer, in the order the plan asks them."""
    changed = set(plan.revisions.values_list("question_key", flat=True).distinct())
    questions = _known_questions(plan)
    order = {key: index for index, key in enumerate(questions_by_key(plan.template))}
    return [
        (key, str(questions[key]["text"]) if key in questions else key)
        for key in sorted(changed, key=lambda key: (order.get(key, len(order)), key))
    ]


# ----------------------------------------------------------------------------------- upgrade


def newest_template(template: Template) -> Template:
    """The newest loaded version of the template's key (the template itself if it is the newest)."""
    return next((t for t in current_templates() if t.key == template.key), template)


@dataclass(frozen=True)
class UpgradePreview:
    current: Template
    target: Template
    blocks: list[Block]
    answers: dict[AnswerKey, Any]
    carried: list[Carried]
    left_out: list[Leftover]


def upgrade_preview(plan: Plan) -> UpgradePreview:
    """What moving the plan to its template's newest version would carry over and what not."""
    target = newest_template(plan.template)
    if target.pk == plan.template_id:
        raise ValidationError(
            f"This plan already uses the newest version ({plan.template.version}) of its template."
        )
    target_questions = questions_by_key(target)
    blocks = list(plan.blocks) if _has_blocks(target_questions) else []
    if _has_blocks(target_questions) and not blocks:
        blocks = [new_block("Dataset 1")]
    items = [
        {"question_key": a.question_key, "block_id": a.block_id, "value": a.value}
        for a in plan.answers.order_by("question_key", "block_id")
        if not _is_empty(a.value)
    ]
    answers, carried, left_out = _fit(
        items, source=questions_by_key(plan.template), target=target_questions, blocks=list(plan.blocks)
    )
    order = {key: index for index, key in enumerate(target_questions)}
    carried.sort(key=lambda c: (order.get(c.question_key, len(order)), c.block_title))
    return UpgradePreview(
        current=plan.template,
        target=target,
        blocks=blocks,
        answers=answers,
        carried=carried,
        left_out=left_out,
    )


@dataclass(frozen=True)
class UpgradeReport:
    backup: PlanSnapshot
    old_version: str
    new_version: str
    carried: int
    left_out: list[Leftover]


def template_upgrade(*, plan: Plan, user: User) -> UpgradeReport:
    """Move the plan to the newest loaded version of its template, carrying answers by question key.

    The plan as it was is kept as an automatic snapshot first, so answers that cannot be carried
    (question removed, value no longer valid) are not lost; the report lists them.
    """
    access.require_role(user, plan.project, access.EDIT)
    with _all_or_nothing("upgrade"), transaction.atomic():
        plan = Plan.objects.select_for_update().select_related("template", "project").get(pk=plan.pk)
        preview = upgrade_preview(plan)
        old_version = plan.template.version
        backup = _freeze(plan, f"Before upgrading to version {preview.target.version}", user)
        # Cleared while the old template still asks them, so each gets a revision.
        _clear(plan, user, keep=set(preview.answers))
        plan.template, plan.blocks = preview.target, preview.blocks
        plan.save(update_fields=["template", "blocks", "updated_at"])
        _drop_unasked(plan)
        _fill(plan, user, preview.answers)
        record(
            action=Action.PLAN_UPGRADED,
            project_id=plan.project_id,
            actor=user,
            object_type="plan",
            object_id=plan.pk,
            object_label=plan.title,
            old=old_version,
            new=preview.target.version,
            note=f"{len(preview.carried)} answers carried, {len(preview.left_out)} left out; the plan as "
            f"it was is kept as the snapshot “{backup.name}”.",
        )
    return UpgradeReport(
        backup=backup,
        old_version=old_version,
        new_version=preview.target.version,
        carried=len(preview.carried),
        left_out=preview.left_out,
    )
