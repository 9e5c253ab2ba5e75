"""The vectorised batch paths give exactly what the plain definitions give.

``KeyIndex`` replaces a per-text Aho-Corasick pass (the scan benchmark's costliest step) and
``Classifier.scores_many`` a per-text n-gram lookup; both are checked here against the
reference they replace, on the whole corpus and on edge cases.
"""

from __future__ import annotations

import random
import re

import ahocorasick
import numpy as np
import pytest

from compliance.classifier import fit, load_corpus, ngrams
from compliance.lexicon_data import default_groups, default_specs
from compliance.scanner import KeyIndex, Scanner, classifier_features, normalise, regex_factors

EDGE = ["", "a", "保", "保本", "保本\x00保息", "  保 本 ", "ABC guarantee*d", "理财非存款" * 30]


@pytest.fixture(scope="module")
def corpus_texts():
    return [normalise(s.text) for s in load_corpus()] + [normalise(t) for t in EDGE]


def test_key_index_reports_what_an_aho_corasick_automaton_reports(corpus_texts):
    index = Scanner(default_specs(), default_groups())._keys
    automaton = ahocorasick.Automaton()
    reported = index.keys[: index.reported]  # the prefilter's silent keys are never reported
    for key, value in zip(reported, index._values, strict=False):
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


# Notes as the benchmark builds them (three sentences, some with a violation or a negated
# one), from the corpus's own snippets: every mechanism the prefilter must respect occurs
# (fillers such as 发送 over 送, numbers for the lazily searched groups, English words).
PREFILTER_EDGE = [
    "已发送产品说明书，到期能拿到百分之四。",
    "已发送产品说明书，到期大概四个点左右。",
    "客户说送的礼品不要了",
    "这个产品到期收益3.5%",
    "We will send the form. You will get 4% at maturity, guaranteed.",
    "存款本来就是保本的",
    "录音的时候您就说是",
    "测评我帮您做",
    "",
    "。。。",
]


@pytest.fixture(scope="module")
def batch_notes():
    texts = [s.text for s in load_corpus()]
    rng = random.Random(5)
    notes = ["".join(rng.sample(texts, 3))[:110] for _ in range(1500)]
    return texts + notes + PREFILTER_EDGE


@pytest.fixture(scope="module")
def scanner_with_model():
    snippets = load_corpus()[::5]
    scanner = Scanner(default_specs(), default_groups())
    extras = [classifier_features(scanner, s.text)[0] for s in snippets]
    scanner.classifier = fit(snippets, [normalise(s.text) for s in snippets], extras)
    return scanner


def _as_compared(result):
    return (
        [(f.rule, f.start, f.end, f.source, f.reason, f.parts) for f in result.findings],
        [(f.rule, f.start, f.end, f.reason, f.parts) for f in result.suppressed],
        [(m.category, m.probability) for m in result.model_findings],
    )


def test_scan_many_gives_what_scan_gives_text_by_text(scanner_with_model, batch_notes):
    """The batch prefilter lets most notes skip the rule logic: it must never skip one that
    has a hit, nor change the concept features the classifier reads."""
    scanner = scanner_with_model
    batch = []
    for i in range(0, len(batch_notes), 700):
        batch.extend(scanner.scan_many(batch_notes[i : i + 700]))
    for text, result in zip(batch_notes, batch, strict=True):
        assert _as_compared(result) == _as_compared(scanner.scan(text)), text
    assert sum(1 for r in batch if r.findings) > 500  # the comparison covers hits, not only clean notes
    assert sum(1 for r in batch if r.model_findings) > 10


def test_prefilter_skips_only_texts_with_no_hit_and_gives_their_features(scanner_with_model, batch_notes):
    scanner = scanner_with_model
    norms = [normalise(t) for t in batch_notes]
    slow, present = scanner._prefilter.judge(norms, scanner._keys.locate(norms))
    features = scanner._prefilter.features(len(norms), present)
    assert 0.2 < slow.mean() < 0.9  # both ways taken on this mix
    for text, is_slow, fast_features in zip(batch_notes, slow.tolist(), features, strict=True):
        if is_slow:
            continue
        expected, result = classifier_features(scanner, text)
        assert not result.findings and not result.suppressed, text
        assert fast_features == expected, text


def test_regex_factors_are_literals_every_match_holds(batch_notes):
    scanner = Scanner(default_specs(), default_groups())
    patterns = [s.pattern for s in default_specs() if s.is_regex]
    patterns += [t for terms in scanner._lazy_terms.values() for t in terms]
    norms = [normalise(t) for t in batch_notes]
    checked = 0
    for pattern in patterns:
        factors = regex_factors(pattern)
        compiled = re.compile(pattern)
        for norm in norms:
            for m in compiled.finditer(norm):
                for factor in factors:
                    assert any(literal in m.group() for literal in factor), (pattern, m.group(), factor)
                checked += 1
    assert checked > 500
    assert regex_factors("(?:贷款|额度).{0,8}?(?:需要|得)买") == [
        frozenset({"买"}),
        frozenset({"需要", "得"}),
        frozenset({"贷款", "额度"}),
    ]
    assert regex_factors("(?i)保本") == []
    assert regex_factors("\\d+%") == [frozenset({"%"})]
