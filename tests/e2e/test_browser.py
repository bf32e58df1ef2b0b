"""Drive FAIRlight in Debian's Chromium, started the way a user starts it: ``manage.py quickstart``.

The test spawns quickstart on a free port with its own var folder (fresh SQLite database,
demo credentials file), reads the demo password from its output, logs in and creates a
project through the forms. Every page is checked for Content-Security-Policy violations,
because the site forbids inline scripts and styles and a violation silently breaks a page.

Run with ``uv run pytest -m browser tests/e2e``; screenshots of every step go to
``$FAIRLIGHT_ARTIFACTS/browser`` (default: ``test-artifacts/browser`` in the repository).
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Response,
    expect,
    sync_playwright,
)

from tests.browser import CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, REPO_ROOT, screenshot_folder

# A cold start migrates a new database and loads the demo data before serving.
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
PAGE_TIMEOUT_MS = 15_000

DEMO_NAME = "Josiah Carberry"
DEMO_PROJECT = "MitoZ: Mitochondrial dynamics in zebrafish neurons"
# Chromium reports CSP violations on the console: older versions as "Refused to execute …
# because it violates the following Content Security Policy directive …", Chromium 156 as
# "Executing inline script violates the following Content Security Policy directive …".
CSP_MARKERS = ("Content Security Policy", "Refused to")
# quickstart prints "  demo user:     demo" and "  demo password: XXXX".
CREDENTIAL_LINE = re.compile(r"^\s*demo (?P<key>user|password):\s*(?P<value>\S+)\s*$")

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]


# --- The application, started with quickstart -------------------------------------------------


@dataclass
class Server:
    base_url: str
    username: str
    password: str
    # Everything quickstart, its worker and runserver printed: shown when something fails.
    output: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _quickstart_env(var_dir: Path) -> dict[str, str]:
    """The caller's environment minus anything that would point quickstart at shared state."""
    env = dict(os.environ)
    # Without DATABASE_URL and FAIRLIGHT_STORAGE_ROOTS the embedded default keeps its SQLite
    # database and demo storage folder under FAIRLIGHT_VAR_DIR; pytest-django's settings
    # module must not leak in either, manage.py picks the default like in a user's shell.
    for name in ("DATABASE_URL", "FAIRLIGHT_STORAGE_ROOTS", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env["FAIRLIGHT_VAR_DIR"] = str(var_dir)
    # Output goes to a pipe; unbuffered, the credentials arrive before the server blocks.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _pump(stream: IO[str], lines: queue.Queue[str | None], log: list[str]) -> None:
    """Keep reading the pipe so a chatty server never blocks on a full pipe buffer."""
    for line in stream:
        log.append(line)
        lines.put(line)
    lines.put(None)  # end of output: every process holding the pipe has exited


def _tail(log: list[str], count: int = 60) -> str:
    return "".join(log[-count:])


def _read_credentials(lines: queue.Queue[str | None], log: list[str], deadline: float) -> tuple[str, str]:
    found: dict[str, str] = {}
    while "user" not in found or "password" not in found:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"quickstart printed no demo credentials in {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail(f"quickstart exited before printing the demo credentials:\n{_tail(log)}")
        if match := CREDENTIAL_LINE.match(line):
            found[match["key"]] = match["value"]
    return found["user"], found["password"]


def _login_page_status(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/accounts/login/")
        return connection.getresponse().status
    except OSError:  # refused or reset while runserver is still starting
        return None
    finally:
        connection.close()


def _wait_until_serving(process: subprocess.Popen[str], port: int, log: list[str], deadline: float) -> None:
    while _login_page_status(port) != 200:
        if process.poll() is not None:
            pytest.fail(f"quickstart exited with code {process.returncode} before serving:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"/accounts/login/ did not answer 200 within {STARTUP_TIMEOUT:.0f} s:\n{_tail(log)}")
        time.sleep(0.25)


def _stop(process: subprocess.Popen[str], reader: threading.Thread) -> bool:
    """Stop quickstart the way a service manager would; True if its children exited too."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # quickstart stops its worker and runserver itself
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # The pipe closes only when every process writing to it (quickstart's children too) is
    # gone; a reader still running means a child outlived quickstart, so end the whole group.
    reader.join(timeout=STOP_TIMEOUT)
    children_stopped = not reader.is_alive()
    if not children_stopped:
        os.killpg(process.pid, signal.SIGKILL)
        reader.join()
    return children_stopped


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var_dir = tmp_path_factory.mktemp("var")
    port = _free_port()
    addr = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "quickstart", "--addr", addr],
        cwd=REPO_ROOT,
        env=_quickstart_env(var_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, so a hung quickstart and its children can be ended together.
        start_new_session=True,
    )
    assert process.stdout is not None
    log: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(process.stdout, lines, log), daemon=True)
    reader.start()
    children_stopped = True
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        username, password = _read_credentials(lines, log, deadline)
        _wait_until_serving(process, port, log, deadline)
        yield Server(base_url=f"http://{addr}", username=username, password=password, output=log)
    finally:
        children_stopped = _stop(process, reader)
        process.stdout.close()
    assert children_stopped, f"quickstart's children outlived it after SIGTERM:\n{_tail(log)}"


# --- The browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = screenshot_folder()
    print(f"screenshots: {folder}")
    return folder


@dataclass
class Visit:
    """One browser tab plus what went wrong in it that the page itself does not show."""

    page: Page
    shots: Path
    prefix: str
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    step: int = 0

    def on_console(self, message: ConsoleMessage) -> None:
        if any(marker in message.text for marker in CSP_MARKERS):
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def on_page_error(self, error: Error) -> None:
        self.script_errors.append(f"{self.page.url}: {error}")

    def on_response(self, response: Response) -> None:
        # A missing stylesheet or script degrades a page without failing any assertion on it.
        # A 400 answering a POST is a form showing its validation errors, which tests check.
        rejected_form = response.status == 400 and response.request.method == "POST"
        if response.status >= 400 and not rejected_form:
            self.failed_responses.append(f"{response.status} {response.request.method} {response.url}")

    def snap(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=self.shots / f"{self.prefix}-{self.step:02d}-{name}.png", full_page=True)

    def assert_clean(self) -> None:
        assert self.csp_violations == [], "Content-Security-Policy violations"
        assert self.script_errors == [], "uncaught JavaScript errors"
        assert self.failed_responses == [], "requests that failed"


@pytest.fixture
def visit(
    browser: Browser, server: Server, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Visit]:
    # A fresh context per test: no cookies or session carried over between tests.
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    prefix = request.node.name.removeprefix("test_")
    current = Visit(page=page, shots=screenshots, prefix=prefix)
    page.on("console", current.on_console)
    page.on("pageerror", current.on_page_error)
    page.on("response", current.on_response)
    try:
        yield current
    finally:
        context.close()


# --- Steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectInput:
    title: str
    acronym: str
    funder: str
    grant_id: str
    start_date: str
    end_date: str
    team: str = "Demo Lab"
    facility: str = "Demo Imaging Facility"


def control(page: Page, label: str) -> Locator:
    """The form control labelled ``label``; Django renders the label with a ":" suffix."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def log_in(visit: Visit, server: Server) -> None:
    page = visit.page
    page.goto("/")
    # Anonymous visitors land on the login page, which brings them back to / afterwards.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    control(page, "Username").fill(server.username)
    control(page, "Password").fill(server.password)
    visit.snap("login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Welcome, {DEMO_NAME}", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=DEMO_PROJECT)).to_be_visible()
    visit.snap("dashboard")


def open_projects(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects", exact=True).click()
    expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()


def project_rows(page: Page) -> int:
    return page.locator("#project-results tbody tr").count()


def submit_project(visit: Visit, project: ProjectInput, shot: str) -> None:
    page = visit.page
    page.get_by_role("button", name="New project").click()
    expect(page.get_by_role("heading", name="New project", level=1)).to_be_visible()
    control(page, "Title").fill(project.title)
    control(page, "Acronym").fill(project.acronym)
    control(page, "Funder").fill(project.funder)
    control(page, "Grant id").fill(project.grant_id)
    # Date inputs accept ISO dates regardless of the browser's display locale.
    control(page, "Start date").fill(project.start_date)
    control(page, "End date").fill(project.end_date)
    control(page, "Team").select_option(label=project.team)
    control(page, "Facility").select_option(label=project.facility)
    visit.snap(shot)
    page.get_by_role("button", name="Create project").click()


# --- Tests ----------------------------------------------------------------------------------------


def test_demo_user_creates_a_project(server: Server, visit: Visit) -> None:
    page = visit.page
    log_in(visit, server)

    open_projects(page)
    existing = project_rows(page)
    assert existing >= 1, "the demo project should be listed"
    visit.snap("projects")

    project = ProjectInput(
        title="Axon regeneration in zebrafish larvae",
        acronym="AxReg",
        funder="Deutsche Forschungsgemeinschaft",
        grant_id="DFG-424242",
        start_date="2027-01-01",
        end_date="2029-12-31",
    )
    submit_project(visit, project, "new-project-form")
    expect(page.get_by_role("heading", level=1)).to_contain_text(project.title)
    expect(page.get_by_role("status")).to_contain_text("you are its owner")
    visit.snap("project-created")

    page.get_by_role("button", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Members of “{project.acronym}:")
    demo_row = page.get_by_role("row").filter(has_text=f"({server.username})")
    # An owner may change roles, so their own role shows as the selected option of a select.
    expect(demo_row.get_by_label(f"Role of {DEMO_NAME}").locator("option:checked")).to_have_text("Owner")
    visit.snap("members")

    open_projects(page)
    expect(page.locator("#project-results tbody tr")).to_have_count(existing + 1)

    backwards = ProjectInput(
        title="Backwards in time",
        acronym="Back",
        funder="Nobody",
        grant_id="0",
        start_date="2027-06-01",
        end_date="2027-01-01",
    )
    submit_project(visit, backwards, "backwards-project-form")
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/projects/new/$"))
    visit.snap("end-before-start")

    open_projects(page)
    expect(page.locator("#project-results tbody tr")).to_have_count(existing + 1)
    expect(page.get_by_role("link", name=re.compile(backwards.title))).to_have_count(0)
    visit.snap("projects-after-rejection")

    visit.assert_clean()


def test_api_docs_render_under_the_csp(server: Server, visit: Visit) -> None:
    page = visit.page
    log_in(visit, server)
    page.get_by_role("contentinfo").get_by_role("link", name="API").click()
    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    # Swagger UI builds the page from the fetched schema in the browser; the title and an
    # operation appearing shows its scripts ran and its fetch of the schema was allowed.
    expect(page.get_by_role("heading", name=re.compile(r"FAIRlight API"))).to_be_visible()
    expect(page.get_by_text("/api/v1/projects/", exact=True).first).to_be_visible()
    visit.snap("api-docs")

    visit.assert_clean()


def test_register_a_dataset_and_watch_its_scan(server: Server, visit: Visit) -> None:
    page = visit.page
    log_in(visit, server)
    page.get_by_role("link", name=DEMO_PROJECT).click()
    page.get_by_role("button", name="Datasets").click()
    # quickstart registered and scanned the shipped sample images already.
    demo_dataset = page.get_by_role("link", name="Sample images from the facility's instruments")
    expect(demo_dataset).to_be_visible()
    visit.snap("project-datasets")

    page.get_by_role("button", name="Register a dataset").click()
    control(page, "Title").fill("OME-TIFF samples")
    control(page, "Storage root").select_option(label="demo")
    control(page, "Folder").fill("../etc")
    page.get_by_role("button", name="Register and scan").click()
    expect(page.get_by_text("uses '..' to leave the storage root")).to_be_visible()
    visit.snap("register-refused")

    control(page, "Folder").fill("sample-images/ome-tiff")
    page.get_by_role("button", name="Register and scan").click()
    expect(page.get_by_role("heading", name="OME-TIFF samples", level=1)).to_be_visible()
    visit.snap("scan-started")
    # The progress section polls every second until the worker has finished the scan.
    expect(page.locator("#scan-progress")).to_contain_text("Finished: 9 of 9 files", timeout=60_000)
    expect(page.get_by_label("Scan progress")).to_have_attribute("value", "100.0")
    page.reload()
    expect(page.get_by_role("table", name="Formats and what they mean for publishing")).to_contain_text(
        "OME-TIFF"
    )
    visit.snap("scan-finished")

    page.get_by_role("link", name="Datasets", exact=True).last.click()
    page.get_by_role("button", name="Upload files").click()
    control(page, "Title").fill("Retina photo")
    control(page, "Files").set_input_files(
        [
            REPO_ROOT / "sample_data/images/png-jpeg/skimage_retina.jpg",
            REPO_ROOT / "sample_data/images/nd2/cluster.nd2",
        ]
    )
    visit.snap("upload-form")
    page.get_by_role("button", name="Upload and scan").click()
    expect(page.get_by_role("heading", name="Retina photo", level=1)).to_be_visible()
    expect(page.locator("#scan-progress")).to_contain_text("Finished: 2 of 2 files", timeout=60_000)
    visit.snap("upload-scanned")

    page.goto(demo_dataset_url(page, server))
    expect(page.get_by_role("heading", name="Previews", level=2)).to_be_visible()
    expect(page.locator(".gallery img").first).to_have_js_property("complete", True)
    visit.snap("demo-dataset")
    page.get_by_role("button", name="Describe (REMBI)").click()
    expect(page.get_by_role("table", name="Validation report")).to_contain_text(
        "No Biosample is described yet"
    )
    visit.snap("describe")
    page.get_by_role("link", name="Fill in Image acquisition").click()
    expect(control(page, "Imaging instrument description")).to_have_value("OME Insturuments Lab Mk3")
    expect(page.get_by_text("prefilled", exact=True).first).to_be_visible()
    visit.snap("acquisition-prefilled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Image acquisition")
    page.goto(demo_dataset_url(page, server))
    page.get_by_role("checkbox", name="Only files with errors").check()
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="broken/pillow_truncated_image.png").click()
    expect(page.get_by_role("alert")).to_contain_text("cut off while copying")
    visit.snap("broken-file")

    visit.assert_clean()


def demo_dataset_url(page: Page, server: Server) -> str:
    page.goto("/datasets/")
    link = page.get_by_role("link", name="Sample images from the facility's instruments")
    href = link.get_attribute("href")
    assert href is not None
    return href


def test_read_a_dmp_template(server: Server, visit: Visit) -> None:
    page = visit.page
    log_in(visit, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plans", exact=True).click()
    page.get_by_role("link", name="Horizon Europe Data Management Plan").click()
    for heading in ("1 Data summary", "2.4 Increase data re-use", "7 Other issues"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    page.get_by_text("Example answer").first.click()
    visit.snap("horizon-europe-template")
    visit.assert_clean()


def test_write_a_plan_with_autosave(server: Server, visit: Visit) -> None:
    page = visit.page
    log_in(visit, server)
    page.get_by_role("link", name=DEMO_PROJECT).click()
    page.get_by_role("button", name="New plan").click()
    visit.snap("new-plan")
    page.get_by_role("radio", name=re.compile("Horizon Europe Data Management Plan")).check()
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("heading", name="1 Data summary", level=1)).to_be_visible()
    first = page.locator("form.answer-card").first
    first.locator("textarea").fill("We will re-use the IDR nuclei dataset to train our segmentation.")
    first.locator("textarea").blur()
    expect(page.locator("form.answer-card").first.get_by_role("status")).to_have_text("Saved.")
    visit.snap("plan-autosaved")
    page.get_by_role("link", name=re.compile("6 Ethics")).click()
    gate = page.locator("form.answer-card").filter(has=page.get_by_role("radio", name="Yes")).first
    hidden_before = page.locator("div[hidden][id^=card-]").count()
    gate.get_by_role("radio", name="Yes").check()
    expect(page.locator("div[hidden][id^=card-]")).to_have_count(hidden_before - 1)
    visit.snap("plan-condition-revealed")
    expect(page.get_by_text(re.compile(r"^2 of \d+ required questions answered$"))).to_be_visible()
    visit.assert_clean()
