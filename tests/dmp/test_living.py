"""The living DMP: linking datasets to planned datasets (with suggestions), what the linked data
hold, the drift report, answers taken from the data through the versioned save, a new version
from the current state, and the deposited data in the maDMP, the API and the PDF."""

from __future__ import annotations

import datetime
import json
import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dmp import living
from dmp.answers import AnswerConflict, answer_save, answers_of, blocks_change, plan_create
from dmp.exports import plan_export
from dmp.living import DriftKind, Fact
from dmp.madmp import plan_madmp, validate_madmp
from dmp.models import AnswerRevision, DatasetLink, Plan, PlanSnapshot, Template
from dmp.template_files import iter_questions
from metadata import services as metadata_services
from metadata.imaging.formats import Format
from metadata.models import Dataset
from projects.models import StorageRoot
from repositories import services as repository_services
from repositories.models import State, Submission
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import loaded  # noqa: F401 - a fixture
from tests.metadata.conftest import dataset, root, samples, scan_now  # noqa: F401 - fixtures reused here
from tests.projects.test_access_matrix import api_expected, expected, outcome
from tests.repositories.conftest import (  # noqa: F401 - fixtures reused here
    RELEASE_IN_DAYS,
    checked,
    described,
    in_days,
    packaged,
    packages_dir,
    scanned,
    submission,
)

BIF = "bioimaging-facility"
SECTION = "datasets"
ACCESSION = "S-BIAD1494"
DOI = "10.6019/S-BIAD1494"
BIA_URL = "https://www.ebi.ac.uk/bioimage-archive/"


@pytest.fixture
def plan(world: World, loaded: None) -> Plan:  # noqa: F811
    """A facility plan with two planned datasets."""
    plan = plan_create(
        project=world.project,
        template=Template.objects.get(key=BIF),
        title="Living plan",
        user=world.users["owner"],
    )
    blocks_change(plan=plan, action="rename", block_id=plan.blocks[0]["id"], title="Zebrafish light-sheet")
    blocks_change(plan=plan, action="add", title="HeLa confocal")
    plan.refresh_from_db()
    return plan


def block_id(plan: Plan, index: int = 0) -> str:
    return str(plan.blocks[index]["id"])


def answer(plan: Plan, key: str, value: Any, *, block: int | None = 0, who: str = "owner") -> None:
    """Save an answer as a person would, with the version currently stored."""
    block_key = block_id(plan, block) if block is not None else ""
    current = answers_of(plan).get((key, block_key))
    answer_save(
        plan=plan,
        user=plan.project.memberships.get(role=who).user,
        question_key=key,
        block_id=block_key,
        raw=value,
        version=current.version if current else 0,
    )


def value_of(plan: Plan, key: str, *, block: int | None = 0) -> Any:
    found = answers_of(plan).get((key, block_id(plan, block) if block is not None else ""))
    return found.value if found else None


def write_the_plan(plan: Plan, *, embargo: bool = True) -> None:
    """A first planned dataset as planned before the data existed: every fact differs from reality."""
    answer(plan, "bif.dataset.title", "Zebrafish neurons, light-sheet time-lapse")
    answer(plan, "bif.dataset.format", "ome_tiff")
    answer(plan, "bif.dataset.size", "0.0001")  # 100 kB
    answer(plan, "bif.dataset.repository", "Zenodo")
    answer(plan, "bif.dataset.licence", "CC0-1.0")
    answer(plan, "bif.dataset.embargo", "yes")
    answer(plan, "bif.dataset.embargo_end", in_days(10).isoformat())
    if not embargo:
        answer(plan, "bif.dataset.embargo", "no")
    answer(plan, "bif.volume.total", "0.0000001", block=None)  # 100 kB, in TB


def second_dataset(world: World, storage: StorageRoot, title: str, folder: str) -> Dataset:
    (Path(storage.path) / folder).mkdir()
    return metadata_services.dataset_register(
        project=world.project,
        user=world.users["editor"],
        storage_root=storage,
        relative_path=folder,
        title=title,
    )


@pytest.fixture
def registered(dataset: Dataset) -> Dataset:  # noqa: F811
    """The sample images registered, not scanned."""
    return dataset


