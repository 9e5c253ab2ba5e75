"""Give the role groups this app's model permissions (its AppConfig.role_permissions)."""

from django.db import migrations

from cadence.apps import CadenceConfig
from org.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "cadence", CadenceConfig.role_permissions)


class Migration(migrations.Migration):
    dependencies = [("cadence", "0001_targets_and_plans"), ("org", "0002_role_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
