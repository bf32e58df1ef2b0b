"""Roles × submission pages and endpoints: who gets 200/302, 403, 404 or the login page, and
that a refused request changes nothing. Editors prepare, managers and owners act towards the
archive, viewers (and stewards, as reviewers) read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from metadata.models import Dataset
from metadata.services import dataset_register
from projects.models import StorageRoot
from repositories import services
from repositories.models import State, Submission
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import api_expected, expected, outcome
from tests.repositories.conftest import in_days


@pytest.fixture
def bare(world: World, root: StorageRoot, storage_root_dir: Path, packages_dir: Path) -> Submission:
    """A submission of an empty, registered dataset: enough to exercise every page."""
    (storage_root_dir / "empty").mkdir()
    dataset = dataset_register(
        project=world.project, user=None, storage_root=root, relative_path="empty", title="Empty"
    )
    return services.submission_create(
        project=world.project,
        datasets=[dataset],
        target="bia",
        title="Bare",
        release_date=in_days(10),
        user=world.users["editor"],
    )


def put_in(submission: Submission, state: State) -> None:
    Submission.objects.filter(pk=submission.pk).update(state=state)


def with_package(submission: Submission, packages_dir: Path) -> None:
    folder = packages_dir / f"submission-{submission.pk}"
    folder.mkdir(parents=True)
    (folder / "README.txt").write_text("metadata only\n")
    Submission.objects.filter(pk=submission.pk).update(state=State.PACKAGED, package_path=str(folder))


def snapshot(submission: Submission) -> tuple[Any, ...]:
    fresh = Submission.objects.get(pk=submission.pk)
    return (
        Submission.objects.count(),
        fresh.state,
        fresh.release_date,
        fresh.accession,
        fresh.build_started_at,
        fresh.checked_at,
        fresh.events.count(),
    )


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[Submission], str]
    data: dict[str, Any] | None
    needs: str
    success: int
    prepare: Callable[[Submission, Path], None] = lambda s, p: None


def _dataset_id(submission: Submission) -> int:
    dataset = submission.datasets.first()
    assert isinstance(dataset, Dataset)
    return dataset.pk


WEB_CASES = [
    Case(
        "project submissions", "get", lambda s: f"/submissions/project/{s.project_id}/", None, "viewer", 200
    ),
    Case(
        "new submission form",
        "get",
        lambda s: f"/submissions/project/{s.project_id}/new/",
        None,
        "editor",
        200,
    ),
    Case(
        "create submission",
        "post",
        lambda s: f"/submissions/project/{s.project_id}/new/",
        {"title": "Another", "target": "bia", "datasets": "DATASET", "release_date": ""},
        "editor",
        302,
    ),
    Case("submission page", "get", lambda s: f"/submissions/{s.pk}/", None, "viewer", 200),
    Case("pre-flight check", "post", lambda s: f"/submissions/{s.pk}/check/", {}, "editor", 302),
    Case(
        "build package",
        "post",
        lambda s: f"/submissions/{s.pk}/build/",
        {},
        "editor",
        302,
        lambda s, p: put_in(s, State.CHECKED),
    ),
    Case(
        "back to draft",
        "post",
        lambda s: f"/submissions/{s.pk}/state/",
        {"to_state": "draft", "note": ""},
        "editor",
        302,
        lambda s, p: put_in(s, State.CHECKED),
    ),
    Case(
        "mark submitted",
        "post",
        lambda s: f"/submissions/{s.pk}/state/",
        {"to_state": "submitted", "note": "Sent by FTP."},
        "manager",
        302,
        with_package,
    ),
    Case(
        "withdraw",
        "post",
        lambda s: f"/submissions/{s.pk}/state/",
        {"to_state": "withdrawn", "note": ""},
        "manager",
        302,
    ),
    Case(
        "change release date",
        "post",
        lambda s: f"/submissions/{s.pk}/release-date/",
        {"release_date": in_days(20).isoformat(), "note": ""},
        "manager",
        302,
    ),
    Case(
        "record accession",
        "post",
        lambda s: f"/submissions/{s.pk}/accession/",
        {"accession": "S-BIAD99", "doi": ""},
        "manager",
        302,
        lambda s, p: put_in(s, State.SUBMITTED),
    ),
    Case(
        "download package",
        "get",
        lambda s: f"/submissions/{s.pk}/package.zip",
        None,
        "viewer",
        200,
        with_package,
    ),
]


def _data(case: Case, submission: Submission) -> dict[str, Any] | None:
    if case.data is None:
        return None
    return {k: (_dataset_id(submission) if v == "DATASET" else v) for k, v in case.data.items()}


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize("case", WEB_CASES, ids=[c.name for c in WEB_CASES])
def test_web_matrix(world: World, bare: Submission, packages_dir: Path, who: str, case: Case) -> None:
    case.prepare(bare, packages_dir)
    before = snapshot(bare)
    client = world.client(who)
    data = _data(case, bare)
    response = client.get(case.url(bare)) if case.method == "get" else client.post(case.url(bare), data)
    wanted = expected(who, case.needs, success=case.success)
    assert outcome(response) == wanted, case.name
    if case.method == "post":
        changed = snapshot(bare) != before
        assert changed == (wanted == case.success), f"{case.name}: changed={changed}"


@pytest.mark.parametrize("who", ALL_USERS)
def test_index_lists_only_visible_submissions(world: World, bare: Submission, who: str) -> None:
    response = world.client(who).get("/submissions/")
    if who == "anonymous":
        assert outcome(response) == "login"
        return
    assert response.status_code == 200
    assert ("Bare" in response.content.decode()) == (who != "outsider")


@pytest.mark.parametrize("who", ALL_USERS)
def test_other_projects_submissions_are_invisible(world: World, bare: Submission, who: str) -> None:
    Dataset.objects.filter(pk=_dataset_id(bare)).update(project=world.other_project)
    Submission.objects.filter(pk=bare.pk).update(project=world.other_project)
    response = world.client(who).get(f"/submissions/{bare.pk}/")
    assert outcome(response) == {"anonymous": "login", "outsider": 200}.get(who, 404)


API_CASES = [
    Case("get submission", "get", lambda s: f"/api/v1/submissions/{s.pk}/", None, "viewer", 200),
    Case(
        "create submission",
        "post",
        lambda s: "/api/v1/submissions/",
        {"project": "PROJECT", "datasets": ["DATASET"], "target": "bia", "title": "Via API"},
        "editor",
        201,
    ),
    Case("check", "post", lambda s: f"/api/v1/submissions/{s.pk}/check/", {}, "editor", 200),
    Case(
        "build",
        "post",
        lambda s: f"/api/v1/submissions/{s.pk}/build/",
        {},
        "editor",
        202,
        lambda s, p: put_in(s, State.CHECKED),
    ),
    Case(
        "back to draft",
        "post",
        lambda s: f"/api/v1/submissions/{s.pk}/transition/",
        {"state": "draft"},
        "editor",
        200,
        lambda s, p: put_in(s, State.CHECKED),
    ),
    Case(
        "withdraw",
        "post",
        lambda s: f"/api/v1/submissions/{s.pk}/transition/",
        {"state": "withdrawn", "note": "Wrong data."},
        "manager",
        200,
    ),
    Case(
        "release date",
        "post",
        lambda s: f"/api/v1/submissions/{s.pk}/release-date/",
        {"release_date": in_days(40).isoformat()},
        "manager",
        200,
    ),
    Case(
        "accession",
        "post",
        lambda s: f"/api/v1/submissions/{s.pk}/accession/",
        {"accession": "S-BIAD98", "doi": "10.6019/S-BIAD98"},
        "manager",
        200,
        lambda s, p: put_in(s, State.SUBMITTED),
    ),
    Case(
        "package", "get", lambda s: f"/api/v1/submissions/{s.pk}/package/", None, "viewer", 200, with_package
    ),
]


def _api_data(case: Case, submission: Submission) -> dict[str, Any] | None:
    if case.data is None:
        return None
    replace = {"PROJECT": submission.project_id, "DATASET": _dataset_id(submission)}
    return {
        k: ([replace.get(i, i) for i in v] if isinstance(v, list) else replace.get(v, v))
        for k, v in case.data.items()
    }


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize("case", API_CASES, ids=[c.name for c in API_CASES])
def test_api_matrix(world: World, bare: Submission, packages_dir: Path, who: str, case: Case) -> None:
    case.prepare(bare, packages_dir)
    before = snapshot(bare)
    client = world.api(who)
    response = getattr(client, case.method)(case.url(bare), _api_data(case, bare), format="json")
    wanted = api_expected(who, case.needs, success=case.success)
    assert response.status_code == wanted, (case.name, getattr(response, "content", b"")[:300])
    if case.method == "post":
        assert (snapshot(bare) != before) == (wanted == case.success), case.name


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_list_shows_only_visible_submissions(world: World, bare: Submission, who: str) -> None:
    response = world.api(who).get("/api/v1/submissions/")
    if who == "anonymous":
        assert response.status_code == 401
        return
    titles = [row["title"] for row in response.json()["results"]]
    assert titles == ([] if who == "outsider" else ["Bare"])


def test_api_refusals_say_why(world: World, bare: Submission) -> None:
    client = world.api("owner")
    refused = client.post(f"/api/v1/submissions/{bare.pk}/transition/", {"state": "public"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "A submission can go from draft to checked or withdrawn, not to public."
    }
    too_late = client.post(
        f"/api/v1/submissions/{bare.pk}/release-date/",
        {"release_date": in_days(-3).isoformat()},
        format="json",
    )
    assert too_late.status_code == 400
    assert "is in the past" in too_late.json()["release_date"][0]
    not_yet = client.get(f"/api/v1/submissions/{bare.pk}/package/")
    assert not_yet.status_code == 404
    unknown = client.post(
        "/api/v1/submissions/",
        {"project": bare.project_id, "datasets": [_dataset_id(bare)], "target": "figshare", "title": "F"},
        format="json",
    )
    assert unknown.status_code == 400
    assert "figshare" in str(unknown.json())
    events = client.get(f"/api/v1/submissions/{bare.pk}/").json()["events"]
    assert [(e["from_state"], e["to_state"], e["user"], e["note"]) for e in events] == [
        ("draft", "draft", "editor", "Created.")
    ]
