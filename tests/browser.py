"""What every browser test shares: Debian's Chromium, launched quiet and offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser downloads are unavailable here, so we launch the distribution's
# Chromium, quiet and offline: no sandbox (containers lack user namespaces), no GPU, no
# background traffic to Google that could slow the test or fail without network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing; install Debian's Chromium (apt-get install chromium)",
)


def screenshot_folder() -> Path:
    folder = Path(os.environ.get("FAIRLIGHT_ARTIFACTS", str(REPO_ROOT / "test-artifacts"))) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
