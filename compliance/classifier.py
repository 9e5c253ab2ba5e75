"""The learned second opinion: one linear model per category over character n-grams.

The rules say *why* (a phrase, a concept rule and its span); this model says *how much a
text looks like* the labelled violations of a category, to catch paraphrases no rule has
words for yet. Its findings are always medium, carry the model's probability and the
nearest labelled examples, and never block a script alone.

Features are the presence of character n-grams (2 to 3 characters) of the normalised text
and the text's *concept features* from the scanner's pass (which concept groups occur,
negated or not, and which rule categories hit): the model learns combinations no rule
spells out. One multinomial L2 logistic regression over "clean" and the categories is
trained on the corpus in ``compliance/corpus/*.jsonl`` plus the snippets officers add
from reviewed flags.

At scan time no scikit-learn is involved: the n-grams with a weight are sorted integer
codes, and a batch of texts is scored in a few vectorised NumPy steps (its n-grams packed
as integers, looked up by binary search, the weights of each text's distinct hits summed);
training (at the first scan after a start or a corpus change) minimises the L2-penalised
multinomial log-loss itself with SciPy's L-BFGS, so compliance never needs scikit-learn
(the import contract keeps that to scoring); SciPy is loaded only then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import Category, Severity

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
CLEAN = "clean"
NGRAM_MIN, NGRAM_MAX = 2, 3  # unigrams cost most scan time for little held-out recall
MIN_DF = 2
C_REGULARISATION = 1.0
TOLERANCE = 1e-3  # looser stops early and fits worse; tighter costs ~4x the time for nothing held out
THRESHOLD = 0.5  # probability from which a category is a finding
MAX_FEATURES = 3000
NEAREST = 3
_SPACE_CHARS = " \u3000\t\n\r\x00"
_SPACES = str.maketrans(dict.fromkeys(_SPACE_CHARS))
_SPACE_CODES = np.array([ord(c) for c in _SPACE_CHARS if c != "\x00"], dtype=np.uint32)


@dataclass(frozen=True)
class Snippet:
    text: str
    label: str  # a Category value or "clean"
    lang: str
    family: str
    id: str = ""


@dataclass(frozen=True)
class ModelFinding:
    category: str
    probability: float
    severity: str = Severity.MEDIUM
    start: int = 0
    end: int = 0

    @property
    def rule(self) -> str:
        return f"MODEL-{self.category}"

    def as_json(self) -> dict:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "match": "",
            "source": "model",
            "probability": round(self.probability, 3),
        }


def load_corpus(directory: Path = CORPUS_DIR) -> list[Snippet]:
    """Every labelled snippet of the corpus files (held-out and development families)."""
    out = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(Snippet(row["text"], row["label"], row["lang"], row["family"], row["id"]))
    return out


def _compact(norm: str) -> str:
    # str.translate with a dict is slow; spaces are rare in notes, so test before replacing.
    if " " in norm or "\n" in norm or "\t" in norm or "\r" in norm or "\u3000" in norm or "\x00" in norm:
        return norm.translate(_SPACES)
    return norm


def ngrams(norm: str) -> set[str]:
    """The features of a normalised text: its character n-grams, spaces removed."""
    compact = _compact(norm)
    return {compact[i : i + n] for n in range(NGRAM_MIN, NGRAM_MAX + 1) for i in range(len(compact) - n + 1)}


def _train_matrix(texts: Sequence[str], extras: Sequence[set[str]]):
    """Binary presence matrix (scipy CSR) of ``texts`` and its vocabulary."""
    from scipy.sparse import csr_matrix  # a large import: loaded only to train

    grams = [ngrams(t) | extra for t, extra in zip(texts, extras, strict=True)]
    df: dict[str, int] = {}
    for g in grams:
        for token in g:
            df[token] = df.get(token, 0) + 1
    vocabulary = {token: i for i, token in enumerate(sorted(t for t, n in df.items() if n >= MIN_DF))}
    indptr, indices = [0], []
    for g in grams:
        indices.extend(sorted(vocabulary[t] for t in g if t in vocabulary))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return csr_matrix((data, indices, indptr), shape=(len(texts), len(vocabulary))), vocabulary


class Classifier:
    """Trained weights per class ("clean" first, then the categories), compiled for
    scanning. Build with :func:`fit`."""

    def __init__(self, vocabulary: dict[str, int], weights: np.ndarray, bias: np.ndarray, categories: list[str]):
        self.categories = categories
        # Only the n-grams that move some class's score much are kept for scanning: the
        # tables stay small and a text matches few of them (speed; the loss is
        # measured by compliance/evaluation.py, which scores with the pruned weights).
        strength = np.abs(weights).max(axis=1)
        if len(strength) > MAX_FEATURES:
            cut = np.partition(strength, len(strength) - MAX_FEATURES)[len(strength) - MAX_FEATURES]
            used = np.flatnonzero(strength >= max(cut, 1e-6))
        else:
            used = np.flatnonzero(strength > 1e-6)
        keep = {old: new for new, old in enumerate(used)}
        self.weights = np.ascontiguousarray(weights[used], dtype=np.float64)
        self.bias = bias.astype(np.float64)
        self.vocabulary = {t: keep[i] for t, i in vocabulary.items() if i in keep}
        # The n-grams with a weight as direct lookup tables: each character of a weighted
        # n-gram gets a small id (0 for any other character), a bigram is looked up at
        # id₀·K + id₁, a trigram through its first two characters' prefix id: a batch's
        # n-grams are found by a few gathers instead of an automaton pass text by text or a
        # binary search.
        grams = {
            n: [(t, i) for t, i in self.vocabulary.items() if len(t) == n and not t.startswith(("g:", "r:"))]
            for n in (2, 3)
        }
        chars = sorted({c for n in (2, 3) for t, _i in grams[n] for c in t})
        self._char_id = np.zeros(max((ord(c) for c in chars), default=0) + 2, dtype=np.int32)
        self._char_id[[ord(c) for c in chars]] = np.arange(1, len(chars) + 1)
        k = self._k = len(chars) + 1
        ids = {c: i for i, c in enumerate(chars, start=1)}
        self._bigram = np.full(k * k, -1, dtype=np.int32)
        for t, i in grams[2]:
            self._bigram[ids[t[0]] * k + ids[t[1]]] = i
        prefixes = sorted({t[:2] for t, _i in grams[3]})
        self._prefix = np.full(k * k, -1, dtype=np.int32)
        for p_id, prefix in enumerate(prefixes):
            self._prefix[ids[prefix[0]] * k + ids[prefix[1]]] = p_id
        self._trigram = np.full(max(len(prefixes), 1) * k, -1, dtype=np.int32)
        prefix_ids = {prefix: p_id for p_id, prefix in enumerate(prefixes)}
        for t, i in grams[3]:
            self._trigram[prefix_ids[t[:2]] * k + ids[t[2]]] = i
        self.examples: list[Snippet] = []
        self._example_grams: list[set[str]] = []

    def scores_many(self, norms: Sequence[str], extras: Sequence[Iterable[str]]) -> np.ndarray:
        """The linear score of each class (one row a text) for normalised texts and their
        concept features: the presence of each weighted n-gram and feature counts once."""
        n_texts = len(norms)
        scores = np.tile(self.bias, (n_texts, 1))
        if not n_texts:
            return scores
        joined = "\x00".join(norms)
        if joined.count("\x00") != n_texts - 1:  # a text holding the separator: drop it there
            joined = "\x00".join(t.replace("\x00", "") for t in norms)
        chars = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        text_of = np.cumsum(chars == 0)
        keep = ~np.isin(chars, _SPACE_CODES)  # n-grams of the text with its spaces removed
        chars, text_of = chars[keep].astype(np.int64), text_of[keep]
        found_text, found_index = [], []
        if len(chars) >= 2:
            k = self._k
            ids = self._char_id[np.minimum(chars, len(self._char_id) - 1)]  # past the table: id 0
            pair = ids[:-1] * k + ids[1:]  # an n-gram across two texts holds a 0 (id 0): never a key
            index = self._bigram[pair]
            hit = np.flatnonzero(index >= 0)
            found_text.append(text_of[hit])
            found_index.append(index[hit])
            prefix = self._prefix[pair[:-1]]
            at = np.flatnonzero(prefix >= 0)
            index = self._trigram[prefix[at].astype(np.int64) * k + ids[at + 2]]
            hit = index >= 0
            found_text.append(text_of[at[hit]])
            found_index.append(index[hit])
        vocabulary = self.vocabulary
        extra_text, extra_index = [], []
        for row, extra in enumerate(extras):
            for token in extra:
                index = vocabulary.get(token)
                if index is not None:
                    extra_text.append(row)
                    extra_index.append(index)
        if extra_text:
            found_text.append(np.array(extra_text, dtype=np.int64))
            found_index.append(np.array(extra_index, dtype=np.int64))
        if not found_text:
            return scores
        width = len(self.weights) + 1
        pairs = np.sort(np.concatenate(found_text) * width + np.concatenate(found_index))
        if not len(pairs):
            return scores
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # presence: once each
        rows, columns = np.divmod(pairs, width)
        starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
        scores[rows[starts]] += np.add.reduceat(self.weights[columns], starts, axis=0)
        return scores

    def predict(self, norm: str, extra: Sequence[str] = (), *, threshold: float = THRESHOLD) -> list[ModelFinding]:
        """The categories whose probability reaches ``threshold``, most probable first."""
        return self.predict_many([norm], [extra], threshold=threshold)[0]

    def predict_many(
        self, norms: Sequence[str], extras: Sequence[Iterable[str]], *, threshold: float = THRESHOLD
    ) -> list[list[ModelFinding]]:
        """:meth:`predict` of many texts, scored in one vectorised step over the batch."""
        scores = self.scores_many(norms, extras)
        out: list[list[ModelFinding]] = [[] for _ in norms]
        if threshold >= 0.5:
            # from one half up only the most likely class can pass: "clean" rows never do
            rows = np.flatnonzero(scores.argmax(axis=1) != 0).tolist()
        else:
            rows = range(len(norms))
        for row in rows:
            out[row] = self._findings(scores[row], threshold)
        return out

    def _findings(self, scores: np.ndarray, threshold: float) -> list[ModelFinding]:
        top = scores.max()
        exp = np.exp(scores - top)
        probs = dict(zip(self.categories, (exp / exp.sum()).tolist(), strict=True))
        out = [ModelFinding(category=c, probability=p) for c, p in probs.items() if c != CLEAN and p >= threshold]
        return sorted(out, key=lambda f: -f.probability)

    def nearest(self, norm: str, *, category: str | None = None, k: int = NEAREST) -> list[tuple[float, Snippet]]:
        """The labelled examples most like ``norm`` (Jaccard similarity of n-grams), of
        ``category`` when given: the reason shown with a model finding."""
        grams = ngrams(norm)
        if not grams:
            return []
        scored = []
        for snippet, other in zip(self.examples, self._example_grams, strict=True):
            if category is not None and snippet.label != category:
                continue
            union = len(grams | other)
            if union:
                scored.append((len(grams & other) / union, snippet))
        scored.sort(key=lambda pair: -pair[0])
        return scored[:k]

    def remember(self, snippets: Sequence[Snippet], texts: Sequence[str]) -> None:
        self.examples = list(snippets)
        self._example_grams = [ngrams(t) for t in texts]


def _multinomial_fit(matrix, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features × k) and intercepts minimising ``C · Σ log-loss + ½‖W‖²`` (the
    intercepts unpenalised): multinomial L2 logistic regression, by L-BFGS."""
    from scipy.optimize import minimize  # a large import: loaded only to train

    n, d = matrix.shape
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    transposed = matrix.T.tocsr()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * k].reshape(d, k), theta[d * k :]
        z = matrix @ w + b
        top = z.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
        value = C_REGULARISATION * (log_norm - z[np.arange(n), y]).sum() + 0.5 * float((w * w).sum())
        residual = C_REGULARISATION * (np.exp(z - log_norm[:, None]) - onehot)
        grad_w = transposed @ residual + w
        return value, np.concatenate([np.asarray(grad_w).ravel(), residual.sum(axis=0)])

    result = minimize(
        loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 300, "gtol": TOLERANCE}
    )
    return result.x[: d * k].reshape(d, k), result.x[d * k :]


def fit(
    snippets: Sequence[Snippet],
    texts: Sequence[str],
    extras: Sequence[set[str]] | None = None,
    *,
    categories: list[str] | None = None,
) -> Classifier:
    """Train one multinomial logistic regression over "clean" and the categories.

    ``texts`` are the snippets' texts normalised by the scanner (``scanner.normalise``),
    the same normalisation the scan applies before :meth:`Classifier.scores`.
    """
    categories = categories or [c for c in Category.values if c != Category.ALLOW]
    matrix, vocabulary = _train_matrix(texts, extras or [set() for _ in texts])
    classes = [CLEAN, *categories]
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index.get(s.label, 0) for s in snippets])
    present = sorted(set(y.tolist()))
    # One multinomial model over the classes present; an absent class never fires.
    weights = np.zeros((len(vocabulary), len(classes)))
    bias = np.full(len(classes), -30.0)
    if len(present) == 1:
        bias[present[0]] = 0.0
    else:
        coef, intercept = _multinomial_fit(matrix, np.searchsorted(present, y), len(present))
        weights[:, present] = coef
        bias[present] = intercept
    classifier = Classifier(vocabulary, weights, bias, classes)
    classifier.remember(snippets, texts)
    return classifier
