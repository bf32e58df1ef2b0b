"""The term autocomplete in Debian's Chromium: typing, arrow keys, Enter, clicking, and the CSP.

A FAIRlight server runs in a subprocess on a scratch SQLite database, as in tests/e2e, with a
sample form added (browser_site.py). Run with ``uv run pytest -m browser tests/vocabularies``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, NEEDS_CHROMIUM, REPO_ROOT, screenshot_folder

PASSWORD = "browser-test-password"
CONFOCAL = "http://purl.obolibrary.org/obo/FBbi_00000251"
MOUSE = "http://purl.obolibrary.org/obo/NCBITaxon_10090"
CSP_MARKERS = ("Content Security Policy", "Refused to")

pytestmark = [pytest.mark.browser, NEEDS_CHROMIUM]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "FAIRLIGHT_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'fairlight.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "tests.vocabularies.browser_settings",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]
    for command in (
        ["migrate", "--verbosity", "0"],
        ["load_ontologies"],
        ["createsuperuser", "--noinput", "--username", "annotator", "--email", "annotator@example.org"],
    ):
        subprocess.run([*manage, *command], env=env, cwd=REPO_ROOT, check=True, capture_output=True)
    port = _free_port()
    log = (var / "server.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (var / "server.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start within 60 s"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _csp_violations(message: ConsoleMessage) -> list[str]:
    return [message.text] if any(marker in message.text for marker in CSP_MARKERS) else []


def _log_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("annotator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_terms_are_chosen_with_the_keyboard_or_the_mouse(site: str) -> None:
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=site).new_page()
        page.on("console", lambda message: problems.extend(_csp_violations(message)))
        page.on("pageerror", lambda error: problems.append(str(error)))
        _log_in(page)
        page.goto("/sample-form/")

        method = page.get_by_role("combobox", name="Imaging method")
        method.press_sequentially("confoc", delay=30)
        listbox = page.locator("#id_method-listbox")
        expect(listbox).to_be_visible()
        expect(method).to_have_attribute("aria-expanded", "true")
        method.press("ArrowDown")
        expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
        expect(method).to_have_attribute("aria-activedescendant", "id_method-listbox-1")
        page.screenshot(path=screenshot_folder() / "term-autocomplete-suggestions.png")
        method.press("Enter")  # chooses the term; does not submit the form
        expect(method).to_have_value("confocal microscopy")
        expect(page.locator('input[name="method"]')).to_have_value(CONFOCAL)
        expect(listbox).to_be_hidden()
        expect(method).to_have_attribute("aria-expanded", "false")

        organism = page.get_by_role("combobox", name="Organism")
        organism.press_sequentially("mouse", delay=30)
        organism_listbox = page.locator("#id_organism-listbox")
        organism_listbox.get_by_role("option", name="Mus musculus").click()
        expect(organism).to_have_value("Mus musculus")
        expect(page.locator('input[name="organism"]')).to_have_value(MOUSE)
        # Editing the text makes the chosen IRI stale; Escape closes the suggestions.
        organism.press("Backspace")
        expect(page.locator('input[name="organism"]')).to_have_value("")
        expect(organism_listbox.get_by_role("option", name="Mus musculus")).to_be_visible()
        organism.press("Escape")
        expect(organism_listbox).to_be_hidden()
        organism.press("ArrowUp")  # reopens at the last suggestion
        expect(organism_listbox).to_be_visible()
        organism_listbox.get_by_role("option", name="Mus musculus").click()

        page.get_by_role("button", name="Save").click()
        expect(page.locator("#saved")).to_have_text(f"{CONFOCAL} {MOUSE}")
        browser.close()
    assert problems == [], "script errors or CSP violations"
