"""Import of an maDMP file (RDA DMP Common Standard 1.2) as a new project and plan.

The file is checked against the official schema before anything is written. Then, in one
transaction, a Project (the importing user as owner) and a Plan from a template are created:
one planned dataset per maDMP dataset, an answer for every question whose maDMP field the file
fills with a value that question takes, and the rest kept in ``plan.imported``.

An answer is only taken when exporting it gives back exactly the imported value (a licence URL
may come back as written for the same SPDX licence), so that import → export keeps every field
(see dmp/madmp.py for how the export overlays answers on what was kept).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from dmp.answers import answers_create, clean_value, is_visible, new_block, plan_create
from dmp.madmp import (
    BLOCK_TITLE_LENGTH,
    PLAN_TITLE_LENGTH,
    contributor_id,
    cost_entry,
    fit,
    madmp_value,
    project_fields,
    repository_url,
    same_licence,
    spdx_id,
    unit_bytes,
    validate_madmp,
)
from dmp.models import Plan, Template
from dmp.selectors import current_templates
from dmp.template_files import iter_questions
from projects.models import Facility
from projects.services import project_create
from vocabularies.selectors import term_by_iri

MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TEMPLATE = "horizon-europe"
MAX_PROBLEMS = 20
_JSON_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}

AnswerKey = tuple[str, str]


def check_size(size: int) -> None:
    """Refuse a file larger than an maDMP needs to be, before anyone reads it."""
    if size > MAX_BYTES:
        raise ValidationError(
            f"The file is {filesizeformat(size)}; an maDMP file may be at most {filesizeformat(MAX_BYTES)}."
        )


def madmp_read(data: bytes) -> dict[str, Any]:
    """The maDMP document in a file; ValidationError says in plain words what is wrong with it."""
    check_size(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"The file is not UTF-8 text (byte {exc.start + 1} is not), so it is not an maDMP JSON file."
        ) from None
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_short_int
        )
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise ValidationError("The file is not an maDMP: its JSON is nested too deeply to read.") from None
    except ValueError as exc:  # from the parse_* functions below
        raise ValidationError(f"The file is not an maDMP: {exc}") from None
    return madmp_check(document)


def _refuse_constant(name: str) -> float:
    # Python reads NaN and Infinity, which JSON does not have and no database stores as JSON.
    raise ValueError(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large.")
    return value


def _short_int(text: str) -> int:
    # Byte sizes and costs take 20 digits at most; thousands of digits only cost time to convert.
    if len(text.lstrip("-")) > 100:
        raise ValueError(f"a number of {len(text)} digits is longer than any maDMP value.")
    return int(text)


def madmp_check(document: Any) -> dict[str, Any]:
    """The document if it is a valid maDMP 1.2; else ValidationError naming each problem's JSON path."""
    if not isinstance(document, dict):
        kind = _JSON_KINDS.get(type(document), "null")
        raise ValidationError(f"An maDMP file holds one JSON object with a “dmp” key; this one holds {kind}.")
    if "dmp" not in document:
        raise ValidationError(
            "The JSON object has no “dmp” key, so it is not an maDMP (RDA DMP Common Standard) file."
        )
    problems = validate_madmp(document)
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise ValidationError(
            problems[:MAX_PROBLEMS] + ([f"… and {more} more problems."] if more > 0 else [])
        )
    return document


@transaction.atomic
def plan_import_madmp(
    *,
    document: Any,
    user: User,
    template_key: str = DEFAULT_TEMPLATE,
    facility: Facility | None = None,
) -> Plan:
    """Create a project owned by ``user`` and a plan holding the maDMP; nothing is created on error."""
    document = madmp_check(document)
    template = _template(template_key)
    dmp = document["dmp"]
    fields = project_fields(dmp)
    _check_required_content(dmp, fields)
    project = project_create(creator=user, facility=facility, **fields)
    plan = plan_create(
        project=project, template=template, title=fit(dmp["title"], PLAN_TITLE_LENGTH), user=user
    )
    kept = copy.deepcopy(document)
    del kept["dmp"]["modified"]  # an export says when the plan last changed
    kept_datasets = _blocks_for(kept["dmp"].pop("dataset"))
    plan.blocks = [block for block, _ in kept_datasets]
    answers = _take_answers(
        template, kept["dmp"], [(block["id"], dataset) for block, dataset in kept_datasets]
    )
    plan.imported = {
        "document": kept,
        "datasets": {block["id"]: dataset for block, dataset in kept_datasets},
    }
    plan.full_clean()
    plan.save(update_fields=["blocks", "imported", "updated_at"])
    answers_create(plan=plan, user=user, values=answers, source="imported from an maDMP document")
    return plan


