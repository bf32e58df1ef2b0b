"""Every audited change writes exactly one event naming who, what and old → new, in the same
transaction as the change; refused changes (permission, validation, conflict) write none."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import MAX_VALUE_CHARS, record
from dmp.answers import AnswerConflict, answer_save
from dmp.models import Answer, Plan, PlanSnapshot
from dmp.services import templates_load
from dmp.template_files import TemplateFile
from dmp.versions import snapshot_create, snapshot_restore, template_upgrade
from projects import services as project_services
from projects.models import Invitation, Membership, Role
from projects.notifications import invitation_token
from repositories.models import State, Submission
from tests.conftest import World, make_user
from tests.dmp.test_madmp import loaded  # noqa: F401 - a fixture
from tests.dmp.test_versions import (  # noqa: F401 - fixtures among them
    DATASET_TITLE,
    PID,
    PURPOSE,
    SIZE,
    filled,
    horizon_v2,
    plan,
    save,
)

Row = tuple[str, str | None, str, Any, Any]


def events(**filters: Any) -> list[Row]:
    """(action, actor, object type, old, new) of the events, oldest first."""
    return [
        (e.action, e.actor.username if e.actor else None, e.object_type, e.old, e.new)
        for e in AuditEvent.objects.filter(**filters).select_related("actor").order_by("id")
    ]


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# ------------------------------------------------------------------------------------ answers


def test_each_answer_save_is_one_event_with_old_and_new(world: World, plan: Plan) -> None:  # noqa: F811 - the imported fixture
    save(plan, world.users["editor"], PURPOSE, "Imaging organoids")
    save(plan, world.users["manager"], PURPOSE, "Imaging zebrafish")
    block = plan.blocks[0]["id"]
    save(plan, world.users["owner"], SIZE, "12,5", block)
    assert events() == [
        (Action.ANSWER_CHANGED, "editor", "answer", None, "Imaging organoids"),
        (Action.ANSWER_CHANGED, "manager", "answer", "Imaging organoids", "Imaging zebrafish"),
        (Action.ANSWER_CHANGED, "owner", "answer", None, 12.5),
    ]
    first, _, sized = AuditEvent.objects.order_by("id")
    assert first.project_id == world.project.pk
    assert first.object_id == Answer.objects.get(plan=plan, question_key=PURPOSE).pk
    assert first.object_label.startswith("Our DMP: ")
    assert first.actor_name == "editor"
    assert sized.object_label.endswith("(Dataset 1)")


def test_planned_dataset_changes_are_one_event_each(world: World, plan: Plan) -> None:  # noqa: F811 - the imported fixture
    url = f"/plans/{plan.pk}/blocks/"
    editor = world.client("editor")
    editor.post(url, {"action": "add", "title": "Light-sheet"})
    plan.refresh_from_db()
    first, second = (block["id"] for block in plan.blocks)
    save(plan, world.users["editor"], SIZE, "40", second)
    save(plan, world.users["editor"], DATASET_TITLE, "Light-sheet stacks", second)
    editor.post(url, {"action": "rename", "block": second, "title": "Light-sheet, 2026"})
    editor.post(url, {"action": "rename", "block": second, "title": "Light-sheet, 2026"})  # no change
    editor.post(url, {"action": "up", "block": second})  # order only: not audited
    editor.post(url, {"action": "remove", "block": second})
    world.client("viewer").post(url, {"action": "remove", "block": first})  # refused: no event
    editor.post(url, {"action": "remove", "block": first})  # the last one stays: no event
    blocks = [row for row in events() if row[0] != Action.ANSWER_CHANGED]
    assert blocks == [
        (Action.PLANNED_DATASET_ADDED, "editor", "plan", None, "Light-sheet"),
        (Action.PLANNED_DATASET_RENAMED, "editor", "plan", "Light-sheet", "Light-sheet, 2026"),
        (Action.PLANNED_DATASET_REMOVED, "editor", "plan", "Light-sheet, 2026", None),
    ]
    removed = AuditEvent.objects.get(action=Action.PLANNED_DATASET_REMOVED)
    assert removed.note == "2 answers removed with it"
    assert removed.object_id == plan.pk


def test_first_answers_written_at_once_are_one_event(world: World, loaded: None) -> None:  # noqa: F811 - the imported fixture
    from dmp.demo import demo_plan_ensure

    demo = demo_plan_ensure(project=world.project, user=world.users["owner"])
    assert demo is not None
    (event,) = AuditEvent.objects.all()
    count = demo.answers.count()
    assert (event.action, event.actor, event.object_id, event.new) == (
        Action.ANSWERS_CREATED, world.users["owner"], demo.pk, count
    )  # fmt: skip
    assert event.note == f"{count} answers from the demo plan's examples"


def test_refused_answer_saves_write_no_event(world: World, plan: Plan) -> None:  # noqa: F811 - the imported fixture
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
    assert events() == [(Action.ANSWER_CHANGED, "editor", "answer", None, "Kept")]


def test_long_values_are_cut_and_the_answer_keeps_them_whole(world: World, plan: Plan) -> None:  # noqa: F811 - the imported fixture
    text = "x" * 5000
    save(plan, world.users["editor"], PURPOSE, text)
    event = AuditEvent.objects.get()
    assert isinstance(event.new, str)
    assert len(event.new) == MAX_VALUE_CHARS
    assert event.new.endswith("…")
    assert Answer.objects.get(plan=plan, question_key=PURPOSE).value == text


def test_values_are_stored_as_json_and_shown_in_plain_words(world: World) -> None:
    event = record(
        action=Action.EMBARGO_CHANGED,
        project_id=world.project.pk,
        actor=None,
        object_type="submission",
        object_id=None,
        object_label="A submission",
        old=datetime.date(2027, 6, 30),
        new={"kinds": ["software", "data"], "open": True},
    )
    event.refresh_from_db()
    assert event.old == "2027-06-30"
    assert event.old_shown == "2027-06-30"
    assert event.new_shown == '{"kinds": ["software", "data"], "open": true}'
    assert event.actor is None
    assert event.actor_name == ""


def test_a_restore_is_one_event_besides_the_answers_it_saves(world: World, plan: Plan) -> None:  # noqa: F811 - the imported fixture
    editor = world.users["editor"]
    save(plan, editor, PURPOSE, "Imaging organoids")
    saved = snapshot_create(plan=plan, name="Submitted", user=editor)
    save(plan, editor, PURPOSE, "Imaging zebrafish")
    save(plan, editor, PID, "yes")
    before = AuditEvent.objects.count()
    for who in ("reviewer", "viewer"):
        with pytest.raises(PermissionDenied):
            snapshot_restore(snapshot=saved, user=world.users[who])
    assert AuditEvent.objects.count() == before

    report = snapshot_restore(snapshot=saved, user=editor)
    new = events(pk__gt=AuditEvent.objects.order_by("id")[before - 1].pk)
    assert new[-1] == (Action.PLAN_RESTORED, "editor", "plan", None, "Submitted")
    # Answers the snapshot lacks are cleared first, then its values are written back.
    assert new[:-1] == [
        (Action.ANSWER_CHANGED, "editor", "answer", True, None),
        (Action.ANSWER_CHANGED, "editor", "answer", "Imaging zebrafish", "Imaging organoids"),
    ]
    assert report.changed == 2
    note = AuditEvent.objects.get(action=Action.PLAN_RESTORED).note
    assert note.startswith("2 answers changed, 0 left out")
    assert report.backup.name in note


def test_a_restore_undone_by_a_racing_save_leaves_no_event(
    world: World,
    plan: Plan,  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    editor, manager = world.users["editor"], world.users["manager"]
    save(plan, editor, PURPOSE, "Imaging organoids")
    save(plan, editor, PID, "yes")
    saved = snapshot_create(plan=plan, name="Submitted", user=editor)
    save(plan, manager, PURPOSE, "Imaging zebrafish")
    save(plan, manager, PID, "no")
    before = AuditEvent.objects.count()

    def racing_save(**kwargs: Any) -> Answer:
        if kwargs["question_key"] == PID:
            save(plan, manager, PID, "yes")
        return answer_save(**kwargs)

    monkeypatch.setattr("dmp.versions.answer_save", racing_save)
    with pytest.raises(ValidationError):
        snapshot_restore(snapshot=saved, user=editor)
    assert AuditEvent.objects.count() == before
    assert PlanSnapshot.objects.count() == 1


def test_an_upgrade_is_one_event_with_both_versions(
    world: World,
    filled: Plan,  # noqa: F811 - the imported fixture
    horizon_v2: TemplateFile,  # noqa: F811
) -> None:
    before = AuditEvent.objects.count()
    # Ids, not the count: PostgreSQL does not restart its sequences between tests.
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    templates_load(files=[horizon_v2])
    with pytest.raises(PermissionDenied):
        template_upgrade(plan=filled, user=world.users["reviewer"])
    assert AuditEvent.objects.count() == before
    report = template_upgrade(plan=filled, user=world.users["editor"])
    upgrade = AuditEvent.objects.get(action=Action.PLAN_UPGRADED)
    assert (upgrade.actor, upgrade.old, upgrade.new) == (world.users["editor"], "2021.1", report.new_version)
    assert upgrade.note.startswith(f"3 answers carried, {len(report.left_out)} left out")
    # Cleared answers are saved (and audited) one by one; the upgrade event comes last.
    assert AuditEvent.objects.latest("id") == upgrade
    cleared = AuditEvent.objects.filter(pk__gt=last_id, action=Action.ANSWER_CHANGED)
    assert cleared.count() > 0
    assert all(event.new is None for event in cleared)


# ------------------------------------------------------------------------------------ submissions


@pytest.fixture
def packaged(world: World) -> Submission:
    """A packaged submission without datasets: enough for states and dates, which check no files."""
    return Submission.objects.create(
        project=world.project,
        target="bia",
        title="Mitochondria",
        state=State.PACKAGED,
        release_date=in_days(30),
        created_by=world.users["editor"],
    )


def test_each_state_change_is_one_event(world: World, packaged: Submission) -> None:
    url = f"/api/v1/submissions/{packaged.pk}/transition/"
    response = world.api("manager").post(url, {"state": "submitted", "note": "Uploaded"}, format="json")
    assert response.status_code == 200
    assert events() == [(Action.SUBMISSION_STATE, "manager", "submission", "packaged", "submitted")]
    event = AuditEvent.objects.get()
    assert (event.object_id, event.object_label, event.note) == (packaged.pk, "Mitochondria", "Uploaded")


def test_refused_state_changes_write_no_event(world: World, packaged: Submission) -> None:
    url = f"/api/v1/submissions/{packaged.pk}/transition/"
    assert world.api("editor").post(url, {"state": "submitted"}, format="json").status_code == 403
    assert world.api("outsider").post(url, {"state": "submitted"}, format="json").status_code == 404
    assert world.api("manager").post(url, {"state": "public"}, format="json").status_code == 400
    assert world.api("manager").post(url, {"state": "lost"}, format="json").status_code == 400
    assert AuditEvent.objects.count() == 0
    assert Submission.objects.get(pk=packaged.pk).state == State.PACKAGED


def test_a_new_release_date_is_one_event_and_the_draft_it_causes_another(
    world: World, packaged: Submission
) -> None:
    old, new = packaged.release_date, in_days(60)
    assert old is not None
    url = f"/api/v1/submissions/{packaged.pk}/release-date/"
    response = world.api("owner").post(url, {"release_date": new.isoformat(), "note": "Paper delayed"})
    assert response.status_code == 200
    assert events() == [
        (Action.EMBARGO_CHANGED, "owner", "submission", old.isoformat(), new.isoformat()),
        # A packaged submission describes the old date, so it goes back to draft.
        (Action.SUBMISSION_STATE, "owner", "submission", "packaged", "draft"),
    ]
    assert AuditEvent.objects.get(action=Action.EMBARGO_CHANGED).note == "Paper delayed"


def test_an_embargo_change_is_one_event_with_its_reason(world: World, packaged: Submission) -> None:
    Submission.objects.filter(pk=packaged.pk).update(state=State.EMBARGOED)
    old, new = packaged.release_date, in_days(90)
    assert old is not None
    url = f"/api/v1/submissions/{packaged.pk}/embargo/"
    manager = world.api("manager")
    response = manager.post(
        url, {"release_date": new.isoformat(), "reason": "Reviewers asked"}, format="json"
    )
    assert response.status_code == 200
    assert events() == [(Action.EMBARGO_CHANGED, "manager", "submission", old.isoformat(), new.isoformat())]
    assert AuditEvent.objects.get().note == "Reviewers asked"


def test_refused_embargo_changes_write_no_event(world: World, packaged: Submission) -> None:
    Submission.objects.filter(pk=packaged.pk).update(state=State.EMBARGOED)
    url = f"/api/v1/submissions/{packaged.pk}/embargo/"
    later = {"release_date": in_days(90).isoformat(), "reason": "Reviewers asked"}
    assert world.api("editor").post(url, later, format="json").status_code == 403
    assert world.api("steward").post(url, later, format="json").status_code == 403
    manager = world.api("manager")
    assert manager.post(url, {"release_date": in_days(90).isoformat()}, format="json").status_code == 400
    same = {"release_date": packaged.release_date.isoformat() if packaged.release_date else "", "reason": "x"}
    assert manager.post(url, same, format="json").status_code == 400
    past = {"release_date": in_days(-3).isoformat(), "reason": "Oops"}
    assert manager.post(url, past, format="json").status_code == 400
    assert AuditEvent.objects.count() == 0


# ------------------------------------------------------------------------------------ memberships


def test_adding_a_member_is_one_event(world: World) -> None:
    make_user("newcomer")
    url = f"/api/v1/projects/{world.project.pk}/memberships/"
    response = world.api("manager").post(url, {"username": "newcomer", "role": "viewer"}, format="json")
    assert response.status_code == 201
    assert events() == [(Action.MEMBERSHIP_ADDED, "manager", "membership", None, "viewer")]
    event = AuditEvent.objects.get()
    assert (event.object_label, event.object_id) == ("newcomer", response.json()["id"])


def test_refused_additions_write_no_event(world: World) -> None:
    make_user("newcomer")
    url = f"/api/v1/projects/{world.project.pk}/memberships/"
    assert world.api("editor").post(url, {"username": "newcomer", "role": "viewer"}).status_code == 403
    manager = world.api("manager")
    assert manager.post(url, {"username": "newcomer", "role": "owner"}).status_code == 403
    assert manager.post(url, {"username": "viewer", "role": "viewer"}).status_code == 400
    assert manager.post(url, {"username": "nobody", "role": "viewer"}).status_code == 400
    assert AuditEvent.objects.count() == 0


def _membership(world: World, username: str) -> Membership:
    return world.project.memberships.get(user__username=username)


def set_role(world: World, who: str, member: str, role: str) -> int:
    """Change a member's role on the members page as ``who``; the response's status."""
    url = f"/projects/{world.project.pk}/members/{_membership(world, member).pk}/role/"
    return world.client(who).post(url, {"role": role}).status_code


def remove(world: World, who: str, member: str) -> int:
    url = f"/projects/{world.project.pk}/members/{_membership(world, member).pk}/remove/"
    return world.client(who).post(url).status_code


def test_a_role_change_and_an_ownership_grant_are_one_event_each(world: World) -> None:
    assert set_role(world, "manager", "viewer", "editor") == 302
    assert set_role(world, "owner", "editor", "owner") == 302
    assert events() == [
        (Action.MEMBERSHIP_ROLE_CHANGED, "manager", "membership", "viewer", "editor"),
        (Action.MEMBERSHIP_ROLE_CHANGED, "owner", "membership", "editor", "owner"),
    ]
    assert AuditEvent.objects.get(actor__username="owner").object_label == "editor"


def test_refused_role_changes_write_no_event(world: World) -> None:
    assert set_role(world, "manager", "viewer", "owner") == 403  # only owners grant ownership
    assert set_role(world, "manager", "owner", "viewer") == 403
    assert set_role(world, "editor", "viewer", "editor") == 403
    assert set_role(world, "outsider", "viewer", "editor") == 404
    # The last owner cannot step down, choosing the current role changes nothing, and an unknown
    # role is refused: each redirects with a message.
    assert set_role(world, "owner", "owner", "manager") == 302
    assert set_role(world, "owner", "viewer", "viewer") == 302
    assert set_role(world, "owner", "viewer", "emperor") == 302
    assert _membership(world, "owner").role == Role.OWNER
    assert _membership(world, "viewer").role == Role.VIEWER
    with pytest.raises(ValidationError):
        project_services.membership_change_role(
            membership=_membership(world, "owner"), actor_role=Role.OWNER, role=Role.MANAGER
        )
    assert AuditEvent.objects.count() == 0


def test_removing_and_leaving_are_one_event_each(world: World) -> None:
    reviewer_pk = _membership(world, "reviewer").pk
    assert remove(world, "manager", "reviewer") == 302
    assert remove(world, "viewer", "viewer") == 302  # anyone may leave
    assert events() == [
        (Action.MEMBERSHIP_REMOVED, "manager", "membership", "reviewer", None),
        (Action.MEMBERSHIP_REMOVED, "viewer", "membership", "viewer", None),
    ]
    assert AuditEvent.objects.order_by("id")[0].object_id == reviewer_pk


def test_refused_removals_write_no_event(world: World) -> None:
    assert remove(world, "editor", "viewer") == 403
    assert remove(world, "manager", "owner") == 403
    assert remove(world, "outsider", "viewer") == 404
    assert remove(world, "owner", "owner") == 302  # the last owner stays, with a message
    assert _membership(world, "owner").role == Role.OWNER
    assert AuditEvent.objects.count() == 0


def _invite(world: World, email: str, role: Role) -> Invitation:
    return project_services.invitation_create(
        project=world.project, actor=world.users["manager"], actor_role=Role.MANAGER, email=email, role=role
    )


def test_accepting_an_invitation_is_one_event_by_the_newcomer(world: World) -> None:
    newcomer = make_user("newcomer")
    token = invitation_token(_invite(world, "newcomer@example.org", Role.EDITOR))
    client = world.client("viewer")
    client.force_login(newcomer)
    assert client.post(f"/projects/invitations/{token}/").status_code == 302
    assert events() == [
        (Action.INVITATION_SENT, "manager", "invitation", None, "editor"),
        (Action.INVITATION_ACCEPTED, "newcomer", "membership", None, "editor"),
    ]
    # A member invited (at another address) to a higher role: old → new.
    project_services.invitation_accept(
        token=invitation_token(_invite(world, "viewer@home.example.org", Role.MANAGER)),
        user=world.users["viewer"],
    )
    assert events()[-1] == (Action.INVITATION_ACCEPTED, "viewer", "membership", "viewer", "manager")


def test_a_used_invitation_writes_no_event(world: World) -> None:
    token = invitation_token(_invite(world, "someone@example.org", Role.EDITOR))
    project_services.invitation_accept(token=token, user=make_user("someone"))
    count = AuditEvent.objects.count()
    with pytest.raises(project_services.InvitationInvalid):
        project_services.invitation_accept(token=token, user=make_user("another"))
    assert AuditEvent.objects.count() == count == 2  # sent, accepted


def test_sending_renewing_and_withdrawing_an_invitation_are_one_event_each(world: World) -> None:
    _invite(world, "guest@example.org", Role.VIEWER)
    _invite(world, "GUEST@example.org", Role.EDITOR)  # the open invitation renewed, with a new role
    invitation = Invitation.objects.get()
    url = f"/projects/{world.project.pk}/invitations/{invitation.pk}/revoke/"
    assert world.client("editor").post(url).status_code == 403
    assert world.client("manager").post(url).status_code == 302
    assert events() == [
        (Action.INVITATION_SENT, "manager", "invitation", None, "viewer"),
        (Action.INVITATION_SENT, "manager", "invitation", "viewer", "editor"),
        (Action.INVITATION_WITHDRAWN, "manager", "invitation", "editor", None),
    ]
    assert set(AuditEvent.objects.values_list("object_label", "object_id")) == {
        ("guest@example.org", invitation.pk)
    }


def test_refused_invitations_write_no_event(world: World) -> None:
    with pytest.raises(PermissionDenied):  # only owners invite owners
        _invite(world, "boss@example.org", Role.OWNER)
    with pytest.raises(ValidationError):  # already a member
        _invite(world, world.users["viewer"].email, Role.EDITOR)
    assert AuditEvent.objects.count() == 0


def test_events_stay_with_their_project(world: World) -> None:
    make_user("newcomer")
    url = f"/api/v1/projects/{world.other_project.pk}/memberships/"
    assert world.api("outsider").post(url, {"username": "newcomer", "role": "viewer"}).status_code == 201
    assert list(AuditEvent.objects.values_list("project_id", flat=True)) == [world.other_project.pk]
