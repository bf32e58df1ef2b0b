"""Creating a submission through the API tells a stranger nothing about other projects: a project
they cannot see answers like one that does not exist, and so does a dataset of such a project
(its title once appeared in the error). The roles × users matrix of this endpoint is in
test_access.py."""

from __future__ import annotations

from metadata.models import Dataset
from repositories.models import Submission
from tests.conftest import World

URL = "/api/v1/submissions/"


def _body(project: int, datasets: list[int]) -> dict[str, object]:
    return {"project": project, "title": "Probe", "datasets": datasets, "target": "bia"}


def test_a_project_you_cannot_see_answers_like_one_that_does_not_exist(
    world: World, dataset: Dataset
) -> None:
    api = world.api("outsider")
    hidden = api.post(URL, _body(world.project.pk, [dataset.pk]), format="json")
    missing = api.post(URL, _body(999_999, [dataset.pk]), format="json")
    assert (hidden.status_code, hidden.json()) == (404, {"detail": "No such project."})
    assert (missing.status_code, missing.json()) == (404, {"detail": "No such project."})
    assert not Submission.objects.exists()


def test_a_dataset_you_cannot_see_answers_like_one_that_does_not_exist(
    world: World, dataset: Dataset
) -> None:
    Dataset.objects.filter(pk=dataset.pk).update(title="Unpublished knockout screen")
    api = world.api("outsider")  # owner of world.other_project
    hidden = api.post(URL, _body(world.other_project.pk, [dataset.pk]), format="json")
    missing = api.post(URL, _body(world.other_project.pk, [999_999]), format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == {"datasets": [f'Invalid pk "{dataset.pk}" - object does not exist.']}
    assert missing.json() == {"datasets": ['Invalid pk "999999" - object does not exist.']}
    assert "knockout" not in hidden.content.decode()
    assert not Submission.objects.exists()


def test_members_of_both_projects_are_told_which_datasets_belong_elsewhere(
    world: World, dataset: Dataset
) -> None:
    world.other_project.memberships.create(user=world.users["editor"], role="editor")
    response = world.api("editor").post(URL, _body(world.other_project.pk, [dataset.pk]), format="json")
    assert response.status_code == 400
    assert response.json() == {"datasets": [f"These datasets belong to another project: {dataset}."]}
