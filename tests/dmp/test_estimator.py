"""The storage and cost estimator: its arithmetic, the facility's tiers, and filling answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from dmp.answers import answers_of, plan_create
from dmp.estimator import AcquisitionPlan, estimate
from dmp.models import Plan, Template
from dmp.services import templates_load
from projects.models import Facility
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import expected, outcome

BASE = AcquisitionPlan(
    sessions_per_year=40,
    positions=20,
    channels=3,
    z_slices=50,
    time_points=1,
    width=2048,
    height=2048,
    bit_depth=16,
    compression=1.0,
    project_years=4,
    retention_years=10,
    copies=2,
    price_per_tb_year=150,
    currency="EUR",
)
FORM = {
    "sessions_per_year": "40",
    "positions": "20",
    "channels": "3",
    "z_slices": "50",
    "time_points": "1",
    "width": "2048",
    "height": "2048",
    "bit_depth": "16",
    "compression": "1",
    "project_years": "4",
    "retention_years": "10",
    "copies": "2",
    "tier": "0",
}
TIERS = [
    {"name": "Online disk", "price_per_tb_year": 150, "currency": "EUR"},
    {"name": "Tape", "price_per_tb_year": 15, "currency": "EUR"},
]


def test_estimate_worked_example() -> None:
    result = estimate(BASE)
    assert result.bytes_per_plane == 2048 * 2048 * 2
    assert result.planes_per_session == 3000
    assert result.bytes_per_year == 40 * 3000 * 8_388_608
    assert result.bytes_total == pytest.approx(4.02653184e12)
    # Growing evenly for 4 years is 2 years of the final volume; two copies of everything.
    assert result.tb_years_project == pytest.approx(4.02653184 * 2 * 2)
    assert result.tb_years_retention == pytest.approx(4.02653184 * 10 * 2)
    assert result.cost_total == pytest.approx((16.10612736 + 80.5306368) * 150)


@pytest.mark.parametrize(("bit_depth", "bytes_per_pixel"), [(8, 1), (12, 2), (16, 2), (32, 4)])
def test_bit_depth_sets_bytes_per_pixel(bit_depth: int, bytes_per_pixel: int) -> None:
    plan = dataclasses.replace(BASE, bit_depth=bit_depth)
    assert estimate(plan).bytes_per_plane == 2048 * 2048 * bytes_per_pixel


def test_compression_divides_and_bad_values_are_refused() -> None:
    assert estimate(dataclasses.replace(BASE, compression=2)).bytes_total == estimate(BASE).bytes_total / 2
    with pytest.raises(ValidationError, match="at least 1"):
        estimate(dataclasses.replace(BASE, compression=0.5))
    with pytest.raises(ValidationError, match="Bit depth"):
        estimate(dataclasses.replace(BASE, bit_depth=10))


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ("many", "list of tiers"),
        ([{"price_per_tb_year": 3, "currency": "EUR"}], "needs a name"),
        ([{"name": "Disk", "price_per_tb_year": -1, "currency": "EUR"}], "number ≥ 0"),
        ([{"name": "Disk", "price_per_tb_year": "cheap", "currency": "EUR"}], "number ≥ 0"),
        ([{"name": "Disk", "price_per_tb_year": 3, "currency": "euro"}], "three-letter"),
    ],
)
def test_facility_tiers_are_checked(tiers: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Facility(name="F", storage_tiers=tiers).clean()


@pytest.fixture
def plan(world: World) -> Plan:
    templates_load()
    world.facility.storage_tiers = TIERS
    world.facility.save()
    template = Template.objects.get(key="bioimaging-facility")
    return plan_create(
        project=world.project, template=template, title="Facility DMP", user=world.users["owner"]
    )


def _url(plan: Plan) -> str:
    return f"/plans/{plan.pk}/estimate/"


def test_page_offers_the_facility_tiers_and_the_plan_targets(world: World, plan: Plan) -> None:
    page = world.client("viewer").get(_url(plan)).content.decode()
    assert "Online disk — 150 EUR per TB-year" in page
    assert "Tape — 15 EUR per TB-year" in page
    assert "Another price" in page
    response = world.client("editor").post(_url(plan), FORM | {"action": "calculate"})
    page = response.content.decode()
    assert "4.03 TB" in page  # by the end of the project
    assert "14495.51 EUR" in page
    for key in ("bif.volume.total", "bif.volume.growth", "bif.costs.storage", "bif.dataset.size"):
        assert f'value="{key}@' in page


def test_viewer_calculates_without_saving(world: World, plan: Plan) -> None:
    response = world.client("viewer").post(
        _url(plan), FORM | {"action": "insert", "target": "bif.costs.storage@"}
    )
    assert response.status_code == 200
    assert "14495.51 EUR" in response.content.decode()
    plan.refresh_from_db()
    assert plan.estimate == {}
    assert not plan.answers.exists()


def test_editor_fills_answers_in_their_units(world: World, plan: Plan) -> None:
    block = plan.blocks[0]["id"]
    response = world.client("editor").post(
        _url(plan),
        FORM
        | {
            "action": "insert",
            "target": [
                "bif.volume.total@",
                "bif.volume.growth@",
                "bif.costs.storage@",
                f"bif.dataset.size@{block}",
            ],
        },
    )
    assert response.status_code == 302
    values = {key: answer.value for key, answer in answers_of(plan).items()}
    assert values[("bif.volume.total", "")] == pytest.approx(4.027)  # TB
    assert values[("bif.volume.growth", "")] == pytest.approx(1.007)  # TB per year
    assert values[("bif.costs.storage", "")] == pytest.approx(14495.51)  # EUR
    assert values[("bif.dataset.size", block)] == pytest.approx(4026.532)  # GB
    plan.refresh_from_db()
    assert plan.estimate == dataclasses.asdict(BASE) | {"price_per_tb_year": 150.0, "compression": 1.0}
    # The form opens with the remembered inputs and their result.
    page = world.client("viewer").get(_url(plan)).content.decode()
    assert "14495.51 EUR" in page
    # A second fill goes through the versioned save: each answer's version rises.
    world.client("editor").post(_url(plan), FORM | {"action": "insert", "target": "bif.costs.storage@"})
    assert answers_of(plan)[("bif.costs.storage", "")].version == 2


def test_currency_mismatch_changes_nothing(world: World, plan: Plan) -> None:
    response = world.client("editor").post(
        _url(plan),
        FORM
        | {
            "tier": "custom",
            "price_per_tb_year": "200",
            "currency": "usd",
            "action": "insert",
            "target": ["bif.volume.total@", "bif.costs.storage@"],
        },
    )
    assert response.status_code == 200
    assert "asks for EUR; the estimate is in USD" in response.content.decode()
    assert not plan.answers.exists()  # the volume was not written either


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sessions_per_year": "0"}, "greater than or equal to 1"),
        ({"width": "wide"}, "Enter a whole number"),
        ({"bit_depth": "10"}, "Select a valid choice"),
        ({"tier": "custom", "price_per_tb_year": ""}, "Enter the price per TB-year"),
        ({"tier": "custom", "price_per_tb_year": "5", "currency": "€"}, "three-letter currency"),
        ({"action": "insert"}, "Choose at least one answer"),
        ({"action": "insert", "target": "no.such@"}, "no longer exists"),
    ],
)
def test_bad_input_gets_a_clear_error(world: World, plan: Plan, change: dict[str, str], message: str) -> None:
    response = world.client("editor").post(_url(plan), FORM | {"action": "calculate"} | change)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not plan.answers.exists()


@pytest.mark.parametrize("who", ALL_USERS)
def test_access(world: World, plan: Plan, who: str) -> None:
    assert outcome(world.client(who).get(_url(plan))) == expected(who, "viewer", success=200)
