"""Sphinx extension for the API reference (book/api/): two autodoc adjustments.

1. The ``#:`` comments of re-exported constants.
``autodata`` (and ``autosummary``) find a constant's documentation in a ``#:``
comment of the module it is documented under. The public constants of
sip_theory are defined in private modules (``sip_theory.data._topic_corpus``,
...) and re-exported by a subpackage's ``__init__``, whose source has no such
comment, so autodoc would show the docstring of the value's type
(``dict() -> new empty dictionary ...``). This handler replaces a constant's
docstring with the comment at its definition: the first loaded module of the
same package that holds the very same object under the same name and has a
``#:`` comment for it; without one, the type's docstring is dropped. It runs
after napoleon and keeps the comment as written (napoleon would read a colon in
its first line as "type: description").

2. The fields of a ``NamedTuple`` are documented once. A NamedTuple's numpydoc
"Attributes" section describes its fields, and autodoc's ``:members:`` would
list each field a second time (as a property with the docstring "Alias for
field number k"), a duplicate object description; those are skipped.
"""

import sys

from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer

_MISSING = object()


def _comment(modname, attrname):
    try:
        analyzer = ModuleAnalyzer.for_module(modname)
        analyzer.analyze()
    except PycodeError:
        return None
    return analyzer.attr_docs.get(("", attrname))


def definition_comment(name, obj):
    """The ``#:`` comment of constant ``name`` (dotted), at its definition; None if none."""
    modname, _, attrname = name.rpartition(".")
    comment = _comment(modname, attrname)
    if comment:
        return list(comment)
    package = modname.split(".")[0] + "."
    for other in sorted(sys.modules):
        if (other.startswith(package) and other != modname
                and getattr(sys.modules[other], attrname, _MISSING) is obj):
            comment = _comment(other, attrname)
            if comment:
                return list(comment)
    return None


def _process_docstring(app, what, name, obj, options, lines):
    if what != "data":
        return
    comment = definition_comment(name, obj)
    if comment:
        lines[:] = [*comment, ""]
    elif type(obj).__doc__ and lines and getattr(obj, "__doc__", None) == type(obj).__doc__:
        lines[:] = []


def _skip_member(app, what, name, obj, skip, options):
    doc = getattr(obj, "__doc__", None) or ""
    if what == "class" and doc.startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    # after napoleon (priority 500), which is not to parse the comment
    app.connect("autodoc-process-docstring", _process_docstring, priority=600)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
