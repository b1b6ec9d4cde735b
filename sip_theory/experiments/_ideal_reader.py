"""How much of the label the node text carries: the ideal reader on word and character text.

For each synthetic family and dataset seed this generates the dataset, then both
kinds of node text from the *same* seed streams as :func:`run_synthetic`:

* ``word``: the project's word corpus at :data:`TEXT_SETTINGS`
  (``make_topic_corpus`` from stream ``"corpus"``, ``sample_tokens`` from stream
  ``"text"``), exactly as the runner generates it;
* ``char``: the character corpus of the official pipeline's statistics
  (:func:`sip_theory.data.make_character_corpus` from stream ``"corpus"``,
  ``sample_tokens`` from stream ``"text"``).

It reports the accuracy on the PT nodes of the ideal naive-Bayes reader
(:func:`sip_theory.data.ideal_reader_accuracy`: it knows the topics, not the
node's mixture) on the family's FT task, and the sequence lengths. Run it with
``python -m sip_theory.experiments._ideal_reader OUT_DIR``; it writes
``OUT_DIR/ideal_reader.json`` and ``OUT_DIR/ideal_reader.md`` atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json, atomic_write_text
from ._runner import library_versions
from ._synthetic import _seed_streams
from ._synthetic_text import TEXT_SETTINGS

__all__ = ["IDEAL_READER_FAMILIES", "ideal_reader_markdown", "ideal_reader_table",
           "write_ideal_reader"]

#: Families and dataset options of the table (the paper's sizes otherwise).
IDEAL_READER_FAMILIES = {
    "cliques": {"noise": 0.0},
    "plane": {},
    "mechanistic": {"text_labels": "motif"},
}


def _label_of_topic(data) -> np.ndarray | None:
    """Topic -> label of the task; only mechanistic datasets put classes on chosen topics."""
    if "class_topics" not in data.extras:
        return None
    lot = np.full(data.n_topics, -1, dtype=np.int64)
    lot[data.extras["class_topics"]] = np.arange(data.extras["class_topics"].size)
    return lot


def _measure(corpus, tokens, pt, labels, label_of_topic) -> dict:
    from ..data import ideal_reader_accuracy

    tok_pt = tokens[pt]
    used = (tok_pt != corpus.pad_id).sum(1)
    return {
        "accuracy": ideal_reader_accuracy(corpus, tok_pt, labels, label_of_topic=label_of_topic),
        "padded_length": int(tokens.shape[1]),
        "padded_length_pt": int(used.max()),
        "text_tokens": float(used.mean()),
    }


def ideal_reader_seed(family: str, seed: int, options=None) -> dict:
    """Both measurements of one dataset seed (see the module notes).

    Examples
    --------
    >>> r = ideal_reader_seed("cliques", 0)
    >>> r["word"]["padded_length"], r["char"]["padded_length"] > 100
    (18, True)
    """
    from ..data import make_character_corpus, make_synthetic_dataset, make_topic_corpus

    options = dict(IDEAL_READER_FAMILIES.get(family, {}) if options is None else options)
    data = make_synthetic_dataset(family, seed=seed, **options)
    streams = _seed_streams(seed)
    pt = np.asarray(data.pt_nodes)
    labels = np.asarray(data.labels[data.task])[pt]
    lot = _label_of_topic(data)
    word = make_topic_corpus(data.n_topics, seed=streams["corpus"],
                             n_words=TEXT_SETTINGS["n_words"],
                             concentration=TEXT_SETTINGS["concentration"])
    word_tok = word.sample_tokens(data.topic_mixtures, length=TEXT_SETTINGS["length"],
                                  seed=streams["text"])
    char = make_character_corpus(data.n_topics, seed=streams["corpus"])
    texts = char.sample_text(data.topic_mixtures, seed=streams["text"])
    char_tok = char.tokenize(texts)
    out = {"seed": int(seed), "task": data.task, "n_pt": int(pt.size),
           "n_nodes": int(data.n_nodes), "n_topics": data.n_topics,
           "word": _measure(word, word_tok, pt, labels, lot),
           "char": _measure(char, char_tok, pt, labels, lot)}
    out["char"]["words_per_text"] = float(np.mean([len(texts[i].split()) for i in pt]))
    out["char"]["n_truncated_pt"] = int(sum(len(texts[i]) == char.settings["max_chars"]
                                            for i in pt))
    return out


def ideal_reader_table(families: Sequence[str] | None = None,
                       seeds: Sequence[int] = range(5)) -> dict:
    """Per family: the per-seed measurements and their means, for both text kinds.

    Parameters
    ----------
    families : sequence of str, optional
        Keys of :data:`IDEAL_READER_FAMILIES` (default all).
    seeds : sequence of int, default 0..4
        Dataset seeds (each also seeds the text, as in :func:`run_synthetic`).

    Returns
    -------
    dict
        ``{family: {"task", "options", "per_seed": [...], "word": means, "char": means}}``;
        each means dict has ``accuracy_mean``, ``accuracy_sd``, ``accuracy_per_seed``
        and the means of the length fields.
    """
    families = list(IDEAL_READER_FAMILIES) if families is None else list(families)
    out = {}
    for fam in families:
        per_seed = [ideal_reader_seed(fam, int(s), IDEAL_READER_FAMILIES.get(fam, {}))
                    for s in seeds]
        summary = {"task": per_seed[0]["task"], "options": IDEAL_READER_FAMILIES.get(fam, {}),
                   "per_seed": per_seed}
        for kind in ("word", "char"):
            rows = [r[kind] for r in per_seed]
            acc = np.array([r["accuracy"] for r in rows])
            summary[kind] = {"accuracy_mean": float(acc.mean()),
                             "accuracy_sd": float(acc.std(ddof=1)) if acc.size > 1 else 0.0,
                             "accuracy_per_seed": acc.tolist()}
            for key in rows[0]:
                if key != "accuracy":
                    summary[kind][f"{key}_mean"] = float(np.mean([r[key] for r in rows]))
        out[fam] = summary
    return out


def ideal_reader_markdown(table: dict) -> str:
    """The table as Markdown: accuracies (mean, sd, per seed) and sequence lengths."""
    lines = [
        "# Ideal reader: how much of the FT label the node text carries",
        "",
        "Accuracy on the PT nodes of a naive-Bayes reader that knows the topics but not "
        "the node's mixture (`sip_theory.data.ideal_reader_accuracy`). *word*: the project's "
        "word text (`TEXT_SETTINGS`); *char*: the per-character text with the official "
        "pipeline's statistics (`make_character_corpus`). Lengths in tokens, [CLS]/[SEP] "
        "included; *padded* is the width of the token array of all nodes tokenized together, "
        "*padded (PT)* the official rule's width, the longest PT sequence.",
        "",
        "| family | task | seeds | word accuracy | char accuracy | word padded | char padded "
        "| char padded (PT) | char text tokens | char words/text |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for fam, t in table.items():
        w, c = t["word"], t["char"]
        lines.append(
            f"| {fam} | {t['task']} | {len(t['per_seed'])} "
            f"| {w['accuracy_mean']:.3f} ± {w['accuracy_sd']:.3f} "
            f"| {c['accuracy_mean']:.3f} ± {c['accuracy_sd']:.3f} "
            f"| {w['padded_length_mean']:.1f} | {c['padded_length_mean']:.1f} "
            f"| {c['padded_length_pt_mean']:.1f} | {c['text_tokens_mean']:.1f} "
            f"| {c['words_per_text_mean']:.1f} |")
    lines += ["", "Per seed (accuracy word / char):", "",
              "| family | " + " | ".join(f"seed {r['seed']}"
                                        for r in next(iter(table.values()))["per_seed"]) + " |",
              "|---|" + "---|" * len(next(iter(table.values()))["per_seed"])]
    for fam, t in table.items():
        cells = [f"{r['word']['accuracy']:.3f} / {r['char']['accuracy']:.3f}"
                 for r in t["per_seed"]]
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_ideal_reader(out_dir, *, families=None, seeds=range(5)) -> dict:
    """Compute :func:`ideal_reader_table` and write ``ideal_reader.json`` and ``.md`` atomically.

    Examples
    --------
    >>> import tempfile, json, os
    >>> d = tempfile.mkdtemp()
    >>> r = write_ideal_reader(d, families=["cliques"], seeds=[0])
    >>> rec = json.load(open(os.path.join(d, "ideal_reader.json")))
    >>> sorted(os.listdir(d)), rec["config"]["seeds"], list(rec["results"])
    (['ideal_reader.json', 'ideal_reader.md'], [0], ['cliques'])
    """
    from ..data import CHARACTER_TEXT_SETTINGS

    seeds = [int(s) for s in seeds]
    table = ideal_reader_table(families, seeds)
    record = {
        "config": {"families": {f: table[f]["options"] for f in table}, "seeds": seeds,
                   "word_text_settings": dict(TEXT_SETTINGS),
                   "char_text_settings": dict(CHARACTER_TEXT_SETTINGS),
                   "streams": "sip_theory.experiments._synthetic._seed_streams(seed): "
                              "corpus from 'corpus', text from 'text'"},
        "versions": library_versions(),
        "results": table,
    }
    out = Path(out_dir)
    atomic_write_json(out / "ideal_reader.json", record)
    atomic_write_text(out / "ideal_reader.md", ideal_reader_markdown(table))
    return record


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) != 1:
        print("usage: python -m sip_theory.experiments._ideal_reader OUT_DIR", file=sys.stderr)
        return 2
    write_ideal_reader(argv[0])
    print(f"wrote {Path(argv[0]) / 'ideal_reader.json'} and ideal_reader.md")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
