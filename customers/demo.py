"""Deterministic demo data: a bank's remote-advisory book, large enough to measure.

``seed_demo`` builds reference data (branches, teams, staff of every role, products, tags)
with the ORM, then streams customers and everything they own in chunks of
``CHUNK`` customers. Each chunk draws from its own NumPy generator seeded with
``(seed, chunk number)``, so the output depends only on the seed, the customer count and
the anchor date, never on timing; memory stays bounded by the chunk.

Rows go to the database with COPY on PostgreSQL and ``executemany`` on SQLite. This is
bulk loading of synthetic data, so it bypasses the services on purpose; one audit event
records the seeding itself.

The call outcomes carry a point-in-time feature snapshot (keys of scoring.feature_spec) and are
drawn from a logistic model of those features plus hidden noise, so a model trained on
them has something true and learnable to find (a logistic regression reaches AUC > 0.65;
a gradient-boosting model around 0.8).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from faker.providers.person.zh_CN import Provider as ZhPerson

from core.audit import audit_record
from org.roles import ROLE_GROUPS, Role

from . import models as m
from org import models as org_models

CHUNK = 10_000
DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 - printed on purpose: these are demo logins

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

OCCUPATIONS = ["企业职员", "公务员", "教师", "医生", "企业主", "个体工商户", "退休", "自由职业", "工程师", "学生"]
OCCUPATION_EFFECT = {"企业主": 0.35, "退休": 0.25, "学生": -0.7, "个体工商户": 0.15}
EDUCATIONS = ["高中及以下", "大专", "本科", "硕士", "博士"]
MARITAL = ["未婚", "已婚", "离异", "丧偶"]

# (code, name, type, risk, min amount, benchmark low/high %, term days, private, on shelf)
PRODUCTS = [
    ("DP001", "三个月定期存款", "deposit", 1, 50, None, None, 90, False, True),
    ("DP002", "一年期大额存单", "deposit", 1, 200_000, None, None, 365, False, True),
    ("DP003", "三年期大额存单", "deposit", 1, 200_000, None, None, 1095, False, True),
    ("WM001", "安盈天天利现金管理", "wealth", 1, 1, "1.600", "2.100", None, False, True),
    ("WM002", "稳享90天持有期", "wealth", 2, 10_000, "2.300", "2.900", 90, False, True),
    ("WM003", "稳享180天持有期", "wealth", 2, 10_000, "2.500", "3.200", 180, False, True),
    ("WM004", "稳健增利一年定开", "wealth", 2, 10_000, "2.800", "3.500", 365, False, True),
    ("WM005", "固收+ 半年定开", "wealth", 3, 10_000, "3.000", "4.200", 180, False, True),
    ("WM006", "养老理财 五年封闭", "wealth", 2, 1, "4.500", "6.500", 1825, False, True),
    ("WM007", "权益精选一年持有", "wealth", 4, 10_000, None, None, 365, False, True),
    ("WM008", "稳享270天（已售罄）", "wealth", 2, 10_000, "2.600", "3.300", 270, False, False),
    ("WM009", "私享固收 18个月", "wealth", 3, 1_000_000, "3.800", "4.800", 540, True, True),
    ("FD001", "沪深300指数基金", "fund", 4, 10, None, None, None, False, True),
    ("FD002", "中短债债券基金", "fund", 2, 10, None, None, None, False, True),
    ("FD003", "科技成长混合基金", "fund", 5, 10, None, None, None, False, True),
    ("FD004", "稳健配置FOF", "fund", 3, 10, None, None, None, False, True),
    ("FD005", "私募量化对冲 1号", "fund", 5, 1_000_000, None, None, 365, True, True),
    ("FD006", "红利低波指数基金", "fund", 3, 10, None, None, None, False, True),
    ("IN001", "年金保险 安享版", "insurance", 2, 10_000, None, None, 3650, False, True),
    ("IN002", "增额终身寿险", "insurance", 2, 20_000, None, None, None, False, True),
    ("IN003", "投连险 进取型", "insurance", 4, 50_000, None, None, None, False, True),
    ("MT001", "积存金", "metal", 3, 1, None, None, None, False, True),
    ("MT002", "实物金条 50g", "metal", 3, 20_000, None, None, None, False, True),
    ("WM010", "新发 稳利120天（即将发售）", "wealth", 2, 10_000, "2.400", "3.000", 120, False, True),
]

TAGS = [
    ("high_net_worth", "高净值", "value", "rule"),
    ("mass_affluent", "大众富裕", "value", "rule"),
    ("aum_growing", "资产上升", "behaviour", "rule"),
    ("aum_outflow", "资金流出", "behaviour", "rule"),
    ("maturity_30d", "30天内有到期", "lifecycle", "rule"),
    ("dormant", "沉睡客户", "lifecycle", "rule"),
    ("new_customer", "新客", "lifecycle", "rule"),
    ("pension_planning", "养老规划", "preference", "model"),
    ("stable_preference", "偏好稳健", "preference", "model"),
    ("equity_interest", "关注权益", "preference", "model"),
    ("insurance_need", "保障需求", "preference", "model"),
    ("education_fund", "子女教育金", "preference", "model"),
    ("digital_active", "手机银行活跃", "behaviour", "rule"),
    ("salary_account", "代发工资", "behaviour", "rule"),
    ("risk_expired", "风评过期", "risk", "rule"),
    ("elderly", "65岁以上", "risk", "rule"),
    ("churn_risk", "流失预警", "risk", "model"),
]

CHANNEL_SUMMARIES = {
    "phone": [
        "电话回访，客户表示近期有资金到期，考虑续作稳健类理财",
        "电话沟通，客户对养老理财感兴趣，约下周再联系",
        "客户在开会，要求稍后回电",
        "客户表示暂无需求",
        "介绍新发稳利产品，客户要求发送产品说明书",
    ],
    "sms": ["到期提醒短信", "新发产品通知短信", "风险测评到期提醒短信"],
    "app_push": ["手机银行推送：养老理财专题", "手机银行推送：理财到期再投资提醒"],
    "wechat": ["企业微信发送资产配置建议", "企业微信答复客户关于基金赎回的问题"],
    "branch_visit": ["客户到网点办理大额存单", "网点理财经理面谈资产配置"],
    "email": ["月度对账单邮件"],
}

# AI-bot conversations: (intent code, customer turns) — the bot's turns are generic.
AI_SCRIPTS = {
    "ask_wealth_product": [
        "最近有什么稳健一点的理财产品吗？",
        "收益大概多少？风险高不高？",
        "起购金额是多少",
    ],
    "ask_fund": ["我想了解一下指数基金定投", "现在适合买基金吗"],
    "ask_maturity": ["我有一笔理财快到期了，到期后钱会自动回到卡里吗？", "到期以后有什么可以续的产品"],
    "ask_pension": ["我快退休了，想看看养老理财", "个人养老金账户怎么开"],
    "ask_human": ["能不能让理财经理直接给我打个电话", "我想找人工客服详细聊聊"],
    "not_interested": ["暂时不需要，谢谢", "别再给我推销了"],
    "complaint": ["上次买的产品亏了，我很不满意"],
}
BOT_TURNS = [
    "您好，我是您的智能理财助手小光，请问有什么可以帮您？",
    "好的，我来为您查询相关信息。",
    "根据您的风险测评结果，为您筛选了适合的产品，理财非存款、产品有风险、投资须谨慎。",
    "已为您记录需求，稍后会有专属理财经理与您联系。",
    "感谢您的咨询，祝您生活愉快！",
]


@dataclass
class Reference:
    """Ids of the reference rows the customer generator draws from."""

    branch_ids: list[int]
    branch_cities: list[str]
    branch_regions: list[str]
    team_ids: list[int]
    advisors_by_team: dict[int, list[int]]
    product_ids: list[int]
    product_risk: np.ndarray
    product_type: list[str]
    product_term: list[int | None]
    product_min: np.ndarray
    product_private: np.ndarray
    product_on_shelf: np.ndarray
    tag_ids: dict[str, int]
    rms_by_branch: dict[int, list[int]] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)


# --- reference data ------------------------------------------------------------------------


def build_reference(*, today: dt.date) -> Reference:
    """Create (or reuse) branches, teams, staff, products and tags."""
    User = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)
    logins: list[tuple[str, str, str]] = []

    def staff(username: str, role: str, display: str, *, team=None, branch=None, superuser: bool = False):
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"password": password_hash, "is_staff": superuser, "is_superuser": superuser},
        )
        org_models.StaffProfile.objects.get_or_create(
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
        logins.append((username, Role(role).label, display))
        return user

    branches = [
        org_models.Branch.objects.get_or_create(code=code, defaults={"name": name, "city": city})[0]
        for code, name, city, _region in BRANCHES
    ]
    teams = [org_models.Team.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in TEAMS]

    surnames = list(ZhPerson.last_names)
    staff("admin", Role.ADMIN, "系统管理员", superuser=True)
    staff("compliance1", Role.COMPLIANCE, "合规 周敏")
    staff("compliance2", Role.COMPLIANCE, "合规 吴磊")
    advisors_by_team: dict[int, list[int]] = {}
    rms_by_branch: dict[int, list[int]] = {}
    n = 0
    for t_idx, team in enumerate(teams, start=1):
        staff(f"lead{t_idx}", Role.TEAM_LEAD, f"组长 {surnames[t_idx + 10]}{'丽华建平国强'[t_idx % 6]}", team=team)
        ids = []
        for _ in range(ADVISORS_PER_TEAM):
            n += 1
            name = f"{surnames[(n * 7) % 60]}{ZhPerson.first_names_female[(n * 3) % 30]}"
            ids.append(staff(f"advisor{n}", Role.ADVISOR, f"顾问 {name}", team=team).pk)
        advisors_by_team[team.pk] = ids
    for branch in branches:
        code = branch.code.lower()
        staff(f"manager_{code}", Role.BRANCH_MANAGER, f"{branch.name}行长", branch=branch)
        rms_by_branch[branch.pk] = [
            staff(f"rm_{code}_{r}", Role.BRANCH_RM, f"{branch.name}客户经理{r}", branch=branch).pk
            for r in range(1, RMS_PER_BRANCH + 1)
        ]

    products = []
    for code, name, ptype, risk, min_amount, low, high, term, private, on_shelf in PRODUCTS:
        defaults = {
            "name": name,
            "type": ptype,
            "risk_level": risk,
            "min_amount": min_amount,
            "benchmark_low": low,
            "benchmark_high": high,
            "term_days": term,
            "is_private": private,
            "on_shelf": on_shelf,
            "issuer": "光大理财" if ptype == "wealth" else ("本行" if ptype == "deposit" else "合作机构"),
        }
        if code == "WM010":  # a product whose sale window has not opened yet
            defaults["sale_start"] = today + dt.timedelta(days=10)
            defaults["sale_end"] = today + dt.timedelta(days=24)
        products.append(m.Product.objects.get_or_create(code=code, defaults=defaults)[0])
    tags = {
        code: m.Tag.objects.get_or_create(code=code, defaults={"name": name, "category": cat, "source": src})[0].pk
        for code, name, cat, src in TAGS
    }
    return Reference(
        branch_ids=[b.pk for b in branches],
        branch_cities=[b.city for b in branches],
        branch_regions=[r for *_x, r in BRANCHES],
        team_ids=[t.pk for t in teams],
        advisors_by_team=advisors_by_team,
        product_ids=[p.pk for p in products],
        product_risk=np.array([p.risk_level for p in products]),
        product_type=[p.type for p in products],
        product_term=[p.term_days for p in products],
        product_min=np.array([float(p.min_amount) for p in products]),
        product_private=np.array([p.is_private for p in products]),
        product_on_shelf=np.array([p.on_shelf for p in products]),
        tag_ids=tags,
        rms_by_branch=rms_by_branch,
        logins=logins,
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role label, display name) of every staff user, for the README and make run."""
    rows = org_models.StaffProfile.objects.select_related("user").order_by("role", "user__username")
    return [(p.user.username, p.get_role_display(), p.display_name) for p in rows]


