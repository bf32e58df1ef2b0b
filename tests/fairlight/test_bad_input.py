"""Bad input, one kind at a time: each gets a clear, specific error and changes nothing else.

Malformed DMP templates and maDMP files, oversized uploads, names that try to leave their folder,
file names that are not UTF-8, images that crash readers, dates out of range, and HTML/script in
every text field a person can fill in (escaped in every page and literal in the PDF).
"""

from __future__ import annotations

import datetime
import html
import io
import json
import re
import struct
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.models import User
from accounts.services import api_token_create
from dmp.answers import answer_save, plan_create
from dmp.madmp_import import MAX_BYTES as MADMP_MAX_BYTES
from dmp.models import Plan, Template
from dmp.review import comment_add, review_request
from dmp.template_files import TEMPLATE_DIR, TemplateError, read_template
from dmp.versions import snapshot_create
from metadata import services
from metadata.imaging import ImageRecord, inspect_path
from metadata.imaging.errors import ErrorCode, InspectionError
from metadata.models import Dataset, RembiRecord, ScanRun
from metadata.sharing import share_link_create
from metadata.uploads import validate_upload_name
from projects.models import Project, StorageRoot, Team
from repositories.models import Submission
from tests.conftest import World
from tests.dmp.test_madmp import demo_fill, loaded  # noqa: F401 - fixture reused here
from tests.dmp.test_madmp_import import example
from tests.metadata.conftest import SAMPLES, dataset, root, samples, scan_now  # noqa: F401 - fixtures
from tests.repositories.conftest import (  # noqa: F401 - fixtures reused here
    checked,
    described,
    packaged,
    packages_dir,
    scanned,
    submission,
)


def row_counts() -> dict[str, int]:
    """Rows of every model of ours: "changes nothing" means this stays the same."""
    ours = ("accounts", "projects", "metadata", "repositories", "dmp", "vocabularies")
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ours
    }


def files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# Images that crash a reader -----------------------------------------------------------------------


def _tiff_with_absurd_ifd_offset(path: Path) -> Path:
    """A little-endian TIFF header whose first IFD lies 4 GiB past the end of a 16-byte file."""
    path.write_bytes(b"II" + struct.pack("<HI", 42, 0xFFFFFFF0) + b"\0" * 8)
    return path


def _bigtiff_with_absurd_ifd_offset(path: Path) -> Path:
    path.write_bytes(b"II" + struct.pack("<HHHQ", 43, 8, 0, 2**62) + b"\0" * 8)
    return path


