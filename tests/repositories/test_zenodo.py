"""The Zenodo client end to end against the local InvenioRDM contract server, and its metadata rules."""

from __future__ import annotations

import copy
import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django.fixtures import Settings as SettingsWrapper

from fairlight.env import env_url
from metadata.imaging.checksum import hash_file
from repositories.zenodo import (
    MAX_FILES,
    Access,
    Affiliation,
    Creator,
    Embargo,
    FileToUpload,
    Funding,
    RecordMetadata,
    RelatedIdentifier,
    ZenodoChecksumError,
    ZenodoClient,
    ZenodoConfigurationError,
    ZenodoError,
    ZenodoInvalid,
    access_problems,
    client_from_settings,
    metadata_problems,
    record_json,
)
from repositories.zenodo.metadata import edtf_level0_ok, utc_today
from tests.repositories.invenio_server import (
    SCHEMA_DIR,
    TEST_TOKEN,
    InvenioServer,
    record_validator,
    running_server,
    schema_errors,
)

TODAY = utc_today()
NEXT_YEAR = TODAY + timedelta(days=365)


@pytest.fixture
def zenodo() -> Iterator[InvenioServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def client(zenodo: InvenioServer) -> ZenodoClient:
    return ZenodoClient(base_url=zenodo.base_url, token=TEST_TOKEN, timeout=5)


def metadata(**changes: Any) -> RecordMetadata:
    record = RecordMetadata(
        resource_type="dataset",
        title="Mitochondrial networks in zebrafish neuromasts, light-sheet time lapse",
        creators=(
            Creator(
                family_name="Carberry",
                given_name="Josiah",
                orcid="https://orcid.org/0000-0002-1825-0097",
                affiliations=(Affiliation(name="EMBL Heidelberg", ror="https://ror.org/03mstc592"),),
            ),
            Creator(kind="organizational", name="Imaging Core Facility"),
        ),
        publication_date=date(2025, 3, 14),
        description="Light-sheet recordings of hair-cell mitochondria, 3 fish, 2 h each.",
        licence="CC-BY-4.0",
        keywords=("zebrafish", "mitochondria", "light-sheet microscopy"),
        related_identifiers=(
            RelatedIdentifier(
                "https://doi.org/10.1038/s41592-019-0650-1", resource_type="publication-article"
            ),
        ),
        funding=(
            Funding(funder_ror="00k4n6c32", award_number="101000000", award_title="Organelles in motion"),
        ),
        version="1.0",
    )
    return replace(record, **changes)


def embargoed(until: date = NEXT_YEAR) -> Access:
    return Access(
        record="public", files="restricted", embargo=Embargo(until=until, reason="Paper under review")
    )


def sample_file(
    folder: Path, name: str, content: bytes, *, md5: bool = True, sha256: bool = False
) -> FileToUpload:
    path = folder / name
    path.write_bytes(content)
    digests = hash_file(path, md5=True)
    return FileToUpload(
        path=path,
        size=digests.size_bytes,
        md5=(digests.md5 or "") if md5 else "",
        sha256=digests.sha256 if sha256 else "",
    )


@pytest.fixture
def three_files(tmp_path: Path) -> list[FileToUpload]:
    pattern = bytes(range(256))
    return [
        sample_file(tmp_path, "fish1_t000.ome.tif", pattern * 1200),
        # Larger than one 1 MiB upload block, known by SHA-256 only.
        sample_file(tmp_path, "fish2_t000.ome.tif", pattern[::-1] * 9000, md5=False, sha256=True),
        sample_file(tmp_path, "README.txt", b"Three fish, two hours each.\n", sha256=True),
    ]


def raw_request(
    server: InvenioServer, method: str, path: str, body: object = None, *, token: str | None = TEST_TOKEN
) -> tuple[int, dict[str, Any]]:
    """Talk to the contract server directly, for what the client itself would never send."""
    address = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        status, raw = response.status, response.read()
    finally:
        connection.close()
    return status, json.loads(raw) if raw else {}


def fields_of(error: ZenodoError) -> set[str]:
    return {field_error.field for field_error in error.field_errors}


# --- the metadata JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "access",
    [Access(), embargoed(), Access(record="restricted", files="restricted")],
    ids=["open", "embargoed", "restricted"],
)
def test_record_json_is_valid_against_the_invenio_record_schema(access: Access) -> None:
    document = record_json(metadata(), access)
    assert schema_errors(record_validator(), document) == []


