"""Collaboration on a plan: comments per question, feedback requested from the facility's data
stewards, the review queue, the emails, and who may do what (web and API)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from dmp import review
from dmp.answers import answer_save, plan_create
from dmp.models import Answer, Comment, Plan, ReviewRequest, Template
from projects.models import Facility
from tests.conftest import ALL_USERS, World, make_user
from tests.dmp.test_madmp import loaded  # noqa: F401 - a fixture
from tests.projects.test_access_matrix import expected, outcome

HTMX = {"HX-Request": "true"}
QUESTION = "he.data_summary.reuse_existing"  # plan-level, long text, on the first page
BLOCK_QUESTION = "he.dataset.description"  # asked per planned dataset
OnCommit = Callable[..., AbstractContextManager[object]]


@pytest.fixture
def plan(world: World, loaded: None) -> Plan:  # noqa: F811 - the imported fixture
    return plan_create(
        project=world.project,
        template=Template.objects.get(key="horizon-europe"),
        title="Our DMP",
        user=world.users["editor"],
    )


def _comment(plan: Plan, who: User, text: str = "Please say which public data you reuse.") -> Comment:
    return review.comment_add(plan=plan, user=who, question_key=QUESTION, block_id="", text=text)


def _request(plan: Plan, who: User, message: str = "Is our storage plan enough?") -> ReviewRequest:
    return review.review_request(plan=plan, user=who, message=message)


def _page(world: World, plan: Plan, who: str = "viewer", query: str = "") -> str:
    response = world.client(who).get(f"/plans/{plan.pk}/s/data-summary/{query}")
    assert response.status_code == 200
    return response.content.decode()


# Services -----------------------------------------------------------------------------------------


def test_comments_are_grouped_by_question_and_block(world: World, plan: Plan) -> None:
    block = plan.blocks[0]["id"]
    first = _comment(plan, world.users["reviewer"])
    review.comment_add(
        plan=plan, user=world.users["steward"], question_key=BLOCK_QUESTION, block_id=block, text="Which?"
    )
    _comment(plan, world.users["editor"], "Done: we reuse EMPIAR-10002.")
    review.comment_resolve(comment=first, user=world.users["editor"])
    grouped = review.comments_by_question(plan)
    assert [c.text for c in grouped[(QUESTION, "")]] == [first.text, "Done: we reuse EMPIAR-10002."]
    assert [c.author for c in grouped[(BLOCK_QUESTION, block)]] == [world.users["steward"]]
    assert review.open_comment_count(plan) == 2
    first.refresh_from_db()
    assert first.resolved
    assert first.resolved_by == world.users["editor"]
    assert first.resolved_at is not None


@pytest.mark.parametrize(
    ("question", "block", "text", "message"),
    [
        ("he.nope", "", "Hi", "This plan has no question 'he.nope'."),
        (BLOCK_QUESTION, "", "Hi", "That planned dataset does not exist in this plan"),
        (BLOCK_QUESTION, "gone", "Hi", "That planned dataset does not exist in this plan"),
        (QUESTION, "abc", "Hi", "is asked once for the whole plan, not per planned dataset"),
        (QUESTION, "", "   ", "Write the comment first; it is empty."),
        (QUESTION, "", "x" * 5001, "The comment is longer than 5,000 characters (5,001)."),
    ],
)
def test_bad_comments_are_refused_with_a_reason(
    world: World, plan: Plan, question: str, block: str, text: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        review.comment_add(
            plan=plan, user=world.users["reviewer"], question_key=question, block_id=block, text=text
        )
    assert not Comment.objects.exists()


def test_reviewers_resolve_only_their_own_comments(world: World, plan: Plan) -> None:
    by_editor = _comment(plan, world.users["editor"])
    by_reviewer = _comment(plan, world.users["reviewer"])
    with pytest.raises(PermissionDenied, match="needs Editor or higher"):
        review.comment_resolve(comment=by_editor, user=world.users["reviewer"])
    review.comment_resolve(comment=by_reviewer, user=world.users["reviewer"])
    # Settling twice (two people at once) keeps the first resolver and changes nothing else.
    review.comment_resolve(comment=Comment.objects.get(pk=by_reviewer.pk), user=world.users["owner"])
    by_reviewer.refresh_from_db()
    assert (by_reviewer.resolved, by_reviewer.resolved_by) == (True, world.users["reviewer"])
    review.comment_reopen(comment=by_reviewer, user=world.users["reviewer"])
    by_reviewer.refresh_from_db()
    assert not by_reviewer.resolved
    assert by_reviewer.resolved_by is None
    assert by_reviewer.resolved_at is None


def test_only_one_open_request_per_plan(world: World, plan: Plan) -> None:
    first = _request(plan, world.users["editor"])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.IN_REVIEW
    with pytest.raises(ValidationError, match=r"already waiting for review \(asked by editor on "):
        _request(plan, world.users["owner"])
    assert ReviewRequest.objects.count() == 1
    review.review_withdraw(review=first, user=world.users["editor"])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT
    second = _request(plan, world.users["owner"])
    assert second.status == ReviewRequest.Status.OPEN
    assert ReviewRequest.objects.filter(status=ReviewRequest.Status.WITHDRAWN).count() == 1


def test_a_project_without_facility_or_stewards_cannot_ask(world: World, plan: Plan) -> None:
    world.facility.stewards.clear()
    with pytest.raises(ValidationError, match="Imaging Core has no data stewards yet"):
        _request(plan, world.users["editor"])
    world.project.facility = None
    world.project.save()
    plan.refresh_from_db()
    with pytest.raises(ValidationError, match="This project belongs to no facility"):
        _request(plan, world.users["editor"])
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT
    assert not ReviewRequest.objects.exists()


def test_a_final_plan_and_an_overlong_message_are_refused(world: World, plan: Plan) -> None:
    with pytest.raises(ValidationError, match="The message is longer than 5,000 characters"):
        _request(plan, world.users["editor"], "x" * 5001)
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.FINAL)
    plan.refresh_from_db()
    with pytest.raises(ValidationError, match="This plan is final"):
        _request(plan, world.users["editor"])
    assert not ReviewRequest.objects.exists()


def test_only_a_steward_of_that_facility_completes_a_review(world: World, plan: Plan) -> None:
    open_request = _request(plan, world.users["editor"])
    other_steward = make_user("other-steward")
    Facility.objects.create(name="Other core").stewards.add(other_steward)
    world.project.memberships.create(user=other_steward, role="manager")
    with pytest.raises(PermissionDenied, match="Only the data stewards of Imaging Core"):
        review.review_complete(review=open_request, user=other_steward, summary="Fine.")
    with pytest.raises(ValidationError, match="Write the review summary first"):
        review.review_complete(review=open_request, user=world.users["steward"], summary=" ")
    review.review_complete(review=open_request, user=world.users["steward"], summary="Good plan.")
    plan.refresh_from_db()
    assert plan.status == Plan.Status.DRAFT
    assert open_request.reviewed_by == world.users["steward"]
    with pytest.raises(ValidationError, match="no longer open: it was Reviewed"):
        review.review_complete(review=open_request, user=world.users["steward"], summary="Again.")
    with pytest.raises(ValidationError, match="no longer open"):
        review.review_withdraw(review=open_request, user=world.users["owner"])


def test_the_review_queue_lists_open_requests_oldest_first(world: World, loaded: None) -> None:  # noqa: F811
    template = Template.objects.get(key="horizon-europe")
    plans = [
        plan_create(project=world.project, template=template, title=f"Plan {n}", user=world.users["editor"])
        for n in range(3)
    ]
    for plan in plans:
        _request(plan, world.users["editor"])
    _comment(plans[1], world.users["steward"])
    done = ReviewRequest.objects.get(plan=plans[2])
    review.review_complete(review=done, user=world.users["steward"], summary="Looks good.")
    queue = review.review_queue(world.users["steward"])
    assert [r.plan.title for r in queue.waiting] == ["Plan 0", "Plan 1"]
    assert [getattr(r, "open_comments") for r in queue.waiting] == [0, 1]  # noqa: B009 - annotated
    assert [r.plan.title for r in queue.recently_reviewed] == ["Plan 2"]
    assert queue.facilities == [world.facility]
    nothing = review.review_queue(world.users["editor"])
    assert (nothing.waiting, nothing.facilities) == ([], [])


# Emails -------------------------------------------------------------------------------------------


def test_stewards_are_emailed_once_by_the_worker(
    world: World, plan: Plan, run_tasks: Callable[[], None], django_capture_on_commit_callbacks: OnCommit
) -> None:
    second = make_user("second-steward")
    nameless = User.objects.create_user(username="no-mail", email="")
    world.facility.stewards.add(second, nameless)
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("editor").post(
            f"/plans/{plan.pk}/review/", {"message": "Please check the licences.", "section": "data-summary"}
        )
    assert response.status_code == 302
    assert mail.outbox == []  # sent by the worker, not inside the request
    run_tasks()
    assert sorted(m.to[0] for m in mail.outbox) == ["second-steward@example.org", "steward@example.org"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    body = str(mail.outbox[0].body)
    assert f"http://127.0.0.1:8000/plans/{plan.pk}/" in body
    assert "Please check the licences." in body
    assert "Our DMP" in mail.outbox[0].subject
    run_tasks()
    assert len(mail.outbox) == 2


def test_the_requester_is_emailed_when_the_review_is_done(
    world: World, plan: Plan, run_tasks: Callable[[], None], django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_request = _request(plan, world.users["editor"])
    run_tasks()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("steward").post(
            f"/plans/reviews/{open_request.pk}/complete/", {"summary": "Add a retention period."}
        )
    assert response.status_code == 302
    run_tasks()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["editor@example.org"]
    assert "Add a retention period." in str(mail.outbox[0].body)
    assert "reviewed by Imaging Core" in mail.outbox[0].subject


def test_a_withdrawn_request_is_not_emailed(
    world: World, plan: Plan, run_tasks: Callable[[], None], django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        open_request = _request(plan, world.users["editor"])
    review.review_withdraw(review=open_request, user=world.users["manager"])
    run_tasks()
    assert mail.outbox == []


# Web: who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_comment_matrix(world: World, plan: Plan, who: str) -> None:
    response = world.client(who).post(
        f"/plans/{plan.pk}/comments/", {"question": QUESTION, "block": "", "text": f"From {who}"}
    )
    want = expected(who, "reviewer", success=302)
    assert outcome(response) == want
    assert Comment.objects.filter(text=f"From {who}").exists() == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_resolve_matrix(world: World, plan: Plan, who: str) -> None:
    comment = _comment(plan, world.users["reviewer"] if who == "steward" else world.users["steward"])
    response = world.client(who).post(f"/plans/{plan.pk}/comments/{comment.pk}/resolve/")
    # Reviewers and stewards may settle only their own comments; this one is someone else's.
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    comment.refresh_from_db()
    assert comment.resolved == (want == 302)


@pytest.mark.parametrize("who", ["reviewer", "steward"])
def test_authors_below_editor_settle_their_own_comments(world: World, plan: Plan, who: str) -> None:
    comment = _comment(plan, world.users[who])
    client = world.client(who)
    assert client.post(f"/plans/{plan.pk}/comments/{comment.pk}/resolve/").status_code == 302
    comment.refresh_from_db()
    assert comment.resolved
    assert client.post(f"/plans/{plan.pk}/comments/{comment.pk}/reopen/").status_code == 302
    comment.refresh_from_db()
    assert not comment.resolved


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_request_feedback_matrix(world: World, plan: Plan, who: str) -> None:
    response = world.client(who).post(f"/plans/{plan.pk}/review/", {"message": "Please look."})
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    plan.refresh_from_db()
    assert ReviewRequest.objects.exists() == (want == 302)
    assert plan.status == (Plan.Status.IN_REVIEW if want == 302 else Plan.Status.DRAFT)


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_complete_matrix(world: World, plan: Plan, who: str) -> None:
    open_request = _request(plan, world.users["editor"])
    response = world.client(who).post(f"/plans/reviews/{open_request.pk}/complete/", {"summary": "OK."})
    want = {"anonymous": "login", "outsider": 404, "steward": 302}.get(who, 403)
    assert outcome(response) == want
    open_request.refresh_from_db()
    assert (open_request.status == ReviewRequest.Status.REVIEWED) == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_web_withdraw_matrix(world: World, plan: Plan, who: str) -> None:
    open_request = _request(plan, world.users["editor"])
    response = world.client(who).post(f"/plans/reviews/{open_request.pk}/withdraw/")
    # The person who asked (the editor) or a manager.
    want = expected(who, "manager", success=302) if who != "editor" else 302
    assert outcome(response) == want
    open_request.refresh_from_db()
    assert (open_request.status == ReviewRequest.Status.WITHDRAWN) == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_review_queue_page_matrix(world: World, plan: Plan, who: str) -> None:
    _request(plan, world.users["editor"])
    response = world.client(who).get("/plans/reviews/")
    want = {"anonymous": "login", "steward": 200}.get(who, 403)
    assert outcome(response) == want
    if want == 200:
        page = response.content.decode()
        assert "Our DMP" in page
        assert 'href="/plans/reviews/"' in page  # the navigation names the queue for stewards


@pytest.mark.parametrize("who", ALL_USERS)
def test_review_detail_page_matrix(world: World, plan: Plan, who: str) -> None:
    open_request = _request(plan, world.users["editor"], "Look at the licences, please.")
    _comment(plan, world.users["steward"], "Which licence?")
    response = world.client(who).get(f"/plans/reviews/{open_request.pk}/")
    want = expected(who, "viewer", success=200)
    assert outcome(response) == want
    if want == 200:
        page = response.content.decode()
        assert "Look at the licences, please." in page
        assert "Which licence?" in page
        assert ("Mark the plan reviewed" in page) == (who == "steward")


def test_only_stewards_see_the_queue_in_the_navigation(world: World, plan: Plan) -> None:
    assert 'href="/plans/reviews/"' not in _page(world, plan, "owner")
    assert 'href="/plans/reviews/"' in _page(world, plan, "steward")


def test_unknown_plans_comments_and_requests_are_404(world: World, plan: Plan) -> None:
    client = world.client("owner")
    comment = _comment(plan, world.users["owner"])
    other = plan_create(
        project=world.project, template=plan.template, title="Other", user=world.users["owner"]
    )
    assert client.post(f"/plans/{other.pk}/comments/{comment.pk}/resolve/").status_code == 404
    assert client.post(f"/plans/{plan.pk}/comments/", {"question": "he.nope", "text": "x"}).status_code == 404
    assert client.get("/plans/reviews/999999/").status_code == 404
    assert client.post("/plans/999999/review/").status_code == 404


# Web: the plan page -------------------------------------------------------------------------------


def test_plan_page_shows_threads_and_the_feedback_box(world: World, plan: Plan) -> None:
    _comment(plan, world.users["steward"], "First remark")
    page = _page(world, plan, "editor")
    assert 'id="comments-card-he-data_summary-reuse_existing"' in page
    assert "Comments (1)" in page
    assert "First remark" in page
    assert "<strong>1</strong> open comment" in page
    assert f'action="/plans/{plan.pk}/review/"' in page  # editors may request feedback
    viewer = _page(world, plan, "viewer")
    assert "First remark" in viewer
    assert f'action="/plans/{plan.pk}/comments/"' not in viewer  # viewers read, never write
    assert f'action="/plans/{plan.pk}/review/"' not in viewer
    reviewer = _page(world, plan, "reviewer")
    assert f'action="/plans/{plan.pk}/comments/"' in reviewer
    assert f'action="/plans/{plan.pk}/review/"' not in reviewer


def test_plan_page_shows_the_open_request_to_its_steward(world: World, plan: Plan) -> None:
    open_request = _request(plan, world.users["editor"])
    page = _page(world, plan, "steward")
    assert "Waiting for review by the data stewards of Imaging Core" in page
    assert f'href="/plans/reviews/{open_request.pk}/">Complete the review' in page
    editor = _page(world, plan, "editor")
    assert f'action="/plans/reviews/{open_request.pk}/withdraw/"' in editor
    assert f'action="/plans/{plan.pk}/review/"' not in editor
    review.review_complete(review=open_request, user=world.users["steward"], summary="All fine.")
    assert "read the summary" in _page(world, plan, "viewer")


def test_comment_text_is_escaped_everywhere(world: World, plan: Plan) -> None:
    nasty = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _comment(plan, world.users["reviewer"], nasty)
    open_request = _request(plan, world.users["editor"], nasty)
    pages = [
        _page(world, plan, "editor"),
        world.client("steward").get(f"/plans/reviews/{open_request.pk}/").content.decode(),
        world.client("reviewer")
        .post(f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": nasty}, headers=HTMX)
        .content.decode(),
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_commenting_without_javascript_returns_to_the_thread(world: World, plan: Plan) -> None:
    client = world.client("reviewer")
    response = client.post(f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": "Why?"})
    anchor = "comments-card-he-data_summary-reuse_existing"
    assert response["Location"] == f"/plans/{plan.pk}/s/data-summary/?open={anchor}#{anchor}"
    page = client.get(response["Location"]).content.decode()
    assert f'<details id="{anchor}" class="comment-thread" open>' in page
    refused = client.post(f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": ""}, follow=True)
    assert "Write the comment first; it is empty." in refused.content.decode()
    assert Comment.objects.count() == 1


def test_commenting_with_htmx_swaps_the_thread_and_the_count(world: World, plan: Plan) -> None:
    client = world.client("steward")
    response = client.post(
        f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": "Why?"}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.startswith(
        '<details id="comments-card-he-data_summary-reuse_existing" class="comment-thread" open>'
    )
    assert "Comments (1)" in body
    assert '<p id="open-comments" hx-swap-oob="true"><strong>1</strong> open comment</p>' in body
    comment = Comment.objects.get()
    settled = client.post(f"/plans/{plan.pk}/comments/{comment.pk}/resolve/", headers=HTMX).content.decode()
    assert "resolved by steward" in settled
    assert '<p id="open-comments" hx-swap-oob="true">No open comments</p>' in settled
    empty = client.post(f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": " "}, headers=HTMX)
    assert "Write the comment first; it is empty." in empty.content.decode()
    assert Comment.objects.count() == 1


def test_block_questions_get_one_thread_per_planned_dataset(world: World, plan: Plan) -> None:
    block = plan.blocks[0]["id"]
    client = world.client("reviewer")
    response = client.post(
        f"/plans/{plan.pk}/comments/", {"question": BLOCK_QUESTION, "block": block, "text": "More detail."}
    )
    anchor = f"comments-card-he-dataset-description-{block}"
    assert response["Location"].endswith(f"?open={anchor}#{anchor}")
    page = client.get(response["Location"]).content.decode()
    assert "More detail." in page


def test_plan_page_queries_do_not_grow_with_comments(world: World, plan: Plan) -> None:
    _comment(plan, world.users["reviewer"])
    client = world.client("editor")
    url = f"/plans/{plan.pk}/s/data-summary/"
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    block = plan.blocks[0]["id"]
    keys = [
        "he.data_summary.types_formats",
        "he.data_summary.purpose",
        "he.data_summary.origin",
        "he.data_summary.data_utility",
    ]
    for n in range(40):
        who = world.users[("reviewer", "steward", "editor", "owner")[n % 4]]
        review.comment_add(plan=plan, user=who, question_key=keys[n % 4], block_id="", text=f"Note {n}")
        review.comment_add(plan=plan, user=who, question_key=BLOCK_QUESTION, block_id=block, text=f"B {n}")
    for comment in Comment.objects.all()[:10]:
        review.comment_resolve(comment=comment, user=world.users["editor"])
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert "Note 39" in page
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# The must-show: reviewers and stewards never change answers ------------------------------------


@pytest.fixture
def answered(world: World, plan: Plan) -> Answer:
    return answer_save(
        plan=plan, user=world.users["editor"], question_key=QUESTION, block_id="", raw="Original", version=0
    )


@pytest.mark.parametrize("who", ["reviewer", "steward"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_reviewers_cannot_change_an_answer_on_the_web(
    world: World, plan: Plan, answered: Answer, who: str, htmx: bool
) -> None:
    """Must show (web): a reviewer's attempt to change an answer is refused; the answer stays."""
    client = world.client(who)
    assert client.post(f"/plans/{plan.pk}/comments/", {"question": QUESTION, "text": "ok"}).status_code == 302
    response = client.post(
        f"/plans/{plan.pk}/answer/",
        {"question": QUESTION, "block": "", "value": "Changed by a reviewer", "version": answered.version},
        headers=HTMX if htmx else None,
    )
    assert response.status_code == 403
    unchanged = Answer.objects.get(pk=answered.pk)
    assert (unchanged.value, unchanged.version) == ("Original", 1)