def _template(key: str) -> Template:
    templates = {template.key: template for template in current_templates()}
    template = templates.get(key)
    if template is None:
        known = ", ".join(sorted(templates)) or "none is loaded (run manage.py load_templates)"
        raise ValidationError(f"There is no DMP template “{key}”; the templates are: {known}.")
    if not any(block for _, _, block in iter_questions(template.content)):
        raise ValidationError(
            f"{template} has no planned datasets to hold the maDMP's datasets; choose another template."
        )
    return template


def _check_required_content(dmp: dict[str, Any], fields: dict[str, Any]) -> None:
    if not fit(dmp["title"], PLAN_TITLE_LENGTH):
        raise ValidationError("dmp/title: the DMP's title is empty; FAIRlight names the plan after it.")
    if not fields["title"]:
        raise ValidationError("dmp/project/0/title: the project's title is empty.")
    if not dmp["dataset"]:
        raise ValidationError(
            "dmp/dataset: the DMP lists no dataset; the RDA standard asks for at least one."
        )
    start, end = fields["start_date"], fields["end_date"]
    if start and end and end < start:
        raise ValidationError(f"dmp/project/0/end: the project ends ({end}) before it starts ({start}).")


def _blocks_for(datasets: list[dict[str, Any]]) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """One planned dataset (block) per maDMP dataset, with the dataset's fields still to place."""
    pairs: list[tuple[dict[str, str], dict[str, Any]]] = []
    for number, dataset in enumerate(datasets, start=1):
        block = new_block(fit(dataset.get("title"), BLOCK_TITLE_LENGTH) or f"Dataset {number}")
        while any(other["id"] == block["id"] for other, _ in pairs):
            block = new_block(block["title"])
        pairs.append((block, dataset))
    return pairs


@dataclass
class _Take:
    """A value the file gives a question, and how to remove it from what is kept."""

    value: Any
    spot: tuple[int, str]  # the field it comes from, so that no two questions take the same one
    remove: Callable[[], None]


def _popper(node: dict[str, Any], *fields: str) -> Callable[[], None]:
    def remove() -> None:
        for field in fields:
            node.pop(field, None)

    return remove


def _leave() -> None:
    """Nothing to remove: the imported spelling of the value stays where it is."""


def _take_answers(
    template: Template, kept_dmp: dict[str, Any], datasets: list[tuple[str, dict[str, Any]]]
) -> dict[AnswerKey, Any]:
    """The answers the document gives, removed from what is kept (except a licence's spelling).

    Questions are taken in template order, so the conditions (which name earlier questions) see
    the answers they depend on. Where several questions fill the same field, the export writes
    the last one answered, so the value is offered to the last of them first. A plan-level
    question that fills a dataset field takes it only when every dataset has the same value
    there, as the export writes it into each of them.
    """
    questions = [(q, block) for q, _, block in iter_questions(template.content) if q.get("madmp")]
    block_paths = {_bare(q["madmp"]) for q, block in questions if block}
    same_field: dict[tuple[bool, str], list[dict[str, Any]]] = {}
    for question, block in questions:
        if ".cost[]." not in question["madmp"]:  # each answer is a cost item of its own
            same_field.setdefault((bool(block), _bare(question["madmp"])), []).append(question)
    answers: dict[AnswerKey, Any] = {}
    taken: set[tuple[int, str]] = set()

    def fresh(take: _Take | None) -> _Take | None:
        return take if take is not None and take.spot not in taken else None

    def accept(key: AnswerKey, takes: list[_Take]) -> None:
        answers[key] = takes[0].value
        for take in takes:
            take.remove()
            taken.add(take.spot)

    def offer(question: dict[str, Any], block: str | None) -> None:
        root, *segments = question["madmp"].split(".")
        if root == "dmp":
            # A block question with a DMP-level field is written once per dataset: nothing to take.
            if not block and is_visible(question, answers, ""):
                take = fresh(_take(kept_dmp, segments, question))
                if take is not None:
                    accept((question["key"], ""), [take])
        elif block:
            for block_id, dataset in datasets:
                if is_visible(question, answers, block_id):
                    take = fresh(_take(dataset, segments, question))
                    if take is not None:
                        accept((question["key"], block_id), [take])
        elif _bare(question["madmp"]) not in block_paths and is_visible(question, answers, ""):
            found = [take for _, dataset in datasets if (take := fresh(_take(dataset, segments, question)))]
            if len(found) == len(datasets) and all(_same(t.value, found[0].value) for t in found):
                accept((question["key"], ""), found)

    for question, block in questions:
        group = same_field.get((bool(block), _bare(question["madmp"])), [question])
        if question is group[-1]:
            for member in reversed(group):
                offer(member, block)
    return answers