def test_record_json_maps_every_field_the_way_zenodo_expects() -> None:
    document = record_json(metadata(), embargoed())
    body = document["metadata"]
    person = body["creators"][0]
    assert person["person_or_org"] == {
        "type": "personal",
        "family_name": "Carberry",
        "given_name": "Josiah",
        "name": "Carberry, Josiah",
        "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}],
    }
    assert person["affiliations"] == [{"id": "03mstc592", "name": "EMBL Heidelberg"}]
    assert body["creators"][1]["person_or_org"] == {"type": "organizational", "name": "Imaging Core Facility"}
    assert body["resource_type"] == {"id": "dataset"}
    assert body["publication_date"] == "2025-03-14"
    assert body["rights"] == [{"id": "cc-by-4.0"}]
    assert body["subjects"] == [
        {"subject": "zebrafish"},
        {"subject": "mitochondria"},
        {"subject": "light-sheet microscopy"},
    ]
    assert body["related_identifiers"] == [
        {
            "identifier": "10.1038/s41592-019-0650-1",
            "scheme": "doi",
            "relation_type": {"id": "isdescribedby"},
            "resource_type": {"id": "publication-article"},
        }
    ]
    assert body["funding"] == [
        {
            "funder": {"id": "00k4n6c32"},
            "award": {"number": "101000000", "title": {"en": "Organelles in motion"}},
        }
    ]
    assert document["access"] == {
        "record": "public",
        "files": "restricted",
        "embargo": {"active": True, "until": NEXT_YEAR.isoformat(), "reason": "Paper under review"},
    }
    assert document["files"] == {"enabled": True}


def test_the_schema_check_accepts_invenios_example_and_catches_mistakes() -> None:
    validator = record_validator()
    example = json.loads((SCHEMA_DIR / "full-record.json").read_text())
    assert schema_errors(validator, example) == []

    broken = copy.deepcopy(example)
    broken["metadata"]["creators"][0]["person_or_org"]["orcid"] = "0000-0001-8135-3489"
    broken["access"]["files"] = "embargoed"
    broken["access"]["embargo"]["until"] = "next spring"
    assert {error["field"] for error in schema_errors(validator, broken)} == {
        "metadata.creators.0.person_or_org",
        "access.files",
        "access.embargo.until",
    }