@pytest.mark.parametrize("who", ["reviewer", "steward"])
def test_reviewers_cannot_change_an_answer_through_the_api(
    world: World, plan: Plan, answered: Answer, who: str
) -> None:
    """Must show (API): the same refusal; commenting through the API still works for them."""
    api = world.api(who)
    response = api.post(
        f"/api/v1/plans/{plan.pk}/answers/",
        {"question_key": QUESTION, "value": "Changed via API", "version": answered.version},
        format="json",
    )
    assert response.status_code == 403
    assert "this needs Editor or higher" in response.json()["detail"]
    unchanged = Answer.objects.get(pk=answered.pk)
    assert (unchanged.value, unchanged.version) == ("Original", 1)
    commented = api.post(
        f"/api/v1/plans/{plan.pk}/comments/", {"question_key": QUESTION, "text": "Fine"}, format="json"
    )
    assert commented.status_code == 201


# API ----------------------------------------------------------------------------------------------


def _api_expected(who: str, needs: str, success: int) -> int | str:
    return 401 if who == "anonymous" else expected(who, needs, success=success)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_comments_matrix(world: World, plan: Plan, who: str) -> None:
    _comment(plan, world.users["steward"], "Seen by every member")
    api = world.api(who)
    url = f"/api/v1/plans/{plan.pk}/comments/"
    listed = api.get(url)
    assert listed.status_code == _api_expected(who, "viewer", 200)
    if listed.status_code == 200:
        assert [(c["author"], c["text"]) for c in listed.json()] == [("steward", "Seen by every member")]
    created = api.post(url, {"question_key": QUESTION, "text": f"From {who}"}, format="json")
    assert created.status_code == _api_expected(who, "reviewer", 201)
    if created.status_code == 201:
        assert created.json()["author"] == world.users[who].username
        assert created.json()["resolved"] is False


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_resolve_matrix(world: World, plan: Plan, who: str) -> None:
    comment = _comment(plan, world.users["reviewer"] if who == "steward" else world.users["steward"])
    response = world.api(who).patch(
        f"/api/v1/plans/{plan.pk}/comments/{comment.pk}/", {"resolved": True}, format="json"
    )
    want = _api_expected(who, "editor", 200)
    assert response.status_code == want
    comment.refresh_from_db()
    assert comment.resolved == (want == 200)
    if want == 200:
        assert response.json()["resolved_by"] == who
        reopened = world.api(who).patch(
            f"/api/v1/plans/{plan.pk}/comments/{comment.pk}/", {"resolved": False}, format="json"
        )
        assert reopened.json()["resolved"] is False


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_review_request_matrix(world: World, plan: Plan, who: str) -> None:
    api = world.api(who)
    url = f"/api/v1/plans/{plan.pk}/review-requests/"
    response = api.post(url, {"message": "Please look."}, format="json")
    want = _api_expected(who, "editor", 201)
    assert response.status_code == want
    if want == 201:
        body = response.json()
        assert (body["status"], body["facility"], body["requested_by"]) == ("open", "Imaging Core", who)
        again = api.post(url, {}, format="json")
        assert again.status_code == 400
        assert "already waiting for review" in again.json()["detail"]
        assert [r["id"] for r in api.get(url).json()] == [body["id"]]


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_complete_matrix(world: World, plan: Plan, who: str) -> None:
    open_request = _request(plan, world.users["editor"])
    response = world.api(who).post(
        f"/api/v1/plans/{plan.pk}/review-requests/{open_request.pk}/complete/",
        {"summary": "Reviewed via the API."},
        format="json",
    )
    want = {"anonymous": 401, "outsider": 404, "steward": 200}.get(who, 403)
    assert response.status_code == want
    open_request.refresh_from_db()
    assert (open_request.status == "reviewed") == (want == 200)
    if want == 200:
        assert response.json()["summary"] == "Reviewed via the API."
        assert response.json()["reviewed_by"] == "steward"


