"""Give the role groups this app's model permissions (its AppConfig.role_permissions)."""

from django.db import migrations

from customers.apps import CustomersConfig
from org.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, "customers", CustomersConfig.role_permissions, custom=getattr(CustomersConfig, "custom_permissions", None))


class Migration(migrations.Migration):
    dependencies = [('customers', '0001_initial'), ('org', '0002_role_groups')]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
