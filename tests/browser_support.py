"""A real headless Chromium for the report tests: the ``browser_page`` fixture and image-load helpers.

Needs Chromium (Debian: ``apt-get install chromium``; ``.ci/run`` tries to install it) and the Python driver
``playwright`` (the ``test`` extra), which drives the installed browser, so no browser download is needed. A test
using the fixture skips, naming what is missing, when either is absent. ``DALDA_CHROMIUM`` picks another binary.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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


def loaded_images(page) -> dict[str, int]:
    """src (cut) -> naturalWidth of every image on screen, after scrolling each into view to load it."""
    return dict(page.evaluate(_LOAD_VISIBLE_IMAGES))
