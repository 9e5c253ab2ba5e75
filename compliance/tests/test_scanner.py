"""The scanner: negation, full-width and mixed-language text, disclosures, and the labelled set."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from compliance.constants import Category
from compliance.lexicon_data import default_groups, default_rules, default_specs
from compliance.models import LexiconRule
from compliance.scanner import Scanner, normalise, scan_text
from compliance.services import lexicon as lexicon_services

LABELLED = Path(__file__).parent / "data" / "labelled_set.jsonl"


@pytest.fixture(scope="module")
def scanner():
    return Scanner(default_specs(), default_groups())


def hits(scanner, text):
    return [f.match for f in scanner.scan(text).findings]


@pytest.mark.parametrize(
    "text",
    ["本产品不保本", "我们不承诺收益", "并非保本产品", "没有任何产品能做到零风险", "我们严禁员工代客户做风险测评"],
)
def test_correct_statements_from_the_issue_are_not_flagged(scanner, text):
    result = scanner.scan(text)
    assert result.findings == []
    assert result.suppressed, "the phrase is seen, then suppressed by the negation"


@pytest.mark.parametrize(
    ("text", "match"),
    [("这款产品是保本的", "保本"), ("本金不会亏的", "本金不会亏"), ("没有风险的", "没有风险")],
)
def test_violations_from_the_issue_are_flagged(scanner, text, match):
    assert hits(scanner, text) == [match]


def test_negation_does_not_cross_clause_boundaries(scanner):
    # "不" belongs to the first clause; the second one promises principal.
    assert hits(scanner, "您不用担心，这款是保本的。") == ["保本"]
    assert hits(scanner, "这个不保本，但那个是保本的") == ["保本"]


def test_words_containing_negation_characters_do_not_negate(scanner):
    assert hits(scanner, "不仅保本，收益还高") == ["保本"]
    assert hits(scanner, "这款产品非常保本") == ["保本"]


def test_full_width_punctuation_and_letters(scanner):
    text = "ＯＫ！这款产品是保本的；ＲＩＳＫ－ＦＲＥＥ。"
    result = scanner.scan(text)
    assert [f.match for f in result.findings] == ["保本", "ＲＩＳＫ－ＦＲＥＥ"]
    for f in result.findings:
        assert text[f.start : f.end] == f.match  # spans point into the original text
    assert len(normalise(text)) == len(text)
    assert hits(scanner, "本产品不保本，理财非存款、产品有风险、投资须谨慎！") == []


def test_mixed_language(scanner):
    assert hits(scanner, "这个product是保本的") == ["保本"]
    assert hits(scanner, "这款产品 is not risk-free，请注意") == []
    assert hits(scanner, "We do not 保本") == []
    assert hits(scanner, "This fund 稳赚不赔 for sure") == ["稳赚不赔"]


def test_english_needs_word_boundaries(scanner):
    assert hits(scanner, "The risk-free rate fell") == []  # allowed compound
    assert hits(scanner, "There is no risk at all") == ["no risk"]
    assert hits(scanner, "kickbacks") == []  # not a whole-word match of "kickback"


def test_longest_hit_wins_and_one_finding_per_span(scanner):
    result = scanner.scan("本金不会亏的")
    assert len(result.findings) == 1  # phrase and pattern catch the same words: one finding
    assert hits(scanner, "保本保息") == ["保本保息"]


def test_allow_terms_cancel_hits_inside_them(scanner):
    assert hits(scanner, "无风险利率下行") == []
    assert hits(scanner, "这款属于固定收益类产品") == []
    assert hits(scanner, "这款是固定收益") == ["固定收益"]


class TestDisclosures:
    def test_wealth_needs_the_risk_statement(self, scanner):
        codes = [d.code for d in scanner.scan("这款理财风险等级R2。", product_type="wealth").missing_disclosures]
        assert codes == ["risk_statement"]
        ok = scanner.scan("这款理财风险等级R2。理财非存款、产品有风险、投资须谨慎。", product_type="wealth")
        assert ok.missing_disclosures == []

    def test_past_performance_needs_the_disclaimer(self, scanner):
        base = "风险等级R2。理财非存款、产品有风险、投资须谨慎。"
        codes = [d.code for d in scanner.scan("这款去年收益3.9%。" + base, product_type="wealth").missing_disclosures]
        assert codes == ["past_performance_disclaimer"]
        ok = scanner.scan(
            "这款去年收益3.9%。" + base + "理财产品过往业绩不代表其未来表现，不等于理财产品实际收益，投资须谨慎。",
            product_type="wealth",
        )
        assert ok.missing_disclosures == []
        # without a product type only the past-performance rule applies
        assert [d.code for d in scanner.scan("过往业绩很好").missing_disclosures] == []
        assert [d.code for d in scanner.scan("过往业绩很好", product_type="insurance").missing_disclosures] == [
            "past_performance_disclaimer"
        ]

    def test_fund_needs_fund_disclaimers(self, scanner):
        codes = [d.code for d in scanner.scan("这只基金风险等级R3。", product_type="fund").missing_disclosures]
        assert codes == ["fund_disclaimer", "fund_risk_statement"]
        ok = scanner.scan(
            "这只基金风险等级R3。基金的过往业绩并不预示其未来表现。基金有风险，投资须谨慎。", product_type="fund"
        )
        assert ok.missing_disclosures == []

    def test_stated_risk_level_must_match_master_data(self, scanner):
        text = "本产品风险等级为R3。理财非存款、产品有风险、投资须谨慎。"
        assert scanner.scan(text, product_type="wealth", product_risk_level=3).missing_disclosures == []
        wrong = scanner.scan(text, product_type="wealth", product_risk_level=2).missing_disclosures
        assert [(d.code, d.severity, d.reason) for d in wrong] == [("risk_level_mismatch", "high", "R3")]
        chinese = scanner.scan(
            "本产品为二级风险。理财非存款、产品有风险、投资须谨慎。", product_type="wealth", product_risk_level=2
        )
        assert chinese.missing_disclosures == []
        missing = scanner.scan("理财非存款、产品有风险、投资须谨慎。", product_type="wealth", product_risk_level=2)
        assert [d.code for d in missing.missing_disclosures] == ["risk_level_missing"]


def test_default_lexicon_size_and_coverage():
    rules = [r for r in default_rules() if r["category"] != "allow"]
    assert sum(r["language"] == "zh" for r in rules) >= 80
    assert sum(r["language"] == "en" for r in rules) >= 15
    covered = {r["category"] for r in rules}
    assert covered == set(Category.values) - {"allow"}
    assert len({r["code"] for r in default_rules()}) == len(default_rules())


def test_labelled_set_precision_and_recall(scanner, capsys):
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 100
    assert {(r["label"], r["lang"]) for r in rows} == {
        ("violation", "zh"),
        ("violation", "en"),
        ("clean", "zh"),
        ("clean", "en"),
    }
    tp = fp = fn = tn = 0
    misses = []
    for r in rows:
        flagged = bool(scanner.scan(r["text"]).findings)
        if r["label"] == "violation":
            tp += flagged
            fn += not flagged
        else:
            fp += flagged
            tn += not flagged
        if flagged != (r["label"] == "violation"):
            misses.append(r["text"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn)
    fp_rate = fp / (fp + tn)
    with capsys.disabled():
        print(
            f"\n[labelled set] n={len(rows)} violations={tp + fn} clean={fp + tn} "
            f"precision={precision:.3f} recall={recall:.3f} false-positive rate={fp_rate:.3f}"
        )
        for text in misses:
            print(f"  misclassified: {text}")
    assert recall >= 0.95, f"recall {recall:.3f} < 0.95"
    assert fp_rate <= 0.05, f"false-positive rate {fp_rate:.3f} > 0.05"


@pytest.mark.django_db
def test_scan_text_uses_only_rules_active_today(world):
    rule = LexiconRule.objects.get(pattern="保本", language="zh")
    assert [f.rule for f in scan_text("是保本的").findings] == [rule.code]
    lexicon_services.lexicon_rule_update(
        actor=world.compliance,
        rule=rule,
        data={"active_until": timezone.localdate() - dt.timedelta(days=1)},
        note="retired",
    )
    assert scan_text("是保本的").findings == []