def test_api_errors_are_specific(world: World, plan: Plan) -> None:
    api = world.api("owner")
    bad = api.post(
        f"/api/v1/plans/{plan.pk}/comments/", {"question_key": "he.nope", "text": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json() == {"detail": "This plan has no question 'he.nope'."}
    missing = api.patch(f"/api/v1/plans/{plan.pk}/comments/999999/", {"resolved": True}, format="json")
    assert missing.status_code == 404
    open_request = _request(plan, world.users["editor"])
    empty = world.api("steward").post(
        f"/api/v1/plans/{plan.pk}/review-requests/{open_request.pk}/complete/", {"summary": ""}, format="json"
    )
    assert empty.status_code == 400
    assert "Write the review summary first" in empty.json()["detail"]
    withdrawn = api.post(f"/api/v1/plans/{plan.pk}/review-requests/{open_request.pk}/withdraw/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    world.facility.stewards.clear()
    refused = api.post(f"/api/v1/plans/{plan.pk}/review-requests/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Imaging Core has no data stewards yet; ask the facility to name one."


def test_is_steward_means_a_steward_of_that_facility(world: World, plan: Plan) -> None:
    assert review.open_review(plan) is None
    assert not review.is_steward(world.users["owner"], world.facility)
    assert review.is_steward(world.users["steward"], world.facility)
    assert not review.is_steward(world.users["steward"], None)