@pytest.fixture
def storage(root: StorageRoot) -> StorageRoot:  # noqa: F811
    return root


@pytest.fixture
def deposited(world: World, plan: Plan, packaged: Submission) -> Submission:  # noqa: F811
    """The scanned samples linked to the first planned dataset and deposited in the BioImage
    Archive under embargo, each step through the repositories services."""
    manager = world.users["manager"]
    living.link_create(
        plan=plan, block_id=block_id(plan), dataset=packaged.datasets.get(), user=world.users["editor"]
    )
    repository_services.submission_transition(submission=packaged, to_state=State.SUBMITTED, user=manager)
    repository_services.submission_record_accession(
        submission=packaged, accession=ACCESSION, doi=DOI, user=manager
    )
    repository_services.submission_transition(submission=packaged, to_state=State.EMBARGOED, user=manager)
    return packaged


# ------------------------------------------------------------------------ suggestions and links


def test_title_similarity_ignores_numbers_and_generic_words() -> None:
    assert living.title_similarity("Dataset 1", "Dataset 2") == 0
    assert living.title_similarity("Zebrafish light sheet", "Zebrafish light-sheet") == 1
    assert living.title_similarity("Kidney organoids", "Confocal imaging of kidney organoids, 2026") == 1
    assert living.title_similarity("Kidney organoids", "Zebrafish light-sheet") < 0.4


def test_suggestions_by_title_and_dates(
    world: World, plan: Plan, registered: Dataset, storage: StorageRoot
) -> None:
    today = timezone.localdate()
    world.project.start_date = today - datetime.timedelta(days=30)
    world.project.end_date = today + datetime.timedelta(days=365)
    world.project.save()
    Dataset.objects.filter(pk=registered.pk).update(title="Zebrafish light sheet 2026")
    kidney = second_dataset(world, storage, "Kidney organoids", "kidney")
    stray = second_dataset(world, storage, "Calibration beads", "beads")
    # The second planned dataset is called "HeLa confocal", but its answered title names kidneys.
    answer(plan, "bif.dataset.title", "Confocal imaging of kidney organoids", block=1)

    found = {s.dataset.title: s for s in living.suggestions(plan)}

    zebrafish = found["Zebrafish light sheet 2026"]
    assert zebrafish.block == plan.blocks[0]
    assert zebrafish.reasons == [
        "title 100 % like “Zebrafish light-sheet”",
        f"registered during the project ({today:%Y-%m-%d})",
        "registered after the plan was written",
    ]
    assert zebrafish.score == 1.0
    assert found["Kidney organoids"].block == plan.blocks[1]
    assert found["Calibration beads"].block is None  # only dates fit: nothing to suggest
    living.link_create(plan=plan, block_id=block_id(plan, 1), dataset=kidney, user=world.users["editor"])
    assert {s.dataset for s in living.suggestions(plan)} == {stray, Dataset.objects.get(pk=registered.pk)}


def test_a_dataset_belongs_to_one_planned_dataset(
    world: World,
    plan: Plan,
    registered: Dataset,
    storage: StorageRoot,
) -> None:
    editor = world.users["editor"]
    link = living.link_create(plan=plan, block_id=block_id(plan), dataset=registered, user=editor)
    assert link.confirmed_by == editor
    with pytest.raises(ValidationError, match="linked to “Zebrafish light-sheet” already"):
        living.link_create(plan=plan, block_id=block_id(plan), dataset=registered, user=editor)
    with pytest.raises(ValidationError, match="unlink it there first"):
        living.link_create(plan=plan, block_id=block_id(plan, 1), dataset=registered, user=editor)
    other = second_dataset(world, storage, "Other", "other")
    with pytest.raises(ValidationError, match="no longer exists"):
        living.link_create(plan=plan, block_id="gone", dataset=other, user=editor)
    with pytest.raises(PermissionDenied):
        living.link_create(plan=plan, block_id=block_id(plan), dataset=other, user=world.users["reviewer"])
    secret = Dataset.objects.create(
        project=world.other_project, storage_root=storage, relative_path="secret", title="Secret"
    )
    with pytest.raises(ValidationError, match="belongs to another project"):
        living.link_create(plan=plan, block_id=block_id(plan), dataset=secret, user=editor)
    # The web form and the API do not even name a dataset of another project.
    client = world.client("editor")
    page = client.post(
        f"/plans/{plan.pk}/living/links/", {"dataset": secret.pk, "block": block_id(plan)}, follow=True
    )
    assert "Choose a dataset of this project." in page.content.decode()
    refused = world.api("editor").post(
        f"/api/v1/plans/{plan.pk}/links/", {"block_id": block_id(plan), "dataset": secret.pk}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"dataset": ["No dataset with this id in the plan's project."]}
    assert list(DatasetLink.objects.values_list("dataset", flat=True)) == [registered.pk]


