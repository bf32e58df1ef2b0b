"""Human-readable exports of a plan: a document model built once from the plan, rendered as a
standalone HTML page, as Markdown, and as an A4 PDF (WeasyPrint, from the same HTML with CSS
paged media: cover, table of contents, page numbers, footer).

User text is never trusted: the HTML template autoescapes it (so the PDF shows it literally), and
the Markdown renderer escapes whatever could change the document's structure.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from dmp.answers import answers_of, is_visible
from dmp.living import plan_actuals
from dmp.models import Plan
from dmp.template_files import iter_questions
from metadata.units import decimal_bytes
from projects.models import Role
from vocabularies.models import Ontology, OntologyTerm

KINDS = ("pdf", "html", "md")
CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
NOT_ANSWERED = "Not answered"
# Who wrote the plan: members who may edit it. Reviewers and viewers only read it.
AUTHOR_ROLES = (Role.OWNER, Role.MANAGER, Role.EDITOR)
# Columns of the planned-datasets table, found in any template by the maDMP field a question fills.
TABLE_COLUMNS = (
    ("Type", "dataset.type"),
    ("Size", "dataset.distribution.byte_size"),
    ("Access", "dataset.distribution.data_access"),
    ("Repository", "dataset.distribution.host.title"),
    ("Licence", "dataset.distribution.license.license_ref"),
    ("Open from", "dataset.distribution.license.start_date"),
)
DATASET_TITLE_FIELD = "dataset.title"


@dataclass(frozen=True)
class Shown:
    """An answer as people read it: paragraphs of text, or the labels of the choices made."""

    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()

    @property
    def one_line(self) -> str:
        return "; ".join(self.items) if self.items else " ".join(" ".join(self.paragraphs).split())


@dataclass(frozen=True)
class Item:
    question: str
    answer: Shown | None


@dataclass(frozen=True)
class DatasetPart:
    """A repeatable section's questions, answered for one planned dataset."""

    anchor: str
    title: str
    items: list[Item]


@dataclass(frozen=True)
class Section:
    anchor: str
    number: str
    title: str
    level: int
    items: list[Item]
    datasets: list[DatasetPart]

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title

    @property
    def heading_tag(self) -> int:
        """h2 for top-level sections (h1 is the plan's title), one deeper per level, at most h5."""
        return min(self.level + 1, 5)

    @property
    def dataset_tag(self) -> int:
        return self.heading_tag + 1


@dataclass(frozen=True)
class Author:
    name: str
    orcid: str
    role: str

    @property
    def orcid_url(self) -> str:
        return f"https://orcid.org/{self.orcid}" if self.orcid else ""


@dataclass(frozen=True)
class DatasetTable:
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class DepositedPart:
    """What the datasets linked to one planned dataset hold and where they went, in words."""

    anchor: str
    title: str
    facts: list[tuple[str, str]]


@dataclass(frozen=True)
class PlanDocument:
    title: str
    project: str
    funder: str
    grant: str
    facility: str
    template: str
    version: str
    date: str
    authors: list[Author]
    sections: list[Section]
    datasets: DatasetTable
    # "Data as deposited": only planned datasets with linked datasets (dmp/living.py).
    deposited: list[DepositedPart] = field(default_factory=list)

    @property
    def filename_stem(self) -> str:
        return slugify(self.title) or "plan"


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


