"""Validation of researcher and organisation identifiers (ORCID iD, ROR id), and the bare form of
a DOI."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ORCID_PATTERN = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
# An ORCID iD inside free text, e.g. "Ada Lovelace (0000-0002-1825-0097)".
ORCID_IN_TEXT = re.compile(r"\b(\d{4}-\d{4}-\d{4}-\d{3}[\dX])\b")
_ORCID_URL_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")
# ROR ids: a leading 0, six Crockford base32 characters, two check digits.
ROR_PATTERN = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}\d{2}$")
_ROR_URL_PREFIXES = ("https://ror.org/", "http://ror.org/", "ror.org/")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")


def bare_doi(value: str) -> str:
    """``10.5281/zenodo.1`` from any way people write it: a doi.org link (old or new host, http or
    https) or a ``doi:`` name; anything else is returned stripped of surrounding blanks."""
    value = value.strip()
    for prefix in _DOI_PREFIXES:
        if value.lower().startswith(prefix):
            return value[len(prefix) :].strip()
    return value


def orcid_check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 15 digits of an ORCID iD."""
    total = 0
    for char in base_digits:
        total = (total + int(char)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def orcid_checksum_ok(orcid: str) -> bool:
    """The last character of a well-formed ORCID iD is the ISO 7064 MOD 11-2 check of the rest."""
    digits = orcid.replace("-", "")
    return digits[-1] == orcid_check_digit(digits[:-1])


def normalize_orcid(value: str) -> str:
    """Strip an ``https://orcid.org/`` prefix and upper-case the check character."""
    value = value.strip()
    for prefix in _ORCID_URL_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    return value.upper()


def validate_orcid(value: str) -> None:
    if not ORCID_PATTERN.match(value):
        raise ValidationError(
            _("%(value)s is not an ORCID iD; the form is 0000-0002-1825-0097."),
            code="orcid_format",
            params={"value": value},
        )
    if not orcid_checksum_ok(value):
        raise ValidationError(
            _("%(value)s has a wrong check digit; please copy the ORCID iD again."),
            code="orcid_checksum",
            params={"value": value},
        )


def ror_checksum(identifier_base: str) -> str:
    """ISO 7064 MOD 97-10 checksum of the Crockford base32 number in a ROR id."""
    number = 0
    for char in identifier_base:
        number = number * 32 + _CROCKFORD.index(char)
    return f"{98 - (number * 100) % 97:02d}"


def normalize_ror(value: str) -> str:
    value = value.strip().lower()
    for prefix in _ROR_URL_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def validate_ror(value: str) -> None:
    if not ROR_PATTERN.match(value):
        raise ValidationError(
            _("%(value)s is not a ROR id; the form is 03yrm5c26 (or https://ror.org/03yrm5c26)."),
            code="ror_format",
            params={"value": value},
        )
    if ror_checksum(value[:7]) != value[7:]:
        raise ValidationError(
            _("%(value)s has a wrong check digit; please copy the ROR id again."),
            code="ror_checksum",
            params={"value": value},
        )
