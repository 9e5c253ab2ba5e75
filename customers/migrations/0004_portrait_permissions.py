"""Grant the PIPL permissions of portraits to the role groups.

Revealing a full mobile/ID number: advisors (they call the customer), team leads,
branch staff (referred customers) and compliance. Exporting personal data: team leads
only (administrators are superusers and hold every permission).
"""

from django.db import migrations

REVEAL = ("role:advisor", "role:team_lead", "role:branch_manager", "role:branch_rm", "role:compliance")
EXPORT = ("role:team_lead",)


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ct, _ = ContentType.objects.get_or_create(app_label="customers", model="customer")
    reveal, _ = Permission.objects.get_or_create(
        content_type=ct,
        codename="reveal_customer_pii",
        defaults={"name": "Can reveal a customer's full mobile number and ID number"},
    )
    export, _ = Permission.objects.get_or_create(
        content_type=ct, codename="export_customers", defaults={"name": "Can export customer personal data"}
    )
    for name in REVEAL:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(reveal)
    for name in EXPORT:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(export)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="customers", codename__in=["reveal_customer_pii", "export_customers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_portraits_access_imports"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("workbench", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
