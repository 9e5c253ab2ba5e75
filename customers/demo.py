"""Demo customers and their portrait: products and tags (reference data, by the ORM), then
for each chunk of customers their risk assessments, holdings, monthly AUM snapshots with
the fund flows behind the last months' moves, tags, interactions (with multi-turn AI-bot
transcripts) and contact preferences, streamed by ``core.demo.RowWriter``.

:class:`CustomerSeeder` returns each chunk as a :class:`CustomerChunk` of column arrays,
hidden traits included, which the seeders above draw on: leads grade today's propensity,
scoring records past outcomes, both from :func:`logit_of`, the true conversion model of the
demo world (what scoring should rediscover).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils import translation
from faker.providers.person.zh_CN import Provider as ZhPerson

from core.demo import AWAKE_MINUTES, WORKING_MINUTES, Chunk, IdAllocator, RowWriter, fmt_ts, local_time_on, sigmoid
from org.demo import ADVISORS_PER_TEAM, OrgWorld

from .models import (
    AssetSnapshot,
    ContactPreference,
    Customer,
    CustomerTag,
    FundFlow,
    Holding,
    Interaction,
    InteractionIntent,
    Product,
    RiskAssessment,
    Tag,
)
from .selectors import INTENT_LABELS

RNG_STREAM = 0  # core.demo.Chunk.rng
# The fund flows draw from their own stream, so the customers of a seed stay as they were.
FLOW_RNG_STREAM = 5
# Flows explain the AUM moves of the last six months (the dashboards' months and quarters).
FLOW_MONTHS = 6
FLOW_CHANNELS = {
    "in": (["salary", "transfer", "cash", "payment"], [0.4, 0.45, 0.05, 0.1]),
    "out": (["transfer", "cash", "payment"], [0.7, 0.1, 0.2]),
}

OCCUPATIONS = ["企业职员", "公务员", "教师", "医生", "企业主", "个体工商户", "退休", "自由职业", "工程师", "学生"]
OCCUPATION_EFFECT = {"企业主": 0.35, "退休": 0.25, "学生": -0.7, "个体工商户": 0.15}  # on the true propensity
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
    ("high_net_worth", "高净值", "High net worth", "value", "rule"),
    ("mass_affluent", "大众富裕", "Mass affluent", "value", "rule"),
    ("aum_growing", "资产上升", "Assets rising", "behaviour", "rule"),
    ("aum_outflow", "资金流出", "Funds flowing out", "behaviour", "rule"),
    ("maturity_30d", "30天内有到期", "Maturity within 30 days", "lifecycle", "rule"),
    ("dormant", "沉睡客户", "Dormant", "lifecycle", "rule"),
    ("new_customer", "新客", "New customer", "lifecycle", "rule"),
    ("pension_planning", "养老规划", "Retirement planning", "preference", "model"),
    ("stable_preference", "偏好稳健", "Prefers low risk", "preference", "model"),
    ("equity_interest", "关注权益", "Interested in equities", "preference", "model"),
    ("insurance_need", "保障需求", "Needs protection", "preference", "model"),
    ("education_fund", "子女教育金", "Children's education fund", "preference", "model"),
    ("digital_active", "手机银行活跃", "Active on mobile banking", "behaviour", "rule"),
    ("salary_account", "代发工资", "Salary paid here", "behaviour", "rule"),
    ("risk_expired", "风评过期", "Risk assessment expired", "risk", "rule"),
    ("elderly", "65岁以上", "Aged over 65", "risk", "rule"),
    ("churn_risk", "流失预警", "Churn risk", "risk", "model"),
]

# Call notes in which an advisor went too far, as a few do: the surveillance queue of a
# fresh demo has real findings to review (``compliance.demo.seed_surveillance`` scans them).
RISKY_CALL_NOTES = [
    "电话沟通到期续作，跟客户说这款产品是保本的，放心买",
    "客户担心亏损，告诉客户本金不会亏的，到期就能拿回来",
    "介绍新发产品，说收益肯定比存款高，稳赚不赔",
]
RISKY_NOTE_SHARE = 0.01

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


# --- reference data ------------------------------------------------------------------------


@dataclass
class Catalogue:
    """The products and tags the customers are drawn against (product index ``p`` is the
    ``p``-th of ``PRODUCTS``)."""

    product_ids: list[int]
    product_risk: np.ndarray
    product_type: list[str]
    product_term: list[int | None]
    product_min: np.ndarray
    product_on_shelf: np.ndarray
    product_sale_start: list[dt.date | None]
    tag_ids: dict[str, int]


def seed_catalogue(*, today: dt.date) -> Catalogue:
    """Create (or reuse) the products and tags."""
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
        products.append(Product.objects.get_or_create(code=code, defaults=defaults)[0])
    tags = {
        code: Tag.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "category": cat, "source": src}
        )[0].pk
        for code, name, name_en, cat, src in TAGS
    }
    return Catalogue(
        product_ids=[p.pk for p in products],
        product_risk=np.array([p.risk_level for p in products]),
        product_type=[p.type for p in products],
        product_term=[p.term_days for p in products],
        product_min=np.array([float(p.min_amount) for p in products]),
        product_on_shelf=np.array([p.on_shelf for p in products]),
        product_sale_start=[p.sale_start for p in products],
        tag_ids=tags,
    )


# --- the customers of a chunk -----------------------------------------------------------------

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))


def _id_numbers(regions: np.ndarray, births: list[dt.date], seq: np.ndarray) -> list[str]:
    """Resident ID numbers with a valid GB 11643 check digit (synthetic people)."""
    bodies = [f"{r}{b:%Y%m%d}{s:03d}" for r, b, s in zip(regions, births, seq, strict=True)]
    digits = np.array([[ord(c) - 48 for c in body] for body in bodies])
    checks = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    return [body + c for body, c in zip(bodies, checks, strict=True)]


def logit_of(f: dict[str, np.ndarray], occupation: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The true conversion model behind the demo outcomes (what scoring should rediscover),
    on feature arrays keyed as in ``scoring.feature_spec``."""
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
    z = z - 2.5 * f["ai_not_interested"]  # "别再给我推销了": a customer who said no
    z = z + np.array([OCCUPATION_EFFECT.get(o, 0.0) for o in occupation])
    return z + 0.5 * hidden


