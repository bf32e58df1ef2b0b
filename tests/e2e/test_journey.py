"""The whole journey in a real browser: from signing up to a deposited dataset in the living DMP.

A new researcher signs up, creates a project at the demo facility, writes a Horizon Europe plan
(autosave), asks the facility for feedback (a data steward answers), exports the PDF, registers
the sample OME-TIFF images from the demo storage root and watches their scan finish, describes
them with REMBI (prefilled values checked, an invalid ORCID iD refused and fixed), creates a
BioImage Archive submission, passes pre-flight once the release date is set, builds the package,
finds it on the embargo dashboard, records the accession and DOI, links the dataset to the plan's
planned dataset and finds it in the plan's maDMP as deposited.

Each page is checked with axe-core (no serious or critical violations) and photographed; the
folder is printed at the start. Run with ``uv run pytest -m browser -s tests/e2e/test_journey.py``.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import NEEDS_CHROMIUM, screenshot_folder
from tests.e2e.axe import assert_accessible
from tests.e2e.test_browser import (  # noqa: F401 - fixtures reused here
    PAGE_TIMEOUT_MS,
    Server,
    Visit,
    browser,
    control,
    server,
    visit,
)

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]

# The scan and the package build run in quickstart's task worker; on a busy CI machine a
# task can wait a while for it.
WORKER_TIMEOUT_MS = 90_000
DEFAULT_EXPECT_TIMEOUT_MS = 5_000  # Playwright's own

FACILITY = "Demo Imaging Facility"
STEWARD = "Josiah Carberry"  # quickstart's demo user stewards the demo facility
RESEARCHER = "Ada Lovelace"
PROJECT_TITLE = "Axon regeneration in zebrafish larvae"
PROJECT_ACRONYM = "AxReg"
PLAN_TITLE = f"Data management plan of {PROJECT_ACRONYM}"
PLANNED_DATASET = "Regenerating axons"
DATASET_TITLE = "Regenerating axons, OME-TIFF"
# Nine files under quickstart's demo storage root, every one readable (the full sample folder
# also holds a deliberately truncated PNG, which pre-flight rightly refuses).
DATASET_FOLDER = "sample-images/ome-tiff"
DATASET_FILES = 9
ACCESSION = "S-BIAD4242"
DOI = f"10.6019/{ACCESSION}"
BIA_URL = "https://www.ebi.ac.uk/bioimage-archive/"


@dataclass(frozen=True)
class Researcher:
    username: str = "ada"
    first_name: str = "Ada"
    last_name: str = "Lovelace"
    email: str = "ada@example.org"
    password: str = "analytical-engine-1843"


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """The journey's own folder, emptied first so that every picture in it is from this run."""
    folder = screenshot_folder() / "journey"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    print(f"journey screenshots: {folder}")
    return folder


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Assertions wait as long as page actions: a busy CI machine serves pages slowly."""
    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    yield
    expect.set_options(timeout=DEFAULT_EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="module")
def release_date() -> datetime.date:
    # Two months ahead: under embargo, well within the BioImage Archive's five years, and far
    # from midnight in the project's time zone whatever the machine's own.
    return datetime.date.today() + datetime.timedelta(days=60)


def arrive(tab: Visit, name: str) -> None:
    """Photograph the page, then hold it to the accessibility rules."""
    tab.snap(name)
    assert_accessible(tab.page)


def flash(page: Page) -> Locator:
    """The messages a page shows after a form was sent (answer cards have statuses of their own)."""
    return page.get_by_role("main").locator(".messages[role=status]")


def main_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def log_in(tab: Visit, username: str, password: str, shot: str) -> None:
    page = tab.page
    page.goto("/accounts/login/")
    control(page, "Username").fill(username)
    control(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welcome, "), level=1)).to_be_visible()
    arrive(tab, shot)


def log_out(tab: Visit, shot: str) -> None:
    page = tab.page
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")).to_be_visible()
    arrive(tab, shot)


def open_project(tab: Visit, shot: str) -> None:
    """Through the project list, checked on the way."""
    page = tab.page
    main_nav(page, "Projects")
    link = page.get_by_role("link", name=re.compile(re.escape(PROJECT_TITLE))).first
    expect(link).to_be_visible()
    arrive(tab, f"{shot}-projects")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PROJECT_TITLE)
    arrive(tab, shot)


def open_plan(tab: Visit, shot: str) -> None:
    """Through the list of plans, checked on the way."""
    page = tab.page
    main_nav(page, "Plans")
    link = page.get_by_role("link", name=PLAN_TITLE).first
    expect(link).to_be_visible()
    arrive(tab, f"{shot}-plans")
    link.click()
    expect(page.get_by_role("heading", name="1 Data summary", level=1)).to_be_visible()
    arrive(tab, shot)


def fetch(page: Page, link_name: str) -> tuple[str, bytes]:
    """What a download link of the page returns to the logged-in user: content type and body."""
    href = page.get_by_role("link", name=link_name).get_attribute("href")
    assert href, f"the link “{link_name}” has no address"
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"
    return response.headers["content-type"], response.body()


# --- The steps ----------------------------------------------------------------------------------


def sign_up(tab: Visit, researcher: Researcher) -> None:
    page = tab.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    arrive(tab, "login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account", level=1)).to_be_visible()
    control(page, "Username").fill(researcher.username)
    control(page, "First name").fill(researcher.first_name)
    control(page, "Last name").fill(researcher.last_name)
    control(page, "Email address").fill(researcher.email)
    control(page, "Password").fill(researcher.password)
    control(page, "Password confirmation").fill(researcher.password)
    arrive(tab, "sign-up")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Welcome, {RESEARCHER}", level=1)).to_be_visible()
    expect(page.get_by_text("No projects found.")).to_be_visible()
    arrive(tab, "signed-up")


def create_project(tab: Visit) -> None:
    page = tab.page
    page.get_by_role("button", name="New project").click()
    expect(page.get_by_role("heading", name="New project", level=1)).to_be_visible()
    control(page, "Title").fill(PROJECT_TITLE)
    control(page, "Acronym").fill(PROJECT_ACRONYM)
    control(page, "Funder").fill("European Commission (Horizon Europe)")
    control(page, "Grant id").fill("101099999")
    control(page, "Start date").fill("2026-01-01")
    control(page, "End date").fill("2029-12-31")
    control(page, "Time zone").fill("Europe/Berlin")
    control(page, "Facility").select_option(label=FACILITY)
    arrive(tab, "new-project")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PROJECT_TITLE)
    expect(flash(page)).to_contain_text("you are its owner")
    expect(page.get_by_role("definition").filter(has_text=FACILITY)).to_be_visible()
    arrive(tab, "project-created")


def write_plan(tab: Visit) -> None:
    page = tab.page
    page.get_by_role("button", name="New plan").click()
    page.get_by_role("radio", name=re.compile("^Horizon Europe Data Management Plan")).check()
    arrive(tab, "new-plan")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("heading", name="1 Data summary", level=1)).to_be_visible()

    # Answers save themselves when the field loses focus; the card says so.
    first = page.locator("form.answer-card").first
    first.locator("textarea").fill("We re-use no existing data: the project images its own zebrafish larvae.")
    first.locator("textarea").blur()
    expect(first.get_by_role("status")).to_have_text("Saved.")
    # A planned dataset block is named in the plan; the name is what the living DMP matches.
    page.get_by_role("textbox", name="New name for Dataset 1").fill(PLANNED_DATASET)
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name=PLANNED_DATASET, level=3)).to_be_visible()
    title_card = page.locator("form.answer-card").filter(
        has=page.get_by_role("group", name="Title of the dataset")
    )
    title_card.get_by_role("textbox", name="Title of the dataset").fill(PLANNED_DATASET)
    title_card.get_by_role("textbox", name="Title of the dataset").blur()
    expect(title_card.get_by_role("status")).to_have_text("Saved.")
    page.reload()
    expect(page.locator("form.answer-card").first.locator("textarea")).to_have_value(re.compile("^We re-use"))
    arrive(tab, "plan-autosaved")


def request_feedback(tab: Visit) -> None:
    page = tab.page
    feedback = page.get_by_role("region", name="Feedback")
    feedback.locator("summary", has_text="Request feedback").click()
    feedback.get_by_label(re.compile(f"Message to the data stewards of {FACILITY}")).fill(
        "Is the retention period right for raw time-lapses?"
    )
    page.get_by_role("button", name="Request feedback").click()
    expect(flash(page)).to_contain_text(f"Feedback requested: the data stewards of {FACILITY}")
    expect(page.get_by_text(f"Waiting for review by the data stewards of {FACILITY}")).to_be_visible()
    arrive(tab, "feedback-requested")


def steward_reviews(tab: Visit, app: Server, researcher: Researcher) -> None:
    """The demo user stewards the demo facility: the request is in their queue."""
    page = tab.page
    log_out(tab, "logged-out")
    log_in(tab, app.username, app.password, "steward-dashboard")
    main_nav(page, "Reviews")
    queue = page.get_by_role("table", name="Plans waiting for review")
    expect(queue.get_by_role("row").filter(has_text=PLAN_TITLE)).to_contain_text(RESEARCHER)
    arrive(tab, "review-queue")
    page.get_by_role("link", name=f"Complete the review of {PLAN_TITLE}").click()
    expect(page.get_by_role("blockquote")).to_have_text("Is the retention period right for raw time-lapses?")
    page.get_by_label(f"Summary for {RESEARCHER}").fill("Ten years on tape is right; name the tape service.")
    arrive(tab, "review")
    page.get_by_role("button", name="Mark the plan reviewed").click()
    expect(flash(page)).to_have_text(f"“{PLAN_TITLE}” is marked reviewed; the person who asked is emailed.")
    arrive(tab, "reviewed")
    log_out(tab, "steward-logged-out")
    log_in(tab, researcher.username, researcher.password, "logged-in-again")


def read_review(tab: Visit) -> None:
    page = tab.page
    open_plan(tab, "plan-reviewed")
    feedback = page.get_by_role("region", name="Feedback")
    expect(feedback).to_contain_text(f"Reviewed by {STEWARD}")
    feedback.get_by_role("link", name="read the summary").click()
    expect(page.get_by_text("Ten years on tape is right; name the tape service.")).to_be_visible()
    arrive(tab, "review-summary")
    page.get_by_role("link", name=PLAN_TITLE).first.click()


def export_pdf(tab: Visit) -> None:
    page = tab.page
    content_type, body = fetch(page, "PDF (A4, for your funder)")
    assert content_type.startswith("application/pdf"), content_type
    assert body.startswith(b"%PDF-"), body[:20]
    # A cover, a contents page and seven sections of questions: tens of kilobytes at least.
    assert len(body) > 20_000, f"the PDF has only {len(body)} bytes"
    (tab.shots / f"{tab.prefix}-plan.pdf").write_bytes(body)


def register_dataset(tab: Visit) -> None:
    page = tab.page
    open_project(tab, "project")
    page.get_by_role("button", name="Datasets").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Datasets")
    arrive(tab, "project-datasets")
    page.get_by_role("button", name="Register a dataset").click()
    control(page, "Title").fill(DATASET_TITLE)
    control(page, "Storage root").select_option(label="demo")
    control(page, "Folder").fill(DATASET_FOLDER)
    arrive(tab, "register-dataset")
    page.get_by_role("button", name="Register and scan").click()
    expect(page.get_by_role("heading", name=DATASET_TITLE, level=1)).to_be_visible()
    arrive(tab, "scan-started")
    # The progress section polls every second until the worker has finished the scan.
    expect(page.locator("#scan-progress")).to_contain_text(
        f"Finished: {DATASET_FILES} of {DATASET_FILES} files", timeout=WORKER_TIMEOUT_MS
    )
    expect(page.get_by_role("progressbar", name="Scan progress")).to_have_attribute("value", "100.0")
    arrive(tab, "scan-finished")
    page.reload()
    expect(page.get_by_role("table", name="Formats and what they mean for publishing")).to_contain_text(
        "OME-TIFF"
    )
    arrive(tab, "dataset")


def save_module(tab: Visit, label: str) -> None:
    """Check the filled-in form, save it, and land back on the validation report."""
    page = tab.page
    arrive(tab, label.lower().replace(" ", "-"))
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_contain_text(re.compile(rf"{re.escape(label)}: .* saved, complete\."))


def describe_study(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    page.get_by_role("link", name="Fill in Study", exact=True).click()
    expect(control(page, "Title").first).to_have_value(PROJECT_TITLE)
    author = page.get_by_role("group", name=re.compile("^Author"))
    expect(author.get_by_role("textbox", name="Display name").first).to_have_value(RESEARCHER)
    grant = page.get_by_role("group", name=re.compile("^Grant"))
    expect(grant.get_by_role("textbox", name="Grant id").first).to_have_value("101099999")
    expect(page.get_by_text("prefilled", exact=True).first).to_be_visible()
    arrive(tab, "study-prefilled")

    control(page, "Description").fill("Time-lapse imaging of axon regeneration after laser axotomy.")
    control(page, "Keyword").fill("zebrafish\naxon regeneration")
    control(page, "Licence").select_option("CC-BY-4.0")
    control(page, "Release date").fill(release.isoformat())
    author.get_by_role("textbox", name="Affiliation: display name").first.fill(
        "European Molecular Biology Laboratory"
    )
    # One digit group short: refused with what an ORCID iD looks like, nothing saved.
    orcid = author.get_by_role("textbox", name="Orcid").first
    orcid.fill("0000-0002-1825")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Nothing was saved: correct the fields marked in red below, then save again."
    )
    expect(orcid).to_have_attribute("aria-invalid", "true")
    expect(author.get_by_role("listitem")).to_have_text(
        ["An ORCID iD without its URL prefix, e.g. 0000-0002-1825-0097."]
    )
    arrive(tab, "study-invalid-orcid")
    orcid.fill("0000-0002-1825-0097")
    save_module(tab, "Study")


def describe_dataset(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    page.get_by_role("button", name="Describe (REMBI)").click()
    report = page.get_by_role("table", name="Validation report")
    expect(report).to_contain_text("No Study is described yet")
    arrive(tab, "describe")
    describe_study(tab, release)

    page.get_by_role("link", name="Fill in Study component").click()
    expect(control(page, "Title")).to_have_value(DATASET_TITLE)
    control(page, "Description").fill("Posterior lateral line axons before and after laser axotomy.")
    save_module(tab, "Study component")

    page.get_by_role("link", name="Fill in Biosample").click()
    control(page, "Title").fill("Zebrafish larvae, 5 dpf")
    control(page, "Biological entity description").fill("Posterior lateral line sensory axons")
    control(page, "Scientific name").fill("Danio rerio")
    save_module(tab, "Biosample")

    page.get_by_role("link", name="Fill in Specimen").click()
    control(page, "Protocol description").fill(
        "Anaesthetised in tricaine, mounted in 1% low-melting agarose."
    )
    save_module(tab, "Specimen")

    page.get_by_role("link", name="Fill in Image acquisition").click()
    # Read from the OME metadata of the files by the scan, typo of the sample file included.
    expect(control(page, "Imaging instrument description")).to_have_value("OME Insturuments Lab Mk3")
    expect(control(page, "Objective")).to_have_value(re.compile("^60xUV-Air"))
    control(page, "Protocol description").fill("488 nm laser, 100 ms exposure, one stack every 10 minutes.")
    page.get_by_role("combobox", name="Add an imaging method").fill("spinning disk")
    page.get_by_role("option", name=re.compile("^spinning disk confocal microscopy")).click()
    save_module(tab, "Image acquisition")

    page.get_by_role("link", name="Fill in Image data").click()
    expect(control(page, "Image format")).to_have_value("OME-TIFF")
    expect(control(page, "File count")).to_have_value(str(DATASET_FILES))
    save_module(tab, "Image data")

    expect(page.get_by_text("Every required module is complete: nothing blocks packaging.")).to_be_visible()
    expect(report.get_by_role("row").filter(has_text="Image acquisition")).to_contain_text("complete")
    arrive(tab, "described")


def create_submission(tab: Visit) -> None:
    page = tab.page
    open_project(tab, "project-described")
    page.get_by_role("button", name="Submissions").click()
    expect(page.get_by_text("No submissions yet.")).to_be_visible()
    arrive(tab, "project-submissions")
    page.get_by_role("button", name="New submission").click()
    advice = page.get_by_role("region", name="Which repository?")
    expect(advice).to_contain_text("BioImage Archive is the best fit")
    expect(page.get_by_role("radio", name="BioImage Archive")).to_be_checked()
    expect(page.get_by_role("checkbox", name=DATASET_TITLE)).to_be_checked()
    arrive(tab, "new-submission")
    page.get_by_role("button", name="Create submission").click()
    expect(page.get_by_role("heading", name=PROJECT_TITLE, level=1)).to_be_visible()
    expect(flash(page)).to_contain_text("run its pre-flight check next")
    arrive(tab, "submission-created")


def pass_preflight(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    preflight = page.get_by_role("region", name="Pre-flight check")
    page.get_by_role("button", name="Run the pre-flight check").click()
    expect(preflight).to_contain_text("1 problem must be fixed before the package can be built.")
    expect(preflight.get_by_role("list").first).to_contain_text("The submission has no release date.")
    arrive(tab, "preflight-failed")

    page.get_by_label("New release date").fill(release.isoformat())
    page.get_by_label("Why the release date changes").fill("Private until the paper is published.")
    page.get_by_role("button", name="Change the release date").click()
    expect(flash(page)).to_have_text(f"The release date changed from none to {release.isoformat()}.")
    page.get_by_role("button", name="Check again").click()
    expect(flash(page)).to_have_text("Nothing blocks packaging: the submission is checked.")
    expect(preflight).to_contain_text("Nothing blocks packaging")
    arrive(tab, "preflight-passed")


def build_package(tab: Visit) -> None:
    page = tab.page
    page.get_by_role("button", name="Build the package").click()
    package = page.get_by_role("region", name="Package")
    # The section polls until the worker has renamed the finished package into place.
    download = package.get_by_role("button", name="Download the package (ZIP)")
    expect(download).to_be_visible(timeout=WORKER_TIMEOUT_MS)
    expect(package).to_contain_text("ro-crate-metadata.json")
    arrive(tab, "package-built")
    href = download.get_attribute("href")
    assert href
    response = page.request.get(href)
    assert response.ok
    names = zipfile.ZipFile(io.BytesIO(response.body())).namelist()
    for expected in ("ro-crate-metadata.json", "manifest-sha256.txt", "pagetab/submission.tsv"):
        assert any(name.endswith(expected) for name in names), (expected, names)


def embargo_dashboard(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    main_nav(page, "Embargoes")
    upcoming = page.get_by_role("region", name="Upcoming releases")
    row = upcoming.get_by_role("row").filter(has=page.get_by_role("link", name=PROJECT_TITLE, exact=True))
    expect(row).to_contain_text(release.isoformat())
    expect(row).to_contain_text("Under embargo")
    expect(row).to_contain_text("BioImage Archive")
    arrive(tab, "embargo-dashboard")
    row.get_by_role("link", name=PROJECT_TITLE, exact=True).click()
    expect(page.get_by_role("heading", name=PROJECT_TITLE, level=1)).to_be_visible()


def record_accession(tab: Visit) -> None:
    page = tab.page
    page.get_by_role("button", name="Mark as submitted").click()
    expect(flash(page)).to_have_text("The submission is now submitted.")
    accession = page.get_by_role("textbox", name="Accession", exact=True)
    accession.fill("BIAD 4242")
    page.get_by_role("button", name="Record the accession").click()
    expect(flash(page)).to_contain_text("“BIAD 4242” is not an accession of this archive")
    expect(page.get_by_role("definition").filter(has_text=ACCESSION)).to_have_count(0)
    page.get_by_role("textbox", name="Accession", exact=True).fill(ACCESSION)
    page.get_by_role("textbox", name="DOI", exact=True).fill(DOI)
    page.get_by_role("button", name="Record the accession").click()
    expect(flash(page)).to_have_text("Accession recorded.")
    expect(page.get_by_role("link", name=DOI)).to_be_visible()
    arrive(tab, "accession-recorded")


def link_living_dmp(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    open_plan(tab, "plan-before-linking")
    page.get_by_role("link", name="Planned vs actual").first.click()
    expect(page.get_by_role("heading", name="Planned vs actual", level=1)).to_be_visible()
    # The suggestion matches the registered dataset to the planned one by their titles.
    expect(
        page.get_by_role("combobox", name=f"Planned dataset for {DATASET_TITLE}").locator("option:checked")
    ).to_have_text(PLANNED_DATASET)
    expect(page.get_by_role("row").filter(has_text=DATASET_TITLE)).to_contain_text(
        f"Suggested: title 100 % like “{PLANNED_DATASET}”"
    )
    arrive(tab, "living-suggestion")
    page.get_by_role("button", name=f"Confirm {DATASET_TITLE}").click()
    expect(flash(page)).to_contain_text(f"is linked to the planned dataset “{PLANNED_DATASET}”")
    planned = page.get_by_role("region", name=f"Planned dataset: {PLANNED_DATASET}")
    deposits = planned.get_by_role("table", name="Submissions")
    expect(deposits).to_contain_text(ACCESSION)
    expect(deposits).to_contain_text(f"under embargo until {release.isoformat()}")
    arrive(tab, "living-linked")


def madmp_shows_deposit(tab: Visit, release: datetime.date) -> None:
    page = tab.page
    page.get_by_role("link", name=PLAN_TITLE).click()
    content_type, body = fetch(page, "Download maDMP (RDA 1.2 JSON)")
    assert content_type.startswith("application/json"), content_type
    (tab.shots / f"{tab.prefix}-madmp.json").write_bytes(body)
    datasets = json.loads(body)["dmp"]["dataset"]
    deposited = next(d for d in datasets if d["title"] == PLANNED_DATASET)
    assert deposited["dataset_id"] == {"identifier": f"https://doi.org/{DOI}", "type": "doi"}
    distribution = deposited["distribution"][0]
    assert distribution["host"] == {"title": "BioImage Archive", "url": BIA_URL}
    assert distribution["access_url"] == f"https://doi.org/{DOI}"
    assert distribution["data_access"] == "closed"  # under embargo until the release date
    assert distribution["license"] == [
        {"license_ref": "https://spdx.org/licenses/CC-BY-4.0", "start_date": release.isoformat()}
    ]


def journey_overview(tab: Visit) -> None:
    page = tab.page
    open_project(tab, "project-deposited")
    steps = page.get_by_role("region", name="From plan to release")
    for number, step in enumerate(("Register data", "Describe", "Validate", "Package", "Submit"), start=2):
        expect(steps.get_by_role("listitem").filter(has_text=f"{number}. {step}").first).to_contain_text(
            "Done"
        )
    arrive(tab, "project-journey-done")


# --- The test -------------------------------------------------------------------------------------


def test_journey(server: Server, visit: Visit, release_date: datetime.date) -> None:  # noqa: F811
    researcher = Researcher()
    sign_up(visit, researcher)
    create_project(visit)
    write_plan(visit)
    request_feedback(visit)
    steward_reviews(visit, server, researcher)
    read_review(visit)
    export_pdf(visit)
    register_dataset(visit)
    describe_dataset(visit, release_date)
    create_submission(visit)
    pass_preflight(visit, release_date)
    build_package(visit)
    embargo_dashboard(visit, release_date)
    record_accession(visit)
    link_living_dmp(visit, release_date)
    madmp_shows_deposit(visit, release_date)
    journey_overview(visit)
    visit.assert_clean()


def test_axe_fails_a_page_with_serious_violations(server: Server, visit: Visit) -> None:  # noqa: F811
    """The checker itself, on a real page under the site's CSP: it passes the login page and
    fails it once a button without a name and a field without a label are added."""
    page = visit.page
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button><input type=text>')"
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "2 serious or critical accessibility violation(s)" in report
    assert "[critical] button-name: Buttons must have discernible text" in report
    assert "[critical] label: Form elements must have labels" in report
    assert "<button></button>" in report
    visit.assert_clean()
