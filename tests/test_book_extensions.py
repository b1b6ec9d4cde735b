"""The book's local Sphinx extensions (book/_ext/): ± cells that do not wrap, .ipynb downloads.

No book build is needed: the handlers run on a docutils doctree and on a stand-in Sphinx app.
"""

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils.core import publish_doctree

EXT = Path(__file__).resolve().parents[1] / "book" / "_ext"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nowrap = _load("table_nowrap")
ipynb = _load("ipynb_download")
NB = "\u00a0"


@pytest.mark.parametrize(("text", "expected"), [
    ("0.714 ± 0.031", f"0.714{NB}±{NB}0.031"),
    ("+0.20  ±\t0.05 (n = 3)", f"+0.20{NB}±{NB}0.05 (n = 3)"),
    ("a ± b ± c", f"a{NB}±{NB}b{NB}±{NB}c"),
    ("0.7±0.1", "0.7±0.1"),  # no spaces: nothing to join
    ("no interval", "no interval"),
    ("", ""),
])
def test_nowrap_pm(text, expected):
    assert nowrap.nowrap_pm(text) == expected


def test_only_table_cells_change():
    rule = "=====  ============\n"
    doc = publish_doctree(f"Prose 1 ± 2.\n\n{rule}m      v\n{rule}a      0.5 ± 0.1\n{rule}\n"
                          ".. raw:: html\n\n   <td>3 ± 4</td>\n")
    nowrap._join_pm_in_tables(None, doc, "page")
    text = doc.astext()
    assert "Prose 1 ± 2." in text  # prose keeps its spaces
    assert f"0.5{NB}±{NB}0.1" in text and "0.5 ± 0.1" not in text
    assert f"<td>3{NB}±{NB}4</td>" in text


def _app(tmp_path, metadata):
    out = tmp_path / "_build" / "html"
    out.mkdir(parents=True)
    folder = tmp_path / "_build" / "jupyter_execute"
    folder.mkdir()
    env = SimpleNamespace(metadata=metadata, mystnb_config=SimpleNamespace(output_folder=folder))
    return SimpleNamespace(outdir=str(out), env=env), folder


def test_notebook_page_gets_its_ipynb(tmp_path):
    app, folder = _app(tmp_path, {"ch": {"kernelspec": {"name": "python3"}}, "bib": {}})
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "id": "a1", "metadata": {}, "source": "# t"}]}
    (folder / "ch.ipynb").write_text(json.dumps(nb))
    context = {}
    ipynb.add_ipynb_download(app, "ch", "page.html", context, doctree=object())
    assert context["ipynb_source"] == "ch.ipynb"
    assert json.loads((Path(app.outdir) / "_sources" / "ch.ipynb").read_text()) == nb
    context = {}  # a page that is not a notebook, and a page without a doctree: nothing
    ipynb.add_ipynb_download(app, "bib", "page.html", context, doctree=object())
    ipynb.add_ipynb_download(app, "ch", "genindex.html", context, doctree=None)
    assert context == {}


@pytest.mark.parametrize("content", [None, "{not json", '{"nbformat": 4, "cells": "x"}'])
def test_missing_or_invalid_notebook_warns_and_offers_no_link(tmp_path, monkeypatch, content):
    app, folder = _app(tmp_path, {"ch": {"kernelspec": {}}})
    if content is not None:
        (folder / "ch.ipynb").write_text(content)
    warnings = []
    monkeypatch.setattr(ipynb.logger, "warning", warnings.append)
    context = {}
    ipynb.add_ipynb_download(app, "ch", "page.html", context, doctree=object())
    assert context == {} and len(warnings) == 1 and "ipynb_download" in warnings[0]
    assert not (Path(app.outdir) / "_sources" / "ch.ipynb").exists()
