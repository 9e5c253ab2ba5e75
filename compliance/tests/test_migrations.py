"""Migrations 0006-0008: existing per-hit flags become one flag per communication text; 0011: the
second round of the default lexicon reaches rows still as shipped."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from compliance.lexicon_data import (
    CONCEPT_GROUPS,
    FIFTH_ROUND_SHIPPED,
    FIFTH_ROUND_TERMS,
    FOURTH_ROUND_SHIPPED,
    SEVENTH_ROUND_GROUPS,
    SEVENTH_ROUND_TERMS,
    SIXTH_ROUND_SHIPPED,
    SIXTH_ROUND_TERMS,
    THIRD_ROUND_SHIPPED,
)

BEFORE = [("compliance", "0005_corpus_entries")]
AFTER = [("compliance", "0008_lexicon_rule_stats")]


def _migrate(target):
    """Migrate to ``target`` and return the apps of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _migrate_to_the_end():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_flags_under_review_are_merged_and_closed_flags_kept(world):
    apps = _migrate(BEFORE)
    comm_model = apps.get_model("compliance", "Communication")
    flag_model = apps.get_model("compliance", "Flag")
    review_model = apps.get_model("compliance", "FlagReview")
    rule_model = apps.get_model("compliance", "LexiconRule")
    rule = rule_model.objects.filter(pattern="保本").first()
    now = timezone.now()
    text = "这款产品是保本的，额度有限。"
    comm = comm_model.objects.create(source="call_note", object_id=1, text=text, occurred_at=now)

    def flag(code, start, end, match, severity, status="open", outcome="", snapshot=text):
        return flag_model.objects.create(
            communication=comm,
            kind="lexicon",
            source="call_note",
            occurred_at=now,
            rule_id=rule.pk if code == "ZH-GUAR-001" else None,
            rule_code=code,
            category="guarantee" if code.startswith("ZH-GUAR") else "time_pressure",
            severity=severity,
            start=start,
            end=end,
            match=match,
            text_snapshot=snapshot,
            status=status,
            outcome=outcome,
        )

    time_flag = flag("ZH-TIME-001", 9, 13, "额度有限", "medium", status="claimed")
    guarantee_flag = flag("ZH-GUAR-001", 5, 7, "保本", "high")
    # closed on an earlier wording of the note
    closed = flag("ZH-GUAR-001", 0, 2, "保本", "high", status="closed", outcome="violation", snapshot="保本的")
    review_model.objects.create(flag=time_flag, actor_id=world.compliance.pk, action="claim")
    review_model.objects.create(flag=guarantee_flag, actor_id=world.compliance.pk, action="release")

    apps = _migrate(AFTER)
    flag_model = apps.get_model("compliance", "Flag")
    kept = flag_model.objects.get(pk=time_flag.pk)  # furthest in review (claimed) keeps the evidence
    assert not flag_model.objects.filter(pk=guarantee_flag.pk).exists()
    assert [f["match"] for f in kept.findings] == ["保本", "额度有限"]
    assert (kept.match, kept.severity, kept.status) == ("保本", "high", "claimed")
    assert apps.get_model("compliance", "FlagReview").objects.filter(flag=kept).count() == 2
    closed_after = flag_model.objects.get(pk=closed.pk)
    assert closed_after.status == "closed" and [f["match"] for f in closed_after.findings] == ["保本"]
    stats = apps.get_model("compliance", "LexiconRuleStats").objects.get(rule_id=rule.pk)
    assert (stats.hits, stats.confirmed, stats.dismissed) == (2, 1, 0)
    _migrate_to_the_end()


