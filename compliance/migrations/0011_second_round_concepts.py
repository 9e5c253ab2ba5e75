"""Issue 16, second round: the new default concept groups and rules, the new terms of the
default groups officers have not edited, and three shipped rules rewritten (a rate stated
as a past fact is no forecast; the benchmark rule's window; "贷款不需要买…" is no tie) —
only where the row is still as shipped (version 1, same pattern)."""

from django.db import migrations

from compliance.lexicon_data import (
    REWRITTEN_DEFAULTS_2,
    concept_groups_load_defaults,
    concept_groups_update_shipped,
    lexicon_load_defaults,
)

_FIELDS = ("pattern", "is_regex", "language", "category", "severity", "negation_suppresses", "source")


def load(apps, schema_editor):
    rule_model = apps.get_model("compliance", "LexiconRule")
    version_model = apps.get_model("compliance", "LexiconRuleVersion")
    group_model = apps.get_model("compliance", "ConceptGroup")
    concept_groups_load_defaults(group_model)
    concept_groups_update_shipped(group_model)
    lexicon_load_defaults(rule_model, version_model)
    for rule in rule_model.objects.filter(pattern__in=list(REWRITTEN_DEFAULTS_2), version=1):
        old = rule.pattern
        rule.pattern = REWRITTEN_DEFAULTS_2[old]
        rule.version = 2
        rule.save(update_fields=["pattern", "version", "updated_at"])
        version_model.objects.create(
            rule=rule,
            version=2,
            snapshot={name: getattr(rule, name) for name in _FIELDS},
            changes={"pattern": [old, rule.pattern]},
            note="issue 16, second round of the default lexicon",
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0010_text_max_length_concepts_corpus")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