# --- writing ------------------------------------------------------------------------------


class RowWriter:
    """COPY on PostgreSQL, executemany on SQLite; same rows either way."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            # Bulk load of synthetic data: do not wait for each chunk's WAL flush.
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit TO OFF")
                # The generator writes parents before children with ids it chose itself,
                # so per-row foreign-key triggers only slow the load down. Skipping them
                # needs a superuser; without one the load is just slower.
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cur.fetchone()[0]:
                    cur.execute("SET session_replication_role = replica")

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        n = 0
        cols = ", ".join(columns)
        if self.vendor == "postgresql":
            raw = connection.connection  # psycopg 3 connection behind Django's wrapper
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        rows = list(rows)
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({placeholders})", rows)  # noqa: S608 - table/columns are constants of this module
        return len(rows)

    def write_formatted(self, table: str, columns: Sequence[str], rows: Iterable[Sequence], fmt: str) -> int:
        """Like write(), for rows of plain numbers and strings that ``fmt`` formats as one
        COPY text line: several times faster than write_row for very large tables."""
        if self.vendor != "postgresql":
            return self.write(table, columns, rows)
        raw = connection.connection
        n = 0
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            batch: list[str] = []
            for row in rows:
                batch.append(fmt.format(*row))
                if len(batch) >= 50_000:
                    copy.write("\n".join(batch) + "\n")
                    n += len(batch)
                    batch = []
            if batch:
                copy.write("\n".join(batch) + "\n")
                n += len(batch)
        return n

    def next_id(self, table: str) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - constant table name
            return int(cur.fetchone()[0])

    def reset_sequence(self, table: str) -> None:
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608
            )


# --- customers ------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _fmt_ts(t: dt.datetime) -> str:
    # UTC without an offset: Django keeps SQLite datetimes this way, and sets its
    # PostgreSQL sessions to UTC, so both read it as UTC.
    return t.strftime("%Y-%m-%d %H:%M:%S")


ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))


def _id_numbers(regions: np.ndarray, births: list[dt.date], seq: np.ndarray) -> list[str]:
    """Resident ID numbers with a valid GB 11643 check digit (synthetic people)."""
    bodies = [f"{r}{b:%Y%m%d}{s:03d}" for r, b, s in zip(regions, births, seq, strict=True)]
    digits = np.array([[ord(c) - 48 for c in body] for body in bodies])
    checks = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    return [body + c for body, c in zip(bodies, checks, strict=True)]


def logit_of(f: dict[str, np.ndarray], occupation: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The true conversion model behind the demo outcomes (what scoring should rediscover)."""
    z = -2.4
    z = z + 0.55 * np.clip(np.log(np.maximum(f["aum"], 1.0) / 100_000), -3, 3)
    z = z + 1.1 * f["ai_asked_human"] + 0.8 * f["ai_intent_wealth"]
    z = z + 0.6 * f["ai_intent_maturity"] + 0.5 * f["ai_intent_pension"]
    z = z + 0.9 * (f["maturing_30d_amount"] > 0)
    z = z - 1.0 * f["assessment_expired"]
    z = z + 3.0 * np.clip(f["aum_change_90d"], -0.3, 0.3)
    z = z + 0.6 * np.exp(-(((f["age"] - 52) / 15.0) ** 2))
    z = z + 0.5 * (f["previous_outcome"] == "converted") - 0.3 * (f["previous_outcome"] == "not_converted")
    z = z - 0.35 * np.maximum(f["contacts_30d"] - 2, 0)
    z = z + np.array([OCCUPATION_EFFECT.get(o, 0.0) for o in occupation])
    return z + 0.5 * hidden


