"""Sphinx extension: a ``mean ± half-width`` table cell never breaks around its ``±``.

The result tables (stored Markdown printed by the pages, and pandas HTML) have cells such as
``0.714 ± 0.031``; in a wide table the browser broke them at both spaces, onto three lines.
This handler replaces the spaces around ``±`` in every table cell by no-break spaces
(U+00A0) once the doctree is resolved, i.e. after MyST-NB has turned the cells' Markdown
outputs into nodes. Only the displayed text changes: the stored results, and the strings
the tests compare, keep their ordinary spaces. Tables still scroll sideways
(``book/_static/custom.css``).
"""

import re

from docutils import nodes

NBSP = "\u00a0"
_PM = re.compile(r"[ \t]+±[ \t]+")


def nowrap_pm(text: str) -> str:
    """``text`` with each ``±`` and its surrounding spaces joined by no-break spaces.

    >>> nowrap_pm("0.714 ± 0.031 and +0.20  ±  0.05") == (
    ...     "0.714\\u00a0±\\u00a00.031 and +0.20\\u00a0±\\u00a00.05")
    True
    """
    return _PM.sub(f"{NBSP}±{NBSP}", text)


def _join_pm_in_tables(app, doctree, docname):
    for entry in doctree.findall(nodes.entry):
        for text in list(entry.findall(nodes.Text)):
            if "±" in text:
                text.parent.replace(text, nodes.Text(nowrap_pm(str(text))))
    for raw in list(doctree.findall(nodes.raw)):  # HTML tables (pandas' to_html)
        html = raw.astext()
        if "html" in raw.get("format", "").split() and "<td" in html and "±" in html:
            raw.parent.replace(raw, nodes.raw("", nowrap_pm(html), format=raw["format"]))


def setup(app):
    app.connect("doctree-resolved", _join_pm_in_tables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
