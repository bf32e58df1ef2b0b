"""maDMP import: every RDA example round-trips (import → export keeps every field), answers win
over what was imported, bad files create nothing, and the CLI, API and web form."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from dmp import madmp_import
from dmp.answers import answer_save, blocks_change, questions_by_key
from dmp.demo import demo_plan_ensure
from dmp.madmp import plan_madmp, validate_madmp
from dmp.madmp_import import MAX_BYTES, madmp_read, plan_import_madmp
from dmp.models import Answer, AnswerRevision, Plan
from projects.models import Project, Role
from projects.services import project_update
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import loaded  # noqa: F401  (the fixture below loads the templates)
from tests.projects.test_access_matrix import outcome

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "madmp"
EXAMPLE_NAMES = sorted(path.stem for path in EXAMPLES.glob("*.json"))
TEMPLATES = ["horizon-europe", "nih-dmsp", "science-europe", "bioimaging-facility"]
# The only field an export of an unchanged imported plan may change: it says when the plan
# last changed in FAIRlight.
ALLOWED_DIFFERENCES = {"dmp/modified"}

pytestmark = pytest.mark.usefixtures("loaded")


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return document


def differences(original: Any, exported: Any, path: str = "") -> list[str]:
    """Every JSON path where the two documents differ (a missing, extra or changed field)."""
    if isinstance(original, dict) and isinstance(exported, dict):
        return [
            problem
            for key in sorted(original.keys() | exported.keys())
            for problem in (
                differences(original[key], exported[key], f"{path}/{key}".lstrip("/"))
                if key in original and key in exported
                else [f"{path}/{key}".lstrip("/") + (" is missing" if key in original else " was added")]
            )
        ]
    if isinstance(original, list) and isinstance(exported, list):
        if len(original) != len(exported):
            return [f"{path}: {len(original)} items became {len(exported)}"]
        return [
            problem
            for index, (first, second) in enumerate(zip(original, exported, strict=True))
            for problem in differences(first, second, f"{path}/{index}")
        ]
    # As JSON, so that 1 and 1.0 or 1 and true count as different.
    if json.dumps(original) != json.dumps(exported):
        return [f"{path}: {original!r} became {exported!r}"]
    return []


def unexpected(original: Any, exported: Any) -> list[str]:
    """The differences other than the allowed ones."""
    return [d for d in differences(original, exported) if d.split(":")[0] not in ALLOWED_DIFFERENCES]


def import_example(world: World, name: str, template: str = "horizon-europe", who: str = "outsider") -> Plan:
    return plan_import_madmp(document=example(name), user=world.users[who], template_key=template)


def values(plan: Plan) -> dict[tuple[str, str], Any]:
    return {(a.question_key, a.block_id): a.value for a in plan.answers.all()}


def row_counts() -> tuple[int, int, int]:
    return Project.objects.count(), Plan.objects.count(), Answer.objects.count()


def test_the_differences_helper_sees_every_kind_of_change() -> None:
    original = {"a": [1, {"b": "x"}], "c": 1, "d": True}
    assert differences(original, copy.deepcopy(original)) == []
    changed = {"a": [1, {"b": "y"}], "c": 1.0, "e": None}
    assert differences(original, changed) == [
        "a/1/b: 'x' became 'y'",
        "c: 1 became 1.0",
        "d is missing",
        "e was added",
    ]
    assert differences({"a": [1]}, {"a": [1, 2]}) == ["a: 1 items became 2"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_rda_example_round_trips(world: World, name: str) -> None:
    """Must show: import → export → schema-valid, same titles, datasets, distributions, licences."""
    original = example(name)
    exported = plan_madmp(import_example(world, name))
    assert validate_madmp(exported) == []
    dmp, back = original["dmp"], exported["dmp"]
    assert back["title"] == dmp["title"]
    assert [d["title"] for d in back["dataset"]] == [d["title"] for d in dmp["dataset"]]
    for first, second in zip(dmp["dataset"], back["dataset"], strict=True):
        assert second["dataset_id"] == first["dataset_id"]
        distributions = first.get("distribution", [])
        assert len(second.get("distribution", [])) == len(distributions)
        for one, other in zip(distributions, second.get("distribution", []), strict=True):
            for field in ("title", "host", "byte_size", "format", "data_access"):
                assert other.get(field) == one.get(field), field
            assert [(lic["license_ref"], lic["start_date"]) for lic in other.get("license", [])] == [
                (lic["license_ref"], lic["start_date"]) for lic in one.get("license", [])
            ]
    assert back["dmp_id"] == dmp["dmp_id"]
    assert back["created"] == dmp["created"]
    assert back["modified"] != dmp["modified"]
    # "Keeps every field the standard defines": the whole documents, field by field.
    assert unexpected(original, exported) == []


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_round_trips_through_every_template(
    world: World,
    name: str,
    template: str,
) -> None:
    exported = plan_madmp(import_example(world, name, template))
    assert validate_madmp(exported) == []
    assert unexpected(example(name), exported) == []


def test_import_creates_a_project_of_the_importer_with_answers(world: World) -> None:
    plan = import_example(world, "ex1-header-fundedProject")
    project = plan.project
    assert project.title == "Making maDMPs awesome"
    assert str(project.start_date) == "2017-01-01"
    assert str(project.end_date) == "2020-12-31"
    assert (project.funder, project.grant_id) == ("501100002428", "1234567-AT")
    assert project.facility is None
    assert list(project.memberships.values_list("user__username", "role")) == [("outsider", Role.OWNER)]
    assert plan.title == "Funded DMP"
    assert plan.template.key == "horizon-europe"
    assert plan.created_by == world.users["outsider"]
    block = plan.blocks[0]["id"]
    assert [b["title"] for b in plan.blocks] == ["Source Code"]
    assert values(plan) == {
        ("he.data_summary.purpose", ""): "Example of a DMP header for a funded project.",
        ("he.ethics.issues_exist", ""): False,
        ("he.dataset.title", block): "Source Code",
        # "unknown" answers nothing: personal data stays in what was kept
        ("he.dataset.sensitive_data", block): False,
    }
    assert plan.imported["datasets"][block]["personal_data"] == "unknown"
    # Each answer has its first history entry, as a save in the wizard would leave.
    assert AnswerRevision.objects.filter(plan=plan, version=1).count() == 4


def test_values_are_converted_back_only_where_they_fit(world: World) -> None:
    plan = import_example(world, "ex7-dataset-many")
    first, second = (b["id"] for b in plan.blocks)
    answered = values(plan)
    assert answered[("he.dataset.formats", first)] == "text/csv"
    assert answered[("he.dataset.expected_size", first)] == pytest.approx(0.0001)  # 100000 bytes in GB
    assert answered[("he.dataset.licence", first)] == "CC-BY-4.0"  # the Creative Commons URL as SPDX id
    assert answered[("he.dataset.data_access", second)] == "open"
    assert answered[("he.dataset.personal_data", second)] is False
    # "document" is not one of the question's choices; the start date belongs to an embargo
    # question nobody answered; the quality statement is plan-level but only one dataset has it.
    for key, block in (
        ("he.dataset.type", first),
        ("he.dataset.embargo_end", first),
        ("he.reuse.quality_assurance", ""),
    ):
        assert (key, block) not in answered
    kept = plan.imported["datasets"]
    assert kept[first]["type"] == "document"
    assert kept[second]["data_quality_assurance"] == [
        "The code has been reviewed by... and follows naming convention..."
    ]


def test_a_keyword_becomes_an_answer_only_when_it_names_a_term(
    world: World,
    ontologies: None,
) -> None:
    document = example("ex7-dataset-many")
    spim = "http://purl.obolibrary.org/obo/FBbi_00000369"
    document["dmp"]["dataset"][0]["keyword"] = [spim]
    document["dmp"]["dataset"][1]["keyword"] = ["source code"]
    plan = plan_import_madmp(document=document, user=world.users["editor"])
    first, second = (b["id"] for b in plan.blocks)
    assert values(plan)[("he.dataset.imaging_method", first)] == spim
    assert ("he.dataset.imaging_method", second) not in values(plan)
    assert unexpected(document, plan_madmp(plan)) == []


def test_a_fairlight_export_comes_back_with_its_answers(world: World) -> None:
    demo = demo_plan_ensure(project=world.project, user=world.users["owner"])
    assert demo is not None
    original = plan_madmp(demo)
    plan = plan_import_madmp(
        document=copy.deepcopy(original), user=world.users["outsider"], template_key="bioimaging-facility"
    )
    assert unexpected(original, plan_madmp(plan)) == []
    before = {a.question_key: a.value for a in demo.answers.all()}
    after = {a.question_key: a.value for a in plan.answers.all()}
    questions = questions_by_key(demo.template)
    mapped = {key for key in before if questions[key][0].get("madmp")}
    # Every answer that reached the file comes back to its question, with its value: not the
    # embargo date (its yes/no gate has no maDMP field) nor the first of two answers the export
    # wrote into the same field (the second one overwrote it).
    assert set(after) == mapped - {"bif.dataset.embargo_end", "bif.storage.access_control"}
    assert all(after[key] == before[key] for key in after)
    assert len(after) > 15


def test_answers_win_over_what_was_imported(world: World) -> None:
    user = world.users["outsider"]
    plan = import_example(world, "ex7-dataset-many")
    first, second = (b["id"] for b in plan.blocks)
    answered = {a.question_key + a.block_id: a for a in plan.answers.all()}

    def save(key: str, block: str, raw: Any) -> None:
        answer = answered.get(key + block)
        version = answer.version if answer else 0
        answer_save(plan=plan, user=user, question_key=key, block_id=block, raw=raw, version=version)

    save("he.dataset.licence", first, "CC0-1.0")
    save("he.dataset.expected_size", first, "2.5")
    save("he.dataset.repository", first, "Our institute's file server")
    save("he.dataset.title", first, "Cooler data")
    save("he.dataset.description", first, "")
    blocks_change(plan=plan, action="remove", block_id=second)
    blocks_change(plan=plan, action="add", title="Segmentations")
    project_update(project=plan.project, title="Renamed project", funder="European Commission")
    plan.refresh_from_db()
    exported = plan_madmp(plan)
    assert validate_madmp(exported) == []
    dmp = exported["dmp"]
    kept, added = dmp["dataset"]
    assert kept["title"] == "Cooler data"
    assert "description" not in kept  # a cleared answer takes the imported value away
    assert kept["dataset_id"] == {"identifier": "10.9876/zenodo.1234567", "type": "doi"}
    distribution = kept["distribution"][0]
    assert distribution["license"] == [
        {"license_ref": "https://spdx.org/licenses/CC0-1.0", "start_date": "2019-06-30"}
    ]
    assert distribution["byte_size"] == 2_500_000_000
    assert distribution["available_until"] == "2029-01-30"
    # A repository FAIRlight has no URL for becomes words, after the imported description.
    assert "host" not in distribution
    assert distribution["description"] == "CSV file showing... Deposited in Our institute's file server."
    assert added["title"] == "Segmentations"
    assert added["dataset_id"]["identifier"].endswith(f"/plans/{plan.pk}/#dataset-{plan.blocks[1]['id']}")
    assert "Source Code" not in json.dumps(exported)
    assert dmp["dmp_id"] == {"identifier": "10.0000/00.0.1234", "type": "doi"}
    assert dmp["created"] == "2018-07-23T10:10:23.6Z"
    assert dmp["modified"] > "2019-02-22"
    assert dmp["project"] == [
        {
            "title": "Renamed project",
            "funding": [
                {
                    "funder_id": {"identifier": "European Commission", "type": "other"},
                    "funding_status": "planned",
                }
            ],
        }
    ]


def test_a_changed_project_overlays_only_what_changed(world: World) -> None:
    plan = import_example(world, "ex1-header-fundedProject")
    project_update(project=plan.project, grant_id="", description="Better maDMPs for everyone.")
    plan.refresh_from_db()
    (entry,) = plan_madmp(plan)["dmp"]["project"]
    assert entry == {
        "title": "Making maDMPs awesome",
        "description": "Better maDMPs for everyone.",
        "start": "2017-01-01",
        "end": "2020-12-31",
        "funding": [
            {"funder_id": {"identifier": "501100002428", "type": "fundref"}, "funding_status": "granted"}
        ],
    }


def test_long_titles_come_back_whole(world: World) -> None:
    document = example("ex8-dmp-minimal-content")
    document["dmp"]["title"] = "A plan " * 60
    document["dmp"]["dataset"][0]["title"] = "A dataset " * 30
    plan = plan_import_madmp(document=document, user=world.users["viewer"], template_key="nih-dmsp")
    assert len(plan.title) == 300
    assert len(plan.project.title) == 300
    assert len(plan.blocks[0]["title"]) == 200
    assert unexpected(document, plan_madmp(plan)) == []


def _with(name: str, change: Any) -> bytes:
    document = example(name)
    change(document["dmp"])
    return json.dumps(document).encode()


BAD_FILES: list[tuple[str, bytes, str]] = [
    (
        "malformed JSON",
        b'{"dmp": {\n  "title": "x",\n}}',
        "The file is not valid JSON: Illegal trailing comma before end of object at line 2, column 15.",
    ),
    ("not UTF-8", b'{"dmp": "\xff"}', "The file is not UTF-8 text"),
    ("a list", b"[1, 2]", "An maDMP file holds one JSON object with a “dmp” key; this one holds a list."),
    ("no dmp key", b'{"title": "A DMP"}', "The JSON object has no “dmp” key"),
    (
        "a licence date that is not a date",
        _with(
            "ex7-dataset-many",
            lambda dmp: dmp["dataset"][0]["distribution"][0]["license"][0].update(start_date="soon"),
        ),
        "dmp/dataset/0/distribution/0/license/0/start_date: 'soon' is not a date",
    ),
    (
        "a missing required field",
        _with("ex8-dmp-minimal-content", lambda dmp: dmp.pop("contact")),
        "dmp: 'contact' is a required property",
    ),
    (
        "a value outside its vocabulary",
        _with("ex8-dmp-minimal-content", lambda dmp: dmp.update(ethical_issues_exist="maybe")),
        "dmp/ethical_issues_exist: 'maybe' is not one of ['yes', 'no', 'unknown']",
    ),
    (
        "no dataset",
        _with("ex8-dmp-minimal-content", lambda dmp: dmp.update(dataset=[])),
        "dmp/dataset: the DMP lists no dataset",
    ),
    (
        "a project that ends before it starts",
        _with("ex1-header-fundedProject", lambda dmp: dmp["project"][0].update(end="2016-01-01")),
        "dmp/project/0/end: the project ends (2016-01-01) before it starts (2017-01-01).",
    ),
    ("too large", b" " * (MAX_BYTES + 1), "an maDMP file may be at most 5.0\xa0MB"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_explained_and_create_nothing(
    world: World,
    name: str,
    data: bytes,
    message: str,
) -> None:
    before = row_counts()
    with pytest.raises(ValidationError) as raised:
        plan_import_madmp(document=madmp_read(data), user=world.users["owner"])
    assert any(message in problem for problem in raised.value.messages), raised.value.messages
    assert row_counts() == before


def test_every_schema_problem_is_listed(world: World) -> None:
    def break_twice(dmp: dict[str, Any]) -> None:
        dmp["language"] = "English"
        dmp["dataset"][0]["personal_data"] = 0

    with pytest.raises(ValidationError) as raised:
        madmp_read(_with("ex8-dmp-minimal-content", break_twice))
    problems = raised.value.messages
    assert "dmp/language: 'English' is not one of" in " ".join(problems)
    assert "dmp/dataset/0/personal_data: 0 is not of type 'string'" in problems


def test_unknown_template_creates_nothing(world: World) -> None:
    before = row_counts()
    with pytest.raises(ValidationError, match="There is no DMP template “nope”; the templates are: "):
        plan_import_madmp(
            document=example("ex8-dmp-minimal-content"), user=world.users["owner"], template_key="nope"
        )
    assert row_counts() == before


def test_a_failure_after_the_project_was_created_rolls_everything_back(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise ValidationError("Late failure.")

    monkeypatch.setattr(madmp_import, "_take_answers", fail)
    before = row_counts()
    with pytest.raises(ValidationError, match="Late failure"):
        import_example(world, "ex7-dataset-many")
    assert row_counts() == before


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_cli_imports_and_prints_ids_and_url(world: World) -> None:
    out = io.StringIO()
    call_command(
        "plan_import_madmp",
        str(EXAMPLES / "ex7-dataset-many.json"),
        "--owner",
        "editor",
        "--template",
        "science-europe",
        "--facility",
        "Imaging Core",
        stdout=out,
    )
    plan = Plan.objects.get(title="DMP with two datasets")
    assert plan.template.key == "science-europe"
    assert plan.project.facility == world.facility
    assert plan.project.memberships.get().user == world.users["editor"]
    assert out.getvalue().strip() == (
        f"Imported {EXAMPLES / 'ex7-dataset-many.json'} as project {plan.project_id} and plan {plan.pk}: "
        f"http://127.0.0.1:8000/plans/{plan.pk}/"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "nobody"], "There is no user 'nobody'."),
        (["--owner", "owner", "--facility", "Nowhere"], "There is no facility named 'Nowhere'."),
        (["--owner", "owner", "--template", "nope"], "There is no DMP template “nope”"),
    ],
)
def test_cli_refuses_unknown_names(world: World, args: list[str], message: str) -> None:
    before = row_counts()
    with pytest.raises(CommandError, match=message):
        call_command("plan_import_madmp", str(EXAMPLES / "ex8-dmp-minimal-content.json"), *args)
    assert row_counts() == before


def test_cli_explains_a_bad_file(world: World, tmp_path: Path) -> None:
    before = row_counts()
    broken = _write(tmp_path, "broken.json", b'{"dmp": ')
    with pytest.raises(
        CommandError, match=r"broken.json was not imported: The file is not valid JSON: .* line 1"
    ):
        call_command("plan_import_madmp", str(broken), "--owner", "owner")
    big = _write(tmp_path, "big.json", b" " * (MAX_BYTES + 1))
    with pytest.raises(CommandError, match=r"may be at most 5\.0"):
        call_command("plan_import_madmp", str(big), "--owner", "owner")
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.json"):
        call_command("plan_import_madmp", str(tmp_path / "missing.json"), "--owner", "owner")
    assert row_counts() == before


API_URL = "/api/v1/plans/import-madmp/"


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_import_for_any_logged_in_user(world: World, who: str) -> None:
    """Any logged-in user may import; the new project is theirs (an anonymous caller gets 401)."""
    upload = SimpleUploadedFile("plan.json", (EXAMPLES / "ex1-header-fundedProject.json").read_bytes())
    response = world.api(who).post(API_URL, {"file": upload, "template": "nih-dmsp"}, format="multipart")
    if who == "anonymous":
        assert response.status_code == 401
        assert not Plan.objects.exists()
        return
    assert response.status_code == 201, response.content
    body = response.json()
    plan = Plan.objects.get(pk=body["id"])
    assert body["template"] == "nih-dmsp"
    assert body["title"] == "Funded DMP"
    assert [b["title"] for b in body["blocks"]] == ["Source Code"]
    assert plan.project.memberships.get().user == world.users[who]
    assert world.api(who).get(f"/api/v1/plans/{plan.pk}/madmp/").json()["dmp"]["dmp_id"] == {
        "identifier": "10.0000/00.0.1234",
        "type": "doi",
    }


def test_api_takes_the_document_as_json_body(world: World) -> None:
    api = world.api("viewer")
    body = (EXAMPLES / "ex7-dataset-many.json").read_bytes()
    response = api.post(API_URL + "?template=bioimaging-facility", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["template"] == "bioimaging-facility"
    assert len(response.json()["blocks"]) == 2


@pytest.mark.parametrize(
    ("data", "content_type", "problem"),
    [
        (
            b'{"dmp": {"title": }}',
            "application/json",
            "not valid JSON: Expecting value at line 1, column 19.",
        ),
        (b"", "application/json", "not valid JSON: Expecting value at line 1, column 1."),
        (
            _with("ex8-dmp-minimal-content", lambda dmp: dmp.pop("title")),
            "application/json",
            "dmp: 'title' is a required property",
        ),
    ],
)
def test_api_bad_input_gets_400_with_the_problems(
    world: World,
    data: bytes,
    content_type: str,
    problem: str,
) -> None:
    before = row_counts()
    response = world.api("editor").post(API_URL, data, content_type=content_type)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The maDMP was not imported; nothing was created."
    assert any(problem in item for item in body["problems"]), body
    assert row_counts() == before


def test_api_refuses_an_oversized_upload_and_a_missing_file(world: World) -> None:
    api = world.api("editor")
    big = SimpleUploadedFile("big.json", b" " * (MAX_BYTES + 1))
    response = api.post(API_URL, {"file": big}, format="multipart")
    assert response.status_code == 400
    assert "may be at most 5.0" in response.json()["problems"][0]
    response = api.post(API_URL, {"template": "nih-dmsp"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["problems"] == ["Send the maDMP file in the field “file”, or as the JSON body."]
    assert not Plan.objects.exists()


WEB_URL = "/plans/import/"


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_import_for_any_logged_in_user(world: World, who: str) -> None:
    upload = SimpleUploadedFile("plan.json", (EXAMPLES / "ex8-dmp-minimal-content.json").read_bytes())
    response = world.client(who).post(WEB_URL, {"file": upload, "template": "science-europe"})
    if who == "anonymous":
        assert outcome(response) == "login"
        assert not Plan.objects.exists()
        return
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert plan.template.key == "science-europe"
    assert plan.project.memberships.get().user == world.users[who]


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_import_is_post_only(world: World, who: str) -> None:
    response = world.client(who).get(WEB_URL)
    assert outcome(response) == ("login" if who == "anonymous" else 405)


def test_web_import_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["editor"])
    upload = SimpleUploadedFile("plan.json", (EXAMPLES / "ex8-dmp-minimal-content.json").read_bytes())
    assert client.post(WEB_URL, {"file": upload}).status_code == 403
    assert not Plan.objects.exists()


def test_the_imported_plan_belongs_to_the_importer_only(world: World) -> None:
    plan = import_example(world, "ex7-dataset-many", who="reviewer")
    assert world.client("reviewer").get(f"/plans/{plan.pk}/", follow=True).status_code == 200
    for who in ("owner", "outsider", "steward"):
        assert world.client(who).get(f"/plans/{plan.pk}/").status_code == 404


def test_the_plans_page_offers_the_import_form(world: World) -> None:
    page = world.client("viewer").get("/plans/").content.decode()
    assert 'action="/plans/import/"' in page
    assert 'enctype="multipart/form-data"' in page
    assert '<option value="horizon-europe" selected>' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[]", "Nothing was imported. An maDMP file holds one JSON object"),
        (b'{"dmp": {}}', "Nothing was imported. dmp: &#x27;contact&#x27; is a required property"),
    ],
)
def test_web_explains_a_bad_file(world: World, data: bytes, message: str) -> None:
    upload = SimpleUploadedFile("plan.json", data)
    response = world.client("editor").post(WEB_URL, {"file": upload}, follow=True)
    assert response.redirect_chain == [("/plans/", 302)]
    assert message in response.content.decode()
    assert not Plan.objects.exists()


def test_web_refuses_an_oversized_upload_and_a_missing_file(world: World) -> None:
    upload = SimpleUploadedFile("big.json", b" " * (MAX_BYTES + 1))
    response = world.client("editor").post(WEB_URL, {"file": upload}, follow=True)
    assert "The file is larger than 5.0\xa0MB, the limit for an maDMP file." in response.content.decode()
    response = world.client("editor").post(WEB_URL, {"template": "nih-dmsp"}, follow=True)
    assert "Choose an maDMP file (JSON) to import." in response.content.decode()
    assert not Plan.objects.exists()