@dataclass
class Stats:
    customers: int = 0
    snapshots: int = 0
    holdings: int = 0
    risk_assessments: int = 0
    tags: int = 0
    interactions: int = 0
    contact_preferences: int = 0
    outcomes: int = 0
    positives: int = 0
    leads: int = 0
    referrals: int = 0

    def add(self, other: Stats) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Cohort:
    """One chunk's customers as column arrays (index i is the i-th customer of the chunk)."""

    cid: np.ndarray
    size: int
    age: np.ndarray
    female: np.ndarray
    aum: np.ndarray
    trend30: np.ndarray
    trend90: np.ndarray
    risk_level: np.ndarray
    assessed: np.ndarray
    assess_age: np.ndarray
    occupation: np.ndarray
    education: np.ndarray
    marital: np.ndarray
    branch_i: np.ndarray
    lifecycle: np.ndarray
    hidden: np.ndarray
    maturing_amt: np.ndarray


class ChunkGenerator:
    """Generates and writes one chunk of customers with all their rows."""

    def __init__(self, *, ref: Reference, seed: int, anchor: dt.datetime, writer: RowWriter, ids: dict[str, int]):
        self.ref = ref
        self.seed = seed
        self.anchor = anchor  # "now" of the demo world, UTC
        self.today = anchor.date()
        self.writer = writer
        self.ids = ids  # next id per table, advanced as rows are written
        self.surnames = list(ZhPerson.last_names)
        w = np.array(list(ZhPerson.last_names.values()), dtype=float)
        self.surname_p = w / w.sum()
        self.given_m = list(ZhPerson.first_names_male)
        self.given_f = list(ZhPerson.first_names_female)
        self.valid_days = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS
        self.team_of_branch = {b: ref.team_ids[i % len(ref.team_ids)] for i, b in enumerate(ref.branch_ids)}

    def _take_ids(self, table: str, n: int) -> np.ndarray:
        start = self.ids[table]
        self.ids[table] = start + n
        return np.arange(start, start + n)

    def run(self, chunk_no: int, first_index: int, size: int) -> Stats:
        rng = np.random.default_rng([self.seed, chunk_no])
        ref = self.ref
        s = Stats(customers=size)
        cid = self._take_ids("customers_customer", size)
        idx = np.arange(first_index, first_index + size)

        # --- who they are
        female = rng.random(size) < 0.51
        age = np.clip(rng.normal(46, 14, size), 20, 88).astype(int)
        birth = [
            self.today - dt.timedelta(days=int(a * 365.25 + d))
            for a, d in zip(age, rng.integers(0, 365, size), strict=True)
        ]
        sn = rng.choice(len(self.surnames), size=size, p=self.surname_p)
        two = rng.random(size) < 0.7
        g1 = rng.integers(0, 10_000, size)
        g2 = rng.integers(0, 10_000, size)
        names = []
        for i in range(size):
            pool = self.given_f if female[i] else self.given_m
            given = pool[g1[i] % len(pool)] + (pool[g2[i] % len(pool)] if two[i] else "")
            names.append(self.surnames[sn[i]] + given)
        branch_i = rng.integers(0, len(ref.branch_ids), size)
        mobile_prefix = rng.choice(["13", "15", "17", "18", "19"], size)
        mobile_rest = rng.integers(0, 1_000_000_000, size)
        mobiles = [f"{p}{r:09d}" for p, r in zip(mobile_prefix, mobile_rest, strict=True)]
        regions = np.array(ref.branch_regions)[branch_i]
        seq = rng.integers(0, 500, size) * 2 + np.where(female, 0, 1)
        id_numbers = _id_numbers(regions, birth, seq)

        # --- money
        aum = np.round(np.clip(rng.lognormal(math.log(45_000), 1.55, size), 100, 80_000_000), 2)
        tier = np.where(
            aum >= settings.WORKBENCH_TIER_PRIVATE_MIN,
            "private",
            np.where(
                aum >= settings.WORKBENCH_TIER_WEALTH_MIN,
                "wealth",
                np.where(aum >= settings.WORKBENCH_TIER_BASE_MIN, "base", "long_tail"),
            ),
        )
        occ_p = np.array([0.3, 0.07, 0.06, 0.04, 0.07, 0.08, 0.16, 0.1, 0.08, 0.04])
        occupation = np.array(OCCUPATIONS)[rng.choice(len(OCCUPATIONS), size=size, p=occ_p)]
        occupation = np.where(age >= 60, "退休", np.where((age < 24) & (rng.random(size) < 0.6), "学生", occupation))
        education = np.array(EDUCATIONS)[rng.choice(5, size=size, p=[0.2, 0.25, 0.4, 0.12, 0.03])]
        marital = np.array(MARITAL)[
            np.where(
                age < 28,
                rng.choice(4, size=size, p=[0.7, 0.28, 0.02, 0.0]),
                rng.choice(4, size=size, p=[0.1, 0.78, 0.08, 0.04]),
            )
        ]
        hidden = rng.normal(0, 1, size)  # engagement nobody observes directly
        trend90 = np.clip(rng.normal(0.0, 0.09, size) + 0.03 * hidden, -0.6, 0.6)
        trend30 = np.clip(trend90 / 3 + rng.normal(0, 0.03, size), -0.5, 0.5)

        # --- risk assessment
        assessed = rng.random(size) < 0.88
        risk_level = np.clip(
            np.round(rng.normal(3.0, 1.0, size) - (age > 65) * 0.8 + (aum > 500_000) * 0.3), 1, 5
        ).astype(int)
        assess_age = rng.integers(0, 520, size)  # days; ~30% older than a year
        assessed_at = [
            _fmt_ts(self.anchor - dt.timedelta(days=int(d), minutes=int(mm))) if ok else None
            for d, mm, ok in zip(assess_age, rng.integers(0, 600, size), assessed, strict=True)
        ]
        self_done = rng.random(size) < 0.96

        # --- ownership: remote advisors own the base tier (DOMAIN.md); the rest is unowned
        team_of = np.array([self.team_of_branch[ref.branch_ids[b]] for b in branch_i])
        owner = [
            ref.advisors_by_team[t][int(r) % ADVISORS_PER_TEAM] if tr == "base" else None
            for t, r, tr in zip(team_of, rng.integers(0, 1_000, size), tier, strict=True)
        ]
        lifecycle = np.where(
            hidden < -1.4,
            "dormant",
            np.where(trend90 < -0.1, "declining", np.where(trend90 > 0.08, "growing", "mature")),
        )
        lifecycle = np.where(rng.random(size) < 0.06, "new", lifecycle)

        # --- interactions (touch history), generated first so last_contact_at is known
        inter_rows, last_contact, contacts30, contacts90, ai = self._interactions(rng, cid, owner, hidden, size)
        s.interactions = len(inter_rows)

        # --- holdings (and maturity within 30 days)
        holding_rows, maturing_amt = self._holdings(rng, cid, aum, risk_level, assessed, size)
        s.holdings = len(holding_rows)

        created = _fmt_ts(self.anchor - dt.timedelta(days=400))
        attrs_json = [json.dumps({"salary_account": bool(x)}) for x in rng.random(size) < 0.35]
        cust_rows = (
            (
                int(cid[i]),
                f"C{idx[i]:010d}",
                names[i],
                "F" if female[i] else "M",
                birth[i].isoformat(),
                mobiles[i],
                mobiles[i][-4:],
                id_numbers[i],
                id_numbers[i][-4:],
                ref.branch_cities[branch_i[i]],
                occupation[i],
                education[i],
                marital[i],
                tier[i],
                f"{aum[i]:.2f}",
                ref.branch_ids[branch_i[i]],
                owner[i],
                lifecycle[i],
                int(risk_level[i]) if assessed[i] else None,
                assessed_at[i],
                last_contact[i],
                attrs_json[i],
                created,
                created,
            )
            for i in range(size)
        )
        self.writer.write(
            "customers_customer",
            [
                "id",
                "customer_no",
                "name",
                "gender",
                "birth_date",
                "mobile",
                "mobile_last4",
                "id_number",
                "id_last4",
                "city",
                "occupation",
                "education",
                "marital_status",
                "tier",
                "aum",
                "home_branch_id",
                "owner_id",
                "lifecycle_stage",
                "risk_level",
                "risk_assessed_at",
                "last_contact_at",
                "attributes",
                "created_at",
                "updated_at",
            ],
            cust_rows,
        )

        # --- risk assessments: the current one, plus an older one for some
        ra = []
        ra_ids = iter(
            self._take_ids(
                "customers_riskassessment", int(assessed.sum() + (assessed & (assess_age < 200)).sum())
            ).tolist()
        )
        channels = np.array(["mobile", "online", "branch"])[rng.choice(3, size=size, p=[0.6, 0.15, 0.25])]
        for i in np.flatnonzero(assessed):
            ra.append((next(ra_ids), int(cid[i]), int(risk_level[i]), assessed_at[i], channels[i], bool(self_done[i])))
            if assess_age[i] < 200:
                older = _fmt_ts(self.anchor - dt.timedelta(days=int(assess_age[i]) + 365 + 30))
                ra.append((next(ra_ids), int(cid[i]), int(max(1, risk_level[i] - 1)), older, "branch", True))
        s.risk_assessments = self.writer.write(
            "customers_riskassessment",
            ["id", "customer_id", "level", "assessed_at", "channel", "completed_by_customer"],
            ra,
        )

        # --- monthly AUM snapshots for two years, ending at today's AUM
        s.snapshots = self._snapshots(rng, cid, aum, trend30, trend90, risk_level, size)

        self.writer.write(
            "customers_holding",
            ["id", "customer_id", "product_id", "amount", "opened_on", "maturity_date"],
            holding_rows,
        )
        self.writer.write(
            "customers_interaction",
            [
                "id",
                "customer_id",
                "channel",
                "direction",
                "occurred_at",
                "actor_id",
                "summary",
                "transcript",
                "intents",
                "created_at",
            ],
            inter_rows,
        )

        # --- tags
        s.tags = self._tags(rng, cid, tier, trend90, maturing_amt, lifecycle, age, assessed, assess_age, ai, size)

        # --- contact preferences
        s.contact_preferences = self._contact_prefs(rng, cid, size)

        # --- past outcomes with point-in-time features, and today's leads
        features_now = {
            "aum": aum,
            "age": age.astype(float),
            "aum_change_30d": trend30,
            "aum_change_90d": trend90,
            "maturing_30d_amount": maturing_amt,
            "assessment_expired": (~assessed | (assess_age >= self.valid_days)).astype(float),
            "contacts_30d": contacts30.astype(float),
            "ai_asked_human": ai["ai_asked_human"],
            "ai_intent_wealth": ai["ai_intent_wealth"],
            "ai_intent_maturity": ai["ai_intent_maturity"],
            "ai_intent_pension": ai["ai_intent_pension"],
            "previous_outcome": np.array(["none"] * size),
        }
        cohort = Cohort(
            cid=cid,
            size=size,
            age=age,
            female=female,
            aum=aum,
            trend30=trend30,
            trend90=trend90,
            risk_level=risk_level,
            assessed=assessed,
            assess_age=assess_age,
            occupation=occupation,
            education=education,
            marital=marital,
            branch_i=branch_i,
            lifecycle=lifecycle,
            hidden=hidden,
            maturing_amt=maturing_amt,
        )
        o_stats = self._outcomes(rng, cohort)
        s.outcomes, s.positives = o_stats
        s.leads, s.referrals = self._leads(rng, cid, size, features_now, occupation, hidden, team_of, owner, branch_i)
        return s

    # -- pieces -------------------------------------------------------------------------

    def _interactions(self, rng, cid, owner, hidden, size):
        ref = self.ref
        lam = np.clip(1.6 + 0.8 * hidden, 0.1, 6)
        counts = rng.poisson(lam)
        total = int(counts.sum())
        ids = self._take_ids("customers_interaction", total + size)  # room for AI sessions
        id_iter = iter(ids.tolist())
        rows = []
        last_contact: list[str | None] = [None] * size
        contacts30 = np.zeros(size, dtype=int)
        contacts90 = np.zeros(size, dtype=int)
        ai = {
            k: np.zeros(size) for k in ("ai_asked_human", "ai_intent_wealth", "ai_intent_maturity", "ai_intent_pension")
        }
        channel_names = ["phone", "sms", "app_push", "wechat", "branch_visit", "email"]
        channel_p = [0.4, 0.25, 0.15, 0.1, 0.07, 0.03]
        all_advisors = [a for ids_ in ref.advisors_by_team.values() for a in ids_]
        for i in range(size):
            latest = None
            n = int(counts[i])
            if n:
                days = np.sort(rng.integers(0, 180, n))
                chans = rng.choice(len(channel_names), size=n, p=channel_p)
                for d, c in zip(days, chans, strict=True):
                    ch = channel_names[c]
                    when = self.anchor - dt.timedelta(
                        days=int(d), hours=int(rng.integers(0, 10)), minutes=int(rng.integers(0, 60))
                    )
                    actor = None
                    if ch == "phone":
                        actor = owner[i] or all_advisors[int(rng.integers(0, len(all_advisors)))]
                    summaries = CHANNEL_SUMMARIES[ch]
                    rows.append(
                        (
                            next(id_iter),
                            int(cid[i]),
                            ch,
                            "out",
                            _fmt_ts(when),
                            actor,
                            summaries[int(rng.integers(0, len(summaries)))],
                            None,
                            "[]",
                            _fmt_ts(when),
                        )
                    )
                    if ch in ("phone", "wechat", "branch_visit"):
                        if d < 30:
                            contacts30[i] += 1
                        if d < 90:
                            contacts90[i] += 1
                    if latest is None or when > latest:
                        latest = when
            # AI-bot sessions: more likely for engaged customers
            if rng.random() < float(_sigmoid(np.array(hidden[i] - 1.6))):
                intents = self._pick_intents(rng, hidden[i])
                turns = []
                for k, intent in enumerate(intents):
                    turns.append({"speaker": "bot", "text": BOT_TURNS[min(k, 2)]})
                    for text in AI_SCRIPTS[intent][: 1 + int(rng.integers(0, len(AI_SCRIPTS[intent])))]:
                        turns.append({"speaker": "customer", "text": text})
                        turns.append({"speaker": "bot", "text": BOT_TURNS[1 + int(rng.integers(0, 3))]})
                turns.append({"speaker": "bot", "text": BOT_TURNS[4]})
                when = self.anchor - dt.timedelta(days=int(rng.integers(0, 60)), minutes=int(rng.integers(0, 600)))
                summary = "AI 外呼/对话：" + "、".join(intents)
                rows.append(
                    (
                        next(id_iter),
                        int(cid[i]),
                        "ai_bot",
                        "in",
                        _fmt_ts(when),
                        None,
                        summary,
                        json.dumps(turns, ensure_ascii=False),
                        json.dumps(intents),
                        _fmt_ts(when),
                    )
                )
                for intent in intents:
                    key = {
                        "ask_human": "ai_asked_human",
                        "ask_wealth_product": "ai_intent_wealth",
                        "ask_fund": "ai_intent_wealth",
                        "ask_maturity": "ai_intent_maturity",
                        "ask_pension": "ai_intent_pension",
                    }.get(intent)
                    if key:
                        ai[key][i] = 1.0
                if latest is None or when > latest:
                    latest = when
            last_contact[i] = _fmt_ts(latest) if latest else None
        # ids not used by skipped AI sessions are simply gaps
        return rows, last_contact, contacts30, contacts90, ai

    def _pick_intents(self, rng, hidden_i: float) -> list[str]:
        codes = list(AI_SCRIPTS)
        p = np.array([0.25, 0.12, 0.18, 0.12, 0.1, 0.18, 0.05])
        p[4] += 0.1 * max(hidden_i, 0)  # engaged customers ask for a human more often
        p = p / p.sum()
        k = 1 + int(rng.integers(0, 3))
        picked = rng.choice(len(codes), size=k, replace=False, p=p)
        return [codes[j] for j in sorted(picked)]

    def _holdings(self, rng, cid, aum, risk_level, assessed, size):
        ref = self.ref
        lam = np.clip(0.4 + 1.1 * np.log10(np.maximum(aum, 1) / 10_000), 0, 7)
        counts = np.minimum(rng.poisson(lam), 8)
        ids = iter(self._take_ids("customers_holding", int(counts.sum())).tolist())
        rows = []
        maturing = np.zeros(size)
        n_products = len(ref.product_ids)
        for i in np.flatnonzero(counts):
            cap = int(risk_level[i]) if assessed[i] else 2
            allowed = np.flatnonzero((ref.product_risk <= cap) & (ref.product_min <= aum[i]) & ref.product_on_shelf)
            if len(allowed) == 0:
                allowed = np.arange(n_products)[:3]
            k = int(counts[i])
            picks = rng.choice(allowed, size=min(k, len(allowed)), replace=False)
            shares = rng.dirichlet(np.ones(len(picks))) * aum[i] * 0.7
            for p, amt in zip(picks, shares, strict=True):
                amt = max(round(float(amt), 2), float(ref.product_min[p]), 1.0)
                term = ref.product_term[p]
                if term:
                    mature_in = int(rng.integers(1, min(term, 365) + 1))
                    maturity = self.today + dt.timedelta(days=mature_in)
                    opened = maturity - dt.timedelta(days=term)
                    if mature_in <= 30:
                        maturing[i] += amt
                    maturity_s = maturity.isoformat()
                else:
                    opened = self.today - dt.timedelta(days=int(rng.integers(10, 900)))
                    maturity_s = None
                rows.append((next(ids), int(cid[i]), ref.product_ids[p], f"{amt:.2f}", opened.isoformat(), maturity_s))
        return rows, maturing

    def _snapshots(self, rng, cid, aum, trend30, trend90, risk_level, size) -> int:
        """24 month-spaced snapshots ending today, consistent with the 30/90-day change."""
        months = 24
        dates = [(self.today - dt.timedelta(days=30 * (months - 1 - j))).isoformat() for j in range(months)]
        path = np.empty((size, months))
        path[:, -1] = aum
        path[:, -2] = aum / (1 + trend30)
        path[:, -4] = aum / (1 + trend90)
        path[:, -3] = np.sqrt(path[:, -2] * path[:, -4])
        steps = rng.normal(0.004, 0.035, (size, months - 4))
        for j in range(months - 5, -1, -1):
            path[:, j] = path[:, j + 1] * np.exp(-steps[:, j])
        path = np.round(np.clip(path, 0, None), 2)
        dep_share = np.clip(0.85 - 0.12 * (risk_level - 1) + rng.normal(0, 0.08, size), 0.1, 0.98)[:, None]
        deposits = np.round(path * dep_share, 2)
        invested = path * (1 - dep_share)
        wealth = np.round(invested * 0.6, 2)
        funds = np.round(invested * 0.25, 2)
        insurance = np.round(invested * 0.1, 2)
        other = np.round(path - deposits - wealth - funds - insurance, 2)
        ids = self._take_ids("customers_assetsnapshot", size * months).tolist()
        cids = np.repeat(cid, months).tolist()
        all_dates = dates * size
        columns = [x.ravel().tolist() for x in (path, deposits, wealth, funds, insurance, other)]
        # 24 rows per customer make this the biggest table: rows are formatted in one pass.
        rows = zip(ids, cids, all_dates, *columns, strict=True)
        return self.writer.write_formatted(
            "customers_assetsnapshot",
            ["id", "customer_id", "date", "aum", "deposits", "wealth", "funds", "insurance", "other"],
            rows,
            "{}\t{}\t{}\t{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}\t{:.2f}",
        )

    def _tags(self, rng, cid, tier, trend90, maturing_amt, lifecycle, age, assessed, assess_age, ai, size) -> int:
        t = self.ref.tag_ids
        now = _fmt_ts(self.anchor)
        rules = {
            "high_net_worth": np.isin(tier, ["wealth", "private"]),
            "mass_affluent": tier == "base",
            "aum_growing": trend90 > 0.08,
            "aum_outflow": trend90 < -0.1,
            "maturity_30d": maturing_amt > 0,
            "dormant": lifecycle == "dormant",
            "new_customer": lifecycle == "new",
            "risk_expired": ~assessed | (assess_age >= self.valid_days),
            "elderly": age >= 65,
            "digital_active": rng.random(size) < 0.45,
            "salary_account": rng.random(size) < 0.3,
        }
        model_tags = {
            "pension_planning": np.clip((age - 40) / 30, 0, 1) * 0.7 + ai["ai_intent_pension"] * 0.3,
            "stable_preference": rng.random(size) * 0.9,
            "equity_interest": rng.random(size) * 0.8,
            "insurance_need": rng.random(size) * 0.7,
            "education_fund": np.where((age > 30) & (age < 50), rng.random(size), 0.0),
            "churn_risk": np.clip(-trend90 * 3, 0, 1),
        }
        ids = iter(range(self.ids["customers_customertag"], 10**15))
        rows = []
        for code, mask in rules.items():
            for i in np.flatnonzero(mask):
                rows.append((next(ids), int(cid[i]), t[code], now, "rule", None))
        for code, score in model_tags.items():
            for i in np.flatnonzero(score > 0.55):
                rows.append((next(ids), int(cid[i]), t[code], now, "model", round(float(score[i]), 3)))
        self.ids["customers_customertag"] += len(rows)
        return self.writer.write(
            "customers_customertag", ["id", "customer_id", "tag_id", "assigned_at", "source", "score"], rows
        )

    def _contact_prefs(self, rng, cid, size) -> int:
        now = self.anchor
        ids = iter(range(self.ids["customers_contactpreference"], 10**15))
        rows = []
        has_phone = rng.random(size) < 0.9
        consent = rng.random(size) < 0.92
        opted = rng.random(size) < 0.04
        opted_days = rng.integers(0, 400, size)
        sms = rng.random(size) < 0.5
        for i in range(size):
            if has_phone[i]:
                if opted[i]:
                    when = now - dt.timedelta(days=int(opted_days[i]))
                    rows.append(
                        (
                            next(ids),
                            int(cid[i]),
                            "phone",
                            False,
                            _fmt_ts(when),
                            _fmt_ts(when + dt.timedelta(days=180)),
                            "客户要求不再致电营销",
                            _fmt_ts(now),
                        )
                    )
                else:
                    rows.append((next(ids), int(cid[i]), "phone", bool(consent[i]), None, None, "", _fmt_ts(now)))
            if sms[i]:
                rows.append((next(ids), int(cid[i]), "sms", True, None, None, "", _fmt_ts(now)))
        self.ids["customers_contactpreference"] += len(rows)
        return self.writer.write(
            "customers_contactpreference",
            ["id", "customer_id", "channel", "consent", "opted_out_at", "dnd_until", "reason", "updated_at"],
            rows,
        )

    def _outcomes(self, rng, c: Cohort):
        """Past contacts (30–720 days ago) with the features as they were then."""
        cid, size, age, female, aum = c.cid, c.size, c.age, c.female, c.aum
        trend30, trend90, risk_level, assessed, assess_age = (
            c.trend30,
            c.trend90,
            c.risk_level,
            c.assessed,
            c.assess_age,
        )
        occupation, education, marital, branch_i = c.occupation, c.education, c.marital, c.branch_i
        lifecycle, hidden, maturing_amt = c.lifecycle, c.hidden, c.maturing_amt
        n1 = rng.random(size) < 0.35
        n2 = n1 & (rng.random(size) < 0.35)
        who = np.concatenate([np.flatnonzero(n1), np.flatnonzero(n2)])
        k = len(who)
        if k == 0:
            return 0, 0
        days_ago = rng.integers(30, 720, k)
        # second contacts happen after the first: sort each customer's contacts in time
        order = np.lexsort((-days_ago, who))
        who, days_ago = who[order], days_ago[order]
        # The customer as they were: AUM drifted, features re-drawn around today's values.
        drift = rng.normal(0, 0.25, k)
        f = {
            "age": (age[who] - days_ago / 365.25).round(1),
            "aum": np.round(aum[who] * np.exp(drift), 2),
            "aum_change_30d": np.clip(rng.normal(0, 0.06, k) + 0.3 * trend30[who], -0.5, 0.5).round(4),
            "aum_change_90d": np.clip(rng.normal(0, 0.1, k) + 0.3 * trend90[who], -0.6, 0.6).round(4),
            "maturing_30d_amount": np.where(
                rng.random(k) < 0.2 + 0.2 * (maturing_amt[who] > 0),
                np.round(aum[who] * rng.uniform(0.05, 0.5, k), 2),
                0.0,
            ),
            "contacts_30d": rng.poisson(0.8, k).astype(float),
            "contacts_90d": None,
            "ai_asked_human": (rng.random(k) < _sigmoid(hidden[who] - 2.5)).astype(float),
            "ai_intent_wealth": (rng.random(k) < _sigmoid(hidden[who] - 1.8)).astype(float),
            "ai_intent_maturity": (rng.random(k) < 0.1 + 0.2 * (maturing_amt[who] > 0)).astype(float),
            "ai_intent_pension": (rng.random(k) < 0.05 + 0.25 * (age[who] > 55)).astype(float),
        }
        f["contacts_90d"] = f["contacts_30d"] + rng.poisson(1.0, k)
        assess_then = assess_age[who] - days_ago  # negative: assessed after the contact
        had_assessment = assessed[who] & (assess_then >= 0)
        f["assessment_age_days"] = np.where(had_assessment, assess_then, -1)
        f["assessment_expired"] = (~had_assessment | (assess_then >= self.valid_days)).astype(float)
        prev = np.array(["none"] * k, dtype=object)
        same_as_before = np.concatenate([[False], who[1:] == who[:-1]])
        f["previous_outcome"] = prev
        hidden_then = hidden[who] + rng.normal(0, 0.5, k)
        # First contacts are drawn first; a customer's second contact then sees the
        # first one's result as "previous_outcome", exactly as its snapshot records it.
        u = rng.random(k)
        z = logit_of(f, occupation[who], hidden_then)
        converted = u < _sigmoid(z)
        second = np.flatnonzero(same_as_before)
        prev[second] = np.where(converted[second - 1], "converted", "not_converted")
        z = logit_of(f, occupation[who], hidden_then)
        converted[second] = u[second] < _sigmoid(z[second])
        days_since = np.where(f["contacts_90d"] > 0, rng.integers(1, 90, k), -1)
        holdings_then = np.minimum(
            rng.poisson(np.clip(0.4 + 1.1 * np.log10(np.maximum(f["aum"], 1) / 10_000), 0, 7)), 8
        )
        ids = self._take_ids("scoring_outcome", k)
        amounts = np.round(np.minimum(aum[who] * rng.uniform(0.05, 0.4, k), 5_000_000), 2)
        product_pool = [
            pid
            for pid, t in zip(self.ref.product_ids, self.ref.product_type, strict=True)
            if t in ("wealth", "fund", "insurance")
        ]
        products = rng.choice(product_pool, size=k)

        def rows():
            for j in range(k):
                i = who[j]
                features = {
                    "age": float(f["age"][j]),
                    "gender": "F" if female[i] else "M",
                    "city": self.ref.branch_cities[branch_i[i]],
                    "occupation": str(occupation[i]),
                    "education": str(education[i]),
                    "marital_status": str(marital[i]),
                    "tier": m.tier_for_aum(float(f["aum"][j])),
                    "lifecycle_stage": str(lifecycle[i]),
                    "aum": float(f["aum"][j]),
                    "aum_change_30d": float(f["aum_change_30d"][j]),
                    "aum_change_90d": float(f["aum_change_90d"][j]),
                    "wealth_share": round(float(rng.uniform(0, 0.8)), 3),
                    "deposit_share": None,
                    "holdings_count": int(holdings_then[j]),
                    "maturing_30d_amount": float(f["maturing_30d_amount"][j]),
                    "days_to_next_maturity": int(rng.integers(1, 30)) if f["maturing_30d_amount"][j] > 0 else None,
                    "risk_level": int(risk_level[i]) if had_assessment[j] else None,
                    "assessment_age_days": int(f["assessment_age_days"][j]) if had_assessment[j] else None,
                    "assessment_expired": float(f["assessment_expired"][j]),
                    "tag_count": int(rng.integers(0, 6)),
                    "contacts_30d": float(f["contacts_30d"][j]),
                    "contacts_90d": float(f["contacts_90d"][j]),
                    "days_since_last_contact": int(days_since[j]) if days_since[j] >= 0 else None,
                    "previous_outcome": str(prev[j]),
                    "ai_rounds": int(rng.poisson(3)) if (f["ai_intent_wealth"][j] or f["ai_asked_human"][j]) else 0,
                    "ai_intent_wealth": float(f["ai_intent_wealth"][j]),
                    "ai_intent_maturity": float(f["ai_intent_maturity"][j]),
                    "ai_intent_pension": float(f["ai_intent_pension"][j]),
                    "ai_asked_human": float(f["ai_asked_human"][j]),
                }
                features["deposit_share"] = round(1 - features["wealth_share"], 3)
                when = _fmt_ts(self.anchor - dt.timedelta(days=int(days_ago[j]), hours=int(rng.integers(0, 9))))
                yield (
                    int(ids[j]),
                    int(cid[i]),
                    when,
                    "phone",
                    int(products[j]) if converted[j] else None,
                    bool(converted[j]),
                    f"{amounts[j]:.2f}" if converted[j] else None,
                    json.dumps(features, ensure_ascii=False),
                    "demo",
                    when,
                )

        self.writer.write(
            "scoring_outcome",
            [
                "id",
                "customer_id",
                "contacted_at",
                "channel",
                "product_id",
                "converted",
                "amount",
                "features",
                "source",
                "created_at",
            ],
            rows(),
        )
        return k, int(converted.sum())

    def _leads(self, rng, cid, size, f, occupation, hidden, team_of, owner, branch_i):
        """Open leads for about 30% of customers, graded by today's propensity."""
        z = logit_of(f, occupation, hidden)
        p = _sigmoid(z)
        chosen = np.flatnonzero(rng.random(size) < np.clip(0.14 + 1.2 * p, 0, 0.95))
        if len(chosen) == 0:
            return 0, 0
        ids = self._take_ids("leads_lead", len(chosen))
        score = np.round(100 * p[chosen], 1)
        grade = np.where(score >= 40, "high", np.where(score >= 15, "mid", "low"))
        roll = rng.random(len(chosen))
        status = np.where(
            roll < 0.62,
            "new",
            np.where(
                roll < 0.74,
                "nurturing",
                np.where(roll < 0.88, "pooled", np.where(roll < 0.94, "contacting", "referred")),
            ),
        )
        status = np.where((status == "referred") & (grade != "high"), "nurturing", status)
        status = np.where((status == "pooled") & (grade == "high"), "new", status)
        now = _fmt_ts(self.anchor - dt.timedelta(hours=2))
        referral_rows = []
        ref_ids = iter(range(self.ids["referrals_referral"], 10**15))
        lead_rows = []
        for j, i in enumerate(chosen):
            team = int(team_of[i])
            st = status[j]
            lead_owner = (
                owner[i] if st in ("nurturing", "contacting", "referred") else (owner[i] if roll[j] < 0.2 else None)
            )
            if st in ("nurturing", "contacting", "referred") and lead_owner is None:
                lead_owner = self.ref.advisors_by_team[team][int(cid[i]) % ADVISORS_PER_TEAM]
            confirmed = grade[j] if st != "new" else ""
            if st == "pooled":
                confirmed = "low"
            reasons = _reasons_for(f, i)
            lead_rows.append(
                (
                    int(ids[j]),
                    int(cid[i]),
                    team,
                    lead_owner,
                    "model",
                    float(score[j]),
                    grade[j],
                    confirmed,
                    st,
                    json.dumps(reasons, ensure_ascii=False),
                    "demo-rules",
                    now,
                    now,
                )
            )
            if st == "referred":
                r_status = ["pending", "accepted", "contacted", "meeting", "converted", "rejected"][
                    int(rng.integers(0, 6))
                ]
                created_days = int(rng.integers(0, 20))
                created = self.anchor - dt.timedelta(days=created_days, hours=3)
                branch_id = self.ref.branch_ids[branch_i[i]]
                # A referral's fields agree with its status: who took it, when, what came of it.
                worked = r_status not in ("pending", "rejected")
                rm = self.ref.rms_by_branch[branch_id][int(cid[i]) % RMS_PER_BRANCH] if worked else None
                accepted = _fmt_ts(created + dt.timedelta(hours=5)) if worked else None
                contacted = (
                    _fmt_ts(created + dt.timedelta(days=1))
                    if r_status in ("contacted", "meeting", "converted")
                    else None
                )
                converted = r_status == "converted"
                referral_rows.append(
                    (
                        next(ref_ids),
                        int(ids[j]),
                        int(cid[i]),
                        branch_id,
                        lead_owner,
                        r_status,
                        "客户有大额资金到期，希望面谈资产配置；AI 对话中要求人工服务",
                        float(score[j]),
                        json.dumps(reasons, ensure_ascii=False),
                        _fmt_ts(created),
                        _fmt_ts(created),
                        _fmt_ts(created + dt.timedelta(days=1)),
                        "[]",
                        "[]",
                        "",
                        "",
                        "not_a_fit" if r_status == "rejected" else "",
                        "客户近期无投资计划" if r_status == "rejected" else "",
                        "客户购买稳健类理财" if converted else "",
                        f"{min(float(f['aum'][i]) * 0.3, 2_000_000):.2f}" if converted else None,
                        rm,
                        accepted,
                        contacted,
                        _fmt_ts(created + dt.timedelta(hours=3)) if r_status == "rejected" else None,
                        _fmt_ts(created + dt.timedelta(days=3)) if converted else None,
                    )
                )
        self.writer.write(
            "leads_lead",
            [
                "id",
                "customer_id",
                "team_id",
                "owner_id",
                "source",
                "score",
                "proposed_grade",
                "confirmed_grade",
                "status",
                "reasons",
                "model_version",
                "created_at",
                "updated_at",
            ],
            lead_rows,
        )
        self.ids["referrals_referral"] += len(referral_rows)
        self.writer.write(
            "referrals_referral",
            [
                "id",
                "lead_id",
                "customer_id",
                "branch_id",
                "from_advisor_id",
                "status",
                "needs_summary",
                "score",
                "reasons",
                "created_at",
                "updated_at",
                "review_due_at",
                "ai_highlights",
                "products_of_interest",
                "branch_reason",
                "preferred_contact_time",
                "reject_reason",
                "reject_note",
                "outcome_note",
                "converted_amount",
                "assigned_rm_id",
                "accepted_at",
                "first_contacted_at",
                "rejected_at",
                "closed_at",
            ],
            referral_rows,
        )
        return len(lead_rows), len(referral_rows)


