"""Every public page reflows at 320 and 375 CSS pixels wide (WCAG 2.2, 1.4.10 Reflow).

At a viewport that narrow no public page of the demo may scroll sideways: the document is no
wider than the window. A wide data table may scroll inside its own container instead, but
only a container a keyboard user can reach and a screen reader user can name: focusable
(``tabindex="0"``), a region, and labelled by the table's caption.

The app is served by uvicorn over a copy of the demo database and driven by headless
Chromium through Playwright, as in ``test_plan_journey``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import browser_page, public_site
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

HEIGHT = 800
# 320 CSS pixels is WCAG's own width (1280 pixels at 400% zoom); 375 is a common phone's.
WIDTHS = [320, 375]

# In the page: how wide the document is, the elements that stick out of the window (those
# whose parent does not, widest first) and every container that scrolls sideways itself.
MEASURE = """
() => {
  const width = window.innerWidth;
  const describe = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim())
      text += '.' + el.className.trim().split(/\\s+/).join('.');
    return text;
  };
  // Inside a container that scrolls or clips, unless positioned against something outside it
  // (what is absolutely positioned escapes a static container, and can widen the page).
  const clipped = (el) => {
    if (['absolute', 'fixed'].includes(getComputedStyle(el).position)) return false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== 'visible') return true;
    }
    return false;
  };
  const out = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right > width + 0.5 && !clipped(el)) out.add(el);
  }
  const sticking = [...out]
    .filter((el) => !out.has(el.parentElement))
    .map((el) => ({element: describe(el), right: Math.round(el.getBoundingClientRect().right)}));
  sticking.sort((a, b) => b.right - a.right);
  const scrollers = [];
  for (const el of document.body.querySelectorAll('*')) {
    const overflow = getComputedStyle(el).overflowX;
    if (!['auto', 'scroll'].includes(overflow) || el.scrollWidth <= el.clientWidth) continue;
    const label = el.getAttribute('aria-labelledby');
    scrollers.push({
      element: describe(el),
      focusable: el.getAttribute('tabindex') === '0',
      region: el.getAttribute('role') === 'region',
      labelled: Boolean(
        (label && document.getElementById(label) &&
         document.getElementById(label).textContent.trim()) ||
        el.getAttribute('aria-label')
      ),
    });
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    sticking: sticking.slice(0, 3),
    scrollers: scrollers,
  };
}
"""


@pytest.fixture(scope="module")
def site(
    demo_db_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[str]]]:
    with public_site(demo_db_file, tmp_path_factory.mktemp("reflow")) as found:
        yield found


@pytest.fixture(scope="module")
def page(site: tuple[str, list[str]]) -> Iterator[Page]:
    with browser_page(base_url=site[0], viewport={"width": WIDTHS[0], "height": HEIGHT}) as opened:
        yield opened


@pytest.mark.parametrize("width", WIDTHS)
def test_every_public_page_reflows_on_a_narrow_screen(
    page: Page, site: tuple[str, list[str]], width: int
) -> None:
    _, pages = site
    page.set_viewport_size({"width": width, "height": HEIGHT})
    page.goto("/metrics")
    drills = page.locator("a[id$='-drill']").evaluate_all("links => links.map(a => a.pathname)")
    # Each metric with a complete financial year has a page of every area's value; the
    # demo may have none yet, and then there is no such page to check.
    pages = [*pages, *drills]
    problems: list[str] = []
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.ok, (
            f"{url} answered {response and response.status}"
        )
        assert "/sign-in" not in page.url or url == "/sign-in", f"{url} is not public"
        found = page.evaluate(MEASURE)
        if found["scrollWidth"] > found["innerWidth"]:
            widest = ", ".join(f"{s['element']} (to {s['right']}px)" for s in found["sticking"])
            problems.append(
                f"{url} is {found['scrollWidth']}px wide at {found['innerWidth']}px: {widest}"
            )
        for scroller in found["scrollers"]:
            missing = [
                want
                for want, have in (
                    ('tabindex="0"', scroller["focusable"]),
                    ('role="region"', scroller["region"]),
                    ("a label", scroller["labelled"]),
                )
                if not have
            ]
            if missing:
                problems.append(
                    f"{url}: {scroller['element']} scrolls sideways without {', '.join(missing)}"
                )
    assert not problems, f"Pages that do not reflow at {width}px:\n" + "\n".join(problems)
