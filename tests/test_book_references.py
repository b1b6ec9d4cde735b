"""The book's citations and theorem cross-references resolve, read from the MyST sources.

Every ``{cite}`` key is an entry of book/references.bib, every ``{prf:ref}`` target is the label of
a ``prf:`` block, and no ``prf:`` block is left unparsed: a backtick fence whose title holds a role
(`` ```{prf:lemma} ... {cite:t}`key` ``) is not a fence at all in CommonMark, so such blocks need
colon fences.
"""

import re
from pathlib import Path

BOOK = Path(__file__).resolve().parents[1] / "book"
PAGES = sorted(p for p in BOOK.glob("*.md"))


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def test_every_cited_key_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text("utf-8"), re.M))
    assert "mcdermott2023sipt" in keys
    cited = {key.strip() for page in PAGES
             for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", _text(page))
             for key in group.split(",")}
    assert cited, "no {cite} role in the book"
    assert not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def test_every_prf_ref_names_a_labelled_block():
    labels, refs = set(), set()
    for page in PAGES:
        text = _text(page)
        for m in re.finditer(r"^(?:```|:::)\{prf:\w+\}.*\n((?::[\w-]+:.*\n)*)", text, re.M):
            labels.update(re.findall(r":label: (\S+)", m.group(1)))
        refs.update(t.split("<")[-1].rstrip(">") for t in re.findall(r"\{prf:ref\}`([^`]+)`", text))
    assert {"thm-theorem1", "lem-contrastive-margin", "cor-purity"} <= labels
    assert refs and not refs - labels, f"unknown prf:ref targets: {sorted(refs - labels)}"


def test_no_backtick_fence_title_holds_a_backtick():
    for page in PAGES:
        for line in _text(page).splitlines():
            if line.startswith("```{prf:"):
                assert "`" not in line[3:], f"{page.name}: use a ::: fence for {line!r}"
