"""Zenodo record metadata as plain dataclasses, their rules, and the InvenioRDM JSON they become.

Zenodo runs on InvenioRDM: a record is ``{"metadata": ..., "access": ..., "files": ...}`` as
described by the record JSON Schema (record-v6.0.0). The ``*_problems`` functions list, in plain
words and by field, everything Zenodo would refuse, so pre-flight can show all of it at once and
the client can refuse before sending a byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from accounts.identifiers import (
    ORCID_PATTERN,
    ROR_PATTERN,
    bare_doi,
    normalize_orcid,
    normalize_ror,
    orcid_checksum_ok,
)
from repositories.zenodo.errors import Problem, ZenodoInvalid

# Zenodo's published limits per record (RDM_RECORDS_MAX_FILES_COUNT and the default quota).
MAX_FILES = 100
MAX_RECORD_BYTES = 50 * 10**9

Visibility = Literal["public", "restricted"]
NameType = Literal["personal", "organizational"]

VISIBILITIES = ("public", "restricted")

# DataCite relation types, spelt as InvenioRDM's relation-type vocabulary ids.
RELATION_TYPES = frozenset(
    {
        "iscitedby", "cites", "issupplementto", "issupplementedby", "iscontinuedby", "continues",
        "isdescribedby", "describes", "hasmetadata", "ismetadatafor", "hasversion", "isversionof",
        "isnewversionof", "ispreviousversionof", "ispartof", "haspart", "isreferencedby", "references",
        "isdocumentedby", "documents", "iscompiledby", "compiles", "isvariantformof",
        "isoriginalformof", "isidenticalto", "isreviewedby", "reviews", "isderivedfrom", "issourceof",
        "isrequiredby", "requires", "isobsoletedby", "obsoletes",
    }
)  # fmt: skip
# The identifier schemes FAIRlight writes for related works (papers, protocols, other archives).
RELATED_SCHEMES = frozenset({"doi", "url", "handle", "ark", "arxiv", "pmid", "isbn", "urn"})

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_VOCABULARY_ID = re.compile(r"^[a-z0-9]+(?:[-.+][a-z0-9]+)*$")
_EDTF_DAY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Affiliation:
    """An institution; ``ror`` is the ROR id (bare or as an https://ror.org/ address)."""

    name: str = ""
    ror: str = ""


@dataclass(frozen=True)
class Creator:
    """A person (family name required) or an organisation (``kind="organizational"``, name required)."""

    family_name: str = ""
    given_name: str = ""
    name: str = ""
    kind: NameType = "personal"
    orcid: str = ""
    affiliations: tuple[Affiliation, ...] = ()


@dataclass(frozen=True)
class RelatedIdentifier:
    """Another work this record relates to, by default the paper that describes the data."""

    identifier: str
    relation: str = "isdescribedby"
    scheme: str = "doi"
    resource_type: str = ""


@dataclass(frozen=True)
class Funding:
    """A funder (by ROR id or name) and optionally the award (by Zenodo's award id, or number and title)."""

    funder_ror: str = ""
    funder_name: str = ""
    award_id: str = ""
    award_number: str = ""
    award_title: str = ""


@dataclass(frozen=True)
class Embargo:
    """Files (or the whole record) stay restricted until this date, then become public."""

    until: date
    reason: str = ""


@dataclass(frozen=True)
class Access:
    record: Visibility = "public"
    files: Visibility = "public"
    embargo: Embargo | None = None


@dataclass(frozen=True)
class RecordMetadata:
    """The descriptive part of a Zenodo record.

    ``resource_type`` is a Zenodo resource-type id ("dataset", "image", "image-figure", …),
    ``publication_date`` a date or an EDTF level-0 string ("2025", "2025-03", "2024/2025"),
    ``licence`` a licence id of Zenodo's vocabulary (lower-case SPDX: "cc-by-4.0").
    """

    resource_type: str
    title: str
    creators: tuple[Creator, ...]
    publication_date: date | str
    description: str = ""
    licence: str = ""
    keywords: tuple[str, ...] = ()
    related_identifiers: tuple[RelatedIdentifier, ...] = ()
    funding: tuple[Funding, ...] = ()
    publisher: str = "Zenodo"
    version: str = ""


@dataclass(frozen=True)
class FileToUpload:
    """A file on disk with the size and checksum the scan recorded (MD5, SHA-256 or both).

    ``key`` is the file's name in the record; it defaults to the file's own name.
    """

    path: Path
    size: int
    md5: str = ""
    sha256: str = ""
    key: str = ""

    @property
    def name(self) -> str:
        return self.key or self.path.name


def utc_today() -> date:
    # Zenodo compares embargo dates with the current UTC time.
    return datetime.now(UTC).date()


# --- identifiers -------------------------------------------------------------------------------


def edtf_level0_ok(value: str) -> bool:
    """A date ("2025", "2025-03", "2025-03-14") or an interval of two such dates, in order."""
    parts = value.split("/")
    if len(parts) > 2:
        return False
    bounds: list[tuple[int, int, int]] = []
    for part in parts:
        bound = _edtf_bounds(part)
        if bound is None:
            return False
        bounds.append(bound)
    return bounds == sorted(bounds)


def _edtf_bounds(value: str) -> tuple[int, int, int] | None:
    match = _EDTF_DAY.match(value)
    if match is None:
        return None
    year, month, day = (int(group) if group else None for group in match.groups())
    if year is None:
        return None
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return None
    return (year, month or 0, day or 0)


# --- rules ---------------------------------------------------------------------------------------


def metadata_problems(metadata: RecordMetadata) -> list[Problem]:
    problems: list[Problem] = []
    if not _VOCABULARY_ID.match(metadata.resource_type.strip()):
        problems.append(
            Problem(
                "metadata.resource_type",
                "A resource type is required, as a Zenodo resource-type id such as “dataset” or “image”.",
            )
        )
    if not metadata.title.strip():
        problems.append(Problem("metadata.title", "A title is required."))
    if not metadata.creators:
        problems.append(Problem("metadata.creators", "At least one creator is required."))
    for index, creator in enumerate(metadata.creators):
        problems.extend(_creator_problems(index, creator))
    problems.extend(_publication_date_problems(metadata.publication_date))
    if metadata.licence and not _VOCABULARY_ID.match(metadata.licence.strip().lower()):
        problems.append(
            Problem("metadata.rights", f"“{metadata.licence}” is not a licence id such as “cc-by-4.0”.")
        )
    for index, keyword in enumerate(metadata.keywords):
        if not keyword.strip():
            problems.append(Problem(f"metadata.subjects.{index}", "Keywords cannot be blank."))
    for index, related in enumerate(metadata.related_identifiers):
        problems.extend(_related_problems(index, related))
    for index, funding in enumerate(metadata.funding):
        problems.extend(_funding_problems(index, funding))
    return problems


def _creator_problems(index: int, creator: Creator) -> list[Problem]:
    where = f"metadata.creators.{index}"
    label = f"Creator {index + 1}"
    problems: list[Problem] = []
    if creator.kind == "personal":
        if not creator.family_name.strip():
            problems.append(Problem(f"{where}.person_or_org.family_name", f"{label} needs a family name."))
    elif creator.kind == "organizational":
        if not creator.name.strip():
            problems.append(
                Problem(f"{where}.person_or_org.name", f"{label} (an organisation) needs a name.")
            )
        if creator.orcid:
            problems.append(
                Problem(
                    f"{where}.person_or_org.identifiers",
                    f"{label} is an organisation; ORCID iDs are for people.",
                )
            )
    else:
        problems.append(
            Problem(f"{where}.person_or_org.type", f"{label} must be “personal” or “organizational”.")
        )
    if creator.orcid:
        orcid = normalize_orcid(creator.orcid)
        if not ORCID_PATTERN.match(orcid):
            problems.append(
                Problem(
                    f"{where}.person_or_org.identifiers",
                    f"{label}: “{creator.orcid}” is not an ORCID iD (0000-0000-0000-0000).",
                )
            )
        elif not orcid_checksum_ok(orcid):
            problems.append(
                Problem(
                    f"{where}.person_or_org.identifiers",
                    f"{label}: ORCID iD {orcid} has a wrong check digit; it was probably mistyped.",
                )
            )
    for position, affiliation in enumerate(creator.affiliations):
        field = f"{where}.affiliations.{position}"
        if not affiliation.name.strip() and not affiliation.ror.strip():
            problems.append(Problem(field, f"{label}: an affiliation needs a name or a ROR id."))
        elif affiliation.ror and not ROR_PATTERN.match(normalize_ror(affiliation.ror)):
            problems.append(
                Problem(field, f"{label}: “{affiliation.ror}” is not a ROR id such as 01ggx4157.")
            )
    return problems


def _publication_date_problems(value: date | str) -> list[Problem]:
    if isinstance(value, date):
        return []
    if not value.strip():
        return [Problem("metadata.publication_date", "A publication date is required.")]
    if not edtf_level0_ok(value.strip()):
        return [
            Problem(
                "metadata.publication_date",
                f"“{value}” is not a date: use YYYY, YYYY-MM, YYYY-MM-DD or an interval such as 2024/2025.",
            )
        ]
    return []


def _related_problems(index: int, related: RelatedIdentifier) -> list[Problem]:
    where = f"metadata.related_identifiers.{index}"
    problems: list[Problem] = []
    if related.scheme not in RELATED_SCHEMES:
        problems.append(
            Problem(
                f"{where}.scheme",
                f"“{related.scheme}” is not a supported scheme; "
                f"use one of {', '.join(sorted(RELATED_SCHEMES))}.",
            )
        )
    if related.scheme == "doi" and not _DOI.match(bare_doi(related.identifier)):
        problems.append(Problem(f"{where}.identifier", f"“{related.identifier}” is not a DOI (10.xxxx/…)."))
    elif related.scheme == "url" and not re.match(r"^https?://\S+$", related.identifier.strip()):
        problems.append(Problem(f"{where}.identifier", f"“{related.identifier}” is not a web address."))
    elif not related.identifier.strip():
        problems.append(Problem(f"{where}.identifier", "The related identifier is empty."))
    if related.relation not in RELATION_TYPES:
        problems.append(
            Problem(f"{where}.relation_type", f"“{related.relation}” is not a DataCite relation type.")
        )
    if related.resource_type and not _VOCABULARY_ID.match(related.resource_type):
        problems.append(
            Problem(f"{where}.resource_type", f"“{related.resource_type}” is not a resource-type id.")
        )
    return problems


def _funding_problems(index: int, funding: Funding) -> list[Problem]:
    where = f"metadata.funding.{index}"
    problems: list[Problem] = []
    if not funding.funder_ror.strip() and not funding.funder_name.strip():
        problems.append(Problem(f"{where}.funder", "A funder needs a ROR id or a name."))
    elif funding.funder_ror and not ROR_PATTERN.match(normalize_ror(funding.funder_ror)):
        problems.append(Problem(f"{where}.funder", f"“{funding.funder_ror}” is not a ROR id."))
    custom_award = bool(funding.award_number.strip() or funding.award_title.strip())
    if (
        not funding.award_id
        and custom_award
        and not (funding.award_number.strip() and funding.award_title.strip())
    ):
        problems.append(
            Problem(f"{where}.award", "An award not in Zenodo's list needs both its number and its title.")
        )
    return problems


def access_problems(access: Access, *, today: date | None = None) -> list[Problem]:
    today = today or utc_today()
    problems: list[Problem] = []
    for name in ("record", "files"):
        if getattr(access, name) not in VISIBILITIES:
            problems.append(Problem(f"access.{name}", "Must be “public” or “restricted”."))
    embargo = access.embargo
    if embargo is not None:
        if embargo.until <= today:
            problems.append(
                Problem(
                    "access.embargo.until",
                    f"The embargo end date {embargo.until.isoformat()} must be in the future.",
                )
            )
        if access.record == "public" and access.files == "public":
            problems.append(
                Problem(
                    "access.files",
                    "An embargo needs restricted files (or a restricted record); "
                    "with everything public there is nothing to embargo.",
                )
            )
    return problems


def limit_problems(*, count: int, total_bytes: int) -> list[Problem]:
    problems: list[Problem] = []
    if count > MAX_FILES:
        problems.append(
            Problem(
                "files", f"{count} files: a Zenodo record holds at most {MAX_FILES}; zip folders together."
            )
        )
    if total_bytes > MAX_RECORD_BYTES:
        problems.append(
            Problem(
                "files",
                f"{total_bytes / 1e9:.1f} GB in total: a Zenodo record holds at most "
                f"{MAX_RECORD_BYTES / 1e9:.0f} GB.",
            )
        )
    return problems


def file_problems(
    files: Sequence[FileToUpload], *, existing_keys: Iterable[str] = (), existing_bytes: int = 0
) -> list[Problem]:
    """Check files against the disk, each other, the files already on the draft and Zenodo's limits."""
    problems: list[Problem] = []
    seen = set(existing_keys)
    for file in files:
        problems.extend(_one_file_problems(file))
        if file.name in seen:
            problems.append(Problem(f"files.{file.name}", f"Two files would both be called “{file.name}”."))
        seen.add(file.name)
    problems.extend(limit_problems(count=len(seen), total_bytes=existing_bytes + sum(f.size for f in files)))
    return problems


def _one_file_problems(file: FileToUpload) -> list[Problem]:
    where = f"files.{file.name}"
    problems: list[Problem] = []
    key = file.name
    if key in {"", ".", ".."} or "/" in key or "\\" in key or any(ord(char) < 32 for char in key):
        problems.append(Problem(where, f"“{key}” cannot be a file name on Zenodo (no folders, no “/”)."))
    if not file.md5 and not file.sha256:
        problems.append(Problem(where, "The file has no checksum yet; scan the dataset first."))
    if file.md5 and not _MD5.match(file.md5):
        problems.append(Problem(where, f"“{file.md5}” is not an MD5 checksum (32 lower-case hex digits)."))
    if file.sha256 and not _SHA256.match(file.sha256):
        problems.append(
            Problem(where, f"“{file.sha256}” is not a SHA-256 checksum (64 lower-case hex digits).")
        )
    if file.size < 0:
        problems.append(Problem(where, "The size cannot be negative."))
    if not file.path.is_file():
        problems.append(Problem(where, f"{file.path} does not exist or is not a file."))
    elif (on_disk := file.path.stat().st_size) != file.size:
        problems.append(
            Problem(
                where,
                f"{file.path} has {on_disk} bytes on disk but had {file.size} when it was scanned; "
                "scan it again.",
            )
        )
    return problems


def ensure_valid(metadata: RecordMetadata, access: Access, *, today: date | None = None) -> None:
    problems = metadata_problems(metadata) + access_problems(access, today=today)
    if problems:
        raise ZenodoInvalid("The Zenodo record is not ready to send:", problems)


# --- JSON ----------------------------------------------------------------------------------------


def record_json(metadata: RecordMetadata, access: Access, *, today: date | None = None) -> dict[str, Any]:
    """The InvenioRDM draft body for ``POST /api/records`` and ``PUT /api/records/{id}/draft``.

    Raises ZenodoInvalid (and produces nothing) when the metadata or access break a rule.
    """
    ensure_valid(metadata, access, today=today)
    return {
        "metadata": metadata_json(metadata),
        "access": access_json(access),
        "files": {"enabled": True},
    }


def metadata_json(metadata: RecordMetadata) -> dict[str, Any]:
    published = metadata.publication_date
    body: dict[str, Any] = {
        "resource_type": {"id": metadata.resource_type.strip()},
        "title": metadata.title.strip(),
        "creators": [_creator_json(creator) for creator in metadata.creators],
        "publication_date": published.isoformat() if isinstance(published, date) else published.strip(),
    }
    if metadata.publisher:
        body["publisher"] = metadata.publisher
    if metadata.description.strip():
        body["description"] = metadata.description.strip()
    if metadata.licence:
        body["rights"] = [{"id": metadata.licence.strip().lower()}]
    if metadata.keywords:
        body["subjects"] = [{"subject": keyword.strip()} for keyword in metadata.keywords]
    if metadata.related_identifiers:
        body["related_identifiers"] = [_related_json(related) for related in metadata.related_identifiers]
    if metadata.funding:
        body["funding"] = [_funding_json(funding) for funding in metadata.funding]
    if metadata.version:
        body["version"] = metadata.version
    return body


def _creator_json(creator: Creator) -> dict[str, Any]:
    person: dict[str, Any]
    if creator.kind == "organizational":
        person = {"type": "organizational", "name": creator.name.strip()}
    else:
        family, given = creator.family_name.strip(), creator.given_name.strip()
        person = {
            "type": "personal",
            "family_name": family,
            "name": f"{family}, {given}" if given else family,
        }
        if given:
            person["given_name"] = given
        if creator.orcid:
            person["identifiers"] = [{"scheme": "orcid", "identifier": normalize_orcid(creator.orcid)}]
    entry: dict[str, Any] = {"person_or_org": person}
    if creator.affiliations:
        entry["affiliations"] = [_affiliation_json(affiliation) for affiliation in creator.affiliations]
    return entry


def _affiliation_json(affiliation: Affiliation) -> dict[str, str]:
    body: dict[str, str] = {}
    if affiliation.ror:
        body["id"] = normalize_ror(affiliation.ror)
    if affiliation.name.strip():
        body["name"] = affiliation.name.strip()
    return body


def _related_json(related: RelatedIdentifier) -> dict[str, Any]:
    identifier = bare_doi(related.identifier) if related.scheme == "doi" else related.identifier.strip()
    body: dict[str, Any] = {
        "identifier": identifier,
        "scheme": related.scheme,
        "relation_type": {"id": related.relation},
    }
    if related.resource_type:
        body["resource_type"] = {"id": related.resource_type}
    return body


def _funding_json(funding: Funding) -> dict[str, Any]:
    funder = (
        {"id": normalize_ror(funding.funder_ror)}
        if funding.funder_ror
        else {"name": funding.funder_name.strip()}
    )
    body: dict[str, Any] = {"funder": funder}
    if funding.award_id:
        body["award"] = {"id": funding.award_id}
    elif funding.award_number.strip():
        body["award"] = {"number": funding.award_number.strip(), "title": {"en": funding.award_title.strip()}}
    return body


def access_json(access: Access) -> dict[str, Any]:
    embargo = access.embargo
    return {
        "record": access.record,
        "files": access.files,
        "embargo": (
            {"active": True, "until": embargo.until.isoformat(), "reason": embargo.reason or None}
            if embargo is not None
            else {"active": False, "until": None, "reason": None}
        ),
    }