def _reasons_for(f: dict[str, np.ndarray], i: int) -> list[dict]:
    """Reasons in words for a demo lead (the scoring engine writes its own)."""
    out = []
    if f["ai_asked_human"][i]:
        out.append({"code": "ai_asked_human", "text": "AI 对话中要求人工理财经理联系", "weight": 1.1})
    if f["maturing_30d_amount"][i] > 0:
        out.append(
            {
                "code": "maturity_soon",
                "text": f"30 天内有 {f['maturing_30d_amount'][i] / 10_000:.1f} 万元产品到期",
                "weight": 0.9,
            }
        )
    if f["ai_intent_wealth"][i]:
        out.append({"code": "ai_intent_wealth", "text": "AI 对话中询问理财产品", "weight": 0.8})
    if f["ai_intent_pension"][i]:
        out.append({"code": "ai_intent_pension", "text": "AI 对话中询问养老理财", "weight": 0.5})
    if f["aum_change_90d"][i] < -0.1:
        out.append(
            {"code": "aum_outflow", "text": f"近 90 天资产流出 {-f['aum_change_90d'][i] * 100:.0f}%", "weight": 0.4}
        )
    elif f["aum_change_90d"][i] > 0.08:
        out.append(
            {"code": "aum_inflow", "text": f"近 90 天资产增长 {f['aum_change_90d'][i] * 100:.0f}%", "weight": 0.4}
        )
    if f["assessment_expired"][i]:
        out.append({"code": "assessment_expired", "text": "风险测评已过期，需先完成测评", "weight": -1.0})
    if not out:
        out.append({"code": "aum", "text": f"资产 {f['aum'][i] / 10_000:.1f} 万元", "weight": 0.2})
    return out[:4]


