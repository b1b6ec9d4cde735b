"""Screenshot every page of the built book with headless Chromium, to look at.

Usage: ``python .ci/screenshot_book.py [book/_build/html] [book/_build/screenshots]``. Renders
each page in a 1280 x 32000 px window (headless Chromium cannot size a screenshot to the page),
after letting MathJax and the figures load, and cuts it into ``<page>-1.png``, ``<page>-2.png``,
... of 3000 px each, down to the end of the page's main column, so that every part of a long
page can be looked at (a page longer than the window is reported). Needs Chromium (Debian:
``apt-get install -y chromium``) and Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_book_html import pages  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HEIGHT = 32_000  # window height (px): longer than any page of the book
TILE = 3_000  # height of one saved piece
TIMEOUT = 300  # s per page (a long page takes a minute on 2 busy cores)
FOOTER = 200  # the footer lies within this many px of the window's bottom
FOOTER_GAP = 400  # a blank stretch at least this tall separates the page's end from the footer


def _content_bottom(im) -> int | None:
    """Where the page's main column ends in a screenshot; None if it runs past the window.

    The pydata theme pins the footer to the window's bottom, so the end is the last content
    row above the blank stretch that precedes the footer (the page is white; a pixel is
    content when a channel is more than 24 below 255).
    """
    import numpy as np

    main = np.asarray(im.crop((im.width // 4, 0, im.width * 3 // 4, im.height)), dtype=int)
    rows = np.flatnonzero((255 - main).max(axis=2).max(axis=1) > 24)
    if rows.size == 0:
        return TILE
    gaps = np.flatnonzero(np.diff(rows) > FOOTER_GAP)
    if gaps.size == 0 or rows[gaps[-1] + 1] < im.height - FOOTER:
        return None
    return int(rows[gaps[-1]]) + 40


def _cut(png: Path) -> tuple[int, bool]:
    """Cut a tall screenshot into TILE-high pieces next to it, down to the page's end.

    Returns the number of pieces and whether the page ran past the window (then its end is
    not in the pieces).
    """
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("RGB")
        end = _content_bottom(im)
        bottom = im.height if end is None else min(im.height, end)
        n = 0
        for top in range(0, bottom, TILE):
            n += 1
            im.crop((0, top, im.width, min(top + TILE, bottom))).save(
                png.with_name(f"{png.stem}-{n}.png"))
    png.unlink()
    return n, end is None


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "book/_build/html").resolve()
    out = Path(argv[1] if len(argv) > 1 else "book/_build/screenshots").resolve()
    browser = next((b for b in map(shutil.which, BROWSERS) if b), None)
    if browser is None:
        print("screenshot_book: no Chromium found (apt-get install -y chromium)", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for page in pages(root):
        png = out / page.relative_to(root).with_suffix(".png")
        png.parent.mkdir(parents=True, exist_ok=True)
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--virtual-time-budget=15000", f"--window-size=1280,{HEIGHT}",
               f"--screenshot={png}", page.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
            error = "" if done.returncode == 0 and png.is_file() else done.stderr.strip()[-300:]
        except subprocess.TimeoutExpired:
            error = f"Chromium took more than {TIMEOUT} s"
        if error:
            print(f"{page.relative_to(root)}: screenshot failed: {error}")
            failed += 1
            continue
        n, longer = _cut(png)
        note = f" (longer than the {HEIGHT} px window: its end is cut off)" if longer else ""
        print(f"{page.relative_to(root)}: {n} piece(s){note}")
    print(f"screenshot_book: {len(pages(root)) - failed} pages in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
