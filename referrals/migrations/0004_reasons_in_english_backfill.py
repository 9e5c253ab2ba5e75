"""A referral's reasons (copied from its lead) stored before they were also written in
English: ``text_en`` read back from the Chinese ``text`` (scoring.reasons)."""

from django.db import migrations

from scoring.reasons import reasons_reader


def backfill(apps, schema_editor):
    with_english = reasons_reader()
    Referral = apps.get_model("referrals", "Referral")
    for pk, reasons in Referral.objects.values_list("pk", "reasons").iterator():
        updated = with_english(reasons)
        if updated is not None:
            Referral.objects.filter(pk=pk).update(reasons=updated)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_text_max_length"),
        ("scoring", "0004_reasons_in_english_backfill"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
