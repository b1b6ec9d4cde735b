""".ci/check_book_html.py on small synthetic pages: each problem is found, a clean page passes.

No built book is needed: every page is written to tmp_path.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "check_book_html.py"
_spec = importlib.util.spec_from_file_location("check_book_html", SCRIPT)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def _page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>"


def _output(inner: str) -> str:
    return f'<div class="cell_output docutils container"><div class="output">{inner}</div></div>'


CLEAN = _page(
    '<link rel="stylesheet" href="_static/custom.css"/>'
    '<script src="_static/mathjax/es5/tex-chtml.js"></script>'
    "<p>Prose with |x| and a <a href='other.html#sec'>link</a>, an "
    "<a href='#top'>anchor</a> and <a href='https://example.org/a.html'>the web</a>.</p>"
    '<span class="math notranslate nohighlight">\\(| a | b | c |\\)</span>'
    "<pre>| printed | table |\n|---|---|</pre>"
    '<img src="_images/fig.png"/><img src="data:image/png;base64,AAAA"/>'
    + _output("<table><tr><td>1</td></tr></table>"
              '<span class="math notranslate nohighlight">\\(\\max(0, d)\\)</span>')
    + _output("<pre>loss 0.1 &lt; ell*</pre>")
    # a notebook page: a code cell, its .ipynb download, a figure with a numbered caption
    + '<a href="_sources/good.ipynb">.ipynb</a><div class="cell docutils container">'
    + _output('<figure id="fig-a"><img src="data:image/png;base64,AAAA"/><figcaption><p>'
              '<span class="caption-number">Fig. 1 </span><span>A figure.</span></p>'
              "</figcaption></figure>")
    + "</div>"
)

_CELL = '<div class="cell docutils container">{}</div>'
_IPYNB = '<a href="_sources/good.ipynb">.ipynb</a>'

PROBLEMS = {
    "table": (_page("<p>| metric | value |\n|---|---|\n| a | 1 |</p>"), "raw Markdown table"),
    "figure": (_page(_output("<pre>&lt;Figure size 1500x420 with 3 Axes&gt;</pre>")),
               "figure printed as its repr"),
    "tex": (_page(_output("<p>- term: $$\\max\\left(0, d\\right)$$</p>")), "raw $$"),
    "traceback": (_page(_output("<pre>Traceback (most recent call last):\n  File x\n"
                                "AssertionError</pre>")), "Python traceback"),
    "warning": (_page(_output("<pre>/home/u/x.py:3: TqdmWarning: IProgress not found</pre>")),
                "warning in an output cell: TqdmWarning:"),
    "image": (_page('<img src="_images/missing.png"/>'), "<img> file does not exist"),
    "link": (_page('<a href="missing.html#x">gone</a>'), "local link does not resolve"),
    "no_ipynb": (_page(_CELL.format(_output("<pre>1</pre>"))),
                 "notebook page without an .ipynb download link"),
    "bad_ipynb": (_page('<a href="_sources/bad.ipynb">.ipynb</a>' + _CELL.format("")),
                  "the .ipynb download is not a notebook: _sources/bad.ipynb"),
    "bare_image": (_page(_IPYNB + _CELL.format(_output('<img src="data:image/png;base64,AA"/>'))),
                   "1 output image(s) outside a figure"),
    "unnumbered": (_page(_IPYNB + _CELL.format(_output(
        '<figure><img src="data:image/png;base64,AA"/><figcaption><p>no number</p>'
        "</figcaption></figure>"))), "1 figure(s) without a caption number"),
}


def _build(root: Path, name: str, html: str) -> Path:
    (root / "_images").mkdir(parents=True, exist_ok=True)
    (root / "_images" / "fig.png").write_bytes(b"png")
    (root / "_static" / "mathjax" / "es5").mkdir(parents=True, exist_ok=True)
    (root / "_static" / "custom.css").write_text("pre {}")
    (root / "_static" / "mathjax" / "es5" / "tex-chtml.js").write_text("")
    (root / "other.html").write_text(_page("<p>other</p>"))
    (root / "_sources").mkdir(exist_ok=True)
    (root / "_sources" / "good.ipynb").write_text(
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}')
    (root / "_sources" / "bad.ipynb").write_text('{"cells": "not a list"}')
    page = root / name
    page.write_text(html)
    return page


def test_clean_page_passes(tmp_path, capsys):
    page = _build(tmp_path, "index.html", CLEAN)
    assert check.check_page(page, tmp_path) == []
    assert check.main([str(tmp_path)]) == 0
    assert "no problems" in capsys.readouterr().out


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_each_problem_is_reported(tmp_path, case):
    html, expected = PROBLEMS[case]
    page = _build(tmp_path, f"{case}.html", html)
    problems = check.check_page(page, tmp_path)
    assert len(problems) == 1 and expected in problems[0], problems
    # the script: exit 1, one line naming the page and the problem
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{case}.html: {problems[0]}"]


def test_pages_skip_underscore_folders_and_empty_build_fails(tmp_path):
    assert check.main([str(tmp_path)]) == 1  # nothing built
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "x.html").write_text(_page("<p>| a | b |</p>"))
    (tmp_path / "p.html").write_text(CLEAN.replace("_images/fig.png", "data:,"))
    assert [p.name for p in check.pages(tmp_path)] == ["p.html"]