def test_a_link_left_by_a_removed_planned_dataset_moves(
    world: World, plan: Plan, registered: Dataset
) -> None:
    editor = world.users["editor"]
    link = living.link_create(plan=plan, block_id=block_id(plan, 1), dataset=registered, user=editor)
    blocks_change(plan=plan, action="remove", block_id=block_id(plan, 1))
    plan.refresh_from_db()
    assert living.live_links(plan) == []
    assert [s.dataset for s in living.suggestions(plan)] == [registered]
    moved = living.link_create(plan=plan, block_id=block_id(plan), dataset=registered, user=editor)
    assert moved.pk == link.pk
    assert moved.block_id == block_id(plan)


# --------------------------------------------------------------------------------- access matrix


@pytest.fixture
def linkable(world: World, plan: Plan, registered: Dataset, storage: StorageRoot) -> dict[str, Any]:
    """A dataset linked to the first planned dataset and in a draft BIA submission (so the data
    answer the repository question), and one more dataset not linked yet."""
    link = living.link_create(
        plan=plan, block_id=block_id(plan), dataset=registered, user=world.users["editor"]
    )
    repository_services.submission_create(
        project=world.project,
        datasets=[registered],
        target="bia",
        title="Draft",
        release_date=None,
        user=world.users["editor"],
    )
    return {"plan": plan, "link": link, "second": second_dataset(world, storage, "Second", "second")}


WebCase = tuple[
    str, str, Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], dict[str, str]], str, int
]
WEB_CASES: list[WebCase] = [
    ("living page", "get", lambda c: f"/plans/{c['plan'].pk}/living/", lambda c: {}, "viewer", 200),
    (
        "offers beside the cards",
        "get",
        lambda c: f"/plans/{c['plan'].pk}/living/offers/?section={SECTION}",
        lambda c: {},
        "viewer",
        200,
    ),
    (
        "link",
        "post",
        lambda c: f"/plans/{c['plan'].pk}/living/links/",
        lambda c: {"dataset": str(c["second"].pk), "block": block_id(c["plan"])},
        "editor",
        302,
    ),
    (
        "unlink",
        "post",
        lambda c: f"/plans/{c['plan'].pk}/living/links/{c['link'].pk}/delete/",
        lambda c: {},
        "editor",
        302,
    ),
    (
        "use this",
        "post",
        lambda c: f"/plans/{c['plan'].pk}/living/use/",
        lambda c: {"question": "bif.dataset.repository", "block": block_id(c["plan"]), "version": "0"},
        "editor",
        302,
    ),
    (
        "new version from the current state",
        "post",
        lambda c: f"/plans/{c['plan'].pk}/living/new-version/",
        lambda c: {"name": "From the web"},
        "editor",
        200,
    ),
]


def _effect(name: str, case: dict[str, Any]) -> bool:
    """Whether the request changed what it should change."""
    plan = case["plan"]
    effects: dict[str, bool] = {
        "link": DatasetLink.objects.filter(dataset=case["second"]).exists(),
        "unlink": not DatasetLink.objects.filter(pk=case["link"].pk).exists(),
        "use this": value_of(plan, "bif.dataset.repository") == "BioImage Archive",
        "new version from the current state": PlanSnapshot.objects.filter(plan=plan).exists(),
    }
    return effects.get(name, True)


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "method", "url", "data", "needs", "success"), WEB_CASES, ids=[c[0] for c in WEB_CASES]
)
def test_web_access_matrix(
    world: World,
    linkable: dict[str, Any],
    who: str,
    name: str,
    method: str,
    url: Callable[[dict[str, Any]], str],
    data: Callable[[dict[str, Any]], dict[str, str]],
    needs: str,
    success: int,
) -> None:
    client = world.client(who)
    response = client.get(url(linkable)) if method == "get" else client.post(url(linkable), data(linkable))
    wanted = expected(who, needs, success=success)
    assert outcome(response) == wanted, (name, response.content[:300])
    assert _effect(name, linkable) == (wanted == success or method == "get")