DEMO_TABLES = [
    "customers_customer",
    "customers_riskassessment",
    "customers_holding",
    "customers_assetsnapshot",
    "customers_customertag",
    "customers_interaction",
    "customers_contactpreference",
    "scoring_outcome",
    "leads_lead",
    "referrals_referral",
]


def seed(
    *,
    customers: int,
    seed: int,
    anchor: dt.datetime | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[Reference, Stats]:
    """Create the demo world. Deterministic for (customers, seed, anchor)."""
    anchor = anchor or dt.datetime.now(dt.UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    writer = RowWriter()
    with transaction.atomic():
        ref = build_reference(today=anchor.date())
    ids = {t: writer.next_id(t) for t in DEMO_TABLES}
    first_index = m.Customer.objects.count()
    gen = ChunkGenerator(ref=ref, seed=seed, anchor=anchor, writer=writer, ids=ids)
    total = Stats()
    done = 0
    chunk_no = 0
    while done < customers:
        size = min(CHUNK, customers - done)
        with transaction.atomic():
            total.add(gen.run(chunk_no, first_index + done, size))
        done += size
        chunk_no += 1
        progress(done, customers)
    for t in DEMO_TABLES:
        writer.reset_sequence(t)
    _grant_access(now=anchor)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET session_replication_role = DEFAULT")
            for t in DEMO_TABLES:
                cur.execute(f"ANALYZE {t}")
    with transaction.atomic():
        seed_scripts()
    with transaction.atomic():
        audit_record(
            actor=None,
            verb="demo.seed",
            target_type="customers.customer",
            target_id="*",
            details={"customers": customers, "seed": seed, "stats": total.__dict__},
        )
    return ref, total


def _grant_access(*, now: dt.datetime) -> None:
    """The access grants the services would have written for the seeded leads and
    referrals (a team sees the customers of its open leads, a branch its referrals)."""
    open_statuses = ", ".join(f"'{s}'" for s in ("new", "confirmed", "contacting", "nurturing", "referred", "pooled"))
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO customers_customeraccess (customer_id, team_id, reason, granted_at) "  # noqa: S608
            f"SELECT customer_id, team_id, 'open_lead', %s FROM leads_lead WHERE status IN ({open_statuses}) "
            "AND team_id IS NOT NULL ON CONFLICT DO NOTHING",
            [now],
        )
        cur.execute(
            "INSERT INTO customers_customeraccess (customer_id, branch_id, reason, granted_at) "
            "SELECT DISTINCT customer_id, branch_id, 'referral', %s FROM referrals_referral WHERE true ON CONFLICT DO NOTHING",
            [now],
        )
        cur.execute(
            "INSERT INTO leads_leadbranchaccess (lead_id, branch_id, granted_at) "
            "SELECT DISTINCT lead_id, branch_id, %s FROM referrals_referral WHERE true ON CONFLICT DO NOTHING",
            [now],
        )


SCRIPTS = [
    (
        "开场白：到期资金关怀",
        "opening",
        None,
        "wealth",
        "您好，我是XX银行远程财富中心的理财经理，工号已在短信中发给您。看到您有一笔产品即将到期，"
        "想跟您确认一下到期资金的安排，占用您两分钟可以吗？本次通话将被录音。"
        "温馨提示：理财非存款、产品有风险、投资须谨慎。",
    ),
    (
        "稳享180天持有期 产品介绍",
        "product_intro",
        "WM003",
        "",
        "这款稳享180天持有期产品风险等级为R2（中低风险），业绩比较基准为年化2.5%-3.2%，"
        "业绩比较基准不代表产品未来表现和实际收益。理财非存款、产品有风险、投资须谨慎。"
        "购买前请您确认风险测评在有效期内，并阅读产品说明书。",
    ),
    (
        "养老理财：客户担心流动性",
        "objection",
        "WM006",
        "",
        "您担心五年封闭期间用钱不方便，这个顾虑很正常。养老理财产品风险等级为R2（中低风险），"
        "适合长期不用的资金，建议您只拿出一部分闲置资金配置，日常备用金放在活期或现金管理类产品。"
        "理财非存款、产品有风险、投资须谨慎。",
    ),
    (
        "沪深300指数基金 推介（待审）",
        "product_intro",
        "FD001",
        "",
        "这只指数基金去年涨了20%，长期持有基本保本，现在额度有限，错过再等一年。",
    ),
]


def seed_scripts() -> int:
    """Sales scripts through the real compliance workflow: three approved, one awaiting review
    with findings that block approval, so the review queue has work on day one."""
    from django.core.exceptions import ValidationError

    from compliance import services as script_services
    from compliance.models import Script

    User = get_user_model()
    author = User.objects.get(username="lead1")
    officer = User.objects.get(username="compliance1")
    created = 0
    for title, purpose, product_code, product_type, body in SCRIPTS:
        if Script.objects.filter(title=title).exists():
            continue
        product = m.Product.objects.get(code=product_code) if product_code else None
        version = script_services.script_create(
            actor=author, title=title, purpose=purpose, body=body, product=product, product_type=product_type
        )
        version = script_services.script_submit_for_review(actor=author, version=version)
        # The deliberately non-compliant one is blocked and stays in the review queue.
        with contextlib.suppress(ValidationError):
            script_services.script_approve(actor=officer, version=version, acknowledge_medium=True)
        created += 1
    return created
