"""Roles × users for the plan pages and endpoints the feature tests leave out: the plans index,
starting a plan, the wizard's own pages, planned-dataset blocks, reopening comments, the plan
reads of the API and withdrawing a review request there."""

from __future__ import annotations

import pytest

from dmp import review
from dmp.answers import plan_create
from dmp.models import Comment, Plan, ReviewRequest, Template
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import loaded  # noqa: F401 - a fixture
from tests.projects.test_access_matrix import api_expected, expected, outcome

SECTION = "data-summary"  # the first section of the Horizon Europe template
QUESTION = "he.data_summary.reuse_existing"


@pytest.fixture
def plan(world: World, loaded: None) -> Plan:  # noqa: F811 - the imported fixture
    return plan_create(
        project=world.project,
        template=Template.objects.get(key="horizon-europe"),
        title="Our DMP",
        user=world.users["editor"],
    )


@pytest.mark.parametrize("who", ALL_USERS)
def test_plans_index_matrix(world: World, plan: Plan, who: str) -> None:
    response = world.client(who).get("/plans/")
    assert outcome(response) == ("login" if who == "anonymous" else 200)
    if who != "anonymous":
        assert (plan.title in response.content.decode()) == (who != "outsider")


@pytest.mark.parametrize("who", ALL_USERS)
def test_plan_new_matrix(world: World, loaded: None, who: str) -> None:  # noqa: F811
    client = world.client(who)
    url = f"/plans/project/{world.project.pk}/new/"
    assert outcome(client.get(url)) == expected(who, "editor", success=200)
    template = Template.objects.get(key="horizon-europe")
    want = expected(who, "editor", success=302)
    assert outcome(client.post(url, {"template": template.pk, "title": f"Plan of {who}"})) == want
    assert Plan.objects.filter(title=f"Plan of {who}").exists() == (want == 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_plan_pages_matrix(world: World, plan: Plan, who: str) -> None:
    client = world.client(who)
    opened = client.get(f"/plans/{plan.pk}/")
    assert outcome(opened) == expected(who, "viewer", success=302)
    if outcome(opened) == 302:
        assert opened["Location"] == f"/plans/{plan.pk}/s/{SECTION}/"
    section = client.get(f"/plans/{plan.pk}/s/{SECTION}/")
    assert outcome(section) == expected(who, "viewer", success=200)
    download = client.get(f"/plans/{plan.pk}/madmp.json")
    assert outcome(download) == expected(who, "viewer", success=200)
    if download.status_code == 200:
        assert download.json()["dmp"]["title"] == "Our DMP"


@pytest.mark.parametrize("who", ALL_USERS)
def test_plan_blocks_matrix(world: World, plan: Plan, who: str) -> None:
    response = world.client(who).post(
        f"/plans/{plan.pk}/blocks/", {"action": "add", "title": "Light-sheet", "section": SECTION}
    )
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    plan.refresh_from_db()
    assert [b["title"] for b in plan.blocks] == (
        ["Dataset 1", "Light-sheet"] if want == 302 else ["Dataset 1"]
    )


@pytest.mark.parametrize("who", ALL_USERS)
def test_comment_reopen_matrix(world: World, plan: Plan, who: str) -> None:
    # Someone else's comment: reviewers and stewards may reopen only their own.
    author = world.users["reviewer"] if who == "steward" else world.users["steward"]
    comment = review.comment_add(
        plan=plan, user=author, question_key=QUESTION, block_id="", text="Which data?"
    )
    review.comment_resolve(comment=comment, user=world.users["editor"])
    response = world.client(who).post(f"/plans/{plan.pk}/comments/{comment.pk}/reopen/")
    want = expected(who, "editor", success=302)
    assert outcome(response) == want
    assert Comment.objects.get(pk=comment.pk).resolved == (want != 302)


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_plan_reads_matrix(world: World, plan: Plan, who: str) -> None:
    api = world.api(who)
    listing = api.get("/api/v1/plans/")
    assert listing.status_code == (401 if who == "anonymous" else 200)
    if who != "anonymous":
        assert [row["id"] for row in listing.json()["results"]] == ([] if who == "outsider" else [plan.pk])
    review.review_request(plan=plan, user=world.users["editor"], message="Please look.")
    for suffix in ("", "answers/", "madmp/", "review-requests/"):
        response = api.get(f"/api/v1/plans/{plan.pk}/{suffix}")
        assert response.status_code == api_expected(who, "viewer", success=200), suffix


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_review_withdraw_matrix(world: World, plan: Plan, who: str) -> None:
    asked = review.review_request(plan=plan, user=world.users["editor"], message="Please look.")
    response = world.api(who).post(f"/api/v1/plans/{plan.pk}/review-requests/{asked.pk}/withdraw/")
    # The person who asked (the editor) or a manager.
    want = 200 if who == "editor" else api_expected(who, "manager", success=200)
    assert response.status_code == want
    asked.refresh_from_db()
    assert (asked.status == ReviewRequest.Status.WITHDRAWN) == (want == 200)
    plan.refresh_from_db()
    assert plan.status == (Plan.Status.DRAFT if want == 200 else Plan.Status.IN_REVIEW)