ApiCase = tuple[str, str, Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], Any], str, int]
API_CASES: list[ApiCase] = [
    ("links", "get", lambda c: f"/api/v1/plans/{c['plan'].pk}/links/", lambda c: None, "viewer", 200),
    (
        "link",
        "post",
        lambda c: f"/api/v1/plans/{c['plan'].pk}/links/",
        lambda c: {"block_id": block_id(c["plan"]), "dataset": c["second"].pk},
        "editor",
        201,
    ),
    (
        "unlink",
        "delete",
        lambda c: f"/api/v1/plans/{c['plan'].pk}/links/{c['link'].pk}/",
        lambda c: None,
        "editor",
        204,
    ),
    (
        "planned vs actual",
        "get",
        lambda c: f"/api/v1/plans/{c['plan'].pk}/living/",
        lambda c: None,
        "viewer",
        200,
    ),
    (
        "new version from the current state",
        "post",
        lambda c: f"/api/v1/plans/{c['plan'].pk}/snapshot-from-current/",
        lambda c: {"name": "From the API"},
        "editor",
        201,
    ),
]


@pytest.mark.parametrize("who", ALL_USERS)
@pytest.mark.parametrize(
    ("name", "method", "url", "data", "needs", "success"), API_CASES, ids=[c[0] for c in API_CASES]
)
def test_api_access_matrix(
    world: World,
    linkable: dict[str, Any],
    who: str,
    name: str,
    method: str,
    url: Callable[[dict[str, Any]], str],
    data: Callable[[dict[str, Any]], Any],
    needs: str,
    success: int,
) -> None:
    response = getattr(world.api(who), method)(url(linkable), data(linkable), format="json")
    wanted = api_expected(who, needs, success=success)
    assert response.status_code == wanted, (name, response.content[:300])
    assert _effect(name, linkable) == (wanted == success or method == "get")


# ---------------------------------------------------------------------------------- actual values


def test_actual_values_from_the_scan_and_the_submission(
    world: World, plan: Plan, deposited: Submission
) -> None:
    data = deposited.datasets.get()
    actual = living.actual_for_block(plan, plan.blocks[0])
    assert actual.datasets == [data]
    assert actual.total_bytes == data.total_bytes > 500_000
    years: dict[str, int] = {}
    for month, size in data.monthly_bytes.items():
        years[month[:4]] = years.get(month[:4], 0) + size
    assert actual.growth_per_year == max(years.values())
    mime = {use.format: use.mime_type for use in actual.formats}
    assert actual.formats[0].format == Format.ND2  # the most bytes
    assert mime[Format.ND2] == "application/x-nd2"
    assert mime[Format.OME_TIFF] == "image/tiff"
    assert mime[Format.JPEG] == "image/jpeg"
    assert Format.OME_XML not in mime  # companion metadata is not the data's format
    (deposit,) = actual.deposits
    assert deposit.repository.name == "BioImage Archive"
    assert (deposit.accession, deposit.doi) == (ACCESSION, DOI)
    assert deposit.landing_url == f"https://doi.org/{DOI}"
    assert deposit.release_date == in_days(RELEASE_IN_DAYS)
    assert deposit.status == f"under embargo until {in_days(RELEASE_IN_DAYS):%Y-%m-%d}"
    assert deposit.data_access == "closed"
    assert deposit.byte_size == data.total_bytes
    assert actual.licence == "CC-BY-4.0"  # the REMBI Study's
    assert actual.identifier == (f"https://doi.org/{DOI}", "doi")
    assert living.actual_for_block(plan, plan.blocks[1]).is_empty

    page = world.client("viewer").get(f"/plans/{plan.pk}/living/").content.decode()
    assert ACCESSION in page
    assert f"under embargo until {in_days(RELEASE_IN_DAYS):%Y-%m-%d}" in page
    assert "application/x-nd2" in page
    assert "Use this" not in page  # a viewer reads, never writes


