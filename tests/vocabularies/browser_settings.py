"""FAIRlight's settings with tests/vocabularies/browser_site.py as the root URLconf."""

from fairlight.settings import *  # noqa: F403

ROOT_URLCONF = "tests.vocabularies.browser_site"
