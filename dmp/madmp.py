"""Export of a plan as an RDA DMP Common Standard 1.2 maDMP (machine-actionable DMP).

Each template question names the maDMP field it fills (`madmp: dataset.distribution[].host.title`).
Answers of a planned-dataset block fill that dataset; plan-level answers that map to dataset
fields apply to every dataset. Fields the standard requires but no answer gives get values the
project knows (title, contact, funder) or "unknown", and the result is checked against the
official schema before anyone gets it.
"""

from __future__ import annotations

import datetime
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.conf import settings
from django.urls import reverse

from accounts.identifiers import ORCID_IN_TEXT
from dmp.answers import answers_of, is_visible
from dmp.models import Plan
from dmp.template_files import iter_questions

SCHEMA_FILE = Path(__file__).resolve().parent / "madmp" / "maDMP-schema-1.2.json"
# Where the repositories FAIRlight knows live; a host needs a URL in maDMP.
REPOSITORY_URLS = {
    "bioimage archive": "https://www.ebi.ac.uk/bioimage-archive/",
    "image data resource": "https://idr.openmicroscopy.org/",
    "idr": "https://idr.openmicroscopy.org/",
    "zenodo": "https://zenodo.org/",
    "empiar": "https://www.ebi.ac.uk/empiar/",
}
REMBI = {"identifier": "https://doi.org/10.1038/s41592-021-01166-8", "type": "url"}
_BOOLEANISH = {"personal_data", "sensitive_data", "ethical_issues_exist"}
_LISTS = {"format", "keyword", "data_quality_assurance"}
_UNIT_BYTES = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15}
_SEGMENT = re.compile(r"^([a-z_]+)(\[\])?$")