def test_empty_metadata_names_every_missing_required_field() -> None:
    empty = RecordMetadata(resource_type="", title=" ", creators=(), publication_date="")
    problems = metadata_problems(empty)
    assert {problem.field for problem in problems} == {
        "metadata.resource_type",
        "metadata.title",
        "metadata.creators",
        "metadata.publication_date",
    }
    with pytest.raises(ZenodoInvalid) as caught:
        record_json(empty, Access())
    for problem in problems:
        assert str(problem) in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"creators": (Creator(given_name="Ada"),)},
            "metadata.creators.0.person_or_org.family_name",
            "family name",
        ),
        (
            {"creators": (Creator(kind="organizational"),)},
            "metadata.creators.0.person_or_org.name",
            "needs a name",
        ),
        (
            {"creators": (Creator(family_name="Doe", orcid="0000-0002-1825-0098"),)},
            "metadata.creators.0.person_or_org.identifiers",
            "wrong check digit",
        ),
        (
            {"creators": (Creator(family_name="Doe", orcid="1234"),)},
            "metadata.creators.0.person_or_org.identifiers",
            "not an ORCID iD",
        ),
        (
            {"creators": (Creator(family_name="Doe", affiliations=(Affiliation(ror="EMBL"),)),)},
            "metadata.creators.0.affiliations.0",
            "not a ROR id",
        ),
        ({"publication_date": "2025-13"}, "metadata.publication_date", "not a date"),
        ({"publication_date": "2025/2024"}, "metadata.publication_date", "not a date"),
        ({"licence": "CC BY 4.0"}, "metadata.rights", "not a licence id"),
        ({"keywords": ("cells", " ")}, "metadata.subjects.1", "cannot be blank"),
        (
            {"related_identifiers": (RelatedIdentifier("doi.org/nonsense"),)},
            "metadata.related_identifiers.0.identifier",
            "not a DOI",
        ),
        (
            {"related_identifiers": (RelatedIdentifier("10.1000/x", relation="explains"),)},
            "metadata.related_identifiers.0.relation_type",
            "relation type",
        ),
        (
            {"funding": (Funding(award_id="00k4n6c32::101000000"),)},
            "metadata.funding.0.funder",
            "ROR id or a name",
        ),
        (
            {"funding": (Funding(funder_name="Wellcome", award_number="42"),)},
            "metadata.funding.0.award",
            "number and its title",
        ),
    ],
)
def test_metadata_problems_say_what_is_wrong_and_where(
    changes: dict[str, Any], field: str, words: str
) -> None:
    problems = metadata_problems(metadata(**changes))
    assert [problem.field for problem in problems] == [field]
    assert words in problems[0].message


@pytest.mark.parametrize(
    "value", ["2025", "2025-03", "2025-03-14", "2024-02-29", "2024/2025", "2024-11/2025-02-01"]
)
def test_edtf_level0_dates_and_intervals_are_accepted(value: str) -> None:
    assert edtf_level0_ok(value)


@pytest.mark.parametrize(
    "value", ["2023-02-29", "25", "2025-3-1", "2025/2024", "2024/2025/2026", "March 2025"]
)
def test_other_date_strings_are_refused(value: str) -> None:
    assert not edtf_level0_ok(value)


def test_embargo_rules() -> None:
    assert access_problems(embargoed()) == []
    assert (
        access_problems(Access(record="restricted", files="restricted", embargo=Embargo(until=NEXT_YEAR)))
        == []
    )
    assert [p.field for p in access_problems(embargoed(until=TODAY))] == ["access.embargo.until"]
    public = Access(embargo=Embargo(until=NEXT_YEAR))
    assert [p.field for p in access_problems(public)] == ["access.files"]
    assert "restricted files" in access_problems(public)[0].message


# --- the whole journey --------------------------------------------------------------------------