# ----------------------------------------------------------------------------------------- drift


def test_the_drift_report_names_each_difference(world: World, plan: Plan, deposited: Submission) -> None:
    """Must show 3: real volume over the planned one, formats other than planned."""
    write_the_plan(plan)
    total = deposited.datasets.get().total_bytes
    findings = {(f.kind, f.block["id"] if f.block else ""): f for f in living.drift(plan)}
    first = block_id(plan)

    assert set(findings) == {
        (DriftKind.VOLUME, first),
        (DriftKind.PROPRIETARY_FORMAT, first),
        (DriftKind.REPOSITORY, first),
        (DriftKind.LICENCE, first),
        (DriftKind.EMBARGO, first),
        (DriftKind.VOLUME, ""),  # the project's total volume
    }
    volume = findings[(DriftKind.VOLUME, first)]
    assert volume.message == f"Volume over plan by {math.ceil(100 * (total - 100_000) / 100_000)} %."
    assert volume.planned == "0.0001 GB"
    fmt = findings[(DriftKind.PROPRIETARY_FORMAT, first)]
    assert fmt.message == "A proprietary format (Nikon ND2) where the plan promised OME-TIFF."
    assert (fmt.planned, fmt.actual) == ("OME-TIFF", "Nikon ND2")
    repository = findings[(DriftKind.REPOSITORY, first)]
    assert repository.message == "Deposited in BioImage Archive, not in Zenodo as planned."
    licence = findings[(DriftKind.LICENCE, first)]
    assert (licence.planned, licence.actual) == ("CC0-1.0", "CC-BY-4.0")
    embargo = findings[(DriftKind.EMBARGO, first)]
    assert embargo.message == (
        f"Embargo ends {RELEASE_IN_DAYS - 10} days later than the plan allows "
        f"({in_days(RELEASE_IN_DAYS).isoformat()} instead of {in_days(10).isoformat()})."
    )

    page = world.client("viewer").get(f"/plans/{plan.pk}/living/").content.decode()
    assert "A proprietary format (Nikon ND2) where the plan promised OME-TIFF." in page
    assert "Deposited in BioImage Archive, not in Zenodo as planned." in page


def test_other_formats_and_an_embargo_the_plan_does_not_have(plan: Plan, deposited: Submission) -> None:
    write_the_plan(plan, embargo=False)
    answer(plan, "bif.dataset.format", "czi")
    findings = {f.kind: f for f in living.drift(plan) if f.block}
    assert findings[DriftKind.FORMAT].message == "The data are in formats the plan does not name: Nikon ND2."
    assert DriftKind.PROPRIETARY_FORMAT not in findings  # the plan promised no open format
    embargo = findings[DriftKind.EMBARGO]
    release = in_days(RELEASE_IN_DAYS).isoformat()
    assert embargo.message == f"Under embargo until {release} although the plan has no embargo."
    assert (embargo.planned, embargo.actual) == ("no embargo", release)


def test_data_that_match_the_plan_do_not_drift(plan: Plan, deposited: Submission) -> None:
    total = deposited.datasets.get().total_bytes
    answer(plan, "bif.dataset.format", "nd2")
    answer(plan, "bif.dataset.size", str(total / 1e9 * 0.995))  # rounding a plan is not drift
    answer(plan, "bif.dataset.repository", "BioImage Archive (EMBL-EBI)")
    answer(plan, "bif.dataset.licence", "https://creativecommons.org/licenses/by/4.0/")
    answer(plan, "bif.dataset.embargo", "yes")
    answer(plan, "bif.dataset.embargo_end", in_days(RELEASE_IN_DAYS + 1).isoformat())  # released earlier
    assert [f.message for f in living.drift(plan) if f.block] == []


def test_free_text_format_answers_are_read_by_name() -> None:
    text = {"type": "long_text"}
    assert living.agrees(
        text, Fact.FORMAT, "Acquired as Zeiss CZI; converted to OME-Zarr.", "Zeiss CZI, OME-Zarr"
    )
    assert not living.agrees(text, Fact.FORMAT, "We share OME-TIFF.", "TIFF")  # OME-TIFF is not plain TIFF
    assert living.agrees(text, Fact.FORMAT, "ome.tiff and some .tif exports", "OME-TIFF, TIFF")
    assert not living.agrees(text, Fact.FORMAT, "OME-Zarr (OME-NGFF 0.4)", "OME-Zarr, Nikon ND2")


