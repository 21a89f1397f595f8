"""The report page in a real headless Chromium: every image loads, the gallery pages, no console errors.

Needs Chromium (Debian: ``apt-get install chromium``; ``.ci/run`` tries to install it) and the Python driver
``playwright`` (the ``test`` extra), which drives the installed browser, so no browser download is needed. The
test skips, naming what is missing, when either is absent. ``DALDA_CHROMIUM`` picks another Chromium binary.
"""

from __future__ import annotations

from browser_support import loaded_images
from report_images_support import make_image_run

from dalda.configure import build_config
from dalda.report.gallery import CLASSES_PER_PAGE
from dalda.report.stage import run_report_stage


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
    seen = loaded_images(page)

    pager.locator("button.next").click()
    assert label.inner_text() == "page 2 of 2" and pager.locator("button.next").is_disabled()
    assert pager.locator(".gallery-class:visible").count() == classes - CLASSES_PER_PAGE
    assert pager.locator(".gallery-class:visible h4").first.inner_text().startswith(f"class{CLASSES_PER_PAGE:02d}")
    second = loaded_images(page)
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


def test_report_page_has_contents_full_size_links_and_aligned_columns(tmp_path, browser_page):
    page, errors = browser_page
    run = make_image_run(tmp_path / "run", classes=2, reals_per_class=1, images_per_real=1)
    index = run_report_stage(build_config({"out_dir": str(run.root)}), run)
    page.goto(index.resolve().as_uri())
    page.wait_for_load_state("load")

    contents = page.locator("nav.toc a")
    headings = page.locator("h2")
    assert contents.count() == headings.count() > 3
    gallery_entry = contents.filter(has_text="Gallery")
    target = gallery_entry.first.get_attribute("href")
    gallery_entry.first.click()
    assert page.evaluate("location.hash") == target
    assert page.locator(target).inner_text() == "Gallery"
    assert page.evaluate("window.scrollY") > 0 and page.locator(target).is_visible()
    top = page.evaluate(f"document.querySelector('{target}').getBoundingClientRect().top")
    assert 0 <= top < page.evaluate("window.innerHeight"), "the contents link did not bring its heading into view"

    link = page.locator(".gallery-row a.full-size").first
    href = link.get_attribute("href")
    assert not href.startswith("thumbs/")
    with page.expect_popup() as opened:
        link.click()
    full = opened.value
    full.wait_for_load_state("load")
    width = full.evaluate("document.images[0].naturalWidth")
    thumb_width = link.locator("img").evaluate("img => img.naturalWidth")
    assert width > 0 and width >= thumb_width
    full.close()

    align = "(cell) => getComputedStyle(cell).textAlign"
    prompt_row = page.locator("table.prompt-table tbody tr").first
    assert prompt_row.locator("td").nth(0).evaluate(align) == "left"
    assert prompt_row.locator("td").nth(1).evaluate(align) == "right"
    assert "run(s)" not in page.content()
    assert errors == []
