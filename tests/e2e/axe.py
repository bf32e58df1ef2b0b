"""Accessibility checks for the browser tests: axe-core, vendored, run inside the page under test.

axe-core comes from npm and is kept in ``tests/e2e/vendor/axe-core/`` (version and source in its
README); nothing is loaded from a CDN. It is injected with ``page.evaluate``, which Playwright
runs through the DevTools protocol: the site's Content-Security-Policy allows scripts only from
our origin with a nonce, so ``page.add_script_tag`` (an inline ``<script>``) is refused by the
browser and would itself be reported as a CSP violation, while DevTools evaluation is outside
the page's policy. The page keeps its real CSP for everything it does itself, so the checks in
``Visit.assert_clean`` stay meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# axe-core's impacts, from worst: critical, serious, moderate, minor. The first two fail a test:
# they stop someone from using the page (no name on a button, unreadable contrast, a form
# control without a label); the others are reported so that someone can look at them.
BLOCKING_IMPACTS = ("critical", "serious")
# Offending elements shown per rule; the rest are counted.
NODES_SHOWN = 8

# Runs in the page: every rule axe-core enables by default (WCAG 2 A and AA, best practices),
# reduced to what a failure message needs.
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((rule) => ({
    rule: rule.id,
    impact: rule.impact || "minor",
    help: rule.help,
    help_url: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.join(" "),
      html: node.html,
      summary: node.failureSummary || "",
    })),
  }));
}"""


@dataclass(frozen=True)
class Node:
    target: str  # a CSS selector for the element
    html: str  # the element's opening tag as axe-core saw it
    summary: str  # what would fix it, in axe-core's words


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: tuple[Node, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING_IMPACTS

    def describe(self) -> str:
        lines = [f"[{self.impact}] {self.rule}: {self.help} ({self.help_url})"]
        for node in self.nodes[:NODES_SHOWN]:
            lines.append(f"    {node.target}")
            lines.append(f"      {node.html}")
            lines.extend(f"      {line.strip()}" for line in node.summary.splitlines() if line.strip())
        if len(self.nodes) > NODES_SHOWN:
            lines.append(f"    … and {len(self.nodes) - NODES_SHOWN} more elements")
        return "\n".join(lines)


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def _inject(page: Page) -> None:
    if page.evaluate("typeof window.axe === 'object'"):
        return  # still the same document since the last check
    page.evaluate(_axe_source())
    if not page.evaluate("typeof window.axe === 'object'"):
        pytest.fail(f"axe-core did not load into {page.url}")


def axe_violations(page: Page) -> list[Violation]:
    """Every axe-core violation on the page as it is now, worst first."""
    _inject(page)
    raw = page.evaluate(RUN_AXE)
    violations = [
        Violation(
            rule=item["rule"],
            impact=item["impact"],
            help=item["help"],
            help_url=item["help_url"],
            nodes=tuple(Node(**node) for node in item["nodes"]),
        )
        for item in raw
    ]
    order = ("critical", "serious", "moderate", "minor")
    return sorted(violations, key=lambda v: order.index(v.impact) if v.impact in order else len(order))


def assert_accessible(page: Page) -> None:
    """Fail on serious or critical axe-core violations; print the lesser ones as a note."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v.blocking]
    if blocking:
        report = "\n".join(v.describe() for v in blocking)
        pytest.fail(
            f"{len(blocking)} serious or critical accessibility violation(s) on {page.url}:\n{report}"
        )
    if violations:
        rules = ", ".join(f"{v.rule} ({v.impact}, {len(v.nodes)})" for v in violations)
        print(f"axe: {page.url}: {rules}")
