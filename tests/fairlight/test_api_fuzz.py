"""schemathesis against our OpenAPI schema: no request, valid or not, gets a server error, and every
response conforms to the schema (its status code is documented, its body and headers match).

The requests go straight into Django's WSGI handler (no server) as the owner of a project with a
filled plan, a scanned and described dataset and a built submission. Half of the generated cases
address those real objects, so the fuzzer reaches the code behind the permission checks; each case
runs in a savepoint that is rolled back, so a DELETE in one case leaves the next one the same rows
(files a case writes or removes on disk, such as a package, stay as they are).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from dmp.answers import plan_create
from dmp.living import link_create
from dmp.models import Plan, Template
from dmp.review import comment_add, review_request
from dmp.versions import snapshot_create
from metadata.models import Dataset
from metadata.sharing import share_link_create
from repositories.models import Submission
from tests.conftest import World
from tests.dmp.test_madmp import demo_fill, loaded  # noqa: F401 - fixture reused here
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.repositories.conftest import (  # noqa: F401 - fixtures reused here
    checked,
    described,
    packaged,
    packages_dir,
    scanned,
    submission,
)
from vocabularies.models import OntologyTerm

# Enough to reach every validation branch of our small API; 72 operations × 2 modes × this many
# cases take about a minute on one core.
EXAMPLES_PER_MODE = 20

Operation = APIOperation[Any, Any, Any, Any]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Each case renders a whole plan as PDF (about a second).
FEWER_EXAMPLES = {"GET /api/v1/plans/{id}/export/": 8}


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler, without closing the test's database connection after each request.

    Django's own test client does the same: the test's transaction must outlive the requests."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _filled_plan(world: World, linked: Dataset) -> Plan:
    owner = world.users["owner"]
    plan = plan_create(
        project=world.project, template=Template.objects.get(key="horizon-europe"), title="Fuzzed", user=owner
    )
    demo_fill(plan)
    plan.refresh_from_db()
    link_create(plan=plan, block_id=plan.blocks[0]["id"], dataset=linked, user=owner)
    return plan


def _known_ids(world: World, plan: Plan, built: Submission) -> dict[str, dict[str, int]]:
    """Real ids by the first path segment after /api/v1/ and then by path parameter name."""
    owner = world.users["owner"]
    described_dataset = built.datasets.get()
    question_key = next(iter(plan.answers.values_list("question_key", flat=True)))
    comment = comment_add(plan=plan, user=owner, question_key=question_key, block_id="", text="Why?")
    snapshot = snapshot_create(plan=plan, name="Before fuzzing", user=owner)
    review = review_request(plan=plan, user=owner, message="Please look")
    link, _ = share_link_create(
        dataset=described_dataset, user=owner, expires_at=timezone.now() + datetime.timedelta(days=7)
    )
    membership = world.project.memberships.get(user=world.users["viewer"])
    return {
        "projects": {"id": world.project.pk, "project_pk": world.project.pk},
        "memberships": {"id": membership.pk, "project_pk": world.project.pk},
        "teams": {"id": world.team.pk},
        "facilities": {"id": world.facility.pk},
        "datasets": {"id": described_dataset.pk, "link_id": link.pk},
        "plans": {
            "id": plan.pk,
            "comment_pk": comment.pk,
            "snapshot_pk": snapshot.pk,
            "review_pk": review.pk,
            "link_pk": plan.dataset_links.get().pk,
        },
        "submissions": {"id": built.pk},
        "terms": {"id": OntologyTerm.objects.order_by("pk").values_list("pk", flat=True)[0]},
    }


def _real_path_parameters(operation: Operation, known: dict[str, dict[str, int]]) -> dict[str, int]:
    names = re.findall(r"\{(\w+)\}", operation.path)
    resource = "memberships" if "/memberships/" in operation.path else operation.path.split("/")[3]
    ids = known.get(resource, {})
    return {name: ids[name] for name in names if name in ids}


def _strategy(operation: Operation, known: dict[str, dict[str, int]]) -> st.SearchStrategy[Any]:
    real = _real_path_parameters(operation, known)
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if real:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=real))
    return st.one_of(strategies)


def _fuzz(
    operation: Operation, known: dict[str, dict[str, int]], headers: dict[str, str], statuses: set[int]
) -> None:
    @settings(
        max_examples=FEWER_EXAMPLES.get(operation.label, 2 * EXAMPLES_PER_MODE),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=_strategy(operation, known))
    def run(case: schemathesis.Case[Operation]) -> None:
        with transaction.atomic():
            response = case.call(headers=headers)
            transaction.set_rollback(True)
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.slow
def test_every_operation_survives_fuzzing_and_answers_as_documented(
    world: World,
    loaded: None,  # noqa: F811
    ontologies: None,
    packaged: Submission,  # noqa: F811
    wsgi_app: WSGIHandler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Thousands of expected 4xx answers; server errors are still logged.
    caplog.set_level(logging.ERROR, logger="django.request")
    _, key = api_token_create(user=world.users["owner"], name="fuzzing")
    headers = {"Authorization": f"Token {key}"}
    plan = _filled_plan(world, packaged.datasets.get())
    known = _known_ids(world, plan, packaged)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=headers)
    operations = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            pytest.fail(f"schemathesis cannot read an operation of our schema: {result.err()}")
        operations.append(result.ok())
    assert len(operations) > 60

    failures: list[str] = []
    succeeded = []
    for operation in operations:
        statuses: set[int] = set()
        try:
            _fuzz(operation, known, headers, statuses)
        except (Exception, FailureGroup) as error:  # every operation's findings, not just the first
            failures.append(f"{operation.label}:\n{error}")
        if any(200 <= status < 300 for status in statuses):
            succeeded.append(operation.label)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    # The token works and the real ids are reached: most operations succeeded at least once.
    assert len(succeeded) > len(operations) // 2, sorted({o.label for o in operations} - set(succeeded))


@pytest.mark.parametrize(
    "url", ["/api/v1/no-such-thing/", "/api/v1/projects/abc/", "/api/v1/plans/1.5/", "/api/v1/datasets/-1/"]
)
def test_addresses_the_api_does_not_have_get_a_json_404(world: World, url: str) -> None:
    response = world.api("owner").get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_pages_that_do_not_exist_still_get_the_html_404(world: World) -> None:
    response = world.client("owner").get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing here, or you do not have access to it." in response.content.decode()
