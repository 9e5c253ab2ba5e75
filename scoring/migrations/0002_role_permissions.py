"""Give the role groups this app's model permissions (its AppConfig.role_permissions)."""

from django.db import migrations

from scoring.apps import ScoringConfig
from org.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "scoring", ScoringConfig.role_permissions, custom=getattr(ScoringConfig, "custom_permissions", None))


class Migration(migrations.Migration):
    dependencies = [('scoring', '0001_initial'), ('org', '0002_role_groups')]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
