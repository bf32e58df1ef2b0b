from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.identifiers import bare_doi, normalize_orcid, normalize_ror, validate_orcid, validate_ror


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"])
def test_valid_orcids(orcid: str) -> None:
    validate_orcid(orcid)


def test_orcid_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(ValidationError, match="wrong check digit") as error:
        validate_orcid("0000-0002-1825-0098")
    assert error.value.code == "orcid_checksum"


@pytest.mark.parametrize("orcid", ["0000-0002-1825-009", "0000000218250097", "https://orcid.org/x", ""])
def test_malformed_orcid_is_refused(orcid: str) -> None:
    with pytest.raises(ValidationError, match="is not an ORCID iD"):
        validate_orcid(orcid)


def test_orcid_urls_and_lowercase_x_are_normalised() -> None:
    assert normalize_orcid(" https://orcid.org/0000-0002-1694-233x ") == "0000-0002-1694-233X"


@pytest.mark.parametrize("ror", ["03mstc592", "03vek6s52", "05dxps055"])
def test_valid_ror_ids(ror: str) -> None:
    validate_ror(ror)


def test_ror_checks() -> None:
    with pytest.raises(ValidationError, match="wrong check digit"):
        validate_ror("03mstc593")
    with pytest.raises(ValidationError, match="is not a ROR id"):
        validate_ror("13mstc592")
    assert normalize_ror("https://ror.org/03MSTC592") == "03mstc592"


@pytest.mark.parametrize(
    "written",
    [
        "10.5281/zenodo.1234",
        "  10.5281/zenodo.1234 ",
        "https://doi.org/10.5281/zenodo.1234",
        "http://doi.org/10.5281/zenodo.1234",
        "https://dx.doi.org/10.5281/zenodo.1234",
        "http://dx.doi.org/10.5281/zenodo.1234",
        "HTTPS://DOI.ORG/10.5281/zenodo.1234",
        "doi:10.5281/zenodo.1234",
        "DOI: 10.5281/zenodo.1234",
    ],
)
def test_every_way_of_writing_a_doi_gives_the_bare_doi(written: str) -> None:
    assert bare_doi(written) == "10.5281/zenodo.1234"


def test_what_is_not_a_doi_link_is_left_alone() -> None:
    assert bare_doi("https://example.org/10.5281/zenodo.1234") == "https://example.org/10.5281/zenodo.1234"
