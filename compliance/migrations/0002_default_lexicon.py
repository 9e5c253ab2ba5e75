"""Load the default lexicon (compliance/lexicon_data.py), the senior-officer group and the
QA sampling settings."""

from django.db import migrations

from compliance.lexicon_data import lexicon_load_defaults


def load(apps, schema_editor):
    lexicon_load_defaults(
        apps.get_model("compliance", "LexiconRule"), apps.get_model("compliance", "LexiconRuleVersion")
    )
    apps.get_model("auth", "Group").objects.get_or_create(name="compliance_senior")
    apps.get_model("compliance", "QASamplingConfig").objects.get_or_create(pk=1)


def unload(apps, schema_editor):
    apps.get_model("compliance", "LexiconRule").objects.filter(history__note="default lexicon").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(load, unload)]
