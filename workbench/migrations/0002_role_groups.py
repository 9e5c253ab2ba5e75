"""One Django group per role, with the model permissions that role holds.

Row-level rules (an advisor sees only their book) are enforced by ``visible_to``; the
group permissions say what kind of object a role may read or change at all, and show in
the admin who holds which role.
"""

from django.db import migrations

VIEW, ADD, CHANGE = "view", "add", "change"

ROLE_PERMISSIONS = {
    "advisor": {
        "customers": {"customer": [VIEW], "customertag": [VIEW, ADD, CHANGE], "interaction": [VIEW, ADD]},
        "leads": {"lead": [VIEW, CHANGE], "referral": [VIEW, ADD], "outcome": [VIEW, ADD]},
        "campaigns": {"campaign": [VIEW]},
    },
    "team_lead": {
        "customers": {"customer": [VIEW, CHANGE], "customertag": [VIEW, ADD, CHANGE], "interaction": [VIEW, ADD]},
        "leads": {"lead": [VIEW, CHANGE], "referral": [VIEW], "outcome": [VIEW, ADD]},
        "campaigns": {"campaign": [VIEW, ADD, CHANGE]},
    },
    "branch_manager": {
        "customers": {"customer": [VIEW]},
        "leads": {"referral": [VIEW, CHANGE]},
    },
    "branch_rm": {
        "customers": {"customer": [VIEW], "interaction": [VIEW, ADD]},
        "leads": {"referral": [VIEW, CHANGE]},
    },
    "compliance": {
        "customers": {"customer": [VIEW], "interaction": [VIEW]},
        "leads": {"lead": [VIEW], "referral": [VIEW], "outcome": [VIEW]},
        "campaigns": {"campaign": [VIEW]},
        "workbench": {"auditevent": [VIEW]},
    },
    "admin": {
        "customers": {
            m: [VIEW, ADD, CHANGE]
            for m in (
                "branch", "team", "staffprofile", "customer", "riskassessment", "product", "holding",
                "assetsnapshot", "tag", "customertag", "interaction", "contactpreference",
            )
        },
        "leads": {m: [VIEW, ADD, CHANGE] for m in ("lead", "referral", "outcome")},
        "campaigns": {"campaign": [VIEW, ADD, CHANGE]},
        "workbench": {"auditevent": [VIEW], "job": [VIEW], "notification": [VIEW]},
    },
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, by_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=f"role:{role}")
        perms = []
        for app_label, models in by_app.items():
            for model, actions in models.items():
                codenames = [f"{action}_{model}" for action in actions]
                perms.extend(
                    Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
                )
        group.permissions.set(perms)


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__startswith="role:").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0001_initial"),
        ("customers", "0001_initial"),
        ("leads", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, drop_groups)]