def _long_date(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _number(value: float, unit: str) -> str:
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    return f"{text} {unit}".strip()


def _paragraphs(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip())


class _Terms:
    """Labels of the ontology terms and SPDX licences a plan's answers name, read in one query."""

    def __init__(self, values: list[str]) -> None:
        self.labels: dict[str, str] = {}
        if not values:
            return
        terms = OntologyTerm.objects.filter(Q(iri__in=values) | Q(ontology=Ontology.SPDX, curie__in=values))
        for term in terms.only("iri", "curie", "label", "ontology"):
            self.labels[term.iri] = f"{term.label} ({term.curie})"
            if term.ontology == Ontology.SPDX:
                self.labels[term.curie] = f"{term.label} ({term.curie})"

    def label(self, value: str) -> str:
        return self.labels.get(value, value)


def show_answer(question: dict[str, Any], value: Any, terms: _Terms) -> Shown | None:
    """The answer in words: Yes/No, choice labels rather than values, numbers with unit, dates."""
    if value in (None, "", []):
        return None
    kind = question["type"]
    labels = {choice["value"]: choice["label"] for choice in question.get("choices", [])}
    if kind == "multiple_choice":
        values = value if isinstance(value, list) else [value]
        return Shown(items=tuple(labels.get(v, str(v)) for v in values))
    if kind == "single_choice":
        return Shown(paragraphs=(labels.get(value, str(value)),))
    if kind == "yes_no" and isinstance(value, bool):
        return Shown(paragraphs=("Yes" if value else "No",))
    if kind == "number" and isinstance(value, int | float):
        return Shown(paragraphs=(_number(value, str(question.get("unit", ""))),))
    if kind == "date":
        try:
            return Shown(paragraphs=(_long_date(datetime.date.fromisoformat(str(value))),))
        except ValueError:
            return Shown(paragraphs=(str(value),))
    if kind in ("ontology_term", "licence"):
        return Shown(paragraphs=(terms.label(str(value)),))
    return Shown(paragraphs=_paragraphs(str(value)))


def _walk(
    sections: list[dict[str, Any]], level: int = 1, repeat: str | None = None
) -> Iterator[tuple[dict[str, Any], int, str | None]]:
    for section in sections:
        block = section.get("repeat") or repeat
        yield section, level, block
        yield from _walk(section.get("sections", []), level + 1, block)


def _authors(plan: Plan) -> list[Author]:
    rank = {role: index for index, role in enumerate(AUTHOR_ROLES)}
    memberships = plan.project.memberships.filter(role__in=AUTHOR_ROLES).select_related("user")
    ordered = sorted(memberships, key=lambda m: (rank[Role(m.role)], m.user.display_name().lower()))
    return [
        Author(name=m.user.display_name(), orcid=m.user.orcid, role=m.get_role_display()) for m in ordered
    ]


def _dataset_table(
    plan: Plan, fields: dict[str, dict[str, Any]], shown: dict[tuple[str, str], Shown | None]
) -> DatasetTable:
    """One row per planned dataset; columns are the maDMP fields this template asks about."""
    columns = [(header, fields[field]) for header, field in TABLE_COLUMNS if field in fields]
    title_question = fields.get(DATASET_TITLE_FIELD)
    rows = []
    for block in plan.blocks:
        title = shown.get((title_question["key"], block["id"])) if title_question else None
        row = [title.one_line if title else block["title"]]
        for _header, question in columns:
            key = (question["key"], block["id"])
            answer = shown.get(key)
            row.append(answer.one_line if answer else (NOT_ANSWERED if key in shown else "—"))
        rows.append(row)
    return DatasetTable(columns=["Dataset", *(header for header, _ in columns)], rows=rows)


def _deposited(plan: Plan) -> list[DepositedPart]:
    actuals = plan_actuals(plan)
    parts = []
    for block in plan.blocks:
        actual = actuals.get(block["id"])
        if actual is None:
            continue
        facts = [
            ("Datasets", "; ".join(f"{d.title} ({decimal_bytes(d.total_bytes)})" for d in actual.datasets)),
            ("Volume", decimal_bytes(actual.total_bytes)),
            (
                "Formats",
                ", ".join(f"{use.label} ({use.mime_type})" for use in actual.formats) or "None found",
            ),
        ]
        if actual.instruments:
            facts.append(("Instruments", "; ".join(actual.instruments)))
        for deposit in actual.deposits:
            ids = [f"accession {deposit.accession}"] if deposit.accession else []
            ids += [f"DOI {deposit.doi}"] if deposit.doi else []
            facts.append(("Repository", ", ".join([deposit.repository.name, *ids, deposit.status])))
        if not actual.deposits:
            facts.append(("Repository", "Not submitted yet"))
        if actual.deposits and actual.licence:
            facts.append(("Licence", actual.licence))
        if actual.release_date:
            facts.append(("Release date", _long_date(actual.release_date)))
        parts.append(DepositedPart(anchor=f"deposited-{block['id']}", title=block["title"], facts=facts))
    return parts


def plan_document(*, plan: Plan) -> PlanDocument:
    """Everything an export shows, in reading order, with every answer already in words."""
    template = plan.template
    answers = answers_of(plan)
    values = {key: answer.value for key, answer in answers.items()}
    named = {
        q["key"] for q, _, _ in iter_questions(template.content) if q["type"] in ("ontology_term", "licence")
    }
    terms = _Terms([str(value) for (key, _), value in values.items() if key in named and value])
    shown: dict[tuple[str, str], Shown | None] = {}
    fields: dict[str, dict[str, Any]] = {}

    def item(question: dict[str, Any], block_id: str) -> Item | None:
        if not is_visible(question, values, block_id):
            return None
        answer = show_answer(question, values.get((question["key"], block_id)), terms)
        shown[(question["key"], block_id)] = answer
        return Item(question=question["text"], answer=answer)

    sections = []
    for section, level, block_kind in _walk(template.sections):
        questions = section.get("questions", [])
        if block_kind:
            for question in questions:
                if "madmp" in question:
                    fields.setdefault(question["madmp"].replace("[]", ""), question)
        parts = [
            DatasetPart(
                anchor=f"sec-{section['key']}-{block['id']}",
                title=block["title"],
                items=[i for q in questions if (i := item(q, block["id"]))],
            )
            for block in (plan.blocks if block_kind and questions else [])
        ]
        sections.append(
            Section(
                anchor=f"sec-{section['key']}",
                number=str(section.get("number", "")),
                title=section["title"],
                level=level,
                items=[] if block_kind else [i for q in questions if (i := item(q, ""))],
                datasets=parts,
            )
        )
    project = plan.project
    changed = timezone.localtime(plan.updated_at, ZoneInfo(project.time_zone))
    return PlanDocument(
        title=plan.title,
        project=str(project),
        funder=project.funder or template.funder,
        grant=project.grant_id,
        facility=str(project.facility) if project.facility_id else "",
        template=f"{template.title}, version {template.version}",
        version=f"{plan.get_status_display()} of {_long_date(changed.date())}, {changed:%H:%M} "
        f"({project.time_zone}); template version {template.version}",
        date=_long_date(timezone.localdate(timezone=ZoneInfo(project.time_zone))),
        authors=_authors(plan),
        sections=sections,
        datasets=_dataset_table(plan, fields, shown),
        deposited=_deposited(plan),
    )


def render_html(document: PlanDocument) -> str:
    """A standalone page: its stylesheet is inlined, so the file works when opened offline."""
    return render_to_string("dmp/export/plan.html", {"doc": document})


# Characters that mark up text anywhere in a line, and line starts that open a block.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^([#>+=-])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")


def md_inline(text: str) -> str:
    """User text on one line (a heading, a table cell) that renders as the same text and cannot
    open a link, an HTML tag, emphasis, code or a table cell."""
    return _MD_ENTITY.sub(r"\\&", _MD_INLINE.sub(r"\\\1", " ".join(text.split())))


def md_escape(text: str) -> str:
    """User text as Markdown lines that cannot, in addition, open a heading, list, quote or
    code block at the start of a line."""
    lines = []
    for raw in text.splitlines():
        line = md_inline(raw)
        lines.append(_MD_ORDERED.sub(r"\1\\\2", _MD_LINE_START.sub(r"\\\1", line)))
    return "\n".join(lines)


def _md_answer(answer: Shown | None) -> list[str]:
    if answer is None:
        return [f"> *{NOT_ANSWERED}*"]
    if answer.items:
        return [f"> - {md_inline(item)}" for item in answer.items]
    quoted: list[str] = []
    for paragraph in answer.paragraphs:
        if quoted:
            quoted.append(">")
        # A backslash at the end of a line is a hard line break: the writer's line breaks stay.
        quoted.append(" \\\n".join(f"> {line}" for line in md_escape(paragraph).splitlines()))
    return quoted


def render_markdown(document: PlanDocument) -> str:
    out = [f"# {md_inline(document.title)}", ""]
    facts = [
        ("Project", document.project),
        ("Funder", document.funder),
        ("Grant", document.grant or "Not given"),
        ("Facility", document.facility),
        ("Template", document.template),
        ("Version", document.version),
        ("Date", document.date),
    ]
    out += [f"- **{label}:** {md_inline(value)}" for label, value in facts if value]
    if document.authors:
        names = [
            md_inline(a.name) + (f" (ORCID <{a.orcid_url}>)" if a.orcid else "") + f", {a.role.lower()}"
            for a in document.authors
        ]
        out.append("- **Authors:** " + "; ".join(names))
    for section in document.sections:
        hashes = "#" * min(section.level + 1, 6)
        out += ["", f"{hashes} {md_inline(section.heading)}"]
        groups = [(None, section.items)] + [(part.title, part.items) for part in section.datasets]
        for title, items in groups:
            if title is not None:
                out += ["", f"{'#' * min(section.level + 2, 6)} Planned dataset: {md_inline(title)}"]
            for entry in items:
                out += ["", f"**{md_inline(entry.question)}**", "", *_md_answer(entry.answer)]
    if document.datasets.rows:
        out += ["", "## Summary of planned datasets", ""]
        out.append("| " + " | ".join(document.datasets.columns) + " |")
        out.append("|" + "---|" * len(document.datasets.columns))
        out += [
            "| " + " | ".join(md_inline(cell) or " " for cell in row) + " |" for row in document.datasets.rows
        ]
    if document.deposited:
        out += ["", "## Data as deposited"]
        for part in document.deposited:
            out += ["", f"### Planned dataset: {md_inline(part.title)}", ""]
            out += [f"- **{label}:** {md_inline(value)}" for label, value in part.facts]
    return "\n".join(out) + "\n"


def _weasyprint() -> Any:
    # Imported on the first PDF, not when the URLs load: it takes a noticeable part of a second
    # and needs the system's Pango, which only PDF export uses.
    import weasyprint  # type: ignore[import-untyped]

    return weasyprint


def _refuse_fetching() -> Any:
    # Every style is inlined and fonts come from the system: a PDF export never reads a URL,
    # not even one a user typed as the address of an image.
    return _weasyprint().urls.URLFetcher(allowed_protocols=())


def render_pdf(document: PlanDocument) -> bytes:
    html = _weasyprint().HTML(string=render_html(document), base_url=None, url_fetcher=_refuse_fetching())
    pdf: bytes = html.write_pdf()
    return pdf


def plan_export(*, plan: Plan, kind: str) -> Export:
    """The plan as a PDF, HTML or Markdown file; ValidationError for any other kind."""
    if kind not in KINDS:
        raise ValidationError(f"Cannot export a plan as {kind!r}; choose one of {', '.join(KINDS)}.")
    document = plan_document(plan=plan)
    if kind == "pdf":
        content = render_pdf(document)
    elif kind == "html":
        content = render_html(document).encode()
    else:
        content = render_markdown(document).encode()
    return Export(
        content=content,
        content_type=CONTENT_TYPES[kind],
        filename=f"{document.filename_stem}.{kind}",
    )