def test_instruments_only_answer_questions_about_instruments(plan: Plan) -> None:
    questions = {
        question["key"]: question
        for template in Template.objects.all()
        for question, _, _ in iter_questions(template.content)
    }
    assert living.fact_of(questions["bif.acq.instruments"], per_dataset=False) == Fact.INSTRUMENTS
    assert living.fact_of(questions["nih.tools.names"], per_dataset=False) is None  # software, same field
    assert living.fact_of(questions["bif.volume.growth"], per_dataset=False) == Fact.GROWTH
    assert living.fact_of(questions["bif.dataset.size"], per_dataset=True) == Fact.VOLUME


# ------------------------------------------------------------------------ "use this" and versions


def test_use_this_saves_through_the_versioned_save(world: World, plan: Plan, deposited: Submission) -> None:
    write_the_plan(plan)
    owner, editor = world.users["owner"], world.users["editor"]
    offers = {(o.question["key"], o.block_id): o for o in living.offers(plan)}
    repository = offers[("bif.dataset.repository", block_id(plan))]
    assert (repository.planned, repository.value, repository.version) == ("Zenodo", "BioImage Archive", 1)
    size = offers[("bif.dataset.size", block_id(plan))]
    assert size.value * 1e9 >= deposited.datasets.get().total_bytes  # rounded up, never below the data
    assert offers[("bif.dataset.format", block_id(plan))].value == "nd2"
    assert offers[("bif.dataset.embargo_end", block_id(plan))].value == in_days(RELEASE_IN_DAYS).isoformat()

    saved = living.offer_use(
        plan=plan, user=editor, question_key="bif.dataset.repository", block_id=block_id(plan), version=1
    )
    assert (saved.value, saved.version) == ("BioImage Archive", 2)
    assert AnswerRevision.objects.filter(question_key="bif.dataset.repository", version=2).exists()
    # Someone saves the licence after the page was loaded: the stale "use this" changes nothing.
    answer(plan, "bif.dataset.licence", "MIT", who="manager")
    with pytest.raises(AnswerConflict):
        living.offer_use(
            plan=plan, user=owner, question_key="bif.dataset.licence", block_id=block_id(plan), version=1
        )
    assert value_of(plan, "bif.dataset.licence") == "MIT"
    with pytest.raises(ValidationError, match="give no value for this question"):
        living.offer_use(
            plan=plan, user=owner, question_key="bif.dataset.title", block_id=block_id(plan), version=1
        )

    # The wizard page gets "Actual: … — use this" after each card the data answer differently.
    client = world.client("editor")
    fragment = client.get(f"/plans/{plan.pk}/living/offers/?section={SECTION}").content.decode()
    assert f'hx-swap-oob="afterend:#card-bif-dataset-licence-{block_id(plan)}"' in fragment
    assert "card-bif-dataset-repository" not in fragment  # already answered as the data say
    assert "Actual, from the linked data: <strong>CC-BY-4.0</strong>" in fragment
    assert "differences between the plan and the linked data" in fragment
    section_page = client.get(f"/plans/{plan.pk}/s/{SECTION}/").content.decode()
    assert f"/plans/{plan.pk}/living/offers/?section={SECTION}" in section_page
    stale = client.post(
        f"/plans/{plan.pk}/living/use/",
        {"question": "bif.dataset.licence", "block": block_id(plan), "version": "1", "section": SECTION},
    )
    assert stale["Location"] == f"/plans/{plan.pk}/s/{SECTION}/#card-bif-dataset-licence-{block_id(plan)}"
    assert "Someone else changed this answer" in client.get(stale["Location"]).content.decode()
    used = client.post(
        f"/plans/{plan.pk}/living/use/",
        {"question": "bif.dataset.licence", "block": block_id(plan), "version": "2"},
        follow=True,
    )
    assert "Answered with what the data say: CC-BY-4.0." in used.content.decode()
    assert value_of(plan, "bif.dataset.licence") == "CC-BY-4.0"
    viewer_fragment = world.client("viewer").get(f"/plans/{plan.pk}/living/offers/?section={SECTION}")
    assert "Use this" not in viewer_fragment.content.decode()


