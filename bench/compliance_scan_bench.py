"""Benchmark the compliance scanner: 1,000,000 call notes of ~100 Chinese characters, one core.

    .venv/bin/python bench/compliance_scan_bench.py [N]

Builds the default lexicon (compliance/lexicon_data.py: phrases, patterns, concept groups
and rules, no database needed), trains the classifier on the corpus (compliance/corpus),
generates N (default 1,000,000) realistic call notes of about 100 characters, about 5% of
them with a violation and 5% with a negated phrase, then times, in one process on one core:

1. the rules alone (one Aho-Corasick pass, triggered regexes, concept rules, negation and
   dismissal checks on hits only);
2. rules and classifier together (what surveillance runs: the classifier's n-grams are a
   second automaton pass plus one sum of weights);
3. the naive way for comparison, on a 20,000-note sample: `str.find` of every phrase and
   `re.search` of every pattern, note by note.

It prints notes/s, total seconds, the ratios, and the requirement check (rules and
classifier together under 60 s for 1,000,000 notes), and for each run (and for the
development corpus) the number of findings and a digest of every finding, so that a change
made for speed shows in the same run that it changed no finding.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from compliance.classifier import load_corpus  # noqa: E402
from compliance.lexicon_data import default_groups, default_specs  # noqa: E402
from compliance.scanner import Scanner, classifier_train, normalise  # noqa: E402

CLEAN = [
    "您好，我是远程理财经理，今天给您回访一下上次咨询的产品情况。",
    "客户表示近期资金需要用于孩子教育，暂不考虑长期产品，约下周再联系。",
    "已向客户说明产品风险等级为R2，业绩比较基准不代表实际收益，客户表示理解。",
    "客户持有的定期存款下月到期，有意向了解稳健型理财，已发送产品说明书。",
    "客户对净值波动有顾虑，已解释净值型产品的特点，建议分散配置。",
    "理财非存款、产品有风险、投资须谨慎，已完成风险揭示，客户确认。",
    "客户的风险测评已过期，已提醒客户本人登录手机银行重新完成测评。",
    "客户询问基金定投，已介绍定投的原理和费用，客户表示考虑一下。",
    "本次通话已录音，客户同意录音并确认已了解产品风险。",
    "客户近期在外地出差，不方便详谈，约定周五下午再致电。",
]
VIOLATION = ["这款产品是保本的", "本金不会亏的", "额度有限错过再等一年", "我帮您做风评", "收益最高稳赚不赔"]
NEGATED = ["本产品不保本", "我们不承诺收益", "没有任何产品能做到零风险"]


def make_notes(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    notes = []
    for _ in range(n):
        parts = rng.sample(CLEAN, 3)
        roll = rng.random()
        if roll < 0.05:
            parts.insert(rng.randrange(3), rng.choice(VIOLATION) + "，")
        elif roll < 0.10:
            parts.insert(rng.randrange(3), rng.choice(NEGATED) + "，")
        notes.append("".join(parts)[:110])
    return notes


def naive_scan(specs, texts) -> int:
    phrases = [normalise(s.pattern) for s in specs if not s.is_regex and "{" not in s.pattern]
    patterns = [re.compile(s.pattern) for s in specs if s.is_regex]
    hits = 0
    for text in texts:
        norm = normalise(text)
        hits += sum(1 for p in phrases if p in norm)
        hits += sum(1 for p in patterns if p.search(norm))
    return hits


BATCH = 2_000  # notes per scan_many call (what batch scanning and rescans do)


def digest_line(index: int, result) -> str:
    """One note's findings as the digest reads them: every rule finding and suppressed hit
    (rule, span, source, reason, parts) and every model finding (category, probability
    rounded to 6 places). Equal digests before and after a change: no finding changed."""
    rules = ";".join(
        f"{f.rule}@{f.start}-{f.end}/{f.source}/{f.reason}/{f.parts}" for f in result.findings + result.suppressed
    )
    models = ";".join(f"{m.category}={m.probability:.6f}" for m in result.model_findings)
    return f"{index}|{rules}|{models}\n"


def timed_scan(scanner: Scanner, notes: list[str], label: str) -> tuple[float, int, int, int, int, str]:
    """CPU seconds of this process (on a shared, loaded box wall time counts the waits for
    a core too), the counts and the digest of the findings (computed after the clock; with
    BENCH_DIGEST_OUT=PREFIX, each note's digest line is written to PREFIX.<label>, to diff)."""
    flagged = findings = suppressed = model = 0
    results = []
    t0 = time.process_time()
    for i in range(0, len(notes), BATCH):
        results.extend(scanner.scan_many(notes[i : i + BATCH]))
    seconds = time.process_time() - t0
    digest = hashlib.sha256()
    lines = []
    for index, result in enumerate(results):
        if result.findings or result.model_findings:
            flagged += 1
            findings += len(result.findings)
        suppressed += len(result.suppressed)
        model += len(result.model_findings)
        if result.findings or result.suppressed or result.model_findings:
            lines.append(digest_line(index, result))
            digest.update(lines[-1].encode())
    if os.environ.get("BENCH_DIGEST_OUT"):
        Path(f"{os.environ['BENCH_DIGEST_OUT']}.{label}").write_text("".join(lines), encoding="utf-8")
    return seconds, flagged, findings, suppressed, model, digest.hexdigest()[:16]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    specs = default_specs()
    t0 = time.perf_counter()
    rules = Scanner(specs, default_groups())
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifier = classifier_train(load_corpus())
    train = time.perf_counter() - t0
    both = Scanner(specs, default_groups(), classifier)
    t0 = time.perf_counter()
    notes = make_notes(n)
    gen = time.perf_counter() - t0
    avg_len = sum(map(len, notes)) / len(notes)
    print(f"lexicon: {len(specs)} rules, compiled in {build * 1000:.1f} ms")
    print(f"classifier: {len(classifier.vocabulary):,} weighted n-grams and features, trained in {train:.1f} s")
    print(f"notes: {n:,} of {avg_len:.1f} characters on average (generated in {gen:.1f} s)")

    seconds, flagged, findings, suppressed, _model, digest = timed_scan(rules, notes, "rules")
    rate = n / seconds
    print(
        f"rules: {seconds:.2f} s, {rate:,.0f} notes/s, {flagged:,} notes flagged, {findings:,} findings, "
        f"{suppressed:,} negated hits suppressed, digest {digest}"
    )
    seconds2, flagged2, findings2, _s, model, digest2 = timed_scan(both, notes, "both")
    rate2 = n / seconds2
    print(
        f"rules + classifier: {seconds2:.2f} s, {rate2:,.0f} notes/s, {flagged2:,} notes flagged, "
        f"{findings2:,} findings, {model:,} model findings, digest {digest2}"
    )

    dev = [s.text for s in load_corpus() if s.family.startswith("D")]
    _sec, flagged3, findings3, suppressed3, model3, digest3 = timed_scan(both, dev, "dev")
    print(
        f"development corpus ({len(dev):,} snippets), rules + classifier: {flagged3:,} flagged, "
        f"{findings3:,} findings, {suppressed3:,} suppressed, {model3:,} model findings, digest {digest3}"
    )

    sample = notes[:20_000]
    t0 = time.process_time()
    naive_scan(specs, sample)
    naive_seconds = time.process_time() - t0
    naive_rate = len(sample) / naive_seconds
    print(f"naive (find + re.search per rule, {len(sample):,} notes): {naive_rate:,.0f} notes/s")
    print(f"ratio rules / naive: {rate / naive_rate:.1f}x; rules + classifier / naive: {rate2 / naive_rate:.1f}x")
    t0 = time.process_time()
    for _ in range(1_000_000):
        pass
    loop = time.process_time() - t0
    print(f"yardstick: a 1,000,000-step Python loop took {loop:.3f} CPU s in this run")
    projected = 1_000_000 / rate2
    verdict = "PASS" if projected < 60 else "FAIL"
    print(f"1,000,000 notes, rules + classifier: {projected:.1f} CPU s on one core (requirement < 60 s): {verdict}")


if __name__ == "__main__":
    main()
