"""The REMBI schema: linted, artifacts up to date, and a fast validator with linkml's verdicts."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linkml.validator import Validator
from linkml.validator.plugins import JsonschemaValidationPlugin

from metadata.schema.generate import SCHEMA, generate_artifacts
from metadata.schema.model import RECORD_CLASSES, rembi_schema
from metadata.validation import Level, UnknownClass, is_valid, validate_record
from tests.metadata.rembi_corpus import corpus, examples

LINT_CONFIG = SCHEMA.parent / "lint.yaml"


@pytest.fixture(scope="module")
def linkml_validator() -> Validator:
    # closed=True: unknown fields are errors, as in FAIRlight's generated JSON Schema.
    return Validator(str(SCHEMA), validation_plugins=[JsonschemaValidationPlugin(closed=True)])


def test_schema_passes_the_linkml_linter() -> None:
    linkml = Path(sys.executable).with_name("linkml")
    result = subprocess.run(
        [str(linkml), "lint", "--config", str(LINT_CONFIG), str(SCHEMA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found" in result.stdout


def test_committed_artifacts_are_up_to_date() -> None:
    for path, content in generate_artifacts().items():
        assert path.read_text(encoding="utf-8") == content, (
            f"{path.name} is stale: run `uv run manage.py rembi_generate` and commit the result"
        )


def test_every_record_class_is_in_the_schema() -> None:
    assert set(RECORD_CLASSES) <= set(rembi_schema().classes)
    assert rembi_schema().classes["Study"].slot("licence").range == "LicenceEnum"


def test_fast_path_verdicts_equal_linkml_on_the_mutation_corpus(linkml_validator: Validator) -> None:
    records = list(corpus())
    verdicts = {"valid": 0, "invalid": 0}
    for class_name, record in records:
        expected = not linkml_validator.validate(record, class_name).results
        assert is_valid(record, class_name) == expected, (class_name, record)
        verdicts["valid" if expected else "invalid"] += 1
    assert len(records) >= 200
    assert verdicts["valid"] >= 20
    assert verdicts["invalid"] >= 100


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(class_name=st.sampled_from(RECORD_CLASSES), data=st.data())
def test_fast_path_verdicts_equal_linkml_on_random_edits(
    linkml_validator: Validator, class_name: str, data: st.DataObject
) -> None:
    record = dict(examples()[class_name])
    field = data.draw(st.sampled_from([*record, "unexpected"]))
    record[field] = data.draw(json_values)
    expected = not linkml_validator.validate(record, class_name).results
    assert is_valid(record, class_name) == expected


def test_report_messages_are_plain_and_name_the_field() -> None:
    study = examples()["Study"]
    study["author"][0]["orcid"] = "0000-0002-1825-009"
    study["licence"] = "GPL-3.0"
    del study["release_date"]
    study["keyword"] = []
    problems = validate_record(study, "Study")
    errors = {p.path: p.message for p in problems if p.level == Level.ERROR}
    assert errors["author.0.orcid"].endswith("An ORCID iD without its URL prefix, e.g. 0000-0002-1825-0097.")
    assert "is not one of the allowed values (CC0-1.0, CC-BY-4.0" in errors["licence"]
    assert errors[""] == "Release date is required."
    assert [p.path for p in problems if p.level == Level.RECOMMENDED] == ["keyword"]


def test_unknown_class_is_refused() -> None:
    with pytest.raises(UnknownClass, match="'Studdy' is not a REMBI class"):
        is_valid({}, "Studdy")


def test_rembi_validate_command(tmp_path: Path) -> None:
    good = tmp_path / "study.yaml"
    good.write_text(yaml.safe_dump(examples()["Study"]))
    out = io.StringIO()
    call_command("rembi_validate", str(good), "--class", "Study", stdout=out)
    assert "valid Study" in out.getvalue()

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**examples()["ImageData"], "size_x": 0}))
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("rembi_validate", str(bad), "--class", "ImageData", stdout=out)
    assert "size_x: Size x must be at least 1." in out.getvalue()

    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed")
    with pytest.raises(CommandError, match="is not valid YAML or JSON"):
        call_command("rembi_validate", str(broken), "--class", "Study")
