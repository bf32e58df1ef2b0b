"""DMP templates: shipped files validate, load idempotently, and show with facility guidance."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from dmp.models import FacilityGuidance, Template
from dmp.services import templates_load
from dmp.template_files import TEMPLATE_DIR, TemplateError, iter_questions, read_template, shipped_templates
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import outcome

SHIPPED = {"horizon-europe", "nih-dmsp", "science-europe", "bioimaging-facility"}
HORIZON_SECTIONS = [
    "1 Data summary",
    "2 FAIR data",
    "2.1 Making data findable, including provisions for metadata",
    "2.2 Making data accessible",
    "2.3 Making data interoperable",
    "2.4 Increase data re-use",
    "3 Other research outputs",
    "4 Allocation of resources",
    "5 Data security",
    "6 Ethics",
    "7 Other issues",
]


def test_all_four_shipped_templates_validate() -> None:
    files = {template.key: template for template in shipped_templates()}
    assert set(files) == SHIPPED
    for template in files.values():
        questions = list(iter_questions(template.content))
        assert len(questions) >= 15, template.key
        assert any(block == "dataset" for _, _, block in questions), (
            f"{template.key} has no planned-dataset block"
        )
        assert all(
            question.get("madmp") is None or question["madmp"].startswith(("dmp.", "dataset."))
            for question, _, _ in questions
        )


def test_horizon_europe_has_every_2021_section() -> None:
    template = read_template(TEMPLATE_DIR / "horizon_europe_2021.yaml")
    from dmp.template_files import iter_sections

    titles = [
        f"{section.get('number', '')} {section['title']}"
        for section, _ in iter_sections(template.content["sections"])
    ]
    for heading in HORIZON_SECTIONS:
        assert heading in titles, heading


def _write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(content) if not isinstance(content, str) else content)
    return path


MINIMAL = {
    "key": "test-template",
    "version": "1",
    "title": "Test template",
    "funder": "Nobody",
    "source": "tests",
    "sections": [
        {"key": "one", "title": "One", "questions": [{"key": "q.a", "text": "Any data?", "type": "yes_no"}]}
    ],
}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("key: [unclosed", "cannot be read as YAML"),
        ("- a list", "a template is a mapping"),
        ({**MINIMAL, "key": "Bad Key"}, "key: 'Bad Key' does not match"),
        (
            {
                **MINIMAL,
                "sections": [
                    {
                        "key": "one",
                        "title": "One",
                        "questions": [{"key": "q.a", "text": "Pick one", "type": "single_choice"}],
                    }
                ],
            },
            "'choices' is a required property",
        ),
        (
            {
                **MINIMAL,
                "sections": [
                    {
                        "key": "one",
                        "title": "One",
                        "questions": [{"key": "q.a", "text": "Hello?", "type": "essay"}],
                    }
                ],
            },
            "'essay' is not one of",
        ),
        (
            {
                **MINIMAL,
                "sections": [
                    {
                        "key": "one",
                        "title": "One",
                        "questions": [
                            {"key": "q.a", "text": "First?", "type": "yes_no"},
                            {"key": "q.a", "text": "Again?", "type": "yes_no"},
                        ],
                    }
                ],
            },
            "used twice",
        ),
        (
            {
                **MINIMAL,
                "sections": [
                    {
                        "key": "one",
                        "title": "One",
                        "questions": [
                            {
                                "key": "q.b",
                                "text": "Why so?",
                                "type": "text",
                                "condition": {"question": "q.later", "equals": True},
                            }
                        ],
                    }
                ],
            },
            "not an earlier question",
        ),
        (
            {
                **MINIMAL,
                "sections": [
                    {
                        "key": "one",
                        "title": "One",
                        "questions": [
                            {"key": "q.a", "text": "Where?", "type": "text", "madmp": "project.title"}
                        ],
                    }
                ],
            },
            "does not match",
        ),
    ],
)
def test_malformed_templates_are_refused_with_the_place(
    tmp_path: Path, content: object, message: str
) -> None:
    with pytest.raises(TemplateError, match=message) as error:
        read_template(_write(tmp_path, content))
    assert str(error.value).startswith("broken.yaml: ")


def test_loading_is_idempotent_and_versions_stay(db: None, tmp_path: Path) -> None:
    report = templates_load()
    assert len(report.created) == 4
    again = templates_load()
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], 4)
    first = read_template(_write(tmp_path, MINIMAL))
    second = read_template(_write(tmp_path, {**MINIMAL, "version": "2"}))
    templates_load([first])
    templates_load([second])
    assert sorted(Template.objects.filter(key="test-template").values_list("version", flat=True)) == [
        "1",
        "2",
    ]


def test_load_command_reports_bad_files(db: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("load_templates", stdout=out)
    assert "DMP templates: 4 new, 0 updated, 0 unchanged." in out.getvalue()
    _write(tmp_path, "key: [unclosed")
    monkeypatch.setattr("dmp.template_files.TEMPLATE_DIR", tmp_path)
    with pytest.raises(CommandError, match=r"broken\.yaml: cannot be read as YAML"):
        call_command("load_templates")


@pytest.mark.parametrize("who", ALL_USERS)
def test_template_pages_and_facility_guidance(world: World, who: str) -> None:
    templates_load()
    template = Template.objects.get(key="horizon-europe")
    question = next(q for q, _, _ in iter_questions(template.content))
    client = world.client(who)
    assert outcome(client.get(f"/plans/templates/{template.pk}/")) == ("login" if who == "anonymous" else 200)
    response = client.post(
        f"/plans/templates/{template.pk}/guidance/{world.facility.pk}/",
        {"question": question["key"], "text": "Ask the facility about OME-Zarr conversion."},
    )
    expected = {"steward": 302, "anonymous": "login"}.get(who, 404)
    assert outcome(response) == expected
    assert FacilityGuidance.objects.exists() == (who == "steward")
    if who in ("viewer", "steward"):
        page = client.get(f"/plans/templates/{template.pk}/").content.decode()
        assert ("Ask the facility about OME-Zarr conversion." in page) == (who == "steward")
