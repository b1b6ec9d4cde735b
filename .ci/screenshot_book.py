"""Screenshot every page of the built book with headless Chromium, to look at.

Usage: ``python .ci/screenshot_book.py [book/_build/html] [book/_build/screenshots]``. Renders
each page in a 1280 x 24000 px window (headless Chromium cannot size a screenshot to the page),
after letting MathJax and the figures load, and cuts it into ``<page>-1.png``, ``<page>-2.png``,
... of 3000 px each, dropping the blank ones below the page's end, so that every part of a long
page can be looked at. Needs Chromium (Debian: ``apt-get install -y chromium``) and Pillow.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_book_html import pages  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HEIGHT = 24_000  # window height (px): longer than any page of the book
TILE = 3_000  # height of one saved piece


def _cut(png: Path) -> int:
    """Cut a tall screenshot into TILE-high pieces next to it; blank pieces are dropped."""
    from PIL import Image, ImageChops

    with Image.open(png) as im:
        im = im.convert("RGB")
        # the page ends where its main column does (the sidebars' borders run to the bottom)
        main = im.crop((im.width // 4, 0, im.width * 3 // 4, im.height))
        bg = Image.new("RGB", main.size, main.getpixel((main.width // 2, main.height - 1)))
        box = ImageChops.difference(main, bg).getbbox()
        bottom = min(im.height, box[3] + 40) if box else TILE
        n = 0
        for top in range(0, bottom, TILE):
            n += 1
            im.crop((0, top, im.width, min(top + TILE, bottom))).save(
                png.with_name(f"{png.stem}-{n}.png"))
    png.unlink()
    return n


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
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not png.is_file():
            print(f"{page.relative_to(root)}: screenshot failed: {done.stderr.strip()[-300:]}")
            failed += 1
            continue
        print(f"{page.relative_to(root)}: {_cut(png)} piece(s)")
    print(f"screenshot_book: {len(pages(root)) - failed} pages in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