class MadmpInvalid(ValueError):
    """The export does not validate against the RDA schema (a FAIRlight bug, not the user's)."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def validate_madmp(document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in _validator().iter_errors(document)
    ]


def _convert(field: str, question: dict[str, Any], value: Any) -> Any:
    if field in _BOOLEANISH:
        return {True: "yes", False: "no"}.get(value, "unknown") if isinstance(value, bool) else str(value)
    if field == "is_reused":
        return bool(value)
    if field == "byte_size":
        return int(float(value) * _UNIT_BYTES.get(str(question.get("unit", "")).lower(), 1))
    if field == "license_ref":
        text = str(value)
        return text if text.startswith("http") else f"https://spdx.org/licenses/{text}"
    if field in _LISTS:
        return value if isinstance(value, list) else [str(value)]
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _set(target: dict[str, Any], segments: list[str], question: dict[str, Any], value: Any) -> None:
    """Set a value along a path such as ["distribution[]", "license[]", "license_ref"]."""
    node = target
    for segment in segments[:-1]:
        match = _SEGMENT.match(segment)
        if match is None:
            return
        name, is_list = match.groups()
        if is_list:
            items = node.setdefault(name, [{}])
            node = items[0]
        else:
            node = node.setdefault(name, {})
    match = _SEGMENT.match(segments[-1])
    if match is None:
        return
    name, is_list = match.groups()
    converted = _convert(name, question, value)
    if is_list:  # templates write list fields with or without "[]": both add to the list
        node.setdefault(name, []).extend(converted if isinstance(converted, list) else [converted])
    else:
        node[name] = converted


def _plan_url(plan: Plan) -> str:
    return settings.FAIRLIGHT_BASE_URL.rstrip("/") + reverse("dmp:plan_detail", args=[plan.pk])


def _contact(plan: Plan) -> dict[str, Any]:
    owner = plan.project.memberships.filter(role="owner").select_related("user").order_by("pk").first()
    user = owner.user if owner else plan.created_by
    name = (user.get_full_name() or user.username) if user else "Unknown"
    mbox = user.email if user and user.email else "unknown@example.org"
    contact_id = (
        {"identifier": f"https://orcid.org/{user.orcid}", "type": "orcid"}
        if user and user.orcid
        else {"identifier": mbox, "type": "other"}
    )
    return {"name": name, "mbox": mbox, "contact_id": contact_id}


def _project(plan: Plan) -> dict[str, Any]:
    project = plan.project
    entry: dict[str, Any] = {"title": project.title}
    if project.description:
        entry["description"] = project.description
    if project.start_date:
        entry["start"] = project.start_date.isoformat()
    if project.end_date:
        entry["end"] = project.end_date.isoformat()
    if project.funder:
        funding: dict[str, Any] = {
            "funder_id": {"identifier": project.funder, "type": "other"},
            "funding_status": "granted" if project.grant_id else "planned",
        }
        if project.grant_id:
            funding["grant_id"] = {"identifier": project.grant_id, "type": "other"}
        entry["funding"] = [funding]
    return entry


def _finish_dataset(dataset: dict[str, Any], plan: Plan) -> None:
    """Fill what the standard requires and no answer gave."""
    dataset.setdefault("personal_data", "unknown")
    dataset.setdefault("sensitive_data", "unknown")
    for distribution in dataset.get("distribution", []):
        distribution.setdefault("title", dataset["title"])
        distribution.setdefault("data_access", "open")
        for licence in distribution.get("license", []):
            # No embargo date answered: the licence applies from the plan's date.
            licence.setdefault("start_date", plan.created_at.date().isoformat())
            licence.setdefault("license_ref", "https://creativecommons.org/licenses/by/4.0/")
        host = distribution.get("host")
        if host is not None:
            url = next(
                (u for name, u in REPOSITORY_URLS.items() if name in str(host.get("title", "")).lower()), None
            )
            if url is None:
                distribution["description"] = f"Deposited in {host.get('title')}."
                del distribution["host"]
            else:
                host["url"] = url
    for item in dataset.get("metadata", []):
        item.setdefault("language", "eng")
        item.setdefault("metadata_standard_id", REMBI)
    for item in dataset.get("security_and_privacy", []):
        item.setdefault("title", "Security and privacy")
    for item in dataset.get("technical_resource", []):
        item.setdefault("name", "Technical resource")


def _finish_contributor(contributor: dict[str, Any]) -> None:
    name = str(contributor.get("name", "Unknown"))
    orcid = ORCID_IN_TEXT.search(name)
    contributor["name"] = name
    contributor.setdefault("role", ["contributor"])
    contributor.setdefault(
        "contributor_id",
        {"identifier": f"https://orcid.org/{orcid.group(1)}", "type": "orcid"}
        if orcid
        else {"identifier": name, "type": "other"},
    )


def plan_madmp(plan: Plan) -> dict[str, Any]:
    """The plan as a maDMP 1.2 document; raises MadmpInvalid if it would not validate."""
    answers = {key: answer.value for key, answer in answers_of(plan).items()}
    url = _plan_url(plan)
    datasets = {
        block["id"]: {
            "title": block["title"],
            "dataset_id": {"identifier": f"{url}#dataset-{block['id']}", "type": "url"},
        }
        for block in plan.blocks
    }
    dmp: dict[str, Any] = {
        "title": plan.title,
        "created": plan.created_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "modified": plan.updated_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "language": "eng",
        "dmp_id": {"identifier": url, "type": "url"},
        "contact": _contact(plan),
        "ethical_issues_exist": "unknown",
        "project": [_project(plan)],
    }
    plan_level_dataset_fields: list[tuple[list[str], dict[str, Any], Any]] = []
    for question, _section, block in iter_questions(plan.template.content):
        path = question.get("madmp")
        if not path:
            continue
        for block_id in list(datasets) if block else [""]:
            value = answers.get((question["key"], block_id))
            if value in (None, "", []) or not is_visible(question, answers, block_id):
                continue
            root, *segments = path.split(".")
            if root == "dmp":
                if segments[0] == "cost[]":
                    dmp.setdefault("cost", []).append(
                        {"title": question["text"][:200]}
                        | (
                            {"value": float(value)}
                            if segments[-1] == "value"
                            else {"description": str(value)}
                        )
                        | (
                            {"currency_code": question["unit"]}
                            if segments[-1] == "value" and question.get("unit")
                            else {}
                        )
                    )
                else:
                    _set(dmp, segments, question, value)
            elif block:
                _set(datasets[block_id], segments, question, value)
            else:
                plan_level_dataset_fields.append((segments, question, value))
    for dataset in datasets.values():
        for segments, question, value in plan_level_dataset_fields:
            _set(dataset, segments, question, value)
        _finish_dataset(dataset, plan)
    if not datasets:  # the standard requires at least one dataset
        datasets["plan"] = {
            "title": plan.title,
            "dataset_id": {"identifier": f"{url}#dataset", "type": "url"},
            "personal_data": "unknown",
            "sensitive_data": "unknown",
        }
    for contributor in dmp.get("contributor", []):
        _finish_contributor(contributor)
    dmp["dataset"] = list(datasets.values())
    document = {"dmp": dmp}
    problems = validate_madmp(document)
    if problems:
        raise MadmpInvalid("; ".join(problems[:5]))
    return document
