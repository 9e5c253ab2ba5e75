"""factory_boy factories for the organisation: branches, teams and staff of every role."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from org import models as m
from org.roles import ROLE_GROUPS, Role


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"测试支行{n}")
    city = "上海"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:02d}")
    name = factory.Sequence(lambda n: f"远程财富{n}组")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "demo-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_staff(role: str, *, username: str | None = None, team=None, branch=None, display_name: str = ""):
    """A user with a staff profile and the role's group (what seed_demo creates too)."""
    user = UserFactory(username=username) if username else UserFactory()
    if role in (Role.ADVISOR, Role.TEAM_LEAD) and team is None:
        team = TeamFactory()
    if role in (Role.BRANCH_MANAGER, Role.BRANCH_RM) and branch is None:
        branch = BranchFactory()
    m.StaffProfile.objects.create(
        user=user,
        role=role,
        employee_no=f"E{user.pk:06d}",
        display_name=display_name or user.username,
        team=team,
        branch=branch,
    )
    group, _ = Group.objects.get_or_create(name=ROLE_GROUPS[role])
    user.groups.add(group)
    if role == Role.ADMIN:
        user.is_staff = True
        user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user
