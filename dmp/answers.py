"""Plans and their answers: per-type validation, conditions, progress, and saves that never
silently overwrite someone else's answer."""

from __future__ import annotations

import datetime
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.identifiers import ORCID_IN_TEXT, orcid_check_digit
from accounts.models import User
from audit.models import Action
from audit.services import record
from dmp.models import Answer, AnswerRevision, Plan, Template
from dmp.template_files import iter_questions
from projects import access
from projects.models import Project

MAX_TEXT = 20_000


def questions_by_key(template: Template) -> dict[str, tuple[dict[str, Any], str | None]]:
    return {question["key"]: (question, block) for question, _, block in iter_questions(template.content)}


def _has_block(template: Template) -> bool:
    return any(block for _, _, block in iter_questions(template.content))


def new_block(title: str) -> dict[str, str]:
    return {"id": secrets.token_hex(4), "title": title}


def plan_create(*, project: Project, template: Template, title: str, user: User) -> Plan:
    access.require_role(user, project, access.EDIT)
    plan = Plan(project=project, template=template, title=title.strip() or template.title, created_by=user)
    if _has_block(template):
        plan.blocks = [new_block("Dataset 1")]
    plan.full_clean()
    plan.save()
    return plan


def answers_create(*, plan: Plan, user: User, values: dict[tuple[str, str], Any], source: str) -> None:
    """First answers of a new plan (demo, import) in bulk, each with its first history entry,
    and one audit event naming where they came from (``source``: "from the maDMP file x.json").

    Values must already be clean (``clean_value``); keys are (question key, block id).
    """
    with transaction.atomic():
        Answer.objects.bulk_create(
            Answer(plan=plan, question_key=key, block_id=block_id, value=value, updated_by=user)
            for (key, block_id), value in values.items()
        )
        AnswerRevision.objects.bulk_create(
            AnswerRevision(
                plan=plan, question_key=key, block_id=block_id, value=value, version=1, changed_by=user
            )
            for (key, block_id), value in values.items()
        )
        record(
            action=Action.ANSWERS_CREATED,
            project_id=plan.project_id,
            actor=user,
            object_type="plan",
            object_id=plan.pk,
            object_label=plan.title,
            new=len(values),
            note=f"{len(values)} answer{'s' if len(values) != 1 else ''} {source}",
        )


def clean_value(question: dict[str, Any], raw: Any) -> Any:
    """The stored form of an answer, or ValidationError in plain words; empty → None."""
    kind = question["type"]
    if raw in (None, "", []):
        return None
    if kind == "multiple_choice":
        values = raw if isinstance(raw, list) else [raw]
        allowed = {choice["value"] for choice in question["choices"]}
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise ValidationError(f"“{unknown[0]}” is not one of the choices.")
        return [choice["value"] for choice in question["choices"] if choice["value"] in values]
    text = str(raw).strip()
    if kind in ("text", "long_text", "repository"):
        if len(text) > MAX_TEXT:
            raise ValidationError(f"The answer is longer than {MAX_TEXT:,} characters.")
        return text
    if kind == "yes_no":
        if text.lower() in ("yes", "true", "1"):
            return True
        if text.lower() in ("no", "false", "0"):
            return False
        raise ValidationError("Answer yes or no.")
    if kind == "single_choice":
        if text not in {choice["value"] for choice in question["choices"]}:
            raise ValidationError(f"“{text}” is not one of the choices.")
        return text
    if kind == "date":
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(f"“{text}” is not a date; use the form 2027-06-30.") from None
    if kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValidationError(f"“{text}” is not a number.") from None
        if not math.isfinite(number):  # float() reads "nan" and "inf", which pass every bound
            raise ValidationError(f"“{text}” is not a number.")
        if "min" in question and number < question["min"]:
            raise ValidationError(f"The number must be at least {question['min']:g}.")
        if "max" in question and number > question["max"]:
            raise ValidationError(f"The number must be at most {question['max']:g}.")
        return number
    if kind == "person":
        for orcid in ORCID_IN_TEXT.findall(text):
            digits = orcid.replace("-", "")
            if orcid_check_digit(digits[:-1]) != digits[-1]:
                raise ValidationError(f"{orcid} is not a valid ORCID iD (wrong check digit).")
        return text
    # licence and ontology_term: the widgets send an identifier; the text stands as given.
    return text


def is_visible(question: dict[str, Any], answers: dict[tuple[str, str], Any], block_id: str) -> bool:
    condition = question.get("condition")
    if not condition:
        return True
    value = answers.get((condition["question"], block_id), answers.get((condition["question"], "")))
    if "equals" in condition:
        return bool(value == condition["equals"])
    if "in" in condition:
        return value in condition["in"] or (
            isinstance(value, list) and bool(set(value) & set(condition["in"]))
        )
    return value not in (None, "", [])


def answers_of(plan: Plan) -> dict[tuple[str, str], Answer]:
    # The wizard shows who saved each answer: fetch the users with the answers, not per card.
    return {
        (answer.question_key, answer.block_id): answer for answer in plan.answers.select_related("updated_by")
    }


class AnswerConflict(Exception):
    """Someone saved this answer since it was loaded; both values are kept for the person to merge."""

    def __init__(self, current: Answer, yours: Any) -> None:
        super().__init__("This answer was changed by someone else while you edited it.")
        self.current = current
        self.yours = yours


def _answer_label(plan: Plan, question: dict[str, Any], block_id: str) -> str:
    """The answer as the audit log names it: plan, question and planned dataset, if any."""
    dataset = next((block["title"] for block in plan.blocks if block_id and block["id"] == block_id), "")
    return f"{plan.title}: {question['text']}" + (f" ({dataset})" if dataset else "")


