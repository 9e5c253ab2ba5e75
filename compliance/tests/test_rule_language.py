"""The concept-rule language, negation scope and dismissal, the classifier's second opinion,
and what officers do with them (groups, statistics, the corpus)."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from compliance.classifier import Snippet, fit
from compliance.lexicon_data import default_groups, default_specs
from compliance.models import ConceptGroup, CorpusEntry, Flag, FlagOutcome, LexiconRuleStats
from compliance.rule_language import RuleSpec, RuleSyntaxError, parse_expression
from compliance.scanner import Scanner, classifier_features, normalise
from compliance.services import flags as flag_services
from compliance.services import lexicon as lexicon_services
from compliance.services import surveillance as surveillance_services


@pytest.fixture(scope="module")
def scanner():
    return Scanner(default_specs(), default_groups())


def rule(pattern, language="zh", category="guarantee"):
    return RuleSpec(code="T-1", pattern=pattern, is_regex=False, language=language, category=category, severity="high")


GROUPS = {"loss": ["亏", "损失"], "backstop": ["赔", "补上", "承担"], "own": ["自己承担"], "sure_en": ["guarantee*"]}


def test_parse_expression_and_its_errors():
    e = parse_expression('{loss} & {backstop} & "银行" within 12 unless {own}')
    assert [p.key for p in e.parts] == ["loss", "backstop", '"银行"'] and e.window == 12 and e.unless == ("own",)
    for bad in ["{loss} &", "{Loss}", "{loss} within 0", "{loss} unless own", "{loss} within 5 {backstop}"]:
        with pytest.raises(RuleSyntaxError):
            parse_expression(bad)


def test_proximity_window_and_parts_in_the_finding():
    s = Scanner([rule("{loss} & {backstop} within 10")], GROUPS)
    (f,) = s.scan("真亏了我们赔给您").findings
    assert f.match == "亏了我们赔" and {g for _s, _e, g in f.parts} == {"loss", "backstop"}
    assert s.scan("亏了的话，按照合同条款和说明书的约定，我们赔").findings == []  # parts too far apart


def test_negation_parity_clause_scope_and_unless():
    s = Scanner([rule("{loss} & {backstop} unless {own}")], GROUPS)
    assert s.scan("亏了我们不会赔").suppressed[0].reason == "negation"
    assert s.scan("亏了我们不会不赔的").findings  # two cues cancel: a promise
    assert s.scan("您不用担心，亏了我们赔").findings  # the cue belongs to the first clause
    assert s.scan("亏了我们是不会赔的，但是也不会不管").suppressed
    assert s.scan("亏损由您自己承担，银行不赔").findings == []
    assert s.scan("亏了要自己承担").suppressed[0].reason == "unless"


def test_questions_and_corrections_are_dismissed(scanner):
    assert scanner.scan("客户问：这个是不是保本的？").findings == []
    assert scanner.scan("保本？现在没有这种产品了。").findings == []
    assert scanner.scan("客户说朋友讲理财稳赚，我纠正了这个说法。").findings == []
    assert scanner.scan("这个是保本的，您放心。").findings


@pytest.mark.parametrize(
    "text",
    [
        "就算大盘跌了，这个照样有钱赚",
        "您投五十万，一年能赚两万多",
        "业绩比较基准4%，到期就按这个给您",
        "跟存定期是一回事，利息还高",
        "录像的时候您就说都明白了",
        "Just read me the code on your phone",
        "It's basically your savings account with a better rate",
    ],
)
def test_concept_rules_catch_paraphrases(scanner, text):
    assert scanner.scan(text).findings


@pytest.mark.parametrize(
    "text",
    [
        "这款理财不在存款保险的保障范围内",
        "贷款审批跟您买不买理财没有关系",
        "业绩比较基准不代表实际收益",
        "It's not a deposit and it's not covered by deposit insurance.",
    ],
)
def test_correct_disclosures_are_clean(scanner, text):
    assert scanner.scan(text).findings == []


def test_english_prefix_terms_respect_word_starts():
    s = Scanner([rule("{sure_en}", language="en")], GROUPS)
    assert s.scan("It is guaranteed.").findings and s.scan("We guarantee it").findings
    assert s.scan("It is not guaranteed.").suppressed
    assert s.scan("an unguaranteed note").findings == []


def toy_classifier():
    rows = [Snippet(t, "guarantee", "zh", f"g{i}") for i, t in enumerate(["妥妥帖帖包您满意", "妥妥帖帖拿钱"] * 3)]
    rows += [Snippet(t, "clean", "zh", f"c{i}") for i, t in enumerate(["客户下周回电", "已发送说明书", "客户出差"] * 3)]
    features = Scanner(default_specs(), default_groups())
    return fit(rows, [normalise(r.text) for r in rows], [classifier_features(features, r.text)[0] for r in rows])


def test_model_findings_are_medium_with_probability_and_nearest_examples():
    classifier = toy_classifier()
    s = Scanner(default_specs(), default_groups(), classifier)
    result = s.scan("这个妥妥帖帖的")
    (m,) = result.model_findings
    assert m.category == "guarantee" and m.severity == "medium" and 0.5 <= m.probability <= 1
    payload = result.as_json()["findings"][-1]
    assert payload["source"] == "model" and payload["probability"] == round(m.probability, 3)
    assert classifier.nearest(normalise("这个妥妥帖帖的"), category="guarantee")[0][1].text.startswith("妥妥帖帖")
    assert s.scan("这个妥妥帖帖的", use_model=False).model_findings == []


def test_startup_and_admin_do_not_load_scikit_learn():
    code = (
        "import django, os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'workbench.settings');"
        "os.environ.setdefault('DJANGO_SECRET_KEY', 'x'); django.setup();"
        "import compliance.admin, compliance.scanner, compliance.views;"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_concept_group_service_validates_and_rebuilds_the_scanner(world):
    with pytest.raises(ValidationError) as exc:
        lexicon_services.concept_group_save(actor=world.compliance, name="Bad Name", terms="")
    assert {"name", "terms"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        lexicon_services.concept_group_save(actor=world.compliance, name="x_ok", terms="re:(")
    group = lexicon_services.concept_group_save(actor=world.compliance, name="lucky", terms="发财车\n发财车\n")
    assert group.terms == "发财车"
    with pytest.raises(ValidationError):  # a rule may not name a group that does not exist
        lexicon_services.lexicon_rule_create(
            actor=world.compliance,
            data={
                "pattern": "{nope}",
                "is_regex": False,
                "language": "zh",
                "category": "guarantee",
                "severity": "high",
            },
        )
    lexicon_services.lexicon_rule_create(
        actor=world.compliance,
        data={"pattern": "{lucky}", "is_regex": False, "language": "zh", "category": "guarantee", "severity": "high"},
    )
    with pytest.raises(ValidationError):  # renaming a group rules name
        lexicon_services.concept_group_save(actor=world.compliance, name="lucky2", terms="x", group=group)
    filler = ConceptGroup.objects.get(name="filler")  # read by the scanner by its name, named by no rule
    with pytest.raises(ValidationError) as exc:
        lexicon_services.concept_group_save(actor=world.compliance, name="filler2", terms="就是说", group=filler)
    assert "name" in exc.value.message_dict
    assert lexicon_services.concept_group_save(actor=world.compliance, name="filler", terms="就是说\n嗯", group=filler)
    comm, created = surveillance_services.communication_scan(
        source="call_note", object_id=91, text="这是辆发财车", advisor_id=world.advisor_a.pk, occurred_at=timezone.now()
    )
    assert created == 1 and Flag.objects.get(communication=comm).match == "发财车"
    assert ConceptGroup.objects.filter(name="lucky").exists()


def test_rule_statistics_and_adding_a_reviewed_flag_to_the_corpus(world, client_for):
    comm, _ = surveillance_services.communication_scan(
        source="call_note", object_id=92, text="这款是保本的", advisor_id=world.advisor_a.pk, occurred_at=timezone.now()
    )
    flag = Flag.objects.get(communication=comm)
    stats = LexiconRuleStats.objects.get(rule_id=flag.rule_id)
    assert (stats.hits, stats.confirmed, stats.dismissed, stats.precision) == (1, 0, 0, None)
    with pytest.raises(ValidationError):  # only a reviewed flag teaches the classifier
        flag_services.flag_add_to_corpus(actor=world.compliance, flag=flag)
    flag_services.flag_close(actor=world.compliance, flag=flag, outcome=FlagOutcome.NO_ISSUE, comment="客户原话")
    stats.refresh_from_db()
    assert (stats.dismissed, stats.precision) == (0 + 1, 0.0)
    page = client_for(world.compliance).get(reverse("compliance:lexicon"), {"q": flag.rule_code}).content.decode()
    assert "0%" in page
    c = client_for(world.compliance)
    assert 'data-testid="add-to-corpus"' in c.get(reverse("compliance:flag_detail", args=[flag.pk])).content.decode()
    c.post(reverse("compliance:flag_add_to_corpus", args=[flag.pk]))
    entry = CorpusEntry.objects.get(flag=flag)
    assert (entry.label, entry.language, entry.added_by) == ("clean", "zh", world.compliance)
    assert (
        'data-testid="add-to-corpus"' not in c.get(reverse("compliance:flag_detail", args=[flag.pk])).content.decode()
    )
    assert c.post(reverse("compliance:flag_add_to_corpus", args=[flag.pk])).status_code == 302  # refused, no error
    assert CorpusEntry.objects.count() == 1
    assert client_for(world.advisor_a).post(reverse("compliance:flag_add_to_corpus", args=[flag.pk])).status_code == 403


def test_a_model_finding_goes_to_the_queue_as_medium_with_its_reason(world, client_for, monkeypatch):
    classifier = toy_classifier()
    monkeypatch.setattr("compliance.scanner.active_classifier", lambda: classifier)
    comm, created = surveillance_services.communication_scan(
        source="call_note",
        object_id=93,
        text="这个妥妥帖帖的",
        advisor_id=world.advisor_a.pk,
        occurred_at=timezone.now(),
    )
    flag = Flag.objects.get(communication=comm)
    assert created == 1 and flag.severity == "medium" and flag.rule_findings == []
    (m,) = flag.model_findings
    assert m["category"] == "guarantee" and m["probability"] >= 0.5 and m["nearest"][0]["label"] == "guarantee"
    body = client_for(world.compliance).get(reverse("compliance:flag_detail", args=[flag.pk])).content.decode()
    assert m["nearest"][0]["text"] in body and f"{round(m['probability'] * 100)}%" in body


def test_compliance_scan_jsonl_adds_model_findings(monkeypatch, tmp_path):
    scanner = Scanner(default_specs(), default_groups(), toy_classifier())
    monkeypatch.setattr("compliance.management.commands.compliance_scan.active_scanner", lambda: scanner)
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "这个妥妥帖帖的"}\n', encoding="utf-8")
    out = StringIO()
    call_command("compliance_scan", "--jsonl", str(path), stdout=out)
    (line,) = out.getvalue().splitlines()
    payload = json.loads(line)
    assert payload["id"] == 1 and payload["missing_disclosures"] == []
    (finding,) = payload["findings"]
    assert finding["source"] == "model" and finding["category"] == "guarantee" and 0.5 <= finding["probability"] <= 1
    assert set(finding) == {"rule", "category", "severity", "start", "end", "match", "source", "probability"}


def test_scan_many_gives_what_scan_gives_text_by_text():
    s = Scanner(default_specs(), default_groups(), toy_classifier())
    texts = [
        "这个妥妥帖帖的",
        "本产品不保本，收益到期能拿到百分之四",
        "",
        "客户下周回电",
        "这款保本的，妥妥帖帖",
        "一百万放一年，差不多能拿四万出头。",
        "ＡＢＣ　保本\x00产品",  # full-width letters and a NUL: normalised text by text then
    ]
    batch = s.scan_many(texts)
    assert [r.as_json() for r in batch] == [s.scan(t).as_json() for t in texts]
    assert batch[0].model_findings and not batch[3].model_findings and batch[5].findings
    assert [r.as_json() for r in s.scan_many(texts, use_model=False)] == [
        s.scan(t, use_model=False).as_json() for t in texts
    ]


def test_number_groups_are_searched_only_when_a_rule_needs_them():
    s = Scanner(default_specs(), default_groups())
    features: set[str] = set()
    s.scan("年化百分之四", features_out=features)  # {will_get} present: {pct} is searched
    assert "g:pct" in features
    features = set()
    s.scan("百分之四的客户是老客户", features_out=features)  # nothing a {pct} rule needs: not searched
    assert "g:pct" not in features and not s.scan("百分之四的客户是老客户").findings


def _codes(scanner_, text):
    return [(f.rule, f.match) for f in scanner_.scan(text).findings]


def test_a_question_asked_is_no_claim_but_a_rhetorical_one_is():
    s = Scanner([rule("保本"), rule("{loss} & {backstop}", category="guarantee")], GROUPS)
    assert _codes(s, "那个，我想问一下，这个是不是保本的？") == []  # the customer asks
    assert _codes(s, "要是亏了怎么办？有人赔吗？") == []
    assert _codes(s, "您说想要保本的？那这种产品现在没有。") == []  # the advisor repeats it
    assert _codes(s, "总行那么大，难道保本的东西您还不放心？") != []  # rhetorical: a claim
    assert _codes(s, "这不是保本的吗？") != []
    assert _codes(s, "这个是保本的，您看是不是先定了？") != []  # the claim is not in the question
    assert _codes(s, "保本的，亏了我们赔。您看呢？") != []
    en = Scanner([rule("{sure_en}", language="en")], GROUPS)
    assert _codes(en, "Is it guaranteed? That's what I want to know.") == []
    assert _codes(en, "It's guaranteed, isn't it?") != []


def test_a_disclosure_of_the_category_in_the_sentence_keeps_its_rules_from_firing():
    groups = {**GROUPS, "not_deposit": ["不是存款", "两回事"]}
    s = Scanner([rule("跟存款一样", category="deposit_confusion")], groups)
    assert _codes(s, "很多人觉得它跟存款一样，其实两回事。") == []
    assert _codes(s, "它不是存款，您别觉得跟存款一样稳。") == []
    # taken back by a contrast, conceded, or in another sentence or clause after a semicolon
    assert _codes(s, "这不是存款，但是跟存款一样稳。") != []
    assert _codes(s, "虽然不是存款，跟存款一样稳。") != []
    assert _codes(s, "这款不是存款；那款跟存款一样。") != []
    assert _codes(s, "这款不是存款。那款跟存款一样。") != []
    # only the category's own rules: a guarantee in the same sentence still fires
    both = Scanner([rule("跟存款一样", category="deposit_confusion"), rule("保本")], groups)
    assert [c for c, _m in _codes(both, "它不是存款，但保本。")] == ["T-1"]
    assert {f.reason for f in s.scan("很多人觉得它跟存款一样，其实两回事。").suppressed} == {"disclosure"}


def test_fillers_hide_the_terms_inside_them_and_a_part_is_not_counted_twice():
    groups = {"deposit": ["存款"], "same": ["就是", "一样"], "filler": ["就是说"]}
    s = Scanner([rule("{deposit} & {same}", category="deposit_confusion")], groups)
    assert _codes(s, "就是说，如果是存款，要看利率。") == []
    assert _codes(s, "这个就是存款。") != []
    no_filler = Scanner([rule("{deposit} & {same}", category="deposit_confusion")], {**groups, "filler": ["无关"]})
    assert _codes(no_filler, "就是说，如果是存款，要看利率。") != []
    twice = Scanner(
        [rule("{scarce} & {hurry}", category="time_pressure")], {"scarce": ["就没有了"], "hurry": ["就没有了", "今天"]}
    )
    assert _codes(twice, "放到这个产品里就没有了。") == []  # the same words are not both parts
    assert _codes(twice, "今天不定就没有了。") != []


def test_the_longest_term_of_a_group_is_the_one_said():
    groups = {"scarce": ["等着要"], "hurry": ["犹豫", "别犹豫"]}
    s = Scanner([rule("{scarce} & {hurry}", category="time_pressure")], groups)
    assert _codes(s, "您别犹豫了，好几个客户都在等着要呢。") != []  # "别犹豫" is the push, not a negated 犹豫


def test_speech_recognition_slips_are_read_as_the_word_and_spans_stay_in_place():
    assert normalise("这期鹅度今天收") == "这期额度今天收"
    assert len(normalise("路像的时候秘码")) == len("路像的时候秘码")
    s = Scanner([rule("额度有限", category="time_pressure")], {})
    (finding,) = s.scan("这期鹅度有限啊").findings
    assert finding.match == "鹅度有限"
    assert s.scan_many(["这期鹅度有限啊"], use_model=False)[0].findings == [finding]


def test_negation_scope_ends_at_a_spoken_particle_and_connectives_are_no_negation():
    groups = {"sell": ["赎回来"], "often": ["新的"], "scarce": ["轮不上"], "hurry": ["定下来"]}
    s = Scanner(
        [rule("{sell} & {often}", category="frequent_trading"), rule("{scarce} & {hurry}", category="time_pressure")],
        groups,
    )
    # no punctuation: 别 negates 管, and 了 ends that predicate
    assert _codes(s, "你那个先别管了赎回来吧我这边又来了一只新的") != []
    assert _codes(s, "你那个别赎回来我这边又来了一只新的") == []
    assert _codes(s, "现在就得定下来不然就轮不上了") != []  # 不然 is a condition
    deposit = Scanner(
        [rule("{deposit} & {better}", category="deposit_confusion")], {"deposit": ["存定期"], "better": ["买这个"]}
    )
    assert _codes(deposit, "您存定期不如买这个") != []  # 不如 compares
    choice = Scanner([rule("保本")], {})
    assert _codes(choice, "买不买保本的都行") != []  # 买不买 is a choice, not a negation
    assert _codes(choice, "不买保本的") == []


def test_a_part_is_not_words_inside_another_part_past_its_start():
    groups = {"deposit_insurance": ["存款保险"], "covers": ["保"], "sell": ["换"], "often": ["换三次"]}
    s = Scanner([rule("{deposit_insurance} & {covers}", category="deposit_confusion")], groups)
    assert _codes(s, "怕超过存款保险的限额") == []  # 保 of 存款保险 is no second word
    assert _codes(s, "这个也是存款保险保的") != []
    often = Scanner([rule("{sell} & {often}", category="frequent_trading")], groups)
    assert _codes(often, "这个季度换三次") != []  # a part's words may open another's


def test_the_customers_turn_and_words_quoted_to_reject_them_are_no_claim():
    s = Scanner(
        [rule("跟存款一样", category="deposit_confusion"), rule("稳赚"), rule("私人微信", category="off_channel")], {}
    )
    assert _codes(s, "客户：跟存款一样安全吧——不一样的叔叔") == []
    assert _codes(s, "Client: 稳赚吗？——我们这个稳赚。") != []  # the advisor's answer is judged
    assert _codes(s, "有的地方说稳赚，我们这儿不搞这个。") == []
    assert _codes(s, "您说加我私人微信，这个真不行。") == []
    assert _codes(s, "您说加我私人微信，好的。") != []  # quoted and agreed
    assert _codes(s, "这个稳赚，别的产品不行的。") != []  # a rejection of something else, nothing quoted


def test_the_answer_after_a_repeated_question_is_the_advisors_own():
    groups = {"pct": ["三点六"], "will_get": ["跑得出来"]}
    s = Scanner([rule("{pct} & {will_get}", category="return_forecast")], groups)
    assert _codes(s, "您问收益啊，我跟您交个底，三点六是跑得出来的。") != []
    assert _codes(s, "您问三点六是不是跑得出来") == []


def test_an_english_prohibition_reaches_the_end_of_its_clause():
    s = Scanner([rule("personal wechat", language="en", category="off_channel")], {})
    assert _codes(s, "I'm not allowed to discuss products on my personal WeChat.") == []
    assert _codes(s, "Let's discuss the products later on my personal WeChat.") != []


def test_a_transcript_asks_with_a_closing_particle_and_no_question_mark():
    s = Scanner([rule("保本")], {})
    assert _codes(s, "这个产品保本吗我想问一下") == []
    assert _codes(s, "这个不是保本的吗我跟您说过") != []  # rhetorical
    assert _codes(s, "这个产品保本您放心") != []
    assert _codes(s, "听说这个保本，其实不是的。") == []  # hearsay quoted and rejected
    en = Scanner([rule("guaranteed", language="en")], {})
    assert _codes(en, "Some people think it's guaranteed, it's not.") == []
    assert _codes(en, "It's guaranteed, it's not like the others.") != []


def test_a_refusal_to_promise_reaches_over_the_comma_to_what_would_be_promised():
    groups = {"pct": ["四个点"], "will_get": ["能到"]}
    s = Scanner([rule("{pct} & {will_get}", category="return_forecast"), rule("保本")], groups)
    assert _codes(s, "我不敢跟您保证，这个一定能到四个点。") == []
    assert _codes(s, "谁也不能打包票说，这个保本。") == []
    assert _codes(s, "我跟您保证，这个一定能到四个点。") != []
    assert _codes(s, "我不敢跟您保证，但是这个一定能到四个点。") != []  # the contrast takes it back


def test_a_negation_after_ye_denies_a_predicate_of_its_own_and_does_not_undo_the_one_before():
    s = Scanner([rule("保收益"), rule("帮您下单", category="credentials"), rule("赔")], {})
    assert _codes(s, "这个不保本也不保收益。") == []
    assert _codes(s, "我这边没有权限也不能帮您下单。") == []
    assert _codes(s, "亏了我们不会不赔的。") != []  # double negation is still a promise
    assert _codes(s, "谁也不能不赔。") != []  # 谁也不能 is one cue


def test_a_warning_against_what_anyone_asks_is_no_claim():
    s = Scanner([rule("个人账户", category="off_channel"), rule("code", language="en", category="credentials")], {})
    assert _codes(s, "任何人让您转到个人账户都不要转。") == []
    assert _codes(s, "您转到我个人账户就行。") != []
    assert _codes(s, "If anyone asks for the code, hang up.") == []


def test_english_negations_as_speech_recognition_writes_them_and_disclosure_contexts_of_the_seventh_round():
    s = Scanner(
        [rule("{secret} & {give}", language="en", category="credentials")], {"secret": ["code"], "give": ["tell me"]}
    )
    assert _codes(s, "please dont tell me the code") == []
    assert _codes(s, "ok tell me the code quick") != []
    hold = Scanner(
        [rule("switch", language="en", category="frequent_trading")],
        {"hold_en": ["not worth it"], "not_best_en": ["wouldn't call it"]},
    )
    assert _codes(hold, "You could switch, but my honest view is it's not worth it.") == []
    assert _codes(hold, "Time to switch, the new one is hot.") != []
    assert _codes(hold, "I wouldn't switch now.") == []  # wouldn't negates
