"""Roles of the workbench and the checks views use.

Each staff user has exactly one role, kept on ``customers.StaffProfile``. Roles also map
to Django groups (created by a migration) so the admin can see who holds which.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
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
    ADMIN = "admin", _("Administrator")


# Group name per role (the groups are created by workbench/migrations).
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


def has_role(user, *roles: str) -> bool:
    return role_of(user) in roles


def role_required(*roles: str) -> Callable:
    """View decorator: 403 unless the logged-in user holds one of ``roles``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