@pytest.mark.django_db(transaction=True)
def test_0011_updates_rows_still_as_shipped_and_leaves_edited_ones(world):
    apps = _migrate([("compliance", "0010_text_max_length_concepts_corpus")])
    rule_model = apps.get_model("compliance", "LexiconRule")
    group_model = apps.get_model("compliance", "ConceptGroup")
    old_pct = "{pct} & {will_get} within 16 unless {uncertain}"
    shipped = rule_model.objects.get(pattern__startswith="{pct} & {will_get}")
    rule_model.objects.filter(pk=shipped.pk).update(pattern=old_pct, version=1)  # as the first round shipped it
    edited = rule_model.objects.get(pattern__startswith="{benchmark} & {is_your_return}")
    rule_model.objects.filter(pk=edited.pk).update(
        pattern="{benchmark} & {is_your_return} within 20 unless {uncertain}", version=3
    )
    group_model.objects.filter(name="loss").update(terms="亏\n亏损", version=1)
    group_model.objects.filter(name="deposit").update(terms="存款", version=2)  # an officer's edit
    group_model.objects.filter(name="never_lost").delete()

    apps = _migrate([("compliance", "0011_second_round_concepts")])
    rule_model = apps.get_model("compliance", "LexiconRule")
    group_model = apps.get_model("compliance", "ConceptGroup")
    rule = rule_model.objects.get(pk=shipped.pk)
    assert (rule.pattern, rule.version) == (f"{old_pct}, {{past_fact}}", 2)
    assert rule.history.get(version=2).changes == {"pattern": [old_pct, rule.pattern]}
    assert rule_model.objects.get(pk=edited.pk).version == 3  # an officer's version is theirs
    loss = group_model.objects.get(name="loss")
    assert (loss.terms, loss.version) == ("\n".join(CONCEPT_GROUPS["loss"][1]), 2)
    assert group_model.objects.get(name="deposit").terms == "存款"
    assert group_model.objects.filter(name="never_lost").exists()


@pytest.mark.django_db(transaction=True)
def test_0014_adds_the_fourth_round_to_rows_still_as_shipped_and_leaves_edited_ones(world):
    apps = _migrate([("compliance", "0013_third_round_concepts")])
    rule_model = apps.get_model("compliance", "LexiconRule")
    group_model = apps.get_model("compliance", "ConceptGroup")
    old_gift = "{gift} & {purchase} within 16 unless {no_gift}"
    shipped = rule_model.objects.get(pattern__startswith="{gift} & {purchase}")
    rule_model.objects.filter(pk=shipped.pk).update(pattern=old_gift, version=1)  # as the third round shipped it
    edited = rule_model.objects.get(pattern__startswith="{deposit} & {same}")
    rule_model.objects.filter(pk=edited.pk).update(pattern="{deposit} & {same} within 18", version=3)
    group_model.objects.filter(name="scarce").update(terms="\n".join(THIRD_ROUND_SHIPPED["scarce"]))
    group_model.objects.filter(name="hurry").update(terms="快", version=4)  # an officer's edit
    group_model.objects.filter(name__in=["not_deposit", "filler"]).delete()
    rule_model.objects.filter(pattern="随时打给我").delete()

    apps = _migrate([("compliance", "0014_fourth_round_concepts")])
    rule_model = apps.get_model("compliance", "LexiconRule")
    group_model = apps.get_model("compliance", "ConceptGroup")
    rule = rule_model.objects.get(pk=shipped.pk)
    assert (rule.pattern, rule.version) == ("{gift} & {purchase} within 24 unless {no_gift}", 2)
    assert rule.history.get(version=2).changes == {"pattern": [old_gift, rule.pattern]}
    assert rule_model.objects.get(pk=edited.pk).pattern == "{deposit} & {same} within 18"  # the officer's
    assert group_model.objects.get(name="scarce").terms == "\n".join(FOURTH_ROUND_SHIPPED["scarce"])
    assert group_model.objects.get(name="hurry").terms == "快"
    assert set(group_model.objects.filter(name__in=["not_deposit", "filler"]).values_list("name", flat=True)) == {
        "not_deposit",
        "filler",
    }
    assert rule_model.objects.filter(pattern="随时打给我", category="allow").exists()
    _migrate_to_the_end()


