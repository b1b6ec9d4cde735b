"""The book's API reference (book/api/*.md) documents every public name, and only those.

Reads the MyST sources, not a built book: every name in the ``__all__`` of ``sip_theory`` and of
each public subpackage must be the target of an autodoc directive (``.. autoclass::
sip_theory.graphs.SampleGraph``, ...) on that package's page, so a name added to ``__all__``
without a reference entry fails here instead of silently missing from the book. A name documented
in full twice would be a duplicate object description (an error of the ``-W`` build): a
re-export carries ``:no-index:``, and the object it re-exports is documented in full once.
"""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import sip_theory

BOOK = Path(__file__).resolve().parents[1] / "book"
API = BOOK / "api"

_DIRECTIVE = re.compile(
    r"^\.\. (auto(?:class|exception|function|data)|py:(?:class|exception|function|data))::"
    r"[ \t]+(\S+)[ \t]*\n((?:[ \t]+:[\w-]+:.*\n)*)", re.M)


def public_packages() -> list[str]:
    """``sip_theory`` and its public subpackages, as dotted names."""
    subs = sorted(m.name for m in pkgutil.iter_modules(sip_theory.__path__)
                  if m.ispkg and not m.name.startswith("_"))
    return ["sip_theory", *(f"sip_theory.{name}" for name in subs)]


def page_of(modname: str) -> Path:
    return API / f"{modname.rpartition('.')[2]}.md"


def entries(page: Path) -> dict[str, bool]:
    """Documented target -> whether it is indexed (no ``:no-index:``), for one page."""
    out = {}
    for m in _DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
        assert m.group(2) not in out, f"{page.name}: {m.group(2)} documented twice"
        out[m.group(2)] = ":no-index:" not in m.group(3)
    return out


PACKAGES = public_packages()


def test_the_expected_packages_are_found():
    assert {"sip_theory", "sip_theory.graphs", "sip_theory.data", "sip_theory.theory",
            "sip_theory.geometry", "sip_theory.losses", "sip_theory.models",
            "sip_theory.experiments", "sip_theory.testing"} <= set(PACKAGES)


@pytest.mark.parametrize("modname", PACKAGES)
def test_every_name_in_all_is_documented_on_its_page(modname):
    module = importlib.import_module(modname)
    page = page_of(modname)
    assert page.is_file(), f"no API page {page.relative_to(BOOK)} for {modname}"
    documented = entries(page)
    missing = [name for name in module.__all__ if f"{modname}.{name}" not in documented]
    assert not missing, f"{page.relative_to(BOOK)} lacks {missing} of {modname}.__all__"
    stale = sorted(t for t in documented if t.rpartition(".")[2] not in module.__all__
                   or t.rpartition(".")[0] != modname)
    assert not stale, f"{page.relative_to(BOOK)} documents names not in {modname}.__all__: {stale}"
    text = page.read_text(encoding="utf-8")
    assert f".. automodule:: {modname}\n" in text or f".. py:module:: {modname}\n" in text


def test_each_object_is_documented_in_full_once():
    """Re-exports (the same class or function under two packages) are indexed at one place."""
    indexed = {}
    for modname in PACKAGES:
        module = importlib.import_module(modname)
        for target, is_indexed in entries(page_of(modname)).items():
            obj = getattr(module, target.rpartition(".")[2])
            if is_indexed and (inspect.isclass(obj) or inspect.isroutine(obj) or callable(obj)):
                assert id(obj) not in indexed, (
                    f"{target} and {indexed[id(obj)]} are the same object, both indexed: "
                    "give the re-export :no-index:")
                indexed[id(obj)] = target
    for modname in PACKAGES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or callable(obj):
                assert id(obj) in indexed, f"{modname}.{name} is documented only with :no-index:"


def test_every_api_page_is_in_the_table_of_contents():
    toc = (BOOK / "_toc.yml").read_text(encoding="utf-8")
    for page in sorted(API.glob("*.md")):
        assert f"file: api/{page.stem}\n" in toc, f"{page.relative_to(BOOK)} not in _toc.yml"
    for modname in PACKAGES:
        assert page_of(modname).is_file()


def test_the_api_extensions_are_configured():
    config = (BOOK / "_config.yml").read_text(encoding="utf-8")
    for ext in ("sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.autosummary"):
        assert f"- {ext}\n" in config
