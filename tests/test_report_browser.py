"""The report page in a real headless Chromium: every image loads, the gallery pages, no console errors.

Needs Chromium (Debian: ``apt-get install chromium``; ``.ci/run`` tries to install it) and the Python driver
``playwright`` (the ``test`` extra), which drives the installed browser, so no browser download is needed. The
test skips, naming what is missing, when either is absent. ``DALDA_CHROMIUM`` picks another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from report_images_support import make_image_run

from dalda.configure import build_config
from dalda.report.gallery import CLASSES_PER_PAGE
from dalda.report.stage import run_report_stage

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
"""The machine's network is closed: no background connections, so nothing waits on them or logs their failure."""

_LOAD_VISIBLE_IMAGES = """async () => {
  const visible = [...document.images].filter((img) => img.offsetParent !== null);
  for (const img of visible) {
    img.scrollIntoView();
    if (!img.complete) {
      await new Promise((done) => { img.addEventListener('load', done, {once: true});
                                    img.addEventListener('error', done, {once: true}); });
    }
  }
  return visible.map((img) => [img.getAttribute('src').slice(0, 60), img.naturalWidth]);
}"""


def chromium_path() -> str | None:
    """The Chromium binary to drive: ``DALDA_CHROMIUM``, else the first of chromium / chromium-browser on PATH."""
    chosen = os.environ.get("DALDA_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)


@pytest.fixture
def browser_page(tmp_path):
    """A page of a fresh headless Chromium (own profile folder) that records console errors and page errors."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("the browser test needs Chromium (apt-get install chromium, or set DALDA_CHROMIUM)")
    errors: list[str] = []
    with sync_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            page = context.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
            page.on("requestfailed", lambda request: errors.append(f"failed to load {request.url}"))
            yield page, errors
        finally:
            context.close()


def _loaded(page) -> dict[str, int]:
    """src (cut) -> naturalWidth of every image on screen, after scrolling each into view to load it."""
    return dict(page.evaluate(_LOAD_VISIBLE_IMAGES))


def test_report_page_loads_every_image_and_pages_the_gallery(tmp_path, browser_page):
    page, errors = browser_page
    classes = CLASSES_PER_PAGE + 3
    run = make_image_run(tmp_path / "run", classes=classes, reals_per_class=2, images_per_real=2)
    index = run_report_stage(build_config({"out_dir": str(run.root)}), run)
    page.goto(index.resolve().as_uri())
    page.wait_for_load_state("load")

    total = page.evaluate("document.images.length")
    pager = page.locator(".pager").first
    label = pager.locator(".page-label")
    assert label.inner_text() == "page 1 of 2"
    assert pager.locator(".gallery-class:visible").count() == CLASSES_PER_PAGE
    assert pager.locator("button.prev").is_disabled()
    seen = _loaded(page)

    pager.locator("button.next").click()
    assert label.inner_text() == "page 2 of 2" and pager.locator("button.next").is_disabled()
    assert pager.locator(".gallery-class:visible").count() == classes - CLASSES_PER_PAGE
    assert pager.locator(".gallery-class:visible h4").first.inner_text().startswith(f"class{CLASSES_PER_PAGE:02d}")
    second = _loaded(page)
    seen.update(second)

    pager.locator("button.prev").click()
    assert label.inner_text() == "page 1 of 2" and pager.locator(".gallery-class:visible").count() == CLASSES_PER_PAGE

    widths = page.evaluate("[...document.images].map((img) => img.naturalWidth)")
    assert len(widths) == total and all(width > 0 for width in widths), "an image did not load"
    assert len(seen) > 0 and all(width > 0 for width in seen.values())
    thumbs = page.evaluate("[...document.images].filter((img) => img.getAttribute('src').startsWith('thumbs/')).length")
    assert thumbs == classes * 2 * (1 + 2)  # each real image and its two synthetic images
    assert page.locator("h2", has_text="Prompts per class").count() == 1
    assert page.locator("img[data-file='figures/lambda_vs_score.png']").count() == 1
    assert errors == []