def _tiff_with_a_loop_of_ifds(path: Path) -> Path:
    """One IFD whose "next IFD" offset points back at itself."""
    entries = struct.pack("<H", 1) + struct.pack("<HHII", 256, 4, 1, 1)  # ImageWidth = 1
    path.write_bytes(b"II" + struct.pack("<HI", 42, 8) + entries + struct.pack("<I", 8))
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_tiff_with_absurd_ifd_offset, "the place of its first image lies outside the file"),
        (_bigtiff_with_absurd_ifd_offset, "the place of its first image lies outside the file"),
        (_tiff_with_a_loop_of_ifds, "its first image has no pixel data"),
    ],
)
def test_a_tiff_that_lies_about_its_structure_is_a_readable_error(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    with pytest.raises(InspectionError) as raised:
        inspect_path(make(tmp_path / "lying.tif"))
    assert raised.value.code == ErrorCode.CORRUPT
    assert raised.value.message.startswith(f"This is not a readable TIFF file: {reason}")


def test_the_truncated_sample_is_a_readable_error() -> None:
    with pytest.raises(InspectionError) as raised:
        inspect_path(SAMPLES / "broken" / "pillow_truncated_image.png")
    assert raised.value.code == ErrorCode.TRUNCATED


# OME-Zarr folders whose metadata is JSON of the wrong shape, or not JSON a parser can take.
ZARR_METADATA = {
    "list.ome.zarr": (b"[1, 2, 3]", "is not laid out as the NGFF specification says"),
    "no-datasets.ome.zarr": (b'{"multiscales": [{"axes": ["y", "x"]}]}', "(no 'datasets')"),
    "empty-datasets.ome.zarr": (b'{"multiscales": [{"datasets": []}]}', "(list index out of range)"),
    "no-array.ome.zarr": (b'{"multiscales": [{"datasets": [{"path": "0"}]}]}', "has no .zarray"),
    "plate.ome.zarr": (b'{"plate": {"wells": [], "field_count": "many"}}', "invalid literal for int()"),
    "deep.ome.zarr": (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON: it is nested too deeply"),
    "huge-number.ome.zarr": (b'{"multiscales": ' + b"9" * 5000 + b"}", "it holds a number too long to read"),
    "latin1.ome.zarr": (b'{"name": "caf\xe9"}', "is not valid JSON: it is not UTF-8 text"),
}


def test_a_scan_over_broken_images_and_odd_names_finishes_and_pages_show_it(
    world: World,
    dataset: Dataset,  # noqa: F811
    samples: Path,  # noqa: F811
    scan_now: Callable[[Dataset], ScanRun],  # noqa: F811
) -> None:
    odd = samples / "odd"
    odd.mkdir()
    _tiff_with_absurd_ifd_offset(odd / "absurd.tif")
    _tiff_with_a_loop_of_ifds(odd / "loop.tif")
    # Not UTF-8: Linux file names are bytes, and storage written by old or foreign systems has these.
    latin1 = (bytes(odd) + b"/caf\xe9.tif").decode("utf-8", "surrogateescape")
    Path(latin1).write_bytes((SAMPLES / "ome-tiff" / "single-channel.ome.tif").read_bytes())
    (odd / "<script>alert(1)<\\script>.png").write_bytes(b"not a png")
    for name, (zattrs, _) in ZARR_METADATA.items():
        (odd / name).mkdir()
        (odd / name / ".zattrs").write_bytes(zattrs)

    run = scan_now(dataset)

    assert run.status == ScanRun.Status.SUCCEEDED, run.message
    rows = {row.relative_path: row for row in dataset.files.all()}
    assert rows["odd/absurd.tif"].error_code == ErrorCode.CORRUPT
    assert rows["odd/loop.tif"].error_code == ErrorCode.CORRUPT
    assert rows["broken/pillow_truncated_image.png"].error_code == ErrorCode.TRUNCATED
    for name, (_, reason) in ZARR_METADATA.items():
        assert rows[f"odd/{name}"].error_code == ErrorCode.CORRUPT, name
        assert reason in rows[f"odd/{name}"].error, rows[f"odd/{name}"].error
    # Listed under a name that shows the undecodable byte, with the reason, not read.
    undecodable = rows["odd/caf\\xe9.tif"]
    assert undecodable.error_code == ErrorCode.UNREADABLE
    assert undecodable.error.startswith("The file name is not valid UTF-8 text (shown with \\xNN")
    assert undecodable.sha256 == ""
    # Every other file was read as usual.
    assert rows["ome-tiff/single-channel.ome.tif"].error_code == ""

    owner = world.client("owner")
    odd_ids = [rows[path].pk for path in rows if path.startswith("odd/")]
    for url in (
        f"/datasets/{dataset.pk}/",
        f"/datasets/{dataset.pk}/?with_errors=on&q=odd",
        f"/datasets/{dataset.pk}/rembi.jsonld",
        f"/datasets/{dataset.pk}/annotations/",
        f"/api/v1/datasets/{dataset.pk}/files/?errors=true&page_size=1000",
        *(f"/datasets/{dataset.pk}/files/{pk}/" for pk in odd_ids),
    ):
        response = owner.get(url)
        assert response.status_code == 200, url
        assert b"<script>alert(1)<" not in response.content, url
    page = owner.get(f"/datasets/{dataset.pk}/?q=odd").content.decode()
    assert "caf\\xe9.tif" in page
    assert "&lt;script&gt;alert(1)&lt;\\script&gt;.png" in page
    listed = owner.get(f"/api/v1/datasets/{dataset.pk}/files/?errors=true&page_size=1000").json()
    assert "odd/caf\\xe9.tif" in {row["relative_path"] for row in listed["results"]}
    # A second scan finds the same files under the same names: no duplicates, nothing new.
    before = dict(dataset.files.values_list("relative_path", "pk"))
    assert scan_now(dataset).status == ScanRun.Status.SUCCEEDED
    assert dict(dataset.files.values_list("relative_path", "pk")) == before


def test_a_reader_that_crashes_costs_its_file_not_the_scan(
    dataset: Dataset,  # noqa: F811
    scan_now: Callable[[Dataset], ScanRun],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crashing(path: Path) -> ImageRecord:
        if path.name == "skimage_cell.png":
            raise RuntimeError("the decoder fell over")
        return inspect_path(path)

    monkeypatch.setattr(services, "inspect_path", crashing)
    run = scan_now(dataset)
    assert run.status == ScanRun.Status.SUCCEEDED, run.message
    crashed = dataset.files.get(relative_path="png-jpeg/skimage_cell.png")
    assert crashed.error_code == ErrorCode.CORRUPT
    assert crashed.error.startswith("The reader failed on this file (RuntimeError: the decoder fell over)")
    assert crashed.sha256  # still checksummed: the bytes are there, only the reader failed
    assert dataset.files.get(relative_path="png-jpeg/skimage_retina.jpg").error_code == ""


# Malformed DMP templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"key: t\n\xff\xfe: broken\n", "cannot be read as YAML: 'utf-8' codec can't decode byte 0xff"),
        (b"- just\n- a list\n", "a template is a mapping with key, version, title"),
        (b'{"key": "t", "version": 1,', "cannot be read as YAML: while parsing a flow node"),
        (b"key: t\nversion: 1\nkey: u\n", "the key 'key' is given twice"),
        (b"[" * 5000 + b"]" * 5000, "cannot be read as YAML: it is nested too deeply."),
        (b"key: t\nversion: 1\ntitle: T\n", "(top): 'funder' is a required property"),
    ],
    ids=["not-utf8", "a-list", "broken-json", "duplicate-key", "nested", "incomplete"],
)
def test_a_malformed_template_is_named_and_loads_nothing(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str
) -> None:
    for shipped in TEMPLATE_DIR.glob("*.yaml"):
        (tmp_path / shipped.name).write_bytes(shipped.read_bytes())
    (tmp_path / "zz-broken.yaml").write_bytes(content)
    monkeypatch.setattr("dmp.template_files.TEMPLATE_DIR", tmp_path)
    before = row_counts()
    with pytest.raises(CommandError) as raised:
        call_command("load_templates", stdout=io.StringIO())
    assert str(raised.value).startswith("zz-broken.yaml: ")
    assert message in str(raised.value)
    # The good files around it are not loaded either: a fixed file loads them all at once.
    assert row_counts() == before


def test_a_template_with_a_repeated_section_field_is_refused_not_shortened(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(
        "key: t\nversion: '1'\ntitle: T\nfunder: F\nsource: https://example.org\nsections:\n"
        "  - key: s\n    title: S\n"
        "    questions:\n      - key: q.a\n        text: First\n        type: text\n"
        "    questions:\n      - key: q.b\n        text: Second\n        type: text\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateError, match=r"the key 'questions' is given twice\n  in .*line 13"):
        read_template(path)


# Malformed maDMP files, and JSON bodies no parser should choke on -----------------------------------


NESTED = b"[" * 100_000 + b"]" * 100_000
BAD_MADMP = {
    "nested": (NESTED, "its JSON is nested too deeply to read"),
    "long-number": (b'{"dmp": ' + b"7" * 5000 + b"}", "a number of 5000 digits is longer than any"),
    "nan": (b'{"dmp": {"cost": [{"value": NaN}]}}', "NaN is not a JSON number"),
    "infinity": (b'{"dmp": {"cost": [{"value": 1e999}]}}', "the number 1e999 is too large"),
    "not-utf8": (b'{"dmp": "\xff"}', "The file is not UTF-8 text (byte 10 is not)"),
    "truncated": (b'{"dmp": {"title": "Cut', "The file is not valid JSON: Unterminated string"),
    "bad-date": (None, "dmp/project/0/start: "),
}


def _madmp_with_bad_date() -> bytes:
    document = example("ex1-header-fundedProject")
    document["dmp"]["project"][0]["start"] = "2027-02-30"
    return json.dumps(document).encode()


@pytest.mark.parametrize("name", list(BAD_MADMP))
def test_a_malformed_madmp_file_is_explained_through_the_api_and_creates_nothing(
    world: World, name: str
) -> None:
    data, message = BAD_MADMP[name]
    upload = SimpleUploadedFile("plan.json", data if data is not None else _madmp_with_bad_date())
    before = row_counts()
    response = world.api("editor").post("/api/v1/plans/import-madmp/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "The maDMP was not imported; nothing was created."
    assert any(message in problem for problem in response.json()["problems"]), response.json()
    assert row_counts() == before


def test_a_malformed_madmp_file_is_explained_on_the_web_and_creates_nothing(world: World) -> None:
    before = row_counts()
    upload = SimpleUploadedFile("plan.json", NESTED)
    response = world.client("editor").post("/plans/import/", {"file": upload}, follow=True)
    assert "its JSON is nested too deeply to read" in response.content.decode()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/projects/", NESTED),
        ("/api/v1/plans/import-madmp/", NESTED),
        ("/api/v1/projects/", b'{"title": ' + b"1" * 5000 + b"}"),
        ("/api/v1/projects/", b'{"title": NaN}'),
    ],
    ids=["nested", "nested-madmp", "long-number", "nan"],
)
def test_json_bodies_no_parser_can_take_get_a_400(world: World, url: str, body: bytes) -> None:
    before = row_counts()
    response = world.api("owner").post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert row_counts() == before


# Oversized uploads and names that try to leave their folder -----------------------------------------


def test_an_oversized_madmp_upload_is_refused_before_it_is_read(world: World) -> None:
    before = row_counts()
    upload = SimpleUploadedFile("big.json", b"{" + b" " * (MADMP_MAX_BYTES + 1) + b"}")
    response = world.api("editor").post("/api/v1/plans/import-madmp/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "an maDMP file may be at most 5.0" in response.json()["problems"][0]
    assert row_counts() == before


@pytest.fixture
def upload_root(world: World, root: StorageRoot, settings: SettingsWrapper) -> Path:  # noqa: F811
    settings.FAIRLIGHT_UPLOAD_ROOT = root.name
    return Path(root.path)


def _multipart_upload(client: Client, project_pk: int, names: list[str], limit: int = 0) -> HttpResponse:
    """POST files by raw multipart, so that the names reach the server exactly as a client sent them."""
    boundary = "fairlight-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nNames\r\n'.encode()]
    for name in names:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + b"x" * (limit + 1 if limit else 10)
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.generic(  # type: ignore[return-value]
        "POST",
        f"/datasets/project/{project_pk}/upload/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.mark.parametrize(
    "name",
    ["../../escaped.tif", "/etc/cron.d/escaped.tif", "..\\..\\escaped.tif", "sub/../../escaped.tif"],
)
def test_upload_names_cannot_leave_the_dataset_folder(
    world: World, upload_root: Path, tmp_path: Path, name: str
) -> None:
    outside_before = files_below(tmp_path)
    response = _multipart_upload(world.client("editor"), world.project.pk, [name])
    # The browser's path is dropped (Django keeps the last part of a name), never followed.
    uploaded = Dataset.objects.get()
    assert response.status_code == 302
    folder = upload_root / uploaded.relative_path
    assert files_below(folder) == ["escaped.tif"]
    created = {
        path for path in set(files_below(tmp_path)) - set(outside_before) if (tmp_path / path).is_file()
    }
    assert created == {f"storage/{uploaded.relative_path}/escaped.tif"}
    assert not Path("/etc/cron.d/escaped.tif").exists()


@pytest.mark.parametrize("name", ["..", ".", "../..", "\x00", "..\\.."])
def test_upload_names_that_are_only_a_path_are_refused(world: World, upload_root: Path, name: str) -> None:
    before = row_counts()
    response = _multipart_upload(world.client("editor"), world.project.pk, [name])
    assert response.status_code == 400
    # Django drops a file whose name is nothing but a path; what is left is no file at all.
    assert "Choose at least one file." in response.content.decode()
    assert row_counts() == before
    assert not (upload_root / "uploads").exists() or files_below(upload_root / "uploads") == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../escaped.tif", "contains a path separator"),
        ("/etc/passwd", "contains a path separator"),
        ("a/b.tif", "contains a path separator"),
        ("C:escaped.tif", "contains a path separator"),
        ("x\x00.tif", "control character"),
    ],
)
def test_the_upload_service_refuses_names_with_folders(name: str, message: str) -> None:
    # Django keeps only the last part of a browser's file name; this is the check behind it,
    # for any other caller of the service.
    with pytest.raises(ValidationError, match=message):
        validate_upload_name(name)


def test_an_oversized_browser_upload_stores_nothing(
    world: World, upload_root: Path, settings: SettingsWrapper
) -> None:
    settings.FAIRLIGHT_UPLOAD_MAX_BYTES = 1000
    before = row_counts()
    response = _multipart_upload(world.client("editor"), world.project.pk, ["big.tif"], limit=5000)
    assert response.status_code == 400
    assert "larger than the upload limit of 1000" in response.content.decode()
    assert row_counts() == before
    assert not (upload_root / "uploads").exists() or files_below(upload_root / "uploads") == []


def test_archives_we_write_hold_relative_names_only(
    world: World,
    packaged: Submission,  # noqa: F811
) -> None:
    response = world.client("owner").get(f"/submissions/{packaged.pk}/package.zip")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
    assert names
    for name in names:
        assert not name.startswith(("/", "\\")), name
        assert ".." not in Path(name).parts, name
        assert ":" not in name, name


# Dates out of range, and numbers that are not numbers --------------------------------------------

BAD_DATES = ["0000-01-01", "10000-01-01", "2027-02-30", "2027-13-01", "-2027-01-01"]


@pytest.fixture
def facility_plan(world: World, loaded: None) -> Plan:  # noqa: F811
    return plan_create(
        project=world.project,
        template=Template.objects.get(key="bioimaging-facility"),
        title="Dates",
        user=world.users["owner"],
    )


def _answer_rows(plan: Plan) -> list[tuple[str, str, object, int]]:
    return list(plan.answers.values_list("question_key", "block_id", "value", "version").order_by("pk"))


@pytest.mark.parametrize("raw", BAD_DATES)
def test_a_date_answer_out_of_range_is_refused_everywhere(
    world: World, facility_plan: Plan, raw: str
) -> None:
    plan, key = facility_plan, "bif.design.project_end"
    answer_save(
        plan=plan, user=world.users["owner"], question_key=key, block_id="", raw="2027-06-30", version=0
    )
    saved = _answer_rows(plan)
    before = row_counts()
    message = f"“{raw}” is not a date; use the form 2027-06-30."
    with pytest.raises(ValidationError, match=re.escape(message)):
        answer_save(plan=plan, user=world.users["owner"], question_key=key, block_id="", raw=raw, version=1)
    response = world.api("owner").post(
        f"/api/v1/plans/{plan.pk}/answers/",
        {"question_key": key, "block_id": "", "value": raw, "version": 1},
        format="json",
    )
    assert response.status_code == 400
    assert message in str(response.json())
    page = world.client("owner").post(
        f"/plans/{plan.pk}/answer/",
        {"question": key, "block": "", "value": raw, "version": "1"},
        headers={"HX-Request": "true"},
    )
    assert page.status_code == 400
    assert html.escape(message) in page.content.decode()
    assert _answer_rows(plan) == saved
    assert row_counts() == before


@pytest.mark.parametrize("raw", ["nan", "inf", "-Infinity", "1e999"])
def test_a_number_answer_that_is_not_finite_is_refused(world: World, facility_plan: Plan, raw: str) -> None:
    before = row_counts()
    with pytest.raises(ValidationError, match=f"“{re.escape(raw)}” is not a number."):
        answer_save(
            plan=facility_plan,
            user=world.users["owner"],
            question_key="bif.volume.total",
            block_id="",
            raw=raw,
            version=0,
        )
    assert row_counts() == before


@pytest.mark.parametrize("raw", BAD_DATES)
def test_project_dates_out_of_range_are_refused(world: World, raw: str) -> None:
    project = world.project
    before = row_counts()
    api = world.api("owner")
    for field in ("start_date", "end_date"):
        response = api.patch(f"/api/v1/projects/{project.pk}/", {field: raw}, format="json")
        assert response.status_code == 400
        assert "Date has wrong format" in str(response.json()[field])
    created = api.post("/api/v1/projects/", {"title": "Dated", "start_date": raw}, format="json")
    assert created.status_code == 400
    form = {"title": project.title, "time_zone": "UTC", "start_date": raw}
    page = world.client("owner").post(f"/projects/{project.pk}/edit/", form)
    assert page.status_code == 200
    assert "Enter a valid date." in page.content.decode()
    project.refresh_from_db()
    assert (project.start_date, project.end_date) == (None, None)
    assert row_counts() == before


@pytest.mark.parametrize("raw", BAD_DATES)
def test_release_dates_out_of_range_are_refused(
    world: World,
    submission: Submission,  # noqa: F811
    raw: str,
) -> None:
    release = submission.release_date
    before = row_counts()
    api = world.api("owner")
    response = api.post(
        f"/api/v1/submissions/{submission.pk}/release-date/", {"release_date": raw}, format="json"
    )
    assert response.status_code == 400
    assert "Date has wrong format" in str(response.json()["release_date"])
    response = api.post(
        f"/api/v1/submissions/{submission.pk}/embargo/", {"release_date": raw, "reason": "x"}, format="json"
    )
    assert response.status_code == 400
    created = api.post(
        "/api/v1/submissions/",
        {"project": world.project.pk, "datasets": [], "target": "bia", "title": "T", "release_date": raw},
        format="json",
    )
    assert created.status_code == 400
    page = world.client("owner").post(
        f"/submissions/{submission.pk}/release-date/", {"release_date": raw}, follow=True
    )
    assert "Enter the release date as a date, e.g. 2027-06-30." in page.content.decode()
    submission.refresh_from_db()
    assert submission.release_date == release
    assert row_counts() == before


@pytest.mark.parametrize("raw", [*BAD_DATES, "10000-01-01T00:00:00Z"])
def test_share_link_expiry_out_of_range_is_refused(
    world: World,
    dataset: Dataset,  # noqa: F811
    raw: str,
) -> None:
    before = row_counts()
    response = world.api("owner").post(
        f"/api/v1/datasets/{dataset.pk}/share-links/", {"expires_at": raw}, format="json"
    )
    assert response.status_code == 400
    assert "expires_at" in response.json()
    assert row_counts() == before


# HTML and script in every text field a person fills in ---------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{ATTRIBUTE}"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
# Followed from the start pages; not pages: downloads, the admin, the API, leaving the site.
NOT_PAGES = re.compile(r"^/(static|admin|api|share)/|logout|\.(pdf|zip|json|jsonld|ttl|csv|ics|md|png|xml)$")
MAX_PAGES = 300


def _hostile(label: str, length: int = 300) -> str:
    """A value that starts with a label to find it by, then both payloads."""
    return f"{label} {PAYLOAD}"[:length]


@dataclass
class Hostile:
    plan: Plan
    dataset: Dataset
    submission: Submission
    labels: list[str]


@pytest.fixture
def hostile(
    world: World,
    loaded: None,  # noqa: F811
    submission: Submission,  # noqa: F811
) -> Hostile:
    """Every text a person can type, set to HTML and script, on one project and its objects."""
    owner, editor = world.users["owner"], world.users["editor"]
    labels: list[str] = []

    def text(label: str, length: int = 300) -> str:
        labels.append(label)
        return _hostile(label, length)

    Project.objects.filter(pk=world.project.pk).update(
        title=text("project-title"), acronym=text("acro", 30), description=text("project-description")
    )
    Team.objects.filter(pk=world.team.pk).update(name=text("team-name", 200))
    for who in ("owner", "editor", "steward"):
        User.objects.filter(pk=world.users[who].pk).update(
            first_name=text(f"first-{who}", 150), last_name=text(f"last-{who}", 150)
        )
    described_dataset = submission.datasets.get()
    Dataset.objects.filter(pk=described_dataset.pk).update(
        title=text("dataset-title"), description=text("dataset-text")
    )
    Submission.objects.filter(pk=submission.pk).update(title=text("submission-title"))
    study = RembiRecord.objects.get(project=world.project, class_name="Study")
    study.title = text("study-title")
    study.data = {**study.data, "title": study.title, "description": text("study-description", 2000)}
    study.save()

    plan = plan_create(
        project=world.project,
        template=Template.objects.get(key="horizon-europe"),
        title=text("plan-title", 200),
        user=owner,
    )
    demo_fill(plan)
    plan.refresh_from_db()
    plan.blocks = [{**plan.blocks[0], "title": text("block-title", 120)}]
    plan.save(update_fields=["blocks"])
    answer = plan.answers.get(question_key="he.data_summary.types_formats")
    answer_save(
        plan=plan,
        user=owner,
        question_key=answer.question_key,
        block_id=answer.block_id,
        raw=text("answer", 5000),
        version=answer.version,
    )
    comment_add(plan=plan, user=editor, question_key=answer.question_key, block_id="", text=text("comment"))
    snapshot_create(plan=plan, name=text("snapshot", 200), user=owner)
    review_request(plan=plan, user=owner, message=text("review-message"))
    share_link_create(
        dataset=described_dataset,
        user=owner,
        note=text("share-note", 200),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    api_token_create(user=owner, name=text("token-name", 100))
    return Hostile(plan=plan, dataset=described_dataset, submission=submission, labels=labels)


def _links(page: str) -> set[str]:
    found = re.findall(r'(?:href|hx-get|action)="(/[^"]*)"', page)
    return {html.unescape(link).split("#")[0] for link in found}


def _crawl(client: Client, start: list[str]) -> dict[str, str]:
    """Every HTML page reachable by GET from the start pages, by address."""
    pages: dict[str, str] = {}
    queue = list(start)
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if url in pages or NOT_PAGES.search(url.split("?")[0]):
            continue
        response = client.get(url)
        pages[url] = ""
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages[url] = response.content.decode()
        queue.extend(sorted(_links(pages[url]) - pages.keys()))
    return pages


def test_html_in_every_text_field_is_escaped_on_every_page(world: World, hostile: Hostile) -> None:
    plan = hostile.plan
    start = [
        "/",
        f"/projects/{world.project.pk}/",
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/export.html",
        f"/datasets/{hostile.dataset.pk}/",
        f"/submissions/{hostile.submission.pk}/",
        "/accounts/profile/",
    ]
    pages = _crawl(world.client("owner"), start)
    steward = _crawl(world.client("steward"), ["/plans/reviews/", f"/facilities/{world.facility.pk}/"])
    html_pages = {
        f"{who} {url}": page
        for who, crawled in (("owner", pages), ("steward", steward))
        for url, page in crawled.items()
        if page
    }
    assert len(html_pages) > 40, sorted(html_pages)

    for url, page in html_pages.items():
        assert SCRIPT not in page, url
        assert "<img src=x" not in page, url
    # Each value was shown somewhere (escaped), so the check above looked at it.
    everything = "\n".join(html_pages.values())
    missing = [label for label in hostile.labels if f"{label} {ESCAPED}" not in everything]
    assert missing == [], missing


def test_html_in_text_fields_is_literal_text_in_the_pdf(
    world: World, hostile: Hostile, tmp_path: Path
) -> None:
    response = world.client("owner").get(f"/plans/{hostile.plan.pk}/export.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for label in ("plan-title", "answer", "project-title", "block-title"):
        assert f"{label} {SCRIPT}" in flat, label
    assert f"answer {PAYLOAD}" in flat
