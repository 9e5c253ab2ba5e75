"""The campaign manager's permissions and the launch approver's; team leads no longer
create or change campaigns (they approve launches); "active" campaigns are "running"."""

from django.db import migrations

from campaigns.apps import CampaignsConfig
from org.roles import ROLE_GROUPS, grant_role_permissions


def forwards(apps, schema_editor):
    apps.get_model("campaigns", "Campaign").objects.filter(status="active").update(status="running")
    grant_role_permissions(apps, "campaigns", CampaignsConfig.role_permissions, custom=CampaignsConfig.custom_permissions)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    lead = Group.objects.filter(name=ROLE_GROUPS["team_lead"]).first()
    if lead is not None:
        lead.permissions.remove(
            *Permission.objects.filter(content_type__app_label="campaigns", codename__in=["add_campaign", "change_campaign"])
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_lifecycle_steps_segments"), ("org", "0003_campaign_manager_role")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
