"""The storage and cost estimator of a plan: from an acquisition plan to volume per year, total
volume and what keeping it costs at the facility's price per TB-year.

Units are decimal (1 TB = 10¹² bytes), as facilities bill storage. Data is assumed to grow
evenly over the project, so the storage held during the project averages half the final
volume (total × years ÷ 2 TB-years); after the project the whole volume is kept for the
retention period. Every copy (backup, second site) is paid for.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import User
from dmp.answers import answer_save, answers_of, questions_by_key
from dmp.models import Answer, Plan
from dmp.template_files import iter_questions
from projects import access
from projects.models import Facility

TB = 10**12
BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": TB, "PB": 10**15}
BIT_DEPTHS = (8, 12, 16, 32)


@dataclass(frozen=True)
class AcquisitionPlan:
    sessions_per_year: int
    positions: int
    channels: int
    z_slices: int
    time_points: int
    width: int
    height: int
    bit_depth: int
    compression: float
    project_years: float
    retention_years: float
    copies: int
    price_per_tb_year: float
    currency: str


@dataclass(frozen=True)
class Estimate:
    bytes_per_plane: float
    planes_per_session: int
    bytes_per_session: float
    bytes_per_year: float
    bytes_total: float
    tb_years_project: float
    tb_years_retention: float
    cost_project: float
    cost_retention: float
    currency: str

    @property
    def cost_total(self) -> float:
        return self.cost_project + self.cost_retention

    @property
    def tb_years(self) -> float:
        return self.tb_years_project + self.tb_years_retention


def estimate(inputs: AcquisitionPlan) -> Estimate:
    if inputs.bit_depth not in BIT_DEPTHS:
        raise ValidationError(f"Bit depth must be one of {', '.join(map(str, BIT_DEPTHS))}.")
    if inputs.compression < 1:
        raise ValidationError("The compression ratio is raw size ÷ stored size, so at least 1.")
    # 12-bit cameras store each pixel in two bytes.
    bytes_per_pixel = math.ceil(inputs.bit_depth / 8) if inputs.bit_depth != 12 else 2
    per_plane = inputs.width * inputs.height * bytes_per_pixel / inputs.compression
    planes = inputs.positions * inputs.channels * inputs.z_slices * inputs.time_points
    per_session = per_plane * planes
    per_year = per_session * inputs.sessions_per_year
    total = per_year * inputs.project_years
    tb_years_project = total / TB * inputs.project_years / 2 * inputs.copies
    tb_years_retention = total / TB * inputs.retention_years * inputs.copies
    return Estimate(
        bytes_per_plane=per_plane,
        planes_per_session=planes,
        bytes_per_session=per_session,
        bytes_per_year=per_year,
        bytes_total=total,
        tb_years_project=tb_years_project,
        tb_years_retention=tb_years_retention,
        cost_project=tb_years_project * inputs.price_per_tb_year,
        cost_retention=tb_years_retention * inputs.price_per_tb_year,
        currency=inputs.currency,
    )


@dataclass(frozen=True)
class Tier:
    name: str
    price_per_tb_year: float
    currency: str


def facility_tiers(facility: Facility | None) -> list[Tier]:
    """The facility's storage tiers; Facility.clean() keeps the stored list well formed."""
    if facility is None:
        return []
    return [
        Tier(str(tier["name"]), float(tier["price_per_tb_year"]), str(tier["currency"]).upper())
        for tier in facility.storage_tiers
    ]


@dataclass(frozen=True)
class Target:
    """A question the estimate can answer, for one planned dataset if it is a block question."""

    question: dict[str, Any]
    block: dict[str, str] | None
    current: Any

    @property
    def ref(self) -> str:
        return f"{self.question['key']}@{self.block['id'] if self.block else ''}"

    @property
    def kind(self) -> str:
        return str(self.question["estimate"])


def targets(plan: Plan) -> list[Target]:
    values = {key: answer.value for key, answer in answers_of(plan).items()}
    found = []
    for question, _section, block in iter_questions(plan.template.content):
        if "estimate" not in question:
            continue
        for entry in plan.blocks if block else [None]:
            block_id = entry["id"] if entry else ""
            found.append(Target(question, entry, values.get((question["key"], block_id))))
    return found


def value_for(target: Target, result: Estimate) -> float:
    """The estimate in the question's unit; ValidationError if the units cannot be matched."""
    unit = str(target.question.get("unit", ""))
    if target.kind == "cost_total":
        if unit and unit.upper() != result.currency:
            raise ValidationError(
                f"“{target.question['text']}” asks for {unit}; the estimate is in {result.currency}."
            )
        return round(result.cost_total, 2)
    if unit.upper() not in BYTE_UNITS:
        raise ValidationError(f"“{target.question['text']}” has no unit of bytes ({unit or 'none'}).")
    volume = result.bytes_per_year if target.kind == "volume_per_year" else result.bytes_total
    return round(volume / BYTE_UNITS[unit.upper()], 3)


def estimate_remember(*, plan: Plan, user: User, inputs: AcquisitionPlan) -> None:
    """Keep the inputs with the plan so the estimator opens where its user left it."""
    access.require_role(user, plan.project, access.EDIT)
    plan.estimate = asdict(inputs)
    plan.save(update_fields=["estimate", "updated_at"])


def remembered(plan: Plan) -> Estimate | None:
    """The estimate from the inputs the plan keeps, if they still make an acquisition plan."""
    try:
        return estimate(AcquisitionPlan(**plan.estimate)) if plan.estimate else None
    except (TypeError, ValidationError):
        return None  # inputs kept by an older FAIRlight: the form starts afresh


def estimate_insert(*, plan: Plan, user: User, inputs: AcquisitionPlan, refs: list[str]) -> list[Answer]:
    """Write the estimate into the chosen answers, each through the versioned save.

    Every target is checked before the first write, so a unit mismatch changes nothing.
    """
    access.require_role(user, plan.project, access.EDIT)
    if not refs:
        raise ValidationError("Choose at least one answer to fill in.")
    by_ref = {target.ref: target for target in targets(plan)}
    unknown = [ref for ref in refs if ref not in by_ref]
    if unknown:
        raise ValidationError("That question or planned dataset no longer exists; reload the page.")
    result = estimate(inputs)
    values = {ref: value_for(by_ref[ref], result) for ref in refs}
    current = answers_of(plan)
    questions = questions_by_key(plan.template)
    saved = []
    for ref, value in values.items():
        key, _, block_id = ref.partition("@")
        existing = current.get((key, block_id))
        saved.append(
            answer_save(
                plan=plan,
                user=user,
                question_key=key,
                block_id=block_id if questions[key][1] else "",
                raw=value,
                version=existing.version if existing else 0,
            )
        )
    estimate_remember(plan=plan, user=user, inputs=inputs)
    return saved
