"""Check the built book's HTML for what a reader should never see.

Usage: ``python .ci/check_book_html.py [book/_build/html]``. Reads every page (``*.html``,
folders whose name starts with ``_`` excepted) and prints one line per problem,
``<page>: <problem>``; exits 1 when there is any, 0 otherwise. A problem is

* a raw Markdown table (a line of ``|``-separated cells or a ``|---|`` rule) outside
  code, ``pre`` and math: a table that was printed instead of rendered;
* a ``<Figure size ...>`` repr: a figure that was printed instead of drawn;
* a raw ``$$`` in a cell's output: TeX that was not rendered as math;
* a Python traceback or a warning (``SomethingWarning:``) in a cell's output;
* an ``<img>`` whose file does not exist;
* a local link (``href`` of ``<a>``/``<link>``, ``src`` of ``<script>``) that does not
  resolve to a file of the build;
* a notebook page (one with code cells) without a link to its ``.ipynb`` download, or whose
  ``.ipynb`` is not a notebook (JSON with ``nbformat`` 4 and a list of ``cells``);
* a figure without a numbered caption: an image in a cell's output outside a ``<figure>``,
  or a ``<figure>`` without a caption number (``Fig. N``).
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# elements whose text is code or math, not prose
_VERBATIM = {"pre", "code", "script", "style", "kbd", "samp", "textarea"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
_TABLE_ROW = re.compile(r"^\s*\|(?:[^|\n]*\|){2,}\s*$", re.M)  # | a | b |
_TABLE_RULE = re.compile(r"\|\s*:?-{3,}:?\s*\|")  # |---|
_FIGURE_REPR = re.compile(r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)?")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
_WARNING = re.compile(r"\b[A-Z]\w*Warning: ")
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, data:, ...


class _Page(HTMLParser):
    """Collects the text (prose or verbatim, in an output or not) and the local links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, verbatim, math, output) per open element
        self.prose = []  # text outside code/pre/math
        self.output = []  # text inside a cell's output
        self.text = []  # all text
        self.images = []
        self.links = []
        self.code_cells = 0
        self.figures = []  # per open <figure>: has it a caption number yet
        self.bare_output_images = 0  # images in a cell's output outside any <figure>
        self.unnumbered_figures = 0

    def _state(self):
        return self.stack[-1][1:] if self.stack else (False, False, False)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        verbatim, math, output = self._state()
        verbatim = verbatim or tag in _VERBATIM
        math = math or "math" in classes or tag == "math" or tag.startswith("mjx-")
        output = output or "cell_output" in classes
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
            if output and not self.figures:
                self.bare_output_images += 1
        if tag == "div" and "cell" in classes:
            self.code_cells += 1
        if tag == "figure":
            self.figures.append(False)
        if "caption-number" in classes and self.figures:
            self.figures[-1] = True
        for name in ("href", "src"):
            if tag in ("a", "link", "script") and attrs.get(name):
                self.links.append(attrs[name])
        if tag not in _VOID:
            self.stack.append((tag, verbatim, math, output))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "figure" and self.figures:
            self.unnumbered_figures += not self.figures.pop()
        for i in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed children
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        verbatim, math, output = self._state()
        self.text.append(data)
        if not verbatim and not math:
            self.prose.append(data)
        if output:
            self.output.append(data)


def _resolve(page: Path, root: Path, url: str) -> Path | None:
    """The file a local URL points at, or None for an external or same-page URL."""
    if _EXTERNAL.match(url) or url.startswith("//"):
        return None
    path = unquote(urlsplit(url).path)
    if not path:
        return None  # "#anchor" or "?query"
    target = (root / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
    return target / "index.html" if path.endswith("/") else target


def check_page(page: Path, root: Path) -> list[str]:
    """The problems of one page, one sentence each."""
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    prose, output, text = "".join(parser.prose), "\n".join(parser.output), "".join(parser.text)
    problems = []
    rows = [m.group(0).strip() for m in (*_TABLE_ROW.finditer(prose),
                                          *_TABLE_RULE.finditer(prose))]
    if rows:
        problems.append(f"raw Markdown table pipes outside code/pre ({len(rows)} lines), "
                        f"e.g. {rows[0][:80]!r}")
    for m in sorted(set(_FIGURE_REPR.findall(text))):
        problems.append(f"figure printed as its repr: {m}...>")
    if "$$" in output:
        problems.append("raw $$ (unrendered TeX) in an output cell")
    if _TRACEBACK.search(output):
        problems.append("Python traceback in an output cell")
    for m in sorted(set(_WARNING.findall(output))):
        problems.append(f"warning in an output cell: {m.strip()}")
    for src in parser.images:
        target = _resolve(page, root, src)
        if target is not None and not target.is_file():
            problems.append(f"<img> file does not exist: {src}")
    for url in parser.links:
        target = _resolve(page, root, url)
        if target is not None and not target.exists():
            problems.append(f"local link does not resolve: {url}")
    if parser.code_cells:
        problems += _notebook_download(page, root, parser.links)
    if parser.bare_output_images:
        problems.append(f"{parser.bare_output_images} output image(s) outside a figure "
                        "(no numbered caption)")
    if parser.unnumbered_figures:
        problems.append(f"{parser.unnumbered_figures} figure(s) without a caption number")
    return problems


def _notebook_download(page: Path, root: Path, links: list[str]) -> list[str]:
    """The problems of a notebook page's ``.ipynb`` download link (none when it is fine)."""
    targets = {_resolve(page, root, url) for url in links
               if urlsplit(url).path.endswith(".ipynb")} - {None}
    if not targets:
        return ["notebook page without an .ipynb download link"]
    problems = []
    for target in sorted(t for t in targets if t.is_file()):
        try:
            nb = json.loads(target.read_text(encoding="utf-8"))
            ok = nb.get("nbformat") == 4 and isinstance(nb.get("cells"), list)
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            problems.append(f"the .ipynb download is not a notebook: {target.relative_to(root)}")
    return problems


def pages(root: Path) -> list[Path]:
    """The book's pages: every .html file not under a folder named _something."""
    return sorted(p for p in root.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts[:-1]))


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "book/_build/html")
    found = pages(root)
    if not found:
        print(f"{root}: no HTML pages (is the book built?)")
        return 1
    n = 0
    for page in found:
        for problem in check_page(page, root):
            print(f"{page.relative_to(root)}: {problem}")
            n += 1
    if n:
        return 1
    print(f"check_book_html: {len(found)} pages, no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
