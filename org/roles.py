"""Roles of the workbench and the checks views use.

Each staff user has exactly one role, kept on ``org.StaffProfile``. Roles also map to
Django groups (created by org's migration) holding the model permissions of the role:
each app declares what each role may do with its models (``role_permissions`` on its
AppConfig) and grants it in its own data migration with :func:`grant_role_permissions`,
so this app never names the apps above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    ADVISOR = "advisor", _("Remote advisor")
    TEAM_LEAD = "team_lead", _("Team lead")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    BRANCH_RM = "branch_rm", _("Branch relationship manager")
    COMPLIANCE = "compliance", _("Compliance officer")
    # HQ remote operations (策略经理): builds and runs campaigns over the whole customer base.
    CAMPAIGN_MANAGER = "campaign_manager", _("Campaign manager")
    ADMIN = "admin", _("Administrator")


# Group name per role (the groups are created by org/migrations).
ROLE_GROUPS: dict[str, str] = {role.value: f"role:{role.value}" for role in Role}

# Roles that see every customer. Compliance reads all but writes nothing customer-side.
ALL_SEEING_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE})
BRANCH_ROLES = frozenset({Role.BRANCH_MANAGER, Role.BRANCH_RM})


def role_of(user: AbstractBaseUser | AnonymousUser | None) -> str | None:
    """The user's role, or None for anonymous users and users without a profile.

    Superusers without a profile count as administrators.
    """
    if user is None or not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return profile.role
    if user.is_superuser:
        return Role.ADMIN
    return None


def team_of(user) -> int | None:
    """The id of ``user``'s team (None for nobody, or a user without a profile or team)."""
    profile = getattr(user, "staff_profile", None)
    return profile.team_id if profile is not None else None


def staff_name(user) -> str:
    """How a staff user is named on pages and exports: the display name, else the username."""
    if user is None:
        return "—"
    profile = getattr(user, "staff_profile", None)
    return profile.display_name if profile is not None else user.get_username()


# A role's model permissions in one app: {role: {model name: ["view", "add", ...]}}.
RolePermissions = dict[str, dict[str, list[str]]]


def grant_role_permissions(apps, app_label: str, grants: RolePermissions, *, custom: dict | None = None) -> None:
    """Give each role group the permissions ``grants`` lists for the models of
    ``app_label``, and the custom permission codenames ``custom`` lists per role,
    creating the permissions and groups if needed. Safe to run again. ``apps`` is a
    migration's app registry or ``django.apps.apps``."""
    # Imported here: this module loads while the auth app is still being set up.
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # create_permissions skips apps without
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")  # noqa: N806 - a model class
    Permission = apps.get_model("auth", "Permission")  # noqa: N806
    custom = custom or {}
    for role in {*grants, *custom}:
        codenames = [f"{action}_{model}" for model, actions in grants.get(role, {}).items() for action in actions]
        codenames += list(custom.get(role, ()))
        group, _created = Group.objects.get_or_create(name=ROLE_GROUPS[role])
        group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