AI_FEATURES = ("ai_asked_human", "ai_intent_wealth", "ai_intent_maturity", "ai_intent_pension", "ai_not_interested")
INTENT_FEATURE = {
    "ask_human": "ai_asked_human",
    "ask_wealth_product": "ai_intent_wealth",
    "ask_fund": "ai_intent_wealth",
    "ask_maturity": "ai_intent_maturity",
    "ask_pension": "ai_intent_pension",
    "not_interested": "ai_not_interested",
}
# The asset snapshot column each product type is counted in.
SNAPSHOT_PART = {"wealth": "wealth", "fund": "funds", "deposit": "deposits", "insurance": "insurance", "metal": "other"}

# What a customer says to stop marketing calls: the demo records it as an opt-out.
STOP_MARKETING = "别再给我推销了"


@dataclass
class CustomerChunk:
    """One chunk's customers as column arrays (index ``i`` is the chunk's ``i``-th customer),
    as the seeders above need them: who they are, their money and risk, who serves them,
    their recent contacts and AI intents, and ``hidden``, the engagement nobody observes
    directly that the true model adds."""

    chunk: Chunk
    cid: np.ndarray
    age: np.ndarray
    female: np.ndarray
    aum: np.ndarray
    trend30: np.ndarray
    trend90: np.ndarray
    risk_level: np.ndarray
    assessed: np.ndarray
    assess_age: np.ndarray  # days since the current assessment
    occupation: np.ndarray
    education: np.ndarray
    marital: np.ndarray
    lifecycle: np.ndarray
    branch_i: np.ndarray  # index into OrgWorld.branch_ids
    city: np.ndarray
    team: np.ndarray  # the remote team serving the customer's branch
    owner: list[int | None]
    hidden: np.ndarray
    maturing_amt: np.ndarray  # holdings maturing within 30 days
    contacts30: np.ndarray
    # What the holdings add up to by asset class (SNAPSHOT_PARTS): the latest snapshot's
    # structure is built from them, so the portrait's mix, holdings and AUM agree.
    held: dict[str, np.ndarray]
    ai: dict[str, np.ndarray]  # AI_FEATURES: 1.0 where an AI session showed the intent
    # When the customer told the AI bot to stop marketing (STOP_MARKETING), else None.
    stop_asked_at: list[dt.datetime | None]

    @property
    def size(self) -> int:
        return self.chunk.size

    def features_now(self) -> dict[str, np.ndarray]:
        """Today's features that the true model reads (keys of ``scoring.feature_spec``)."""
        valid_days = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS
        return {
            "aum": self.aum,
            "age": self.age.astype(float),
            "aum_change_30d": self.trend30,
            "aum_change_90d": self.trend90,
            "maturing_30d_amount": self.maturing_amt,
            "assessment_expired": (~self.assessed | (self.assess_age >= valid_days)).astype(float),
            "contacts_30d": self.contacts30.astype(float),
            **{k: self.ai[k] for k in AI_FEATURES},
            "previous_outcome": np.array(["none"] * self.size),
        }