def test_new_version_from_the_current_state_resolves_the_drift(
    world: World, plan: Plan, deposited: Submission
) -> None:
    write_the_plan(plan, embargo=False)
    response = world.client("editor").post(f"/plans/{plan.pk}/living/new-version/", {"name": "Paper out"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Version “Paper out” saved" in body
    assert "<td>Zenodo</td><td>BioImage Archive</td>" in body
    assert "BioImage Archive" in body

    assert [f.message for f in living.drift(plan)] == []
    snapshot = PlanSnapshot.objects.get(plan=plan)
    kept = {(a["question_key"], a["block_id"]): a["value"] for a in snapshot.answers}
    first = block_id(plan)
    assert kept[("bif.dataset.repository", first)] == "BioImage Archive"
    assert kept[("bif.dataset.licence", first)] == "CC-BY-4.0"
    assert kept[("bif.dataset.format", first)] == "nd2"
    assert kept[("bif.dataset.embargo", first)] is True  # the embargo the plan lacked, with its end
    assert kept[("bif.dataset.embargo_end", first)] == in_days(RELEASE_IN_DAYS).isoformat()
    assert kept[("bif.dataset.size", first)] * 1e9 >= deposited.datasets.get().total_bytes
    assert kept[("bif.dataset.title", first)] == "Zebrafish neurons, light-sheet time-lapse"  # untouched


def test_new_version_from_the_current_state_is_all_or_nothing(
    world: World, plan: Plan, deposited: Submission, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_the_plan(plan)
    before = {key: (a.value, a.version) for key, a in answers_of(plan).items()}
    revisions = AnswerRevision.objects.count()
    calls = []

    def save_then_conflict(**kwargs: Any) -> Any:
        calls.append(kwargs["question_key"])
        if len(calls) == 3:
            raise AnswerConflict(
                answers_of(plan)[(kwargs["question_key"], kwargs["block_id"])], kwargs["raw"]
            )
        return answer_save(**kwargs)

    monkeypatch.setattr(living, "answer_save", save_then_conflict)
    with pytest.raises(AnswerConflict):
        living.snapshot_from_current(plan=plan, user=world.users["editor"], name="Half")
    assert {key: (a.value, a.version) for key, a in answers_of(plan).items()} == before
    assert AnswerRevision.objects.count() == revisions
    assert not PlanSnapshot.objects.exists()


# ---------------------------------------------------------------------------- maDMP, PDF and API


def test_madmp_lists_the_deposited_data(world: World, plan: Plan, deposited: Submission) -> None:
    """Must show 2: after a BIA accession and release date, the maDMP lists the dataset with the
    accession, the host and the licence's start date, and validates against RDA 1.2."""
    write_the_plan(plan)
    answer(plan, "bif.dataset.repository", "BioImage Archive")
    document = plan_madmp(plan)
    assert validate_madmp(document) == []
    first, second = document["dmp"]["dataset"]
    assert first["dataset_id"] == {"identifier": f"https://doi.org/{DOI}", "type": "doi"}
    (distribution,) = first["distribution"]  # the deposit took the planned BIA distribution's place
    assert distribution["host"] == {"title": "BioImage Archive", "url": BIA_URL}
    assert distribution["access_url"] == f"https://doi.org/{DOI}"
    assert distribution["byte_size"] == deposited.datasets.get().total_bytes
    assert distribution["format"][0] == "application/x-nd2"
    assert {"image/tiff", "image/jpeg", "image/png", "application/x-zarr"} <= set(distribution["format"])
    assert distribution["license"] == [
        {
            "license_ref": "https://spdx.org/licenses/CC-BY-4.0",
            "start_date": in_days(RELEASE_IN_DAYS).isoformat(),
        }
    ]
    assert distribution["data_access"] == "closed"
    assert second["dataset_id"]["type"] == "url"  # nothing linked: still the plan's own

    # Released, and an accession without DOI: the accession names the dataset and its page.
    manager = world.users["manager"]
    repository_services.submission_transition(submission=deposited, to_state=State.PUBLIC, user=manager)
    repository_services.submission_record_accession(
        submission=deposited, accession=ACCESSION, doi="", user=manager
    )
    answer(plan, "bif.dataset.repository", "Zenodo")
    document = plan_madmp(plan)
    assert validate_madmp(document) == []
    first = document["dmp"]["dataset"][0]
    assert first["dataset_id"] == {"identifier": ACCESSION, "type": "other"}
    deposit, planned = first["distribution"]  # the planned Zenodo deposit stays, as a plan
    assert deposit["access_url"] == f"https://www.ebi.ac.uk/biostudies/bioimages/studies/{ACCESSION}"
    assert deposit["data_access"] == "open"
    assert planned["host"] == {"title": "Zenodo", "url": "https://zenodo.org/"}


def test_madmp_of_linked_but_undeposited_data_is_unchanged(
    world: World, plan: Plan, registered: Dataset
) -> None:
    write_the_plan(plan)
    before = json.dumps(plan_madmp(plan))
    living.link_create(plan=plan, block_id=block_id(plan), dataset=registered, user=world.users["editor"])
    repository_services.submission_create(
        project=world.project,
        datasets=[registered],
        target="bia",
        title="Draft",
        release_date=None,
        user=None,
    )
    assert json.dumps(plan_madmp(plan)) == before  # a draft submission is not a deposit


def test_exports_have_data_as_deposited(world: World, plan: Plan, deposited: Submission) -> None:
    write_the_plan(plan)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed; cannot read the PDF's text")
    pdf = plan_export(plan=plan, kind="pdf").content
    text = " ".join(
        subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    assert "Data as deposited" in text
    assert f"BioImage Archive, accession {ACCESSION}, DOI {DOI}, under embargo until" in text
    assert "Nikon ND2 (application/x-nd2)" in text
    markdown = plan_export(plan=plan, kind="md").content.decode()
    assert "## Data as deposited" in markdown
    assert "### Planned dataset: Zebrafish light-sheet" in markdown
    assert "- **Licence:** CC-BY-4.0" in markdown

    unlinked = plan_create(
        project=world.project, template=plan.template, title="Without data", user=world.users["owner"]
    )
    assert "Data as deposited" not in plan_export(plan=unlinked, kind="html").content.decode()


def test_api_planned_vs_actual_and_new_version(world: World, plan: Plan, deposited: Submission) -> None:
    write_the_plan(plan)
    api = world.api("editor")
    body = api.get(f"/api/v1/plans/{plan.pk}/living/").json()
    first = body["planned_datasets"][0]
    assert first["links"][0]["dataset"] == deposited.datasets.get().pk
    assert first["actual"]["deposits"][0]["accession"] == ACCESSION
    assert first["actual"]["deposits"][0]["status"].startswith("under embargo until")
    assert first["actual"]["formats"][0] == {
        "format": "nd2",
        "name": "Nikon ND2",
        "mime_type": "application/x-nd2",
        "files": 1,
        "bytes": first["actual"]["formats"][0]["bytes"],
        "is_proprietary": True,
    }
    assert body["planned_datasets"][1]["actual"] is None
    assert {d["kind"] for d in body["drift"]} >= {"volume_over_plan", "proprietary_format", "embargo_later"}
    licence = next(o for o in first["offers"] if o["question_key"] == "bif.dataset.licence")
    # An offer is used through the answers endpoint, with the version it came with.
    saved = api.post(
        f"/api/v1/plans/{plan.pk}/answers/",
        {
            "question_key": "bif.dataset.licence",
            "block_id": licence["block_id"],
            "value": licence["value"],
            "version": licence["version"],
        },
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json()["value"] == "CC-BY-4.0"
    made = api.post(f"/api/v1/plans/{plan.pk}/snapshot-from-current/", {}, format="json")
    assert made.status_code == 201
    report = made.json()
    assert report["snapshot"]["name"].startswith("As deposited, ")
    assert "CC-BY-4.0" not in {change["new"] for change in report["changes"]}  # already resolved
    assert {change["old"] for change in report["changes"]} >= {"Zenodo", "OME-TIFF"}
    assert api.get(f"/api/v1/plans/{plan.pk}/living/").json()["drift"] == []
