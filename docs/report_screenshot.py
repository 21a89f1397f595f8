"""Make ``docs/report-demo.png``, the README's picture of the report, from a built report in headless Chromium.

    dalda run --config configs/demo.yaml -o /tmp/demo
    python docs/report_screenshot.py /tmp/demo/report/index.html docs/report-demo.png

Every lazy image is loaded first; the picture is the page's top (title, table of contents, the random-models
banner), a dashed cut, then the accuracy table (Tab. 2, with its real-only and zero-shot reference rows) and its
notes, scaled to 900 px wide and stored with a 192-colour palette (well under 500 kB). Needs Chromium and
``playwright`` (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOAD_ALL = """async () => {
  for (const img of document.images) {
    if (img.offsetParent) {
      img.scrollIntoView();
      if (!img.complete) await new Promise((done) => { img.onload = done; img.onerror = done; });
    }
  }
  window.scrollTo(0, 0);
}"""
MARKS = """() => {
  const top = (el) => el.getBoundingClientRect().top + window.scrollY;
  const bottom = (el) => el.getBoundingClientRect().bottom + window.scrollY;
  const header = document.querySelector('.banner') || document.querySelector('nav.toc') || document.querySelector('h1');
  const headings = [...document.querySelectorAll('h3')];
  const accuracy = headings.findIndex((h) => h.textContent.startsWith('Tab. 2'));
  const next = headings[accuracy + 1] || document.querySelector('h2[id]:not(:first-of-type)');
  return [bottom(header), top(headings[accuracy]), top(next) - 8];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="a report's index.html")
    parser.add_argument("out", type=Path, help="the PNG to write")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    width = 1200
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as work:
        full = Path(work) / "full.png"
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                profile, executable_path=args.chromium, headless=True, args=ARGS, viewport={"width": width, "height": 900}
            )
            page = context.new_page()
            page.goto(args.page.resolve().as_uri())
            page.wait_for_load_state("load")
            page.evaluate(LOAD_ALL)
            header_end, table_top, table_end = page.evaluate(MARKS)
            page.screenshot(path=str(full), full_page=True)
            context.close()
        with Image.open(full) as image:
            shot = image.convert("RGB")
    head = shot.crop((0, 0, width, int(header_end) + 12))
    body = shot.crop((0, int(table_top) - 12, width, int(table_end)))
    gap = 24
    picture = Image.new("RGB", (width, head.height + gap + body.height), "white")
    picture.paste(head, (0, 0))
    picture.paste(body, (0, head.height + gap))
    draw = ImageDraw.Draw(picture)
    for x in range(0, width, 16):
        draw.line((x, head.height + gap // 2, x + 8, head.height + gap // 2), fill=(150, 150, 150), width=2)
    picture = picture.resize((900, picture.height * 900 // width), Image.Resampling.LANCZOS)
    picture.quantize(colors=192, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(args.out, optimize=True)
    print(f"{args.out}: {picture.width}x{picture.height}, {args.out.stat().st_size // 1024} kB")


if __name__ == "__main__":
    main()
