"""Give the role groups this app's model permissions (its AppConfig.role_permissions)."""

from django.db import migrations

from campaigns.apps import CampaignsConfig
from org.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "campaigns", CampaignsConfig.role_permissions, custom=getattr(CampaignsConfig, "custom_permissions", None))


class Migration(migrations.Migration):
    dependencies = [('campaigns', '0001_initial'), ('org', '0002_role_groups')]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
