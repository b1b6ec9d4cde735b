"""Screenshot every page of the built book with headless Chromium, to look at.

Usage: ``python .ci/screenshot_book.py [book/_build/html] [book/_build/screenshots]``. Writes
``<page>.png`` (1280 x 4000 px: the top 4000 px of the page) per page, after letting MathJax
and the figures load. Needs Chromium (Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_book_html import pages  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


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
               "--virtual-time-budget=15000", "--window-size=1280,4000",
               f"--screenshot={png}", page.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not png.is_file():
            print(f"{page.relative_to(root)}: screenshot failed: {done.stderr.strip()[-300:]}")
            failed += 1
    print(f"screenshot_book: {len(pages(root)) - failed} pages in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