def test_draft_upload_embargo_publish_and_new_version(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload], tmp_path: Path
) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    assert not draft.is_published
    assert draft.errors == ()
    assert draft.doi == ""

    uploaded = client.upload_files(record_id=draft.id, files=three_files)
    assert [file.key for file in uploaded] == [file.name for file in three_files]
    for local, remote in zip(three_files, uploaded, strict=True):
        assert remote.committed
        assert remote.size == local.size
        assert remote.checksum == f"md5:{hash_file(local.path, md5=True).md5}"
    # Each file went through initiate → content → commit, in that order.
    key = three_files[1].name
    file_calls = [path for path in zenodo.paths() if key in path]
    assert file_calls == [
        f"/api/records/{draft.id}/draft/files/{key}/content",
        f"/api/records/{draft.id}/draft/files/{key}/commit",
    ]

    with_embargo = client.set_access(record_id=draft.id, access=embargoed())
    assert with_embargo.embargo_until == NEXT_YEAR
    assert with_embargo.data["metadata"] == draft.data["metadata"]

    record = client.publish(record_id=draft.id)
    assert record.is_published
    assert record.id == draft.id
    assert record.doi == f"10.5072/zenodo.{record.id}"
    assert record.parent_doi.startswith("10.5072/zenodo.")
    assert record.parent_doi != record.doi
    assert record.embargo_until == NEXT_YEAR
    assert record.access["files"] == "restricted"
    assert record.access["status"] == "embargoed"
    assert record.html_url.endswith(f"/records/{record.id}")
    assert client.get_record(record_id=record.id).data == record.data

    changed = tmp_path / "v2"
    changed.mkdir()
    new_readme = sample_file(changed, "README.txt", b"Three fish, two hours each. Fish 2 re-segmented.\n")
    version = client.new_version(
        record_id=record.id,
        metadata=metadata(publication_date="2025-06", version="2.0"),
        access=Access(),
        import_files=True,
    )
    assert version.id != record.id
    assert version.parent_id == record.parent_id
    assert version.version_index == 2
    assert version.data["metadata"]["version"] == "2.0"
    assert {file.key for file in client.draft_files(record_id=version.id)} == {f.name for f in three_files}
    client.replace_file(record_id=version.id, file=new_readme)

    second = client.publish(record_id=version.id)
    assert second.doi == f"10.5072/zenodo.{second.id}"
    assert second.parent_doi == record.parent_doi
    assert second.embargo_until is None
    assert second.access["status"] == "open"
    assert second.data["versions"] == {"index": 2, "is_latest": True, "is_latest_draft": True}
    assert client.get_record(record_id=record.id).data["versions"]["is_latest"] is False
    # The first version keeps its own README.
    old_readme = zenodo.records[record.id].files["README.txt"]
    assert old_readme.md5 == three_files[2].md5
    assert zenodo.records[second.id].files["README.txt"].md5 == new_readme.md5


def test_a_new_version_starts_without_files_and_without_a_publication_date(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    first = client.create_draft(metadata=metadata(), access=Access())
    client.upload_files(record_id=first.id, files=three_files[:1])
    client.publish(record_id=first.id)

    status, bare = raw_request(zenodo, "POST", f"/api/records/{first.id}/versions")
    assert status == 201
    assert "publication_date" not in bare["metadata"]
    assert {error["field"] for error in bare["errors"]} == {"metadata.publication_date"}

    version = client.new_version(record_id=first.id, metadata=metadata(), access=Access())
    assert version.id == bare["id"]
    assert client.draft_files(record_id=version.id) == []
    with pytest.raises(ZenodoInvalid, match="no files"):
        client.publish(record_id=version.id)
    assert not zenodo.paths("POST")[-1].endswith("/publish")


# --- refused before sending -----------------------------------------------------------------------


def test_an_embargo_without_restricted_files_is_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient
) -> None:
    open_embargo = Access(record="public", files="public", embargo=Embargo(until=NEXT_YEAR))
    with pytest.raises(ZenodoInvalid, match="restricted files") as caught:
        client.create_draft(metadata=metadata(), access=open_embargo)
    assert [problem.field for problem in caught.value.problems] == ["access.files"]
    with pytest.raises(ZenodoInvalid, match="restricted files"):
        client.set_access(record_id="1001", access=open_embargo)
    assert zenodo.requests == []


def test_an_embargo_ending_today_is_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient
) -> None:
    with pytest.raises(ZenodoInvalid, match="must be in the future"):
        client.create_draft(metadata=metadata(), access=embargoed(until=TODAY))
    assert zenodo.requests == []


def test_incomplete_metadata_is_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient
) -> None:
    with pytest.raises(ZenodoInvalid) as caught:
        client.create_draft(metadata=metadata(title="", creators=()), access=Access())
    assert {p.field for p in caught.value.problems} == {"metadata.title", "metadata.creators"}
    assert zenodo.requests == []


def test_files_that_changed_size_since_the_scan_are_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    grown = three_files[0]
    grown.path.write_bytes(grown.path.read_bytes() + b"more")
    unscanned = FileToUpload(path=three_files[2].path, size=three_files[2].size)
    with pytest.raises(ZenodoInvalid) as caught:
        client.upload_files(record_id="1001", files=[grown, unscanned])
    message = str(caught.value)
    assert "scan it again" in message
    assert "no checksum yet" in message
    assert zenodo.requests == []


