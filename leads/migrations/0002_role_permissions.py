"""Give the role groups this app's model permissions (its AppConfig.role_permissions)."""

from django.db import migrations

from leads.apps import LeadsConfig
from org.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "leads", LeadsConfig.role_permissions, custom=getattr(LeadsConfig, "custom_permissions", None))


class Migration(migrations.Migration):
    dependencies = [('leads', '0001_initial'), ('org', '0002_role_groups')]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