@dataclass
class _Identity:
    female: np.ndarray
    age: np.ndarray
    birth: list[dt.date]
    names: list[str]
    branch_i: np.ndarray
    mobiles: list[str]
    id_numbers: list[str]


@dataclass
class _Wealth:
    aum: np.ndarray
    tier: np.ndarray
    occupation: np.ndarray
    education: np.ndarray
    marital: np.ndarray
    hidden: np.ndarray
    trend90: np.ndarray
    trend30: np.ndarray


@dataclass
class _Risk:
    assessed: np.ndarray
    level: np.ndarray
    assess_age: np.ndarray
    assessed_at: list[str | None]
    self_done: np.ndarray


@dataclass
class _Touches:
    rows: list[tuple]
    last_contact: list[str | None]
    contacts30: np.ndarray
    ai: dict[str, np.ndarray]
    stop_asked_at: list[dt.datetime | None]


class CustomerSeeder:
    """Generates and writes the customers of one chunk with their portrait rows.

    The steps draw from the chunk's generator in a fixed order (changing it changes every
    customer of a seed): identity, wealth, risk, who serves them, interactions, holdings,
    then the rows written in that order."""

    MODELS = (Customer, RiskAssessment, Holding, AssetSnapshot, FundFlow, CustomerTag, Interaction, ContactPreference)
    STATS = (
        "customers",
        "snapshots",
        "fund_flows",
        "holdings",
        "risk_assessments",
        "tags",
        "interactions",
        "contact_preferences",
    )

    def __init__(self, *, org: OrgWorld, catalogue: Catalogue, writer: RowWriter, ids: IdAllocator):
        self.org = org
        self.catalogue = catalogue
        self.writer = writer
        self.ids = ids
        self.surnames = list(ZhPerson.last_names)
        w = np.array(list(ZhPerson.last_names.values()), dtype=float)
        self.surname_p = w / w.sum()
        self.given_m = list(ZhPerson.first_names_male)
        self.given_f = list(ZhPerson.first_names_female)
        self.all_advisors = [a for ids_ in org.advisors_by_team.values() for a in ids_]
        self.valid_days = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS

    def seed_chunk(self, chunk: Chunk) -> tuple[CustomerChunk, dict[str, int]]:
        rng = chunk.rng(RNG_STREAM)
        size = chunk.size
        cid = self.ids.take(Customer, size)
        who = self._draw_identity(rng, chunk)
        wealth = self._draw_wealth(rng, who.age, size)
        risk = self._draw_risk(rng, chunk, who.age, wealth.aum)
        team, owner, lifecycle = self._draw_service(rng, who.branch_i, wealth)
        touches = self._draw_interactions(rng, chunk, cid, owner, wealth.hidden)
        holding_rows, maturing_amt, held = self._draw_holdings(rng, chunk, cid, wealth.aum, risk)
        book = CustomerChunk(
            chunk=chunk,
            cid=cid,
            age=who.age,
            female=who.female,
            aum=wealth.aum,
            trend30=wealth.trend30,
            trend90=wealth.trend90,
            risk_level=risk.level,
            assessed=risk.assessed,
            assess_age=risk.assess_age,
            occupation=wealth.occupation,
            education=wealth.education,
            marital=wealth.marital,
            lifecycle=lifecycle,
            branch_i=who.branch_i,
            city=np.array(self.org.branch_cities)[who.branch_i],
            team=team,
            owner=owner,
            hidden=wealth.hidden,
            maturing_amt=maturing_amt,
            contacts30=touches.contacts30,
            held=held,
            ai=touches.ai,
            stop_asked_at=touches.stop_asked_at,
        )
        counts = {"customers": size, "holdings": len(holding_rows), "interactions": len(touches.rows)}
        self._write_customers(rng, book, who, wealth, risk, touches.last_contact)
        counts["risk_assessments"] = self._write_risk_assessments(rng, book, risk)
        counts["snapshots"], counts["fund_flows"] = self._write_snapshots(rng, book)
        self._write_holdings(holding_rows)
        self._write_interactions(touches.rows)
        counts["tags"] = self._write_tags(rng, book, wealth.tier)
        counts["contact_preferences"] = self._write_contact_preferences(rng, book)
        return book, counts

    # -- drawing ----------------------------------------------------------------------------

    def _draw_identity(self, rng: np.random.Generator, chunk: Chunk) -> _Identity:
        size, today = chunk.size, chunk.today
        female = rng.random(size) < 0.51
        age = np.clip(rng.normal(46, 14, size), 20, 88).astype(int)
        birth = [
            today - dt.timedelta(days=int(a * 365.25 + d)) for a, d in zip(age, rng.integers(0, 365, size), strict=True)
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
        branch_i = rng.integers(0, len(self.org.branch_ids), size)
        mobile_prefix = rng.choice(["13", "15", "17", "18", "19"], size)
        mobile_rest = rng.integers(0, 1_000_000_000, size)
        mobiles = [f"{p}{r:09d}" for p, r in zip(mobile_prefix, mobile_rest, strict=True)]
        regions = np.array(self.org.branch_regions)[branch_i]
        seq = rng.integers(0, 500, size) * 2 + np.where(female, 0, 1)
        return _Identity(
            female=female,
            age=age,
            birth=birth,
            names=names,
            branch_i=branch_i,
            mobiles=mobiles,
            id_numbers=_id_numbers(regions, birth, seq),
        )

    def _draw_wealth(self, rng: np.random.Generator, age: np.ndarray, size: int) -> _Wealth:
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
        return _Wealth(
            aum=aum,
            tier=tier,
            occupation=occupation,
            education=education,
            marital=marital,
            hidden=hidden,
            trend90=trend90,
            trend30=trend30,
        )

    def _draw_risk(self, rng: np.random.Generator, chunk: Chunk, age: np.ndarray, aum: np.ndarray) -> _Risk:
        size = chunk.size
        assessed = rng.random(size) < 0.88
        level = np.clip(np.round(rng.normal(3.0, 1.0, size) - (age > 65) * 0.8 + (aum > 500_000) * 0.3), 1, 5).astype(
            int
        )
        assess_age = rng.integers(0, 520, size)  # days; ~30% older than a year
        assessed_at = [
            fmt_ts(chunk.anchor - dt.timedelta(days=int(d), minutes=int(mm))) if ok else None
            for d, mm, ok in zip(assess_age, rng.integers(0, 600, size), assessed, strict=True)
        ]
        self_done = rng.random(size) < 0.96
        return _Risk(
            assessed=assessed, level=level, assess_age=assess_age, assessed_at=assessed_at, self_done=self_done
        )

    def _draw_service(self, rng: np.random.Generator, branch_i: np.ndarray, wealth: _Wealth):
        """Who serves the customer: remote advisors own the base tier (DOMAIN.md), the rest
        is unowned; and where the customer is in their lifecycle."""
        team = self.org.team_of_branch(branch_i)
        owner = [
            self.org.advisors_by_team[t][int(r) % ADVISORS_PER_TEAM] if tr == "base" else None
            for t, r, tr in zip(team, rng.integers(0, 1_000, len(team)), wealth.tier, strict=True)
        ]
        hidden, trend90 = wealth.hidden, wealth.trend90
        lifecycle = np.where(
            hidden < -1.4,
            "dormant",
            np.where(trend90 < -0.1, "declining", np.where(trend90 > 0.08, "growing", "mature")),
        )
        lifecycle = np.where(rng.random(len(team)) < 0.06, "new", lifecycle)
        return team, owner, lifecycle

    def _draw_interactions(self, rng, chunk: Chunk, cid, owner, hidden) -> _Touches:
        with translation.override("zh-hans"):  # the bot's system writes its summaries in Chinese
            intent_words = INTENT_LABELS()
        """The touch history of the last 180 days, and AI-bot sessions (more likely for
        engaged customers); drawn before the customer rows so last_contact_at is known."""
        size, anchor = chunk.size, chunk.anchor
        lam = np.clip(1.6 + 0.8 * hidden, 0.1, 6)
        counts = rng.poisson(lam)
        total = int(counts.sum())
        # room for one AI session each; the ids of sessions not drawn are simply gaps
        id_iter = iter(self.ids.take(Interaction, total + size).tolist())
        rows = []
        last_contact: list[str | None] = [None] * size
        contacts30 = np.zeros(size, dtype=int)
        ai = {k: np.zeros(size) for k in AI_FEATURES}
        stop_asked_at: list[dt.datetime | None] = [None] * size
        channel_names = ["phone", "sms", "app_push", "wechat", "branch_visit", "email"]
        channel_p = [0.4, 0.25, 0.15, 0.1, 0.07, 0.03]
        all_advisors = self.all_advisors
        for i in range(size):
            latest = None
            n = int(counts[i])
            if n:
                days = np.sort(rng.integers(0, 180, n))
                chans = rng.choice(len(channel_names), size=n, p=channel_p)
                for d, c in zip(days, chans, strict=True):
                    ch = channel_names[c]
                    when = local_time_on(anchor, int(d), int(rng.integers(*WORKING_MINUTES)))
                    actor = None
                    if ch == "phone":
                        actor = owner[i] or all_advisors[int(rng.integers(0, len(all_advisors)))]
                    summaries = CHANNEL_SUMMARIES[ch]
                    if ch == "phone" and rng.random() < RISKY_NOTE_SHARE:
                        summaries = RISKY_CALL_NOTES
                    rows.append(
                        (
                            next(id_iter),
                            int(cid[i]),
                            ch,
                            "out",
                            fmt_ts(when),
                            actor,
                            summaries[int(rng.integers(0, len(summaries)))],
                            None,
                            "[]",
                            fmt_ts(when),
                        )
                    )
                    if ch in ("phone", "wechat", "branch_visit") and d < 30:
                        contacts30[i] += 1
                    if latest is None or when > latest:
                        latest = when
            if rng.random() < float(sigmoid(np.array(hidden[i] - 1.6))):
                intents = self._pick_intents(rng, hidden[i])
                turns = []
                for k, intent in enumerate(intents):
                    turns.append({"speaker": "bot", "text": BOT_TURNS[min(k, 2)]})
                    for text in AI_SCRIPTS[intent][: 1 + int(rng.integers(0, len(AI_SCRIPTS[intent])))]:
                        turns.append({"speaker": "customer", "text": text})
                        turns.append({"speaker": "bot", "text": BOT_TURNS[1 + int(rng.integers(0, 3))]})
                turns.append({"speaker": "bot", "text": BOT_TURNS[4]})
                when = local_time_on(anchor, int(rng.integers(0, 60)), int(rng.integers(*AWAKE_MINUTES)))
                summary = "AI 外呼/对话：" + "、".join(intent_words.get(intent, intent) for intent in intents)
                rows.append(
                    (
                        next(id_iter),
                        int(cid[i]),
                        "ai_bot",
                        "in",
                        fmt_ts(when),
                        None,
                        summary,
                        json.dumps(turns, ensure_ascii=False),
                        json.dumps(intents),
                        fmt_ts(when),
                    )
                )
                for intent in intents:
                    key = INTENT_FEATURE.get(intent)
                    if key:
                        ai[key][i] = 1.0
                if any(t["text"] == STOP_MARKETING for t in turns):
                    stop_asked_at[i] = when
                if latest is None or when > latest:
                    latest = when
            last_contact[i] = fmt_ts(latest) if latest else None
        return _Touches(rows=rows, last_contact=last_contact, contacts30=contacts30, ai=ai, stop_asked_at=stop_asked_at)

    def _pick_intents(self, rng, hidden_i: float) -> list[str]:
        codes = list(AI_SCRIPTS)
        p = np.array([0.25, 0.12, 0.18, 0.12, 0.1, 0.18, 0.05])
        p[4] += 0.1 * max(hidden_i, 0)  # engaged customers ask for a human more often
        p = p / p.sum()
        k = 1 + int(rng.integers(0, 3))
        picked = rng.choice(len(codes), size=k, replace=False, p=p)
        return [codes[j] for j in sorted(picked)]

    def _draw_holdings(
        self, rng, chunk: Chunk, cid, aum, risk: _Risk
    ) -> tuple[list[tuple], np.ndarray, dict[str, np.ndarray]]:
        """Holdings the customer's risk level and AUM allow, of products on sale when
        bought, at most 70 % of the AUM in all (the rest is in current and time
        deposits); the amount maturing within 30 days; and the holdings' sum by asset
        class (``SNAPSHOT_PARTS``)."""
        cat, today = self.catalogue, chunk.today
        lam = np.clip(0.4 + 1.1 * np.log10(np.maximum(aum, 1) / 10_000), 0, 7)
        counts = np.minimum(rng.poisson(lam), 8)
        ids = iter(self.ids.take(Holding, int(counts.sum())).tolist())
        rows = []
        maturing = np.zeros(chunk.size)
        held = {part: np.zeros(chunk.size) for part in set(SNAPSHOT_PART.values())}
        n_products = len(cat.product_ids)
        launched = np.array([s is None or s <= today for s in cat.product_sale_start])
        for i in np.flatnonzero(counts):
            cap = int(risk.level[i]) if risk.assessed[i] else 2
            allowed = np.flatnonzero(
                (cat.product_risk <= cap) & (cat.product_min <= aum[i]) & cat.product_on_shelf & launched
            )
            if len(allowed) == 0:
                allowed = np.arange(n_products)[:3]
            k = int(counts[i])
            picks = rng.choice(allowed, size=min(k, len(allowed)), replace=False)
            shares = rng.dirichlet(np.ones(len(picks))) * aum[i] * 0.7
            for p, amt in zip(picks, shares, strict=True):
                amt = round(float(amt), 2)
                if amt < max(float(cat.product_min[p]), 1.0):
                    continue  # too little for this product's minimum: not bought
                term = cat.product_term[p]
                if term:
                    mature_in = int(rng.integers(1, min(term, 365) + 1))
                    maturity = today + dt.timedelta(days=mature_in)
                    opened = maturity - dt.timedelta(days=term)
                    if mature_in <= 30:
                        maturing[i] += amt
                    maturity_s = maturity.isoformat()
                else:
                    opened = today - dt.timedelta(days=int(rng.integers(10, 900)))
                    maturity_s = None
                start = cat.product_sale_start[p]
                if start is not None and opened < start:
                    opened = start  # bought on the first day of the sale window, not before
                held[SNAPSHOT_PART[cat.product_type[p]]][i] += amt
                rows.append((next(ids), int(cid[i]), cat.product_ids[p], f"{amt:.2f}", opened.isoformat(), maturity_s))
        return rows, maturing, held

    # -- writing ----------------------------------------------------------------------------

    def _write_customers(self, rng, c: CustomerChunk, who: _Identity, wealth: _Wealth, risk: _Risk, last_contact):
        org, chunk = self.org, c.chunk
        created = fmt_ts(chunk.anchor - dt.timedelta(days=400))
        attrs_json = [json.dumps({"salary_account": bool(x)}) for x in rng.random(chunk.size) < 0.35]
        idx = np.arange(chunk.first_index, chunk.first_index + chunk.size)
        rows = (
            (
                int(c.cid[i]),
                f"C{idx[i]:010d}",
                who.names[i],
                "F" if who.female[i] else "M",
                who.birth[i].isoformat(),
                who.mobiles[i],
                who.mobiles[i][-4:],
                who.id_numbers[i],
                who.id_numbers[i][-4:],
                org.branch_cities[who.branch_i[i]],
                wealth.occupation[i],
                wealth.education[i],
                wealth.marital[i],
                wealth.tier[i],
                f"{wealth.aum[i]:.2f}",
                org.branch_ids[who.branch_i[i]],
                c.owner[i],
                c.lifecycle[i],
                int(risk.level[i]) if risk.assessed[i] else None,
                risk.assessed_at[i],
                last_contact[i],
                attrs_json[i],
                created,
                created,
            )
            for i in range(chunk.size)
        )
        return self.writer.write(
            Customer,
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
            rows,
        )

    def _write_risk_assessments(self, rng, c: CustomerChunk, risk: _Risk) -> int:
        """The current assessment, plus an older one for some."""
        assessed, assess_age = risk.assessed, risk.assess_age
        ra_ids = iter(
            self.ids.take(RiskAssessment, int(assessed.sum() + (assessed & (assess_age < 200)).sum())).tolist()
        )
        channels = np.array(["mobile", "online", "branch"])[rng.choice(3, size=c.size, p=[0.6, 0.15, 0.25])]
        rows = []
        for i in np.flatnonzero(assessed):
            cid = int(c.cid[i])
            rows.append(
                (next(ra_ids), cid, int(risk.level[i]), risk.assessed_at[i], channels[i], bool(risk.self_done[i]))
            )
            if assess_age[i] < 200:
                older = fmt_ts(c.chunk.anchor - dt.timedelta(days=int(assess_age[i]) + 365 + 30))
                rows.append((next(ra_ids), cid, int(max(1, risk.level[i] - 1)), older, "branch", True))
        return self.writer.write(
            RiskAssessment, ["id", "customer_id", "level", "assessed_at", "channel", "completed_by_customer"], rows
        )

    def _write_snapshots(self, rng, c: CustomerChunk) -> tuple[int, int]:
        """24 month-spaced snapshots ending today at today's AUM, consistent with the 30/90-day
        change, and the fund flows behind the last months' moves (:meth:`_write_flows`)."""
        size, aum, today = c.size, c.aum, c.chunk.today
        months = 24
        dates = [(today - dt.timedelta(days=30 * (months - 1 - j))).isoformat() for j in range(months)]
        path = np.empty((size, months))
        path[:, -1] = aum
        path[:, -2] = aum / (1 + c.trend30)
        path[:, -4] = aum / (1 + c.trend90)
        path[:, -3] = np.sqrt(path[:, -2] * path[:, -4])
        steps = rng.normal(0.004, 0.035, (size, months - 4))
        for j in range(months - 5, -1, -1):
            path[:, j] = path[:, j + 1] * np.exp(-steps[:, j])
        path = np.round(np.clip(path, 0, None), 2)
        # Today's structure is the holdings by asset class, and deposits the rest of the
        # AUM (deposit products held are part of it), so the mix, the holdings list and
        # the AUM are one picture; earlier months keep today's proportions.
        safe = np.maximum(aum, 1.0)
        shares = {part: (c.held[part] / safe)[:, None] for part in ("wealth", "funds", "insurance", "other")}
        wealth, funds, insurance, other = (
            np.round(path * shares[k], 2) for k in ("wealth", "funds", "insurance", "other")
        )
        last = slice(-1, None)
        wealth[:, last] = np.round(c.held["wealth"], 2)[:, None]
        funds[:, last] = np.round(c.held["funds"], 2)[:, None]
        insurance[:, last] = np.round(c.held["insurance"], 2)[:, None]
        other[:, last] = np.round(c.held["other"], 2)[:, None]
        deposits = np.round(path - wealth - funds - insurance - other, 2)
        ids = self.ids.take(AssetSnapshot, size * months).tolist()
        cids = np.repeat(c.cid, months).tolist()
        all_dates = dates * size
        columns = [x.ravel().tolist() for x in (path, deposits, wealth, funds, insurance, other)]
        # 24 rows per customer make this the biggest table: rows are formatted in one pass.
        rows = zip(ids, cids, all_dates, *columns, strict=True)
        written = self.writer.write_formatted(
            AssetSnapshot,
            ["id", "customer_id", "date", "aum", "deposits", "wealth", "funds", "insurance", "other"],
            rows,
            "%d\t%d\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f",
        )
        return written, self._write_flows(c, path)

    def _write_flows(self, c: CustomerChunk, path: np.ndarray) -> int:
        """Between two of the last FLOW_MONTHS snapshots the AUM moves by a market return
        (about 0.2 % a month) plus the net of the customer's external flows: the move the
        market does not explain is one inflow or outflow inside the interval, so the
        flows and the snapshots tell one story. Small remainders (under 500 CNY or half
        a percent) stay with the market."""
        rng = c.chunk.rng(FLOW_RNG_STREAM)
        months = path.shape[1]
        rows = []
        for j in range(months - 1 - FLOW_MONTHS, months - 1):
            before, after = path[:, j], path[:, j + 1]
            market = before * rng.normal(0.002, 0.006, c.size)
            flow = np.round(after - before - market, 2)
            offset = rng.integers(1, 30, c.size)  # days after the earlier snapshot
            minute = rng.integers(*WORKING_MINUTES, c.size)
            pick = rng.random(c.size)
            for i in np.flatnonzero(np.abs(flow) >= np.maximum(500, before * 0.005)):
                direction = "in" if flow[i] > 0 else "out"
                channels, p = FLOW_CHANNELS[direction]
                channel = channels[min(int(np.searchsorted(np.cumsum(p), pick[i])), len(channels) - 1)]
                days_ago = 30 * (months - 1 - j) - int(offset[i])
                when = local_time_on(c.chunk.anchor, days_ago, int(minute[i]))
                rows.append([int(c.cid[i]), direction, abs(float(flow[i])), fmt_ts(when), channel])
        ids = self.ids.take(FundFlow, len(rows)).tolist()
        return self.writer.write(
            FundFlow,
            ["id", "customer_id", "direction", "amount", "occurred_at", "channel", "external_id"],
            ([n, *r, f"DEMO-F{n}"] for n, r in zip(ids, rows, strict=True)),
        )

    def _write_holdings(self, rows: list[tuple]) -> None:
        self.writer.write(Holding, ["id", "customer_id", "product_id", "amount", "opened_on", "maturity_date"], rows)

    def _write_interactions(self, rows: list[tuple]) -> None:
        self.writer.write(
            Interaction,
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
            rows,
        )
        # Each heard intent as its own row, as interaction_record writes them.
        self.writer.write(
            InteractionIntent,
            ["interaction_id", "customer_id", "intent", "occurred_at"],
            (
                (row[0], row[1], code, row[4])
                for row in rows
                if row[8] != "[]"
                for code in dict.fromkeys(json.loads(row[8]))
            ),
        )

    def _write_tags(self, rng, c: CustomerChunk, tier: np.ndarray) -> int:
        t = self.catalogue.tag_ids
        now = fmt_ts(c.chunk.anchor)
        size, age, trend90 = c.size, c.age, c.trend90
        rules = {
            "high_net_worth": np.isin(tier, ["wealth", "private"]),
            "mass_affluent": tier == "base",
            "aum_growing": trend90 > 0.08,
            "aum_outflow": trend90 < -0.1,
            "maturity_30d": c.maturing_amt > 0,
            "dormant": c.lifecycle == "dormant",
            "new_customer": c.lifecycle == "new",
            "risk_expired": ~c.assessed | (c.assess_age >= self.valid_days),
            "elderly": age >= 65,
            "digital_active": rng.random(size) < 0.45,
            "salary_account": rng.random(size) < 0.3,
        }
        model_tags = {
            "pension_planning": np.clip((age - 40) / 30, 0, 1) * 0.7 + c.ai["ai_intent_pension"] * 0.3,
            "stable_preference": rng.random(size) * 0.9,
            "equity_interest": rng.random(size) * 0.8,
            "insurance_need": rng.random(size) * 0.7,
            "education_fund": np.where((age > 30) & (age < 50), rng.random(size), 0.0),
            "churn_risk": np.clip(-trend90 * 3, 0, 1),
        }
        ids = itertools.count(self.ids.next_free(CustomerTag))
        rows = []
        for code, mask in rules.items():
            for i in np.flatnonzero(mask):
                rows.append((next(ids), int(c.cid[i]), t[code], now, "rule", None))
        for code, score in model_tags.items():
            for i in np.flatnonzero(score > 0.55):
                rows.append((next(ids), int(c.cid[i]), t[code], now, "model", round(float(score[i]), 3)))
        self.ids.advance(CustomerTag, len(rows))
        return self.writer.write(CustomerTag, ["id", "customer_id", "tag_id", "assigned_at", "source", "score"], rows)

    def _write_contact_preferences(self, rng, c: CustomerChunk) -> int:
        """Phone consent for most, a few opted out (on do-not-disturb), SMS for half."""
        size, now = c.size, c.chunk.anchor
        ids = itertools.count(self.ids.next_free(ContactPreference))
        rows = []
        has_phone = rng.random(size) < 0.9
        consent = rng.random(size) < 0.92
        opted = rng.random(size) < 0.04
        opted_days = rng.integers(0, 400, size)
        sms = rng.random(size) < 0.5
        for i in range(size):
            stop = c.stop_asked_at[i]
            if stop is not None:
                # The customer told the bot to stop marketing: the preference says so, and
                # the contact policy keeps marketing calls away (do-not-disturb).
                rows.append(
                    (
                        next(ids),
                        int(c.cid[i]),
                        "phone",
                        False,
                        fmt_ts(stop),
                        fmt_ts(stop + dt.timedelta(days=settings.WORKBENCH_OPT_OUT_DND_DAYS)),
                        "客户在 AI 对话中表示：别再给我推销了",
                        fmt_ts(now),
                    )
                )
            elif has_phone[i]:
                if opted[i]:
                    when = now - dt.timedelta(days=int(opted_days[i]))
                    rows.append(
                        (
                            next(ids),
                            int(c.cid[i]),
                            "phone",
                            False,
                            fmt_ts(when),
                            fmt_ts(when + dt.timedelta(days=180)),
                            "客户要求不再致电营销",
                            fmt_ts(now),
                        )
                    )
                else:
                    rows.append((next(ids), int(c.cid[i]), "phone", bool(consent[i]), None, None, "", fmt_ts(now)))
            if sms[i]:
                rows.append((next(ids), int(c.cid[i]), "sms", True, None, None, "", fmt_ts(now)))
        self.ids.advance(ContactPreference, len(rows))
        return self.writer.write(
            ContactPreference,
            ["id", "customer_id", "channel", "consent", "opted_out_at", "dnd_until", "reason", "updated_at"],
            rows,
        )
