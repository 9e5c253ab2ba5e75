"""The default call-disposition taxonomy (calls/dispositions.py)."""

from django.db import migrations

from calls.dispositions import dispositions_install


def create(apps, schema_editor):
    dispositions_install(apps.get_model("calls", "Disposition"))


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
