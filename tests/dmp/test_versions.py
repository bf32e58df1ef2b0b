"""Plan versions: answer history, named snapshots, diffs, restore as a new version, and moving a
plan to a newer template version; pages and API endpoints for every kind of user."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from dmp.answers import AnswerConflict, answer_save, blocks_change, plan_create, questions_by_key
from dmp.models import Answer, AnswerRevision, Plan, PlanSnapshot, Template
from dmp.services import templates_load
from dmp.template_files import TemplateFile, iter_questions, read_template, shipped_templates
from dmp.versions import (
    REMOVED_QUESTION,
    plan_history,
    snapshot_create,
    snapshot_diff,
    snapshot_restore,
    template_upgrade,
    upgrade_preview,
)
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import demo_fill, loaded  # noqa: F401 - a fixture
from tests.projects.test_access_matrix import expected, outcome

PURPOSE = "he.data_summary.purpose"  # plan level, long text; renamed in version 2
KINDS = "he.other_outputs.kinds"  # plan level, multiple choice; loses "protocols" in version 2
PID = "he.findable.pid"  # plan level, yes/no
COST = "he.resources.cost_estimate"  # plan level, number; becomes a date in version 2
DATASET_TITLE = "he.dataset.title"  # per planned dataset, text
SIZE = "he.dataset.expected_size"  # per planned dataset, number in GB; version 2 allows at most 100
ACCESS = "he.dataset.data_access"  # per planned dataset, single choice
V2 = "2099.1"


@pytest.fixture
def plan(world: World, loaded: None) -> Plan:  # noqa: F811 - the imported fixture
    template = Template.objects.get(key="horizon-europe")
    return plan_create(project=world.project, template=template, title="Our DMP", user=world.users["editor"])


def save(plan: Plan, who: User, key: str, raw: Any, block: str = "") -> Answer:
    """Save as an editor who has the current version in front of them."""
    current = Answer.objects.filter(plan=plan, question_key=key, block_id=block).first()
    return answer_save(
        plan=plan,
        user=who,
        question_key=key,
        block_id=block,
        raw=raw,
        version=current.version if current else 0,
    )


def value(plan: Plan, key: str, block: str = "") -> Any:
    answer = Answer.objects.filter(plan=plan, question_key=key, block_id=block).first()
    return answer.value if answer else None


def label(plan: Plan, key: str, choice: str) -> str:
    question = questions_by_key(plan.template)[key][0]
    return str(next(c["label"] for c in question["choices"] if c["value"] == choice))


@pytest.fixture(scope="session")
def horizon_v2(tmp_path_factory: pytest.TempPathFactory) -> TemplateFile:
    """Horizon Europe as a version 2 would change it: a renamed question, a removed choice, a
    new maximum and a changed type; written and checked like a shipped template file."""
    content = copy.deepcopy(next(t for t in shipped_templates() if t.key == "horizon-europe").content)
    content["version"] = V2
    for question, _section, _block in iter_questions(content):
        if question["key"] == PURPOSE:
            question["key"] = PURPOSE + "_and_scope"
        elif question["key"] == KINDS:
            question["choices"] = [c for c in question["choices"] if c["value"] != "protocols"]
        elif question["key"] == SIZE:
            question["max"] = 100
        elif question["key"] == COST:
            question["type"] = "date"
    path = tmp_path_factory.mktemp("templates") / "horizon_europe_2099.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return read_template(path)


# ------------------------------------------------------------------------------------ history


def test_every_save_records_a_revision_with_its_user(world: World, plan: Plan) -> None:
    save(plan, world.users["editor"], PURPOSE, "First")
    save(plan, world.users["manager"], PURPOSE, "Second")
    block = plan.blocks[0]["id"]
    save(plan, world.users["owner"], SIZE, "12,5", block)
    revisions = list(AnswerRevision.objects.filter(plan=plan).order_by("pk"))
    assert [(r.question_key, r.block_id, r.value, r.version, r.changed_by) for r in revisions] == [
        (PURPOSE, "", "First", 1, world.users["editor"]),
        (PURPOSE, "", "Second", 2, world.users["manager"]),
        (SIZE, block, 12.5, 1, world.users["owner"]),
    ]
    history = plan_history(plan)
    assert [(e.question_key, e.old, e.new, e.changed_by) for e in history] == [
        (SIZE, "", "12.5 GB", world.users["owner"]),
        (PURPOSE, "First", "Second", world.users["manager"]),
        (PURPOSE, "", "First", world.users["editor"]),
    ]
    assert history[0].block_title == "Dataset 1"
    assert [e.new for e in plan_history(plan, question_key=PURPOSE)] == ["Second", "First"]


def test_refused_saves_record_nothing(world: World, plan: Plan) -> None:
    save(plan, world.users["editor"], PURPOSE, "Kept")
    with pytest.raises(AnswerConflict):
        answer_save(
            plan=plan, user=world.users["manager"], question_key=PURPOSE, block_id="", raw="Stale", version=0
        )
    with pytest.raises(ValidationError):
        save(plan, world.users["editor"], PID, "perhaps")
    for who in ("reviewer", "viewer", "steward"):
        with pytest.raises(PermissionDenied):
            save(plan, world.users[who], PURPOSE, "Not allowed")
    assert list(AnswerRevision.objects.values_list("value", flat=True)) == ["Kept"]


def test_removing_a_planned_dataset_keeps_its_history(world: World, plan: Plan) -> None:
    blocks_change(plan=plan, action="add", title="Light-sheet")
    second = plan.blocks[1]
    save(plan, world.users["editor"], DATASET_TITLE, "SPIM of organoids", second["id"])
    snapshot_create(plan=plan, name="With light-sheet", user=world.users["editor"])
    blocks_change(plan=plan, action="remove", block_id=second["id"])
    assert not Answer.objects.filter(block_id=second["id"]).exists()
    assert AnswerRevision.objects.filter(block_id=second["id"]).count() == 1
    entry = plan_history(plan)[0]
    # The title of a removed dataset is still known from the snapshot that holds it.
    assert (entry.new, entry.block_title) == ("SPIM of organoids", "Light-sheet")


# ---------------------------------------------------------------------------------- snapshots


def test_snapshot_names_are_required_and_short(world: World, plan: Plan) -> None:
    editor = world.users["editor"]
    with pytest.raises(ValidationError, match="Give the version a name"):
        snapshot_create(plan=plan, name="   ", user=editor)
    with pytest.raises(ValidationError, match="201 characters long; keep it to 200"):
        snapshot_create(plan=plan, name="x" * 201, user=editor)
    with pytest.raises(PermissionDenied):
        snapshot_create(plan=plan, name="By a reviewer", user=world.users["reviewer"])
    assert not PlanSnapshot.objects.exists()
    save(plan, editor, PURPOSE, "Imaging organoids")
    save(plan, editor, PID, "")
    snapshot = snapshot_create(plan=plan, name=" Submitted ", user=editor)
    assert snapshot.name == "Submitted"
    assert snapshot.template == plan.template
    assert snapshot.blocks == plan.blocks
    assert snapshot.answers == [{"question_key": PURPOSE, "block_id": "", "value": "Imaging organoids"}]


# --------------------------------------------------------------------------------------- diff


def test_diff_reports_answers_and_datasets_old_to_new_in_template_order(world: World, plan: Plan) -> None:
    editor = world.users["editor"]
    first = plan.blocks[0]["id"]
    blocks_change(plan=plan, action="add", title="Light-sheet")
    second = plan.blocks[1]["id"]
    save(plan, editor, PURPOSE, "Imaging organoids")
    save(plan, editor, KINDS, ["software", "protocols"])
    save(plan, editor, PID, "yes")
    save(plan, editor, ACCESS, "open", first)
    save(plan, editor, DATASET_TITLE, "SPIM", second)
    before = snapshot_create(plan=plan, name="v1", user=editor)

    save(plan, editor, KINDS, ["software"])
    save(plan, editor, PID, "no")
    save(plan, editor, ACCESS, "shared", first)
    save(plan, editor, SIZE, "40", first)
    blocks_change(plan=plan, action="rename", block_id=first, title="Confocal")
    blocks_change(plan=plan, action="remove", block_id=second)
    blocks_change(plan=plan, action="add", title="Electron microscopy")
    third = plan.blocks[1]["id"]
    save(plan, editor, DATASET_TITLE, "Serial-section TEM", third)
    plan.title = "Our DMP, revised"
    plan.save()

    diff = snapshot_diff(old=before, new=plan)
    assert diff.title == ("Our DMP", "Our DMP, revised")
    assert [b["title"] for b in diff.blocks_added] == ["Electron microscopy"]
    assert [b["title"] for b in diff.blocks_removed] == ["Light-sheet"]
    assert [(old["title"], new["title"]) for old, new in diff.blocks_renamed] == [("Dataset 1", "Confocal")]
    assert not diff.template_changed
    rows = [(c.question_key, c.block["title"] if c.block else "", c.old, c.new) for c in diff.changes]
    software, protocols = label(plan, KINDS, "software"), label(plan, KINDS, "protocols")
    assert rows == [
        # Template order: the planned datasets (1.1) come before the FAIR section, each dataset's
        # questions together, and a removed dataset after the remaining ones.
        (SIZE, "Confocal", "", "40 GB"),
        (ACCESS, "Confocal", label(plan, ACCESS, "open"), label(plan, ACCESS, "shared")),
        (DATASET_TITLE, "Electron microscopy", "", "Serial-section TEM"),
        (DATASET_TITLE, "Light-sheet", "SPIM", ""),
        (PID, "", "Yes", "No"),
        (KINDS, "", f"{software}, {protocols}", software),
    ]
    assert PURPOSE not in {c.question_key for c in diff.changes}
    backwards = snapshot_diff(old=plan, new=before)
    assert [(c.question_key, c.new) for c in backwards.changes][-1] == (KINDS, f"{software}, {protocols}")
    assert snapshot_diff(old=plan, new=plan).is_empty
    later = snapshot_create(plan=plan, name="v2", user=editor)
    assert [c.question_key for c in snapshot_diff(old=before, new=later).changes] == [
        c.question_key for c in diff.changes
    ]


# ------------------------------------------------------------------------------------ restore


def test_restore_brings_values_back_as_a_new_version(world: World, plan: Plan) -> None:
    editor, manager = world.users["editor"], world.users["manager"]
    first = plan.blocks[0]["id"]
    save(plan, editor, PURPOSE, "Imaging organoids")
    save(plan, editor, PID, "yes")
    saved = snapshot_create(plan=plan, name="Submitted", user=editor)

    save(plan, manager, PURPOSE, "Imaging zebrafish")
    save(plan, manager, KINDS, ["software"])
    blocks_change(plan=plan, action="add", title="Light-sheet")
    added = plan.blocks[1]["id"]
    save(plan, manager, DATASET_TITLE, "SPIM", added)
    stale_purpose = Answer.objects.get(question_key=PURPOSE).version
    stale_spim = Answer.objects.get(question_key=DATASET_TITLE, block_id=added).version

    report = snapshot_restore(snapshot=saved, user=editor)
    plan.refresh_from_db()
    assert report.backup.name == "Before restoring “Submitted”"
    assert report.left_out == []
    assert report.changed == 3  # purpose back, kinds cleared, the light-sheet title cleared
    assert value(plan, PURPOSE) == "Imaging organoids"
    assert value(plan, PID) is True
    assert value(plan, KINDS) is None
    assert [b["id"] for b in plan.blocks] == [first]
    assert not Answer.objects.filter(block_id=added).exists()
    assert Answer.objects.get(question_key=PURPOSE).version == stale_purpose + 1
    assert Answer.objects.get(question_key=PID).version == 1  # unchanged answers keep their version
    assert AnswerRevision.objects.filter(question_key=KINDS).latest("pk").value is None
    assert AnswerRevision.objects.filter(question_key=PURPOSE).latest("pk").changed_by == editor

    # Someone who loaded the page before the restore is stopped, not silently overwriting it.
    with pytest.raises(AnswerConflict):
        answer_save(
            plan=plan, user=manager, question_key=PURPOSE, block_id="", raw="Mine", version=stale_purpose
        )

    # Nothing was lost: restoring the automatic snapshot gives the manager's state back.
    snapshot_restore(snapshot=report.backup, user=manager)
    plan.refresh_from_db()
    assert value(plan, PURPOSE) == "Imaging zebrafish"
    assert value(plan, KINDS) == ["software"]
    assert value(plan, DATASET_TITLE, added) == "SPIM"
    assert [b["title"] for b in plan.blocks] == ["Dataset 1", "Light-sheet"]
    # The dataset came back, but a form loaded before it went away is still stale.
    assert Answer.objects.get(question_key=DATASET_TITLE, block_id=added).version > stale_spim
    with pytest.raises(AnswerConflict):
        answer_save(
            plan=plan, user=editor, question_key=DATASET_TITLE, block_id=added, raw="x", version=stale_spim
        )
    assert PlanSnapshot.objects.filter(plan=plan).count() == 3


def test_a_save_during_a_restore_undoes_all_of_it(
    world: World, plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor, manager = world.users["editor"], world.users["manager"]
    save(plan, editor, PURPOSE, "Imaging organoids")
    save(plan, editor, PID, "yes")
    saved = snapshot_create(plan=plan, name="Submitted", user=editor)
    save(plan, manager, PURPOSE, "Imaging zebrafish")
    save(plan, manager, PID, "no")

    def racing_save(**kwargs: Any) -> Answer:
        if kwargs["question_key"] == PID:  # the manager saves it just before the restore does
            save(plan, manager, PID, "yes")
        return answer_save(**kwargs)

    monkeypatch.setattr("dmp.versions.answer_save", racing_save)
    with pytest.raises(ValidationError, match="Someone saved an answer during the restore"):
        snapshot_restore(snapshot=saved, user=editor)
    assert value(plan, PURPOSE) == "Imaging zebrafish"  # restored first, then undone
    assert PlanSnapshot.objects.count() == 1


def test_restore_needs_an_editor(world: World, plan: Plan) -> None:
    save(plan, world.users["editor"], PURPOSE, "Imaging organoids")
    saved = snapshot_create(plan=plan, name="Submitted", user=world.users["editor"])
    save(plan, world.users["editor"], PURPOSE, "Changed")
    for who in ("reviewer", "viewer", "steward"):
        with pytest.raises(PermissionDenied):
            snapshot_restore(snapshot=saved, user=world.users[who])
    assert value(plan, PURPOSE) == "Changed"
    assert PlanSnapshot.objects.count() == 1


# ------------------------------------------------------------------------------------ upgrade


@pytest.fixture
def filled(world: World, plan: Plan) -> Plan:
    """A plan on version 2021.1 with answers that version 2 will not all accept."""
    editor = world.users["editor"]
    block = plan.blocks[0]["id"]
    for key, raw, block_id in [
        (PURPOSE, "Imaging organoids", ""),
        (KINDS, ["software", "protocols"], ""),
        (PID, "yes", ""),
        (COST, "25000", ""),
        (DATASET_TITLE, "Confocal stacks", block),
        (SIZE, "500", block),
        (ACCESS, "open", block),
    ]:
        save(plan, editor, key, raw, block_id)
    return plan


def test_upgrade_carries_answers_by_key_and_lists_the_rest(
    world: World, filled: Plan, horizon_v2: TemplateFile
) -> None:
    plan = filled
    old_template = plan.template
    other = plan_create(
        project=world.other_project, template=old_template, title="Theirs", user=world.users["outsider"]
    )
    save(other, world.users["outsider"], PURPOSE, "Their purpose")
    block = plan.blocks[0]["id"]
    pid_version = Answer.objects.get(plan=plan, question_key=PID).version

    with pytest.raises(ValidationError, match=r"already uses the newest version \(2021.1\)"):
        template_upgrade(plan=plan, user=world.users["editor"])
    templates_load(files=[horizon_v2])
    preview = upgrade_preview(plan)
    assert preview.target.version == V2
    reasons = {item.question_key: item.reason for item in preview.left_out}
    assert reasons == {
        PURPOSE: REMOVED_QUESTION,
        KINDS: "The value is no longer valid: “protocols” is not one of the choices.",
        COST: "The value is no longer valid: “25000.0” is not a date; use the form 2027-06-30.",
        SIZE: "The value is no longer valid: The number must be at most 100.",
    }
    assert {c.question_key for c in preview.carried} == {PID, DATASET_TITLE, ACCESS}
    assert Plan.objects.get(pk=plan.pk).template == old_template  # a preview changes nothing

    with pytest.raises(PermissionDenied):
        template_upgrade(plan=plan, user=world.users["reviewer"])
    report = template_upgrade(plan=plan, user=world.users["editor"])
    plan.refresh_from_db()
    assert plan.template.version == V2
    assert (report.old_version, report.new_version, report.carried) == ("2021.1", V2, 3)
    assert {item.question_key for item in report.left_out} == set(reasons)
    assert value(plan, PID) is True
    assert Answer.objects.get(plan=plan, question_key=PID).version == pid_version
    assert value(plan, DATASET_TITLE, block) == "Confocal stacks"
    assert value(plan, ACCESS, block) == "open"
    asked = set(questions_by_key(plan.template))
    assert set(plan.answers.values_list("question_key", flat=True)) <= asked
    assert value(plan, KINDS) is None
    # What could not be carried stays in the automatic snapshot.
    kept = {(a["question_key"], a["block_id"]): a["value"] for a in report.backup.answers}
    assert report.backup.template == old_template
    assert kept[(PURPOSE, "")] == "Imaging organoids"
    assert kept[(SIZE, block)] == 500.0
    assert AnswerRevision.objects.filter(plan=plan, question_key=PURPOSE).latest("pk").value is None
    # Plans of other projects stay on their version.
    other.refresh_from_db()
    assert other.template == old_template
    assert value(other, PURPOSE) == "Their purpose"


def test_restoring_a_snapshot_of_an_older_template_lists_what_no_longer_fits(
    world: World, filled: Plan, horizon_v2: TemplateFile
) -> None:
    plan = filled
    before = snapshot_create(plan=plan, name="On 2021.1", user=world.users["editor"])
    templates_load(files=[horizon_v2])
    template_upgrade(plan=plan, user=world.users["editor"])
    save(plan, world.users["editor"], PID, "no")
    report = snapshot_restore(snapshot=before, user=world.users["editor"])
    plan.refresh_from_db()
    assert plan.template.version == V2
    assert value(plan, PID) is True
    assert {item.question_key for item in report.left_out} == {PURPOSE, KINDS, COST, SIZE}
    diff = snapshot_diff(old=before, new=plan)
    assert diff.template_changed
    assert {c.question_key for c in diff.changes} == {PURPOSE, KINDS, COST, SIZE}


# ------------------------------------------------------------------------------------- pages


def test_pages_show_versions_diff_history_and_the_upgrade(
    world: World, filled: Plan, horizon_v2: TemplateFile
) -> None:
    plan = filled
    editor = world.client("editor")
    response = editor.post(f"/plans/{plan.pk}/versions/new/", {"name": "Submitted"})
    assert response.status_code == 302
    saved = PlanSnapshot.objects.get(name="Submitted")
    refused = editor.post(f"/plans/{plan.pk}/versions/new/", {"name": ""}, follow=True)
    assert "Give the version a name" in refused.content.decode()
    save(plan, world.users["manager"], KINDS, ["software"])

    page = world.client("viewer").get(f"/plans/{plan.pk}/versions/").content.decode()
    assert "Submitted" in page
    assert "Restore…" not in page  # viewers do not restore
    assert 'style="' not in page

    diff = world.client("viewer").get(f"/plans/{plan.pk}/versions/compare/?from={saved.pk}&to=current")
    body = diff.content.decode()
    assert diff.status_code == 200
    assert f"<del>{label(plan, KINDS, 'software')}, {label(plan, KINDS, 'protocols')}</del>" in body
    assert f"<ins>{label(plan, KINDS, 'software')}</ins>" in body
    assert world.client("viewer").get(f"/plans/{plan.pk}/versions/compare/?from=nope").status_code == 404

    history = world.client("viewer").get(f"/plans/{plan.pk}/history/?question={KINDS}").content.decode()
    assert "manager" in history
    assert history.count("<tr>") == 3  # the header and two saves of this question

    confirm = editor.get(f"/plans/{plan.pk}/versions/{saved.pk}/restore/").content.decode()
    assert "What would change" in confirm
    assert '<form method="post">' in confirm
    restored = editor.post(f"/plans/{plan.pk}/versions/{saved.pk}/restore/").content.decode()
    assert "“Submitted” restored" in restored
    assert value(plan, KINDS) == ["software", "protocols"]

    notice = world.client("viewer").get(f"/plans/{plan.pk}/versions/notice/").content.decode()
    assert notice.strip() == ""
    templates_load(files=[horizon_v2])
    assert (
        "A newer version of this template exists"
        in world.client("viewer").get(f"/plans/{plan.pk}/versions/notice/").content.decode()
    )
    section = editor.get(f"/plans/{plan.pk}/", follow=True).content.decode()
    assert f'hx-get="/plans/{plan.pk}/versions/notice/"' in section
    preview = editor.get(f"/plans/{plan.pk}/upgrade/").content.decode()
    assert f"Upgrade to version {V2}?" in preview
    assert "The question is not in this version of the template." in preview
    done = editor.post(f"/plans/{plan.pk}/upgrade/").content.decode()
    assert f"Plan upgraded to version {V2}" in done
    assert "Not carried over" in done
    assert "No upgrade available" in editor.get(f"/plans/{plan.pk}/upgrade/").content.decode()


def test_a_snapshot_of_another_plan_is_not_found(world: World, plan: Plan) -> None:
    other = plan_create(
        project=world.project, template=plan.template, title="Second plan", user=world.users["editor"]
    )
    theirs = snapshot_create(plan=other, name="Other", user=world.users["editor"])
    editor = world.client("editor")
    assert editor.get(f"/plans/{plan.pk}/versions/{theirs.pk}/restore/").status_code == 404
    assert editor.get(f"/plans/{plan.pk}/versions/compare/?from={theirs.pk}").status_code == 404
    api = world.api("editor")
    assert api.post(f"/api/v1/plans/{plan.pk}/snapshots/{theirs.pk}/restore/").status_code == 404
    assert api.get(f"/api/v1/plans/{plan.pk}/diff/?from={theirs.pk}&to=current").status_code == 404


# ---------------------------------------------------------------------------------------- API


def test_api_snapshots_diff_restore_history_and_upgrade(
    world: World, filled: Plan, horizon_v2: TemplateFile
) -> None:
    plan = filled
    api = world.api("editor")
    base = f"/api/v1/plans/{plan.pk}"
    created = api.post(f"{base}/snapshots/", {"name": "Submitted"}, format="json")
    assert created.status_code == 201
    snapshot_id = created.json()["id"]
    assert created.json()["template_version"] == "2021.1"
    assert api.post(f"{base}/snapshots/", {"name": ""}, format="json").status_code == 400
    assert [s["name"] for s in api.get(f"{base}/snapshots/").json()] == ["Submitted"]
    save(plan, world.users["manager"], PID, "no")

    diff = api.get(f"{base}/diff/", {"from": snapshot_id, "to": "current"})
    assert diff.status_code == 200
    assert diff.json()["changes"] == [
        {
            "question_key": PID,
            "question_text": questions_by_key(plan.template)[PID][0]["text"],
            "block_id": None,
            "block_title": None,
            "old": "Yes",
            "new": "No",
        }
    ]
    bad = api.get(f"{base}/diff/", {"from": "yesterday", "to": "current"})
    assert bad.status_code == 400
    assert "snapshot id of this plan" in bad.json()["from"][0]

    history = api.get(f"{base}/history/", {"question": PID}).json()
    assert history["count"] == 2
    assert [(e["old"], e["new"], e["changed_by"]) for e in history["results"]] == [
        ("Yes", "No", "manager"),
        ("", "Yes", "editor"),
    ]

    restored = api.post(f"{base}/snapshots/{snapshot_id}/restore/")
    assert restored.status_code == 200
    assert restored.json()["changed"] == 1
    assert restored.json()["backup"]["name"] == "Before restoring “Submitted”"
    assert value(plan, PID) is True

    assert api.get(f"{base}/upgrade/").status_code == 400
    templates_load(files=[horizon_v2])
    preview = api.get(f"{base}/upgrade/").json()
    assert preview["new_version"] == V2
    assert {item["question_key"] for item in preview["left_out"]} == {PURPOSE, KINDS, COST, SIZE}
    upgraded = api.post(f"{base}/upgrade/")
    assert upgraded.status_code == 200
    assert upgraded.json()["new_version"] == V2
    assert api.get(base + "/").json()["template_version"] == V2


# ------------------------------------------------------------------------------ access matrix

Case = tuple[str, str, Callable[[Plan, PlanSnapshot], str], str, int]
CASE_FIELDS = ("name", "method", "url", "needs", "success")

WEB_CASES: list[Case] = [
    ("versions page", "get", lambda p, s: f"/plans/{p.pk}/versions/", "viewer", 200),
    (
        "diff page",
        "get",
        lambda p, s: f"/plans/{p.pk}/versions/compare/?from={s.pk}&to=current",
        "viewer",
        200,
    ),
    ("history page", "get", lambda p, s: f"/plans/{p.pk}/history/", "viewer", 200),
    ("template notice", "get", lambda p, s: f"/plans/{p.pk}/versions/notice/", "viewer", 200),
    ("save a version", "post", lambda p, s: f"/plans/{p.pk}/versions/new/", "editor", 302),
    ("restore confirmation", "get", lambda p, s: f"/plans/{p.pk}/versions/{s.pk}/restore/", "editor", 200),
    ("restore", "post", lambda p, s: f"/plans/{p.pk}/versions/{s.pk}/restore/", "editor", 200),
    ("upgrade preview", "get", lambda p, s: f"/plans/{p.pk}/upgrade/", "editor", 200),
    ("upgrade", "post", lambda p, s: f"/plans/{p.pk}/upgrade/", "editor", 200),
]

API_CASES: list[Case] = [
    ("list snapshots", "get", lambda p, s: f"/api/v1/plans/{p.pk}/snapshots/", "viewer", 200),
    ("create snapshot", "post", lambda p, s: f"/api/v1/plans/{p.pk}/snapshots/", "editor", 201),
    ("diff", "get", lambda p, s: f"/api/v1/plans/{p.pk}/diff/?from={s.pk}&to=current", "viewer", 200),
    ("history", "get", lambda p, s: f"/api/v1/plans/{p.pk}/history/", "viewer", 200),
    ("restore", "post", lambda p, s: f"/api/v1/plans/{p.pk}/snapshots/{s.pk}/restore/", "editor", 200),
    ("upgrade preview", "get", lambda p, s: f"/api/v1/plans/{p.pk}/upgrade/", "editor", 200),
    ("upgrade", "post", lambda p, s: f"/api/v1/plans/{p.pk}/upgrade/", "editor", 200),
]


@pytest.fixture
def versioned(world: World, plan: Plan, horizon_v2: TemplateFile) -> tuple[Plan, PlanSnapshot]:
    """A plan with a saved version and a newer template version to upgrade to."""
    save(plan, world.users["editor"], PURPOSE, "Imaging organoids")
    snapshot = snapshot_create(plan=plan, name="Submitted", user=world.users["editor"])
    save(plan, world.users["editor"], PURPOSE, "Imaging zebrafish")
    templates_load(files=[horizon_v2])
    return plan, snapshot


def _state(plan: Plan) -> tuple[str, int, int, Any]:
    plan.refresh_from_db()
    return plan.template.version, plan.snapshots.count(), plan.revisions.count(), value(plan, PURPOSE)


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "method", "url", "needs", "success"), WEB_CASES, ids=[c[0] for c in WEB_CASES]
)
def test_web_matrix(
    world: World,
    versioned: tuple[Plan, PlanSnapshot],
    who: str,
    name: str,
    method: str,
    url: Callable[[Plan, PlanSnapshot], str],
    needs: str,
    success: int,
) -> None:
    plan, snapshot = versioned
    before = _state(plan)
    client = world.client(who)
    address = url(plan, snapshot)
    response = client.post(address, {"name": "By " + who}) if method == "post" else client.get(address)
    want = expected(who, needs, success=success)
    assert outcome(response) == want
    if method == "post" and want != success:
        assert _state(plan) == before  # a refused request changes nothing


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "method", "url", "needs", "success"), API_CASES, ids=[c[0] for c in API_CASES]
)
def test_api_matrix(
    world: World,
    versioned: tuple[Plan, PlanSnapshot],
    who: str,
    name: str,
    method: str,
    url: Callable[[Plan, PlanSnapshot], str],
    needs: str,
    success: int,
) -> None:
    plan, snapshot = versioned
    before = _state(plan)
    api = world.api(who)
    address = url(plan, snapshot)
    response = (
        api.post(address, {"name": "By " + who}, format="json") if method == "post" else api.get(address)
    )
    want = expected(who, needs, success=success)
    assert response.status_code == (401 if want == "login" else want)
    if method == "post" and want != success:
        assert _state(plan) == before


def test_a_fully_answered_plan_restores_in_one_piece(world: World, loaded: None) -> None:  # noqa: F811
    template = Template.objects.get(key="bioimaging-facility")
    owner = world.users["owner"]
    plan = plan_create(project=world.project, template=template, title="Demo", user=owner)
    assert demo_fill(plan) > 30
    saved = snapshot_create(plan=plan, name="Filled", user=owner)
    for answer in plan.answers.all():
        save(plan, owner, answer.question_key, None, answer.block_id)
    report = snapshot_restore(snapshot=saved, user=owner)
    plan.refresh_from_db()
    assert report.changed == len(saved.answers) > 30
    assert snapshot_diff(old=saved, new=plan).is_empty
    assert not report.backup.answers
