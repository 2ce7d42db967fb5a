"""axe-core in the browser suite: `assert_no_axe_violations(page)` after a page or state is shown.

The axe-core build is the one `axe-playwright-python` ships (pinned in requirements-dev.txt),
so the suite needs no network. It is put into the page with `page.evaluate`, which runs
through the DevTools protocol: the app's Content-Security-Policy (no inline scripts, no
eval) is not loosened for it, and the page is tested under its real policy.

    from axe import assert_no_axe_violations, axe_violations

    assert_no_axe_violations(page)                    # the whole page
    assert_no_axe_violations(page, include="main")    # one part (a CSS selector)
    found = axe_violations(page)                      # the raw list, to look at

Both run the WCAG 2.2 level A and AA rules (`WCAG_22_AA`), nothing else: the best-practice
rules are not WCAG and are not asked for.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

#: The axe tags of WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 added AA rules only).
WCAG_22_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

#: The phone size the suite checks beside the default desktop one.
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

_RUN = """async ([include, tags]) => {
  const context = include ? { include: [include] } : document;
  const results = await axe.run(context, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html, summary: n.failureSummary })),
  }));
}"""


def axe_violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """The WCAG 2.2 A/AA violations axe finds on `page` (or inside the `include` selector) now.

    Each is `{"id", "impact", "help", "nodes": [{"target", "html", "summary"}]}`. axe is
    injected once per document; a new page load gets it again.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(_RUN, [include, list(WCAG_22_AA)])


def report(violations: list[dict[str, Any]]) -> str:
    """The violations as lines a person reads in a failed test's output."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node['html'][:160]}" for node in violation["nodes"])
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, include: str | None = None, state: str = "") -> None:
    """Fail with axe's findings if the page (or `include`) breaks any WCAG 2.2 A/AA rule.

    `state` names what is on screen ("code step, mobile") in the failure message.
    """
    found = axe_violations(page, include)
    where = f"{page.url} {state}".strip()
    assert not found, f"axe found {len(found)} WCAG 2.2 AA violation(s) on {where}:\n{report(found)}"
