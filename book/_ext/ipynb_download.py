"""Sphinx extension: every notebook page of the book offers its ``.ipynb`` for download.

The pages are MyST notebooks (``.md``); sphinx-book-theme's download menu offers a page's
source file and a print-to-PDF, and an ``.ipynb`` only when the theme is told of one in the
page's ``ipynb_source`` context value (which it sets itself only when Binder-like launch
buttons are configured). MyST-NB writes each notebook page, as executed for the build (its
outputs included), to its output folder (``_build/jupyter_execute/<page>.ipynb``). For each
page with a ``kernelspec`` (a notebook), this handler validates that file with nbformat,
copies it to ``_sources/<page>.ipynb`` of the HTML and sets ``ipynb_source``, so that the
theme's menu lists ``.ipynb`` next to ``.md`` and ``.pdf``. It runs before the theme's
header-button handler (priority 501). A missing or invalid notebook is a build warning
(an error under ``-W``), never a dead link.
"""

from pathlib import Path
from shutil import copyfile

import nbformat
from sphinx.util import logging

logger = logging.getLogger(__name__)


def add_ipynb_download(app, pagename, templatename, context, doctree):
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # not a notebook page (the API reference, the bibliography, genindex, ...)
    folder = getattr(app.env.mystnb_config, "output_folder", None)
    executed = Path(folder or Path(app.outdir).parent / "jupyter_execute") / f"{pagename}.ipynb"
    if not executed.is_file():
        logger.warning(f"ipynb_download: no notebook for {pagename} at {executed}")
        return
    try:
        nbformat.validate(nbformat.read(executed, as_version=4))
    except Exception as err:  # nbformat.ValidationError, or unreadable JSON
        logger.warning(f"ipynb_download: {executed} is not a valid notebook: {err}")
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copyfile(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", add_ipynb_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
