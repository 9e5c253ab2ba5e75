"""One Django group per role, with the permissions of org's and core's models.

Row rules (an advisor sees only their book) are enforced by ``restrict``; the group
permissions say what kind of object a role may read or change at all, and show in the
admin who holds which role. Each app above grants its own models' permissions in its
own migration (``grant_role_permissions``).
"""

from django.db import migrations

from org.apps import OrgConfig
from org.roles import ROLE_GROUPS, grant_role_permissions


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS.values():
        Group.objects.get_or_create(name=name)
    grant_role_permissions(apps, "org", OrgConfig.role_permissions)
    grant_role_permissions(
        apps, "core", OrgConfig.core_role_permissions, custom=OrgConfig.core_custom_permissions
    )


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__startswith="role:").delete()


class Migration(migrations.Migration):
    dependencies = [('org', '0001_initial'), ('core', '0001_initial'), ('auth', '0012_alter_user_first_name_max_length'), ('contenttypes', '0002_remove_content_type_name')]

    operations = [migrations.RunPython(create_groups, drop_groups)]
