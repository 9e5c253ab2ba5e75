"""Demo organisation: branches, remote-advisor teams and staff of every role with their
role groups and one shared password (``DEMO_PASSWORD``), created or reused by code.

``seed_org`` returns an :class:`OrgWorld` of ids that the customer seeders above draw on
(which team serves which branch, who the advisors and relationship managers are)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from faker.providers.person.zh_CN import Provider as ZhPerson

from .models import Branch, StaffProfile, Team
from .roles import ROLE_GROUPS, Role

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - printed on purpose: these are demo logins

# (code, name, city, the region code of its customers' resident IDs)
BRANCHES = [
    ("SH01", "上海浦东支行", "上海", "310115"),
    ("SH02", "上海徐汇支行", "上海", "310104"),
    ("SH03", "上海静安支行", "上海", "310106"),
    ("BJ01", "北京朝阳支行", "北京", "110105"),
    ("BJ02", "北京海淀支行", "北京", "110108"),
    ("GZ01", "广州天河支行", "广州", "440106"),
    ("SZ01", "深圳南山支行", "深圳", "440305"),
    ("HZ01", "杭州西湖支行", "杭州", "330106"),
    ("CD01", "成都高新支行", "成都", "510107"),
    ("WH01", "武汉江汉支行", "武汉", "420103"),
]
TEAMS = [("RT01", "远程财富一组"), ("RT02", "远程财富二组"), ("RT03", "远程财富三组")]
ADVISORS_PER_TEAM = 5
RMS_PER_BRANCH = 2
# Who the other seeders act as: compliance's scripts are written by a team lead and
# approved by a compliance officer.
SCRIPT_AUTHOR = "lead1"
COMPLIANCE_OFFICER = "compliance1"
# Campaigns are built by one campaign manager and their launch approved by the other.
CAMPAIGN_AUTHOR = "campaign1"
CAMPAIGN_APPROVER = "campaign2"


@dataclass
class OrgWorld:
    """Ids of the organisation the customer seeders draw from (branch index ``b`` is the
    ``b``-th of ``BRANCHES``)."""

    branch_ids: list[int]
    branch_cities: list[str]
    branch_regions: list[str]
    team_ids: list[int]
    advisors_by_team: dict[int, list[int]]
    rms_by_branch: dict[int, list[int]]
    users: dict[str, object] = field(default_factory=dict)  # username → user

    def team_of_branch(self, branch_i: np.ndarray) -> np.ndarray:
        """The remote team serving each branch index: teams take the branches in turn."""
        teams = np.array(self.team_ids)[np.arange(len(self.branch_ids)) % len(self.team_ids)]
        return teams[branch_i]


def seed_org() -> OrgWorld:
    """Create (or reuse) branches, teams and staff of every role."""
    User = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)
    users: dict[str, object] = {}

    def staff(username: str, role: str, display: str, *, team=None, branch=None, superuser: bool = False):
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={"password": password_hash, "is_staff": superuser, "is_superuser": superuser},
        )
        StaffProfile.objects.get_or_create(
            user=user,
            defaults={
                "role": role,
                "employee_no": f"E{user.pk:06d}",
                "display_name": display,
                "team": team,
                "branch": branch,
            },
        )
        user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role])[0])
        users[username] = user
        return user

    branches = [
        Branch.objects.get_or_create(code=code, defaults={"name": name, "city": city})[0]
        for code, name, city, _region in BRANCHES
    ]
    teams = [Team.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in TEAMS]

    surnames = list(ZhPerson.last_names)[:60]
    given = [g for pair in zip(ZhPerson.first_names_female, ZhPerson.first_names_male, strict=False) for g in pair]
    taken: set[str] = set()

    def person(k: int) -> str:
        """A name that reads as a person's (周敏, 王建华), unique among the staff: the
        role is on the badge beside it, not in the name."""
        while True:
            name = surnames[(k * 7) % len(surnames)] + given[(k * 13) % len(given)]
            k += 1
            if name not in taken:
                taken.add(name)
                return name

    staff("admin", Role.ADMIN, "系统管理员", superuser=True)
    staff(COMPLIANCE_OFFICER, Role.COMPLIANCE, "周敏")
    taken.add("周敏")
    staff("compliance2", Role.COMPLIANCE, "吴磊")
    taken.add("吴磊")
    # Two campaign managers, so one can approve the other's launch.
    staff(CAMPAIGN_AUTHOR, Role.CAMPAIGN_MANAGER, "陈晓")
    taken.add("陈晓")
    staff(CAMPAIGN_APPROVER, Role.CAMPAIGN_MANAGER, "林涛")
    taken.add("林涛")
    advisors_by_team: dict[int, list[int]] = {}
    rms_by_branch: dict[int, list[int]] = {}
    n = 0
    for t_idx, team in enumerate(teams, start=1):
        staff(f"lead{t_idx}", Role.TEAM_LEAD, person(1000 + t_idx), team=team)
        ids = []
        for _ in range(ADVISORS_PER_TEAM):
            n += 1
            ids.append(staff(f"advisor{n}", Role.ADVISOR, person(n), team=team).pk)
        advisors_by_team[team.pk] = ids
    for branch in branches:
        code = branch.code.lower()
        b = 2000 + 10 * branches.index(branch)
        staff(f"manager_{code}", Role.BRANCH_MANAGER, person(b), branch=branch)
        rms_by_branch[branch.pk] = [
            staff(f"rm_{code}_{r}", Role.BRANCH_RM, person(b + r), branch=branch).pk
            for r in range(1, RMS_PER_BRANCH + 1)
        ]
    return OrgWorld(
        branch_ids=[b.pk for b in branches],
        branch_cities=[b.city for b in branches],
        branch_regions=[region for *_x, region in BRANCHES],
        team_ids=[t.pk for t in teams],
        advisors_by_team=advisors_by_team,
        rms_by_branch=rms_by_branch,
        users=users,
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role label, display name) of every staff user, for the README and make run."""
    rows = StaffProfile.objects.select_related("user").order_by("role", "user__username")
    return [(p.user.username, p.get_role_display(), p.display_name) for p in rows]