def answer_save(
    *, plan: Plan, user: User, question_key: str, block_id: str, raw: Any, version: int
) -> Answer:
    """Save one answer if ``version`` is the one the editor saw (0 for a new answer).

    Raises PermissionDenied (reviewers and viewers never write), ValidationError (the value does
    not suit the question) or AnswerConflict (someone else saved first; nothing is overwritten).
    """
    access.require_role(user, plan.project, access.EDIT)
    questions = questions_by_key(plan.template)
    if question_key not in questions:
        raise ValidationError(f"This plan has no question {question_key!r}.")
    question, block = questions[question_key]
    if block and block_id not in {b["id"] for b in plan.blocks}:
        raise ValidationError("That planned dataset no longer exists; reload the page.")
    block_id = block_id if block else ""
    value = clean_value(question, raw)
    try:
        with transaction.atomic():
            answer = (
                Answer.objects.select_for_update()
                .filter(plan=plan, question_key=question_key, block_id=block_id)
                .first()
            )
            current_version = answer.version if answer else 0
            previous = answer.value if answer else None
            if version != current_version:
                raise AnswerConflict(
                    answer or Answer(plan=plan, question_key=question_key, block_id=block_id), value
                )
            if answer is None:
                # An answer of a planned dataset brought back by a restore continues its history's
                # numbering, so a form loaded before the dataset was removed still counts as stale.
                last = AnswerRevision.objects.filter(
                    plan=plan, question_key=question_key, block_id=block_id
                ).aggregate(last=Max("version"))["last"]
                answer = Answer(
                    plan=plan,
                    question_key=question_key,
                    block_id=block_id,
                    value=value,
                    version=(last or 0) + 1,
                    updated_by=user,
                )
            else:
                answer.value = value
                answer.version += 1
                answer.updated_by = user
            answer.save()
            AnswerRevision.objects.create(
                plan=plan,
                question_key=question_key,
                block_id=block_id,
                value=value,
                version=answer.version,
                changed_by=user,
            )
            record(
                action=Action.ANSWER_CHANGED,
                project_id=plan.project_id,
                actor=user,
                object_type="answer",
                object_id=answer.pk,
                object_label=_answer_label(plan, question, block_id),
                old=previous,
                new=value,
            )
    except IntegrityError:
        # Two first saves raced: the other one won; report it like any other conflict.
        current = Answer.objects.get(plan=plan, question_key=question_key, block_id=block_id)
        raise AnswerConflict(current, value) from None
    Plan.objects.filter(pk=plan.pk).update(updated_at=answer.updated_at)
    return answer


@dataclass(frozen=True)
class Progress:
    answered: int
    required: int

    @property
    def percent(self) -> int:
        return 100 if not self.required else round(100 * self.answered / self.required)


def plan_progress(plan: Plan) -> Progress:
    """Answered required questions out of those currently asked (conditions and blocks counted)."""
    values = {key: answer.value for key, answer in answers_of(plan).items()}
    answered = required = 0
    for question, _, block in iter_questions(plan.template.content):
        if not question.get("required"):
            continue
        for block_id in [b["id"] for b in plan.blocks] if block else [""]:
            if is_visible(question, values, block_id):
                required += 1
                answered += values.get((question["key"], block_id)) not in (None, "", [])
    return Progress(answered, required)


def user_can_edit(user: User, plan: Plan) -> bool:
    try:
        access.require_role(user, plan.project, access.EDIT)
    except PermissionDenied:
        return False
    return True


def blocks_change(
    *, plan: Plan, action: str, block_id: str = "", title: str = "", user: User | None = None
) -> None:
    """Add, rename, move up or remove a planned dataset; removing it removes its answers (their
    history stays, so a restore brings them back). Each change but a move is audited."""
    blocks = list(plan.blocks)
    index = next((i for i, block in enumerate(blocks) if block["id"] == block_id), None)
    title = title.strip()[:200]
    with transaction.atomic():
        if action == "add":
            blocks.append(new_block(title or f"Dataset {len(blocks) + 1}"))
            _audit_block(plan, Action.PLANNED_DATASET_ADDED, user, None, blocks[-1]["title"])
        elif index is None:
            raise ValidationError("That planned dataset no longer exists; reload the page.")
        elif action == "rename":
            if not title:
                raise ValidationError("Give the planned dataset a name.")
            if title != blocks[index]["title"]:
                _audit_block(plan, Action.PLANNED_DATASET_RENAMED, user, blocks[index]["title"], title)
            blocks[index] = {**blocks[index], "title": title}
        elif action == "up" and index > 0:
            blocks[index - 1], blocks[index] = blocks[index], blocks[index - 1]
        elif action == "remove":
            if len(blocks) == 1:
                raise ValidationError("A plan keeps at least one planned dataset; rename this one instead.")
            removed = blocks.pop(index)
            count, _ = plan.answers.filter(block_id=removed["id"]).delete()
            note = f"{count} answer{'s' if count != 1 else ''} removed with it"
            _audit_block(plan, Action.PLANNED_DATASET_REMOVED, user, removed["title"], None, note)
        elif action != "up":
            raise ValidationError(f"Unknown action {action!r}.")
        plan.blocks = blocks
        plan.save(update_fields=["blocks", "updated_at"])


def _audit_block(
    plan: Plan, action: Action, user: User | None, old: str | None, new: str | None, note: str = ""
) -> None:
    record(
        action=action,
        project_id=plan.project_id,
        actor=user,
        object_type="plan",
        object_id=plan.pk,
        object_label=plan.title,
        old=old,
        new=new,
        note=note,
    )