def _bare(path: str) -> str:
    return path.replace("[]", "")


def _same(first: Any, second: Any) -> bool:
    """Equal as JSON: 1 and 1.0, or 1 and true, are written differently and so differ."""
    return json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def _holder(node: dict[str, Any], segments: list[str]) -> dict[str, Any] | None:
    """The object holding the path's last field; a list step goes into the list's first item."""
    for segment in segments[:-1]:
        child = node.get(segment.removesuffix("[]"))
        if segment.endswith("[]"):
            child = child[0] if isinstance(child, list) and child else None
        if not isinstance(child, dict):
            return None
        node = child
    return node


def _take(node: dict[str, Any], segments: list[str], question: dict[str, Any]) -> _Take | None:
    if segments[0] == "cost[]":
        return _take_cost(node, question, segments[-1])
    holder = _holder(node, segments)
    field = segments[-1].removesuffix("[]")
    if holder is None or field not in holder:
        return None
    original = holder[field]
    value = _cleaned(question, _raw_answer(question, field, original))
    if value is None:
        return None
    exported = madmp_value(field, question, value)
    parent = segments[-2].removesuffix("[]") if len(segments) > 1 else ""
    spot = (id(holder), field)
    if field == "license_ref":
        return _Take(value, spot, _leave) if same_licence(original, exported) else None
    if not _same(exported, original):
        return None
    if parent == "host" and field == "title":
        # The export gives a host the URL of the repository its title names: take both or neither.
        url = repository_url(exported)
        return _Take(value, spot, _popper(holder, field, "url")) if url and holder.get("url") == url else None
    if parent == "contributor" and field == "name":
        # An identifier and role the export would derive from the name go with it.
        derived = [
            name
            for name, default in (
                ("contributor_id", contributor_id(str(exported))),
                ("role", ["contributor"]),
            )
            if _same(holder.get(name), default)
        ]
        return _Take(value, spot, _popper(holder, field, *derived))
    if (
        question["type"] == "ontology_term"
        and term_by_iri(str(value), ontologies=[question["ontology"]]) is None
    ):
        return None  # a keyword that is not a term of the question's ontology stays a keyword
    return _Take(value, spot, _popper(holder, field))


def _take_cost(dmp: dict[str, Any], question: dict[str, Any], field: str) -> _Take | None:
    """A cost item exactly as the export writes this question's answer (titled with its text)."""
    costs = dmp.get("cost")
    if not isinstance(costs, list):
        return None
    for item in costs:
        if not isinstance(item, dict) or item.get("title") != question["text"][:200] or field not in item:
            continue
        value = _cleaned(question, item[field])
        if value is not None and _same(cost_entry(question, field, value), item):

            def remove(item: dict[str, Any] = item) -> None:
                costs[:] = [other for other in costs if other is not item]

            return _Take(value, (id(item), field), remove)
    return None


def _raw_answer(question: dict[str, Any], field: str, value: Any) -> Any:
    """What a person would have typed for this value, or None when the question cannot take it."""
    kind = question["type"]
    if isinstance(value, list):
        if not value or not all(isinstance(item, str) for item in value):
            return None
        if kind == "multiple_choice":
            return value
        return value[0] if len(value) == 1 else None
    if isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field == "byte_size" and kind == "number" and isinstance(value, int):
        return value / unit_bytes(question)
    if field == "license_ref" and kind == "licence":
        return spdx_id(str(value))
    if kind == "multiple_choice":
        return [part.strip() for part in str(value).split(",")]
    if kind == "yes_no" and value not in ("yes", "no"):
        return None  # "unknown" answers nothing
    return value


def _cleaned(question: dict[str, Any], raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return clean_value(question, raw)
    except ValidationError:
        return None
