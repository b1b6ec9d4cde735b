"""Install a local MathJax 3 (es5) for the book, so its math renders offline.

Downloads the mathjax npm package (a pinned version, checked against its SHA-256) from the
npm registry and unpacks the combined ``tex-chtml.js`` with the TeX extensions it may
autoload and the CHTML fonts into ``book/_mathjax/_static/mathjax/es5`` (git-ignored). The
book's sphinx config copies ``book/_mathjax`` into the HTML (``html_extra_path``) and points
``mathjax_path`` at ``mathjax/es5/tex-chtml.js`` under ``_static``. Does nothing when the copy
is already there. Usage: ``python .ci/fetch_mathjax.py``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "3.2.2"
URL = f"https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz"
SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"
# what tex-chtml.js loads: itself, the TeX extensions it autoloads, the CHTML output's fonts
KEEP = ("package/es5/tex-chtml.js", "package/es5/input/tex/", "package/es5/output/chtml/")
TARGET = Path(__file__).resolve().parents[1] / "book" / "_mathjax" / "_static" / "mathjax"


def main() -> int:
    if (TARGET / "es5" / "tex-chtml.js").is_file():
        return 0
    with urllib.request.urlopen(URL, timeout=120) as response:
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"fetch_mathjax: {URL} has SHA-256 {digest}, expected {SHA256}", file=sys.stderr)
        return 1
    tmp = TARGET.with_name("mathjax.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(KEEP)]
        for m in members:
            m.name = m.name.removeprefix("package/")
        tar.extractall(tmp, members=members, filter="data")
    shutil.rmtree(TARGET, ignore_errors=True)
    tmp.rename(TARGET)  # atomic: a failed download leaves no partial copy behind
    print(f"fetch_mathjax: MathJax {VERSION} ({len(members)} files) in {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