def test_more_than_100_files_are_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient, tmp_path: Path
) -> None:
    files = [sample_file(tmp_path, f"tile_{index:03}.tif", b"x") for index in range(MAX_FILES + 1)]
    with pytest.raises(ZenodoInvalid, match="at most 100"):
        client.upload_files(record_id="1001", files=files)
    assert zenodo.requests == []


def test_more_than_50_gb_is_refused_before_any_request(
    zenodo: InvenioServer, client: ZenodoClient, tmp_path: Path
) -> None:
    files = []
    for name in ("a.tif", "b.tif"):
        path = tmp_path / name
        with path.open("wb") as handle:
            handle.truncate(25_100_000_000)  # sparse: no disk space used
        files.append(FileToUpload(path=path, size=25_100_000_000, md5="0" * 32))
    with pytest.raises(ZenodoInvalid, match=r"50\.2 GB in total: a Zenodo record holds at most 50 GB"):
        client.upload_files(record_id="1001", files=files)
    assert zenodo.requests == []


def test_publish_refuses_uncommitted_files_and_too_many_files_without_asking_zenodo() -> None:
    with running_server(max_files=200) as roomy:
        client = ZenodoClient(base_url=roomy.base_url, token=TEST_TOKEN, timeout=5)
        draft = client.create_draft(metadata=metadata(), access=Access())
        # An upload interrupted after its initiation, and more files than Zenodo allows.
        keys = [{"key": f"tile_{index:03}.tif"} for index in range(MAX_FILES + 1)]
        status, _ = raw_request(roomy, "POST", f"/api/records/{draft.id}/draft/files", keys)
        assert status == 201
        with pytest.raises(ZenodoInvalid) as caught:
            client.publish(record_id=draft.id)
        message = str(caught.value)
        assert "“tile_000.tif” was never committed" in message
        assert "101 files: a Zenodo record holds at most 100" in message
        assert not any(path.endswith("/publish") for path in roomy.paths())


# --- what the server refuses ----------------------------------------------------------------------


def test_server_refuses_to_publish_incomplete_metadata_with_field_errors(
    zenodo: InvenioServer, client: ZenodoClient
) -> None:
    incomplete = {
        "metadata": {"creators": [{"person_or_org": {"type": "personal", "given_name": "Ada"}}]},
        "access": {"record": "public", "files": "public"},
        "files": {"enabled": False},
    }
    status, draft = raw_request(zenodo, "POST", "/api/records", incomplete)
    assert status == 201
    expected = {
        "metadata.resource_type",
        "metadata.title",
        "metadata.creators.0.person_or_org.family_name",
        "metadata.publication_date",
    }
    assert {error["field"] for error in draft["errors"]} == expected

    with pytest.raises(ZenodoError) as caught:
        client.publish(record_id=draft["id"])
    assert caught.value.status == 400
    assert fields_of(caught.value) == expected
    assert "A validation error occurred." in str(caught.value)
    assert "metadata.creators.0.person_or_org.family_name: Family name must be filled." in str(caught.value)


