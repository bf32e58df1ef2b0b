"""Roles × users for the task status page: task arguments can name private projects, so only site
staff see it; no project role or stewardship opens it."""

from __future__ import annotations

import pytest

from tests.conftest import ALL_USERS, World, make_user
from tests.projects.test_access_matrix import outcome


@pytest.mark.parametrize("who", ALL_USERS)
def test_task_status_matrix(world: World, who: str) -> None:
    response = world.client(who).get("/tasks/")
    assert outcome(response) == ("login" if who == "anonymous" else 403)


def test_site_staff_see_the_task_status(world: World) -> None:
    staff = make_user("it")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    world.users["it"] = staff
    assert world.client("it").get("/tasks/").status_code == 200
