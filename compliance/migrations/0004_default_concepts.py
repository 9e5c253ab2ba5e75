"""Load the default concept groups and concept rules, and turn the three deposit-insurance
phrases that flagged correct disclosures ("这款理财不受存款保险保护") into concept rules
with an ``unless`` (only where the row is still as shipped: version 1, same pattern)."""

from django.db import migrations

from compliance.lexicon_data import REWRITTEN_DEFAULTS, concept_groups_load_defaults, lexicon_load_defaults


def load(apps, schema_editor):
    rule_model = apps.get_model("compliance", "LexiconRule")
    version_model = apps.get_model("compliance", "LexiconRuleVersion")
    concept_groups_load_defaults(apps.get_model("compliance", "ConceptGroup"))
    lexicon_load_defaults(rule_model, version_model)
    for rule in rule_model.objects.filter(pattern__in=list(REWRITTEN_DEFAULTS), is_regex=False, version=1):
        old = rule.pattern
        rule.pattern = REWRITTEN_DEFAULTS[old]
        rule.version = 2
        rule.save(update_fields=["pattern", "version", "updated_at"])
        snapshot = {
            name: getattr(rule, name)
            for name in ("pattern", "is_regex", "language", "category", "severity", "negation_suppresses", "source")
        }
        version_model.objects.create(
            rule=rule,
            version=2,
            snapshot=snapshot,
            changes={"pattern": [old, rule.pattern]},
            note="concept rule: a statement that deposit insurance does not cover the product is clean",
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_concept_groups")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