def test_values_outside_zenodos_vocabularies_come_back_as_field_errors(
    client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    draft = client.create_draft(
        metadata=metadata(resource_type="microscopy", licence="cc-by-9.0"), access=Access()
    )
    assert {error.field for error in draft.errors} == {"metadata.resource_type", "metadata.rights.0.id"}
    client.upload_files(record_id=draft.id, files=three_files[:1])
    with pytest.raises(ZenodoError) as caught:
        client.publish(record_id=draft.id)
    assert caught.value.status == 400
    assert fields_of(caught.value) == {"metadata.resource_type", "metadata.rights.0.id"}
    assert "Invalid value microscopy." in str(caught.value)


def test_server_enforces_the_embargo_rules(zenodo: InvenioServer, client: ZenodoClient) -> None:
    body = record_json(metadata(), Access())
    cases = {
        "access.files": {"active": True, "until": NEXT_YEAR.isoformat()},
        "access.embargo.until": {"active": True, "until": TODAY.isoformat()},
    }
    for field, embargo in cases.items():
        document = {**body, "access": {"record": "public", "files": "public", "embargo": embargo}}
        if field == "access.embargo.until":
            document["access"]["files"] = "restricted"
        status, answer = raw_request(zenodo, "POST", "/api/records", document)
        assert status == 400
        assert [error["field"] for error in answer["errors"]] == [field]
    inactive_future = {
        **body,
        "access": {
            "record": "public",
            "files": "public",
            "embargo": {"active": False, "until": NEXT_YEAR.isoformat()},
        },
    }
    status, answer = raw_request(zenodo, "POST", "/api/records", inactive_future)
    assert status == 400
    assert answer["errors"][0]["messages"] == ["Embargo end date must be unset or in the past."]

    # A client whose clock is behind cannot slip a past embargo through: Zenodo's answer is explained.
    yesterday = TODAY - timedelta(days=1)
    with pytest.raises(ZenodoError) as caught:
        client.create_draft(
            metadata=metadata(), access=embargoed(until=yesterday), today=yesterday - timedelta(1)
        )
    assert caught.value.status == 400
    assert fields_of(caught.value) == {"access.embargo.until"}
    assert "Embargo end date must be set to a future date." in str(caught.value)


def test_server_refuses_to_publish_uncommitted_files(zenodo: InvenioServer, client: ZenodoClient) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    raw_request(zenodo, "POST", f"/api/records/{draft.id}/draft/files", [{"key": "half.tif"}])
    status, answer = raw_request(zenodo, "POST", f"/api/records/{draft.id}/draft/actions/publish")
    assert status == 400
    assert answer["errors"] == [{"field": "files", "messages": ["File half.tif has not been committed."]}]
    status, answer = raw_request(zenodo, "POST", f"/api/records/{draft.id}/draft/files/half.tif/commit")
    assert status == 400
    assert "no content yet" in answer["message"]


def test_server_refuses_bodies_outside_the_record_schema(zenodo: InvenioServer) -> None:
    document = record_json(metadata(), Access())
    document["metadata"]["keywords"] = ["cells"]
    status, answer = raw_request(zenodo, "POST", "/api/records", document)
    assert status == 400
    assert answer["errors"][0]["field"] == "metadata"
    assert "'keywords' was unexpected" in answer["errors"][0]["messages"][0]


def test_server_file_limits_reach_the_client(tmp_path: Path) -> None:
    with running_server(max_files=2, quota_bytes=1000) as small:
        client = ZenodoClient(base_url=small.base_url, token=TEST_TOKEN, timeout=5)
        draft = client.create_draft(metadata=metadata(), access=Access())
        first, second, third = (sample_file(tmp_path, f"{n}.txt", b"y" * 400) for n in "abc")
        client.upload_files(record_id=draft.id, files=[first, second])
        with pytest.raises(ZenodoError, match="the limit is 2 files") as caught:
            client.upload_file(record_id=draft.id, file=third)
        assert caught.value.status == 400

        client.delete_draft_file(record_id=draft.id, key="b.txt")
        big = sample_file(tmp_path, "big.txt", b"z" * 700)
        with pytest.raises(ZenodoError, match="quota of 1000 bytes"):
            client.upload_file(record_id=draft.id, file=big)


def test_published_records_cannot_be_changed(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    client.upload_files(record_id=draft.id, files=three_files[:1])
    record = client.publish(record_id=draft.id)

    with pytest.raises(ZenodoError, match="is published and has no draft") as caught:
        client.upload_file(record_id=record.id, file=three_files[1])
    assert caught.value.status == 404
    with pytest.raises(ZenodoError, match="create a new version"):
        client.update_draft(record_id=record.id, metadata=metadata(title="Renamed"), access=Access())
    with pytest.raises(ZenodoError, match="is published and has no draft"):
        client.delete_draft_file(record_id=record.id, key=three_files[0].name)
    assert raw_request(zenodo, "PUT", f"/api/records/{record.id}", {"metadata": {}})[0] == 405
    assert zenodo.records[record.id].metadata["title"] == metadata().title
    assert list(zenodo.records[record.id].files) == [three_files[0].name]


def test_the_access_of_a_published_record_changes_in_place_and_its_files_stay_locked(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    client.upload_files(record_id=draft.id, files=three_files[:1])
    client.set_access(record_id=draft.id, access=embargoed())
    record = client.publish(record_id=draft.id)
    later = NEXT_YEAR + timedelta(days=90)

    # An edit is open: the record shows what is published, the draft what will be; files are locked.
    status, opened = raw_request(zenodo, "POST", f"/api/records/{record.id}/draft")
    assert (status, opened["id"], opened["is_draft"], opened["is_published"]) == (201, record.id, True, True)
    with pytest.raises(ZenodoError, match="are locked") as locked:
        client.upload_file(record_id=record.id, file=three_files[1])
    assert locked.value.status == 400
    with pytest.raises(ZenodoError, match="are locked"):
        client.delete_draft_file(record_id=record.id, key=three_files[0].name)
    client.set_access(record_id=record.id, access=embargoed(later))
    assert client.get_record(record_id=record.id).embargo_until == NEXT_YEAR
    assert client.get_draft(record_id=record.id).embargo_until == later

    # update_access takes up the open edit, publishes it, and the record keeps its id and DOI.
    updated = client.update_access(record_id=record.id, access=embargoed(later + timedelta(days=1)))
    assert (updated.id, updated.doi, updated.is_published) == (record.id, record.doi, True)
    assert updated.embargo_until == later + timedelta(days=1)
    assert updated.data["metadata"] == record.data["metadata"]
    assert list(zenodo.records[record.id].files) == [three_files[0].name]

    public = client.update_access(record_id=record.id, access=Access())
    assert public.embargo_until is None
    assert public.access["status"] == "open"
    assert zenodo.records[record.id].edit is None
    assert len(zenodo.records) == 1  # no new version, no second record


def test_an_invalid_access_is_refused_before_the_record_is_opened(
    zenodo: InvenioServer, client: ZenodoClient
) -> None:
    with pytest.raises(ZenodoInvalid, match="access settings are not valid"):
        client.update_access(record_id="1", access=embargoed(date(2000, 1, 1)))
    assert zenodo.requests == []


# --- checksums ------------------------------------------------------------------------------------


def test_a_corrupted_upload_is_detected_and_removed_from_the_draft(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    zenodo.corrupt_upload(three_files[1].name)
    with pytest.raises(ZenodoChecksumError) as caught:
        client.upload_files(record_id=draft.id, files=three_files)
    message = str(caught.value)
    assert "“fish2_t000.ome.tif”" in message
    assert "upload was corrupted" in message
    assert "It was removed from the draft." in message
    # The upload stopped at the bad file, which is gone, so it can never be published.
    assert [file.key for file in client.draft_files(record_id=draft.id)] == [three_files[0].name]

    client.upload_files(record_id=draft.id, files=three_files[1:])
    assert client.publish(record_id=draft.id).is_published


def test_a_file_rewritten_since_its_scan_is_not_committed(
    zenodo: InvenioServer, client: ZenodoClient, three_files: list[FileToUpload]
) -> None:
    draft = client.create_draft(metadata=metadata(), access=Access())
    for file in (three_files[0], three_files[1]):  # known by MD5, then by SHA-256 only
        content = file.path.read_bytes()
        file.path.write_bytes(content[::-1])  # same size, other bytes
        with pytest.raises(ZenodoChecksumError, match="changed on disk since it was scanned"):
            client.upload_file(record_id=draft.id, file=file)
    assert client.draft_files(record_id=draft.id) == []
    assert not any(path.endswith("/commit") for path in zenodo.paths())


# --- tokens, outages and settings -----------------------------------------------------------------


def test_a_missing_token_is_refused_before_any_request(
    zenodo: InvenioServer, settings: SettingsWrapper
) -> None:
    with pytest.raises(ZenodoConfigurationError, match="FAIRLIGHT_ZENODO_TOKEN"):
        ZenodoClient(base_url=zenodo.base_url, token="  ")
    settings.FAIRLIGHT_ZENODO_URL = zenodo.base_url
    settings.FAIRLIGHT_ZENODO_TOKEN = ""
    with pytest.raises(ZenodoConfigurationError, match="deposit:write"):
        client_from_settings()
    assert zenodo.requests == []


def test_a_wrong_or_absent_token_gets_401(zenodo: InvenioServer) -> None:
    wrong = ZenodoClient(base_url=zenodo.base_url, token="not-the-token", timeout=5)
    with pytest.raises(ZenodoError) as caught:
        wrong.create_draft(metadata=metadata(), access=Access())
    assert caught.value.status == 401
    assert "refused the token while creating the draft" in str(caught.value)
    assert "could not verify that you are authorized" in str(caught.value)
    assert raw_request(zenodo, "GET", "/api/records/1001/draft", token=None)[0] == 401
    assert zenodo.records == {}


def test_client_from_settings_talks_to_the_configured_instance(
    zenodo: InvenioServer, settings: SettingsWrapper
) -> None:
    settings.FAIRLIGHT_ZENODO_URL = zenodo.base_url
    settings.FAIRLIGHT_ZENODO_TOKEN = TEST_TOKEN
    draft = client_from_settings().create_draft(metadata=metadata(), access=Access())
    assert zenodo.records[draft.id].metadata["title"] == metadata().title


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_become_clear_messages(
    zenodo: InvenioServer, client: ZenodoClient, status: int
) -> None:
    zenodo.fail_next(status)
    with pytest.raises(ZenodoError) as caught:
        client.create_draft(metadata=metadata(), access=Access())
    assert caught.value.status == status
    message = str(caught.value)
    assert f"server error ({status}" in message
    assert "while creating the draft" in message
    assert "try again later" in message
    assert "<html>" not in message
    assert zenodo.records == {}


def test_a_server_that_stops_answering_times_out(zenodo: InvenioServer) -> None:
    impatient = ZenodoClient(base_url=zenodo.base_url, token=TEST_TOKEN, timeout=0.2)
    zenodo.stall_next(5)
    with pytest.raises(ZenodoError, match=r"did not answer within 0\.2 s while reading draft 1001"):
        impatient.get_draft(record_id="1001")


def test_an_unreachable_server_is_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nobody = ZenodoClient(base_url=f"http://127.0.0.1:{port}", token=TEST_TOKEN, timeout=2)
    with pytest.raises(ZenodoError, match=f"Could not reach Zenodo at http://127.0.0.1:{port} while reading"):
        nobody.get_record(record_id="1")


@pytest.mark.parametrize("address", ["sandbox.zenodo.org", "ftp://zenodo.org", "https://zenodo.org/?x=1", ""])
def test_unusable_addresses_are_refused(address: str) -> None:
    with pytest.raises(ZenodoConfigurationError, match="not a usable Zenodo address"):
        ZenodoClient(base_url=address, token=TEST_TOKEN)
    with pytest.raises(ImproperlyConfigured, match="FAIRLIGHT_ZENODO_URL"):
        env_url(
            "FAIRLIGHT_ZENODO_URL", "https://sandbox.zenodo.org", environ={"FAIRLIGHT_ZENODO_URL": address}
        )


def test_the_zenodo_address_defaults_to_the_sandbox() -> None:
    assert (
        env_url("FAIRLIGHT_ZENODO_URL", "https://sandbox.zenodo.org", environ={})
        == "https://sandbox.zenodo.org"
    )
    production = {"FAIRLIGHT_ZENODO_URL": "https://zenodo.org/"}
    assert (
        env_url("FAIRLIGHT_ZENODO_URL", "https://sandbox.zenodo.org", environ=production)
        == "https://zenodo.org"
    )
