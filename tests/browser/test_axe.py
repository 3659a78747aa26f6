"""Every public page of the demo passes axe-core's automated accessibility checks.

axe-core (an npm development dependency, installed by ``make assets``) is injected into each
page, which it checks against WCAG 2.2 A and AA; a serious or critical violation fails the
test, listed with the page and the elements concerned. The pages' Content-Security-Policy
allows only their own scripts, so the browser context bypasses it for the injected script.
Automated checks find only some problems: they are no substitute for testing with people.

The app is served by uvicorn over a copy of the demo database and driven by headless
Chromium through Playwright, as in ``test_plan_journey``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser_page, public_site
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}

RUN_AXE = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}
"""


@pytest.fixture(scope="module")
def site(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[str]]]:
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core is required in CI but {AXE.name} is missing (make assets)")
        pytest.skip("needs axe-core from npm (make assets)")
    with public_site(demo_db_file, tmp_path_factory.mktemp("axe")) as found:
        yield found


@pytest.fixture(scope="module")
def page(site: tuple[str, list[str]]) -> Iterator[Page]:
    with browser_page(base_url=site[0], bypass_csp=True) as opened:
        yield opened


def test_no_public_page_has_a_serious_accessibility_violation(
    page: Page, site: tuple[str, list[str]]
) -> None:
    _, pages = site
    problems: list[str] = []
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.ok, (
            f"{url} answered {response and response.status}"
        )
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] in SERIOUS:
                problems.append(
                    f"{url}: {violation['impact']} {violation['id']} ({violation['help']}): "
                    + "; ".join(violation["targets"])
                )
    assert not problems, "Serious accessibility violations found by axe:\n" + "\n".join(problems)