@pytest.mark.django_db(transaction=True)
def test_0015_adds_the_fifth_round_terms_to_groups_still_as_shipped_and_leaves_edited_ones(world):
    apps = _migrate([("compliance", "0014_fourth_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    group_model.objects.filter(name="scarce").update(terms="\n".join(FOURTH_ROUND_SHIPPED["scarce"]), version=2)
    group_model.objects.filter(name="only_up").update(terms="稳赚", version=5)  # an officer's edit

    apps = _migrate([("compliance", "0015_fifth_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    scarce = group_model.objects.get(name="scarce")
    assert scarce.terms == "\n".join(FIFTH_ROUND_SHIPPED["scarce"])
    assert scarce.version == 3
    assert set(FIFTH_ROUND_TERMS["scarce"]) <= set(scarce.terms.splitlines())
    assert group_model.objects.filter(name="only_up").values_list("terms", "version").get() == ("稳赚", 5)
    _migrate_to_the_end()


@pytest.mark.django_db(transaction=True)
def test_0016_adds_the_sixth_round_terms_to_groups_still_as_shipped_and_leaves_edited_ones(world):
    apps = _migrate([("compliance", "0015_fifth_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    group_model.objects.filter(name="gift").update(terms="\n".join(FIFTH_ROUND_SHIPPED["gift"]), version=3)
    group_model.objects.filter(name="filler").update(terms="\n".join(FIFTH_ROUND_SHIPPED["filler"]), version=1)
    group_model.objects.filter(name="best").update(terms="最好", version=4)  # an officer's edit

    apps = _migrate([("compliance", "0016_sixth_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    gift = group_model.objects.get(name="gift")
    assert gift.terms == "\n".join(CONCEPT_GROUPS["gift"][1])
    assert gift.version == 4
    assert set(SIXTH_ROUND_TERMS["gift"]) <= set(gift.terms.splitlines())
    filler = group_model.objects.get(name="filler")
    assert (filler.terms.splitlines()[-1], filler.version) == (SIXTH_ROUND_TERMS["filler"][-1], 2)
    assert group_model.objects.filter(name="best").values_list("terms", "version").get() == ("最好", 4)
    _migrate_to_the_end()


@pytest.mark.django_db(transaction=True)
def test_0017_adds_the_seventh_round_groups_rules_and_terms_and_leaves_edited_ones(world):
    apps = _migrate([("compliance", "0016_sixth_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    rule_model = apps.get_model("compliance", "LexiconRule")
    group_model.objects.filter(name__in=list(SEVENTH_ROUND_GROUPS)).delete()
    rule_model.objects.filter(pattern__in=["{smear}", "{smear_en}"]).delete()
    group_model.objects.filter(name="bad").update(terms="\n".join(SIXTH_ROUND_SHIPPED["bad"]), version=2)
    group_model.objects.filter(name="private").update(terms="私人微信", version=5)  # an officer's edit
    old = "{loan_en} & {tie_en} unless {unrelated_en}"
    tie = rule_model.objects.get(pattern__startswith="{loan_en} & {tie_en}")
    rule_model.objects.filter(pk=tie.pk).update(pattern=old, version=1)  # as the sixth round shipped it

    apps = _migrate([("compliance", "0017_seventh_round_concepts")])
    group_model = apps.get_model("compliance", "ConceptGroup")
    rule_model = apps.get_model("compliance", "LexiconRule")
    assert set(SEVENTH_ROUND_GROUPS) <= set(group_model.objects.values_list("name", flat=True))
    assert rule_model.objects.filter(pattern="{smear}", category="disparaging").exists()
    assert rule_model.objects.filter(pattern="{smear_en}", language="en").exists()
    bad = group_model.objects.get(name="bad")
    assert (bad.terms, bad.version) == ("\n".join(CONCEPT_GROUPS["bad"][1]), 3)
    assert set(SEVENTH_ROUND_TERMS["bad"]) <= set(bad.terms.splitlines())
    assert group_model.objects.filter(name="private").values_list("terms", "version").get() == ("私人微信", 5)
    tie = rule_model.objects.get(pk=tie.pk)
    assert (tie.pattern, tie.version) == ("{loan_en} & {tie_en} within 90 unless {unrelated_en}", 2)
    _migrate_to_the_end()
