"""What the plan wizard shows: one page per top-level section, one card per question (and per
planned dataset for repeatable sections), each rendered with a widget suited to its type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.safestring import SafeString

from dmp.answers import answers_of, is_visible
from dmp.models import Answer, FacilityGuidance, Plan
from dmp.template_files import iter_sections
from vocabularies.models import OntologyTerm
from vocabularies.widgets import TermAutocompleteWidget

REPOSITORIES = [
    "BioImage Archive",
    "Image Data Resource (IDR)",
    "Zenodo",
    "EMPIAR",
    "Institutional repository",
]
LICENCES = ["CC0-1.0", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "MIT", "Apache-2.0"]


def widget_for(question: dict[str, Any], terms: Mapping[str, OntologyTerm] | None = None) -> forms.Widget:
    kind = question["type"]
    choices = [(c["value"], c["label"]) for c in question.get("choices", [])]
    match kind:
        case "long_text":
            return forms.Textarea(attrs={"rows": 4})
        case "yes_no":
            return forms.RadioSelect(choices=[("yes", "Yes"), ("no", "No")])
        case "single_choice":
            return forms.Select(choices=[("", "—"), *choices])
        case "multiple_choice":
            return forms.CheckboxSelectMultiple(choices=choices)
        case "date":
            return forms.DateInput(attrs={"type": "date"})
        case "number":
            return forms.NumberInput(attrs={"step": "any"})
        case "ontology_term":
            return TermAutocompleteWidget(ontologies=[question["ontology"]], known=terms)
        case "licence":
            return forms.TextInput(attrs={"list": "licence-options"})
        case "repository":
            return forms.TextInput(attrs={"list": "repository-options"})
        case _:
            return forms.TextInput()


def _widget_value(question: dict[str, Any], value: Any) -> Any:
    if question["type"] == "yes_no" and isinstance(value, bool):
        return "yes" if value else "no"
    return value


def card_dom_id(question_key: str, block: dict[str, str] | None) -> str:
    """The id of a question's card on its wizard page, for links that land on it."""
    suffix = f"-{block['id']}" if block else ""
    return f"card-{question_key.replace('.', '-')}{suffix}"


@dataclass
class Card:
    question: dict[str, Any]
    block: dict[str, str] | None
    answer: Answer | None
    visible: bool
    facility_guidance: str = ""
    error: str = ""
    conflict_yours: Any = None
    saved: bool = False
    # Ontology terms of the page's answers, loaded once for all cards (None: look up per card).
    terms: Mapping[str, OntologyTerm] | None = None
    # The question's comments (a dmp.review.Thread), set by review.plan_review_context for the
    # plan page; None where a card is rendered alone (an autosave response).
    comment_thread: Any = None

    @property
    def dom_id(self) -> str:
        return card_dom_id(self.question["key"], self.block)

    @property
    def version(self) -> int:
        return self.answer.version if self.answer else 0

    @property
    def input_name(self) -> str:
        return "value"

    def field_html(self, value: Any = None) -> SafeString:
        shown = _widget_value(self.question, self.answer.value if self.answer and value is None else value)
        return widget_for(self.question, self.terms).render(
            self.input_name, shown, attrs={"id": f"{self.dom_id}-input"}
        )

    @property
    def media(self) -> forms.Media:
        return widget_for(self.question).media


@dataclass
class Page:
    section: dict[str, Any]
    parts: list[tuple[dict[str, Any], int, list[tuple[dict[str, str] | None, list[Card]]]]]


def top_sections(plan: Plan) -> list[dict[str, Any]]:
    return list(plan.template.content["sections"])


def _guidance(plan: Plan) -> dict[str, str]:
    if not plan.project.facility_id:
        return {}
    return dict(
        FacilityGuidance.objects.filter(
            facility=plan.project.facility_id, template_key=plan.template.key
        ).values_list("question_key", "text")
    )


class PlanState:
    """A plan's answers and facility guidance, loaded once to build any number of cards."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.answers = answers_of(plan)
        self.values = {key: answer.value for key, answer in self.answers.items()}
        self.guidance = _guidance(plan)
        iris = [
            value for value in self.values.values() if isinstance(value, str) and value.startswith("http")
        ]
        self.terms = {term.iri: term for term in OntologyTerm.objects.filter(iri__in=iris)} if iris else {}

    def card(self, question: dict[str, Any], block: dict[str, str] | None) -> Card:
        block_id = block["id"] if block else ""
        return Card(
            question=question,
            block=block,
            answer=self.answers.get((question["key"], block_id)),
            visible=is_visible(question, self.values, block_id),
            facility_guidance=self.guidance.get(question["key"], ""),
            terms=self.terms,
        )


def build_page(plan: Plan, section_key: str) -> Page | None:
    """The cards of one top-level section and its subsections, in order."""
    section = next((s for s in top_sections(plan) if s["key"] == section_key), None)
    if section is None:
        return None
    state = PlanState(plan)
    parts = []
    for part, block_kind in iter_sections([section]):
        depth = 0 if part is section else 1
        groups = [
            (block, [state.card(question, block) for question in part.get("questions", [])])
            for block in (plan.blocks if block_kind else [None])
        ]
        parts.append((part, depth, groups))
    return Page(section=section, parts=parts)


def dependents(state: PlanState, question_key: str, block: dict[str, str] | None) -> list[Card]:
    """Cards whose condition names this question: re-rendered after it is saved."""
    cards: list[Card] = []
    for part, block_kind in iter_sections(top_sections(state.plan)):
        for question in part.get("questions", []):
            condition = question.get("condition")
            if condition and condition["question"] == question_key:
                blocks = ([block] if block else state.plan.blocks) if block_kind else [None]
                cards.extend(state.card(question, b) for b in blocks)
    return cards


def section_of(plan: Plan, question_key: str) -> str:
    """The key of the top-level section (wizard page) that asks a question."""
    for section in top_sections(plan):
        for part, _ in iter_sections([section]):
            if any(question["key"] == question_key for question in part.get("questions", [])):
                return str(section["key"])
    return str(top_sections(plan)[0]["key"])
