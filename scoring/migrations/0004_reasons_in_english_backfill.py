"""Reasons stored before they were also written in English (``text_en``): the English
is read back from the Chinese ``text`` through the catalogue (scoring.reasons), for
the scores and the leads that carry them."""

from django.db import migrations

from scoring.reasons import reasons_reader


def backfill(apps, schema_editor):
    with_english = reasons_reader()
    for model in (apps.get_model("scoring", "CustomerScore"), apps.get_model("leads", "Lead")):
        for pk, reasons in model.objects.values_list("pk", "reasons").iterator():
            updated = with_english(reasons)
            if updated is not None:
                model.objects.filter(pk=pk).update(reasons=updated)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0003_chunks_move_to_core"),
        ("leads", "0004_journeys_capacity"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
