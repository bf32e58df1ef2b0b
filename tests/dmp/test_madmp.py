"""maDMP export: every shipped template's plans validate against the RDA 1.2 schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dmp.answers import answer_save, plan_create, questions_by_key
from dmp.demo import demo_plan_ensure, example_answer
from dmp.madmp import plan_madmp, validate_madmp
from dmp.models import Plan, Template
from dmp.services import templates_load
from tests.conftest import World


@pytest.fixture
def loaded(db: None) -> None:
    templates_load()


@pytest.mark.parametrize("key", ["horizon-europe", "nih-dmsp", "science-europe", "bioimaging-facility"])
def test_filled_plans_of_every_template_validate(world: World, loaded: None, key: str) -> None:
    template = Template.objects.get(key=key)
    plan = plan_create(
        project=world.project, template=template, title=f"{key} plan", user=world.users["owner"]
    )
    filled = demo_fill(plan)
    document = plan_madmp(plan)
    assert validate_madmp(document) == []
    assert document["dmp"]["title"] == f"{key} plan"
    assert len(document["dmp"]["dataset"]) == 1
    assert filled > 10


def demo_fill(plan: Plan) -> int:
    """Answer every question with its example, as the demo plan does."""
    count = 0
    owner = plan.project.memberships.get(role="owner").user
    for key, (question, block) in questions_by_key(plan.template).items():
        block_id = plan.blocks[0]["id"] if block else ""
        try:
            answer_save(
                plan=plan,
                user=owner,
                question_key=key,
                block_id=block_id,
                raw=example_answer(question),
                version=0,
            )
        except ValidationError:
            continue
        count += 1
    return count


def test_demo_plan_maps_sizes_licences_and_hosts(world: World, loaded: None) -> None:
    plan = demo_plan_ensure(project=world.project, user=world.users["owner"])
    assert plan is not None
    document = plan_madmp(plan)
    distribution = document["dmp"]["dataset"][0]["distribution"][0]
    assert isinstance(distribution["byte_size"], int)
    assert distribution["license"][0]["license_ref"].startswith("https://")
    assert distribution["host"]["url"].startswith("https://")
    assert document["dmp"]["project"][0]["title"] == world.project.title


def test_empty_plan_still_validates(world: World, loaded: None) -> None:
    plan = plan_create(
        project=world.project,
        template=Template.objects.get(key="nih-dmsp"),
        title="Empty",
        user=world.users["owner"],
    )
    assert validate_madmp(plan_madmp(plan)) == []


def test_download_api_and_cli(world: World, loaded: None, tmp_path: Path) -> None:
    plan = demo_plan_ensure(project=world.project, user=world.users["owner"])
    assert plan is not None
    download = world.client("viewer").get(f"/plans/{plan.pk}/madmp.json")
    assert json.loads(download.content)["dmp"]["title"] == plan.title
    assert world.client("outsider").get(f"/plans/{plan.pk}/madmp.json").status_code == 404
    assert world.api("reviewer").get(f"/api/v1/plans/{plan.pk}/madmp/").json()["dmp"]["language"] == "eng"
    target = tmp_path / "plan.json"
    call_command("plan_export", str(plan.pk), "--output", str(target), stdout=io.StringIO())
    assert validate_madmp(json.loads(target.read_text())) == []
