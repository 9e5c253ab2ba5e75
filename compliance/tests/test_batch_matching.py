"""The vectorised batch paths give exactly what the plain definitions give.

``KeyIndex`` replaces a per-text Aho-Corasick pass (the scan benchmark's costliest step) and
``Classifier.scores_many`` a per-text n-gram lookup; both are checked here against the
reference they replace, on the whole corpus and on edge cases.
"""

from __future__ import annotations

import ahocorasick
import numpy as np
import pytest

from compliance.classifier import fit, load_corpus, ngrams
from compliance.lexicon_data import default_groups, default_specs
from compliance.scanner import KeyIndex, Scanner, normalise

EDGE = ["", "a", "保", "保本", "保本\x00保息", "  保 本 ", "ABC guarantee*d", "理财非存款" * 30]


@pytest.fixture(scope="module")
def corpus_texts():
    return [normalise(s.text) for s in load_corpus()] + [normalise(t) for t in EDGE]


def test_key_index_reports_what_an_aho_corasick_automaton_reports(corpus_texts):
    index = Scanner(default_specs(), default_groups())._keys
    automaton = ahocorasick.Automaton()
    for key, value in zip(index.keys, index._values, strict=True):
        automaton.add_word(key, value)
    automaton.make_automaton()
    batch = index.matches(corpus_texts)
    for text, (ends, values) in zip(corpus_texts, batch, strict=True):
        expected = list(automaton.iter(text)) if text else []
        assert [(e, id(v)) for e, v in expected] == [(e, id(v)) for e, v in zip(ends, values, strict=True)], text
    # One text at a time gives the same as the batch.
    assert [index.matches([t])[0] for t in corpus_texts[:50]] == batch[:50]


def test_key_index_with_no_keys_or_no_texts():
    assert KeyIndex({}).matches(["保本"]) == [([], [])]
    assert KeyIndex({"保本": 1}).matches([]) == []
    assert KeyIndex({"保本": 1, "本": 2, "保本保息": 3}).matches(["保本保息", "", "本"]) == [
        ([1, 1, 3], [1, 2, 3]),
        ([], []),
        ([0], [2]),
    ]


def test_batch_scores_equal_the_sum_of_the_weights_of_each_texts_distinct_ngrams(corpus_texts):
    snippets = load_corpus()[:400]
    model = fit(snippets, [normalise(s.text) for s in snippets])
    extras = [["g:loss", "r:guarantee", "g:loss"]] * len(corpus_texts)
    scores = model.scores_many(corpus_texts, extras)
    for text, extra, row in zip(corpus_texts, extras, scores, strict=True):
        found = sorted({model.vocabulary[t] for t in ngrams(text) | set(extra) if t in model.vocabulary})
        expected = model.bias + (model.weights[found].sum(axis=0) if found else 0.0)
        assert np.allclose(row, expected, atol=1e-9), text
    assert model.scores_many([], []).shape == (0, len(model.categories))
