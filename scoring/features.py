"""Features of live customers, point in time, with the keys of ``scoring.feature_spec``.

Two paths compute the same thing:

- :func:`features_for_customer` (ORM, a handful of queries) for one customer as of any
  moment: used when an outcome is logged (its snapshot) and for incremental rescoring;
- :func:`feature_select_sql` (one set-based SELECT per customer-id range) for full
  rescoring, which streams the result out with COPY as float8 columns.

Point-in-time rules (nothing known after ``as_of`` is ever read):
- an asset snapshot dated D holds the balances at the start of day D, so snapshots dated
  up to the local date of ``as_of`` are visible;
- holdings opened on or before that date and not matured before it;
- risk assessments, tags, interactions and outcomes strictly before ``as_of``.

Customer columns without history (city, occupation, lifecycle stage, ``attributes``) are
taken as they are now; they change rarely and are not outcomes of a contact.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from customers.models import AssetSnapshot, Customer, CustomerTag, Holding, Interaction, RiskAssessment

from .feature_spec import AI_INTENTS, CATEGORY, FEATURE_NAMES, FEATURES
from .models import Outcome

# Channels that count as a (personal) contact: mass SMS, pushes and e-mails do not.
CONTACT_CHANNELS = ("phone", "wechat", "branch_visit")

# Intent keywords on what the customer said to the AI bot. The same patterns run in
# Python (live) and in PostgreSQL (full rescoring), so both paths agree.
INTENT_PATTERNS: dict[str, str] = {
    "ai_intent_wealth": r"理财(?!经理|师|助手)|基金|收益|起购|定投|存单",
    "ai_intent_maturity": r"到期|续作|续投|再投资|赎回",
    "ai_intent_pension": r"养老|退休|年金",
    "ai_asked_human": r"人工|理财经理|客户经理|真人|打个电话|回电",
    "ai_not_interested": r"别再.{0,4}推销|不要再.{0,4}(推销|打)|别再打|不需要了|不感兴趣",
}
_COMPILED = {k: re.compile(v) for k, v in INTENT_PATTERNS.items()}

# Scoring "now" (not a past contact): the customer's live AUM stands in for a missing
# snapshot.
LIVE_WINDOW = dt.timedelta(days=1)

# Known categories of the contract's categorical features (codes are list positions).
DEFAULT_VOCAB: dict[str, list[str]] = {
    "gender": ["M", "F", "U"],
    "tier": ["long_tail", "base", "wealth", "private"],
    "lifecycle_stage": ["new", "growing", "mature", "declining", "dormant"],
    "previous_outcome": ["none", "converted", "not_converted"],
}


def _tier(aum: float | None) -> str | None:
    if aum is None:
        return None
    if aum >= settings.WORKBENCH_TIER_PRIVATE_MIN:
        return "private"
    if aum >= settings.WORKBENCH_TIER_WEALTH_MIN:
        return "wealth"
    if aum >= settings.WORKBENCH_TIER_BASE_MIN:
        return "base"
    return "long_tail"


def _change(now: float | None, then: float | None) -> float | None:
    if now is None or not then:
        return None
    return round((now - then) / then, 4)


@lru_cache(maxsize=1)
def _jieba():
    # A third-party import kept lazy: jieba loads its dictionary (seconds) and only
    # keyword extraction needs it; rescoring asks for rounds and intents only.
    import jieba
    import jieba.analyse

    jieba.setLogLevel(60)
    for word in ("养老理财", "理财经理", "个人养老金", "大额存单", "指数基金", "转人工", "续作"):
        jieba.add_word(word)
    return jieba


def conversation_signals(turns: list[dict] | None, *, keywords: bool = True) -> dict:
    """What the customer said to the AI bot: rounds, intents and (optionally) keywords.

    Intents come from keyword patterns on the customer's turns only (the bot's own
    words mention products all the time); keywords are jieba's TF-IDF top words, which
    cost far more than the rest: scoring asks for rounds and intents only.
    """
    said = [str(t.get("text", "")) for t in (turns or []) if isinstance(t, dict) and t.get("speaker") == "customer"]
    text = " ".join(said)
    intents = sorted(k for k, rx in _COMPILED.items() if rx.search(text))
    words: list[str] = []
    if keywords and text.strip():
        words = _jieba().analyse.extract_tags(text, topK=5)
    return {"rounds": len(said), "intents": intents, "keywords": words}


def features_for_customer(*, customer_id: int, as_of: dt.datetime) -> dict:
    """The feature snapshot of one customer as of ``as_of`` (keys of scoring.feature_spec,
    plus the customer's ``attributes`` under their own keys). Missing values are None."""
    if timezone.is_naive(as_of):
        as_of = timezone.make_aware(as_of)
    customer = Customer.objects.get(pk=customer_id)
    day = timezone.localdate(as_of)
    f: dict = {}
    for key, value in (customer.attributes or {}).items():
        if key not in FEATURES and isinstance(value, str | int | float | bool):
            f[key] = value
    if customer.birth_date:
        f["age"] = round((day - customer.birth_date).days / 365.25, 1)
    else:
        f["age"] = None
    f["gender"] = customer.gender or None
    f["city"] = customer.city or None
    f["occupation"] = customer.occupation or None
    f["education"] = customer.education or None
    f["marital_status"] = customer.marital_status or None
    f["lifecycle_stage"] = customer.lifecycle_stage or None

    snaps = list(
        AssetSnapshot.objects.filter(
            customer_id=customer_id, date__lte=day, date__gt=day - dt.timedelta(days=130)
        ).order_by("-date")
    )

    def latest_on_or_before(d: dt.date):
        return next((s for s in snaps if s.date <= d), None)

    s0 = latest_on_or_before(day)
    s30 = latest_on_or_before(day - dt.timedelta(days=30))
    s90 = latest_on_or_before(day - dt.timedelta(days=90))
    aum = float(s0.aum) if s0 else None
    if aum is None and as_of >= timezone.now() - LIVE_WINDOW:
        aum = float(customer.aum)  # no snapshot yet: today's balance is the live value
    f["aum"] = aum
    f["tier"] = _tier(aum)
    f["aum_change_30d"] = _change(aum, float(s30.aum) if s30 else None)
    f["aum_change_90d"] = _change(aum, float(s90.aum) if s90 else None)
    if s0 and s0.aum:
        f["wealth_share"] = round(float(s0.wealth + s0.funds) / float(s0.aum), 3)
        f["deposit_share"] = round(float(s0.deposits) / float(s0.aum), 3)
    else:
        f["wealth_share"] = f["deposit_share"] = None

    holdings = list(
        Holding.objects.filter(customer_id=customer_id, opened_on__lte=day)
        .filter(Q(maturity_date__isnull=True) | Q(maturity_date__gte=day))
        .values_list("amount", "maturity_date")
    )
    f["holdings_count"] = len(holdings)
    soon = day + dt.timedelta(days=30)
    f["maturing_30d_amount"] = round(sum(float(a) for a, m in holdings if m is not None and m <= soon), 2)
    maturities = [m for _, m in holdings if m is not None]
    f["days_to_next_maturity"] = (min(maturities) - day).days if maturities else None

    ra = RiskAssessment.objects.filter(customer_id=customer_id, assessed_at__lt=as_of).order_by("-assessed_at").first()
    level, assessed_at = (ra.level, ra.assessed_at) if ra else (None, None)
    if ra is None and customer.risk_assessed_at and customer.risk_assessed_at < as_of:
        level, assessed_at = customer.risk_level, customer.risk_assessed_at
    f["risk_level"] = level
    f["assessment_age_days"] = (as_of - assessed_at).days if assessed_at else None
    valid = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS
    f["assessment_expired"] = 1.0 if assessed_at is None or (as_of - assessed_at).days >= valid else 0.0

    f["tag_count"] = CustomerTag.objects.filter(customer_id=customer_id, assigned_at__lt=as_of).count()

    since90 = as_of - dt.timedelta(days=90)
    since30 = as_of - dt.timedelta(days=30)
    recent = list(
        Interaction.objects.filter(
            customer_id=customer_id, occurred_at__lt=as_of, occurred_at__gte=since90
        ).values_list("channel", "direction", "occurred_at", "transcript", "intents")
    )
    contacts = [t for ch, d, t, _, _ in recent if ch in CONTACT_CHANNELS and d == "out"]
    f["contacts_30d"] = sum(1 for t in contacts if t >= since30)
    f["contacts_90d"] = len(contacts)
    last_interaction = Interaction.objects.filter(customer_id=customer_id, occurred_at__lt=as_of).aggregate(
        m=Max("occurred_at")
    )["m"]
    prev = (
        Outcome.objects.filter(customer_id=customer_id, contacted_at__lt=as_of)
        .order_by("-contacted_at", "-id")
        .values_list("converted", "contacted_at")
        .first()
    )
    lasts = [t for t in (last_interaction, prev[1] if prev else None) if t is not None]
    f["days_since_last_contact"] = (as_of - max(lasts)).days if lasts else None
    f["previous_outcome"] = "none" if prev is None else ("converted" if prev[0] else "not_converted")

    rounds = 0
    ai = dict.fromkeys(
        ("ai_intent_wealth", "ai_intent_maturity", "ai_intent_pension", "ai_asked_human", "ai_not_interested"), 0.0
    )
    for ch, _d, _t, transcript, intents in recent:
        if ch != "ai_bot":
            continue
        signals = conversation_signals(transcript, keywords=False)
        rounds += signals["rounds"]
        for key in signals["intents"]:
            ai[key] = 1.0
        for code in intents or []:
            key = AI_INTENTS.get(code)
            if key:
                ai[key] = 1.0
    f["ai_rounds"] = rounds
    f.update(ai)
    return {**{k: f.get(k) for k in FEATURE_NAMES}, **{k: v for k, v in f.items() if k not in FEATURES}}


# --- set-based features (full rescoring) --------------------------------------------------


def _sql_number(expr: str) -> str:
    return f"coalesce(({expr})::float8, 'NaN'::float8)"


def _sql_category(expr: str, param: str) -> str:
    # 0-based code in the model's vocabulary; NaN when missing or unseen.
    return f"coalesce((array_position(%({param})s::text[], ({expr})::text) - 1)::float8, 'NaN'::float8)"


_CONTRACT_SQL: dict[str, str] = {
    "age": "round(((%(day)s::date - c.birth_date) / 365.25)::numeric, 1)",
    "gender": "nullif(c.gender, '')",
    "city": "nullif(c.city, '')",
    "occupation": "nullif(c.occupation, '')",
    "education": "nullif(c.education, '')",
    "marital_status": "nullif(c.marital_status, '')",
    "tier": """CASE WHEN coalesce(s.aum0, CASE WHEN %(live)s THEN c.aum END) IS NULL THEN NULL
        WHEN coalesce(s.aum0, CASE WHEN %(live)s THEN c.aum END) >= %(t_private)s THEN 'private'
        WHEN coalesce(s.aum0, CASE WHEN %(live)s THEN c.aum END) >= %(t_wealth)s THEN 'wealth'
        WHEN coalesce(s.aum0, CASE WHEN %(live)s THEN c.aum END) >= %(t_base)s THEN 'base'
        ELSE 'long_tail' END""",
    "lifecycle_stage": "nullif(c.lifecycle_stage, '')",
    "aum": "coalesce(s.aum0, CASE WHEN %(live)s THEN c.aum END)",
    "aum_change_30d": "round((s.aum0 - s.aum30) / nullif(s.aum30, 0), 4)",
    "aum_change_90d": "round((s.aum0 - s.aum90) / nullif(s.aum90, 0), 4)",
    "wealth_share": "round(s.inv0 / nullif(s.aum0, 0), 3)",
    "deposit_share": "round(s.dep0 / nullif(s.aum0, 0), 3)",
    "holdings_count": "coalesce(h.cnt, 0)",
    "maturing_30d_amount": "coalesce(h.maturing, 0)",
    "days_to_next_maturity": "h.next_maturity - %(day)s::date",
    "risk_level": "CASE WHEN c.risk_assessed_at < %(as_of)s THEN c.risk_level END",
    "assessment_age_days": """CASE WHEN c.risk_assessed_at < %(as_of)s
        THEN extract(day FROM %(as_of)s - c.risk_assessed_at) END""",
    "assessment_expired": """CASE WHEN c.risk_assessed_at < %(as_of)s
        AND extract(day FROM %(as_of)s - c.risk_assessed_at) < %(valid_days)s THEN 0 ELSE 1 END""",
    "tag_count": "coalesce(t.cnt, 0)",
    "contacts_30d": "coalesce(i.c30, 0)",
    "contacts_90d": "coalesce(i.c90, 0)",
    "days_since_last_contact": """extract(day FROM %(as_of)s - greatest(i.last_at, o.last_at))""",
    "previous_outcome": """CASE WHEN o.last_at IS NULL THEN 'none'
        WHEN o.converted THEN 'converted' ELSE 'not_converted' END""",
    "ai_rounds": "coalesce(a.rounds, 0)",
    "ai_intent_wealth": "coalesce(a.wealth, 0)",
    "ai_intent_maturity": "coalesce(a.maturity, 0)",
    "ai_intent_pension": "coalesce(a.pension, 0)",
    "ai_asked_human": "coalesce(a.human, 0)",
    "ai_not_interested": "coalesce(a.refused, 0)",
}

_FROM_SQL = """
FROM customers_customer c
LEFT JOIN (
    SELECT x.customer_id, x.v0[2] AS aum0, x.v0[3] AS dep0, x.v0[4] AS inv0, x.v30[2] AS aum30, x.v90[2] AS aum90
    FROM (
    -- the latest snapshot on or before a date, without sorting: max() of [day, values]
    -- arrays compares the day first
    SELECT customer_id,
        max(ARRAY[(date - DATE '2000-01-01')::numeric, aum, deposits, wealth + funds]) AS v0,
        max(ARRAY[(date - DATE '2000-01-01')::numeric, aum]) FILTER (WHERE date <= %(day30)s) AS v30,
        max(ARRAY[(date - DATE '2000-01-01')::numeric, aum]) FILTER (WHERE date <= %(day90)s) AS v90
    FROM customers_assetsnapshot
    WHERE customer_id >= %(lo)s AND customer_id < %(hi)s AND date <= %(day)s AND date > %(day130)s
    GROUP BY customer_id
    ) x
) s ON s.customer_id = c.id
LEFT JOIN (
    SELECT customer_id, count(*) AS cnt,
        sum(amount) FILTER (WHERE maturity_date <= %(day_plus30)s) AS maturing,
        min(maturity_date) AS next_maturity
    FROM customers_holding
    WHERE customer_id >= %(lo)s AND customer_id < %(hi)s AND opened_on <= %(day)s
        AND (maturity_date IS NULL OR maturity_date >= %(day)s)
    GROUP BY customer_id
) h ON h.customer_id = c.id
LEFT JOIN (
    SELECT customer_id, count(*) AS cnt FROM customers_customertag
    WHERE customer_id >= %(lo)s AND customer_id < %(hi)s AND assigned_at < %(as_of)s
    GROUP BY customer_id
) t ON t.customer_id = c.id
LEFT JOIN (
    SELECT customer_id,
        count(*) FILTER (WHERE direction = 'out' AND channel = ANY(%(contact_channels)s)
                         AND occurred_at >= %(since30)s) AS c30,
        count(*) FILTER (WHERE direction = 'out' AND channel = ANY(%(contact_channels)s)
                         AND occurred_at >= %(since90)s) AS c90,
        max(occurred_at) AS last_at
    FROM customers_interaction
    WHERE customer_id >= %(lo)s AND customer_id < %(hi)s AND occurred_at < %(as_of)s
    GROUP BY customer_id
) i ON i.customer_id = c.id
LEFT JOIN (
    SELECT DISTINCT ON (customer_id) customer_id, converted, contacted_at AS last_at
    FROM scoring_outcome
    WHERE customer_id >= %(lo)s AND customer_id < %(hi)s AND contacted_at < %(as_of)s
    ORDER BY customer_id, contacted_at DESC, id DESC
) o ON o.customer_id = c.id
LEFT JOIN (
    SELECT x.customer_id, sum(x.rounds) AS rounds,
        max(CASE WHEN x.said ~ %(rx_wealth)s OR x.intents ?| %(in_wealth)s THEN 1 ELSE 0 END) AS wealth,
        max(CASE WHEN x.said ~ %(rx_maturity)s OR x.intents ?| %(in_maturity)s THEN 1 ELSE 0 END) AS maturity,
        max(CASE WHEN x.said ~ %(rx_pension)s OR x.intents ?| %(in_pension)s THEN 1 ELSE 0 END) AS pension,
        max(CASE WHEN x.said ~ %(rx_human)s OR x.intents ?| %(in_human)s THEN 1 ELSE 0 END) AS human,
        max(CASE WHEN x.said ~ %(rx_refused)s OR x.intents ?| %(in_refused)s THEN 1 ELSE 0 END) AS refused
    FROM (
        SELECT ia.customer_id, ia.intents, tr.rounds, coalesce(tr.said, '') AS said
        FROM customers_interaction ia
        LEFT JOIN LATERAL (
            SELECT count(*) AS rounds, string_agg(e->>'text', ' ') AS said
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(ia.transcript) = 'array'
                                           THEN ia.transcript ELSE '[]'::jsonb END) e
            WHERE e->>'speaker' = 'customer'
        ) tr ON true
        WHERE ia.customer_id >= %(lo)s AND ia.customer_id < %(hi)s AND ia.channel = 'ai_bot'
            AND ia.occurred_at < %(as_of)s AND ia.occurred_at >= %(since90)s
    ) x
    GROUP BY x.customer_id
) a ON a.customer_id = c.id
WHERE c.id >= %(lo)s AND c.id < %(hi)s
"""


def feature_select_sql(spec: list[tuple[str, str, list[str]]]) -> str:
    """One SELECT returning ``id`` then one float8 column per feature of ``spec``
    (``[(name, type, vocabulary)]``) for the customers with ``lo <= id < hi``.
    Categories come out as codes in the vocabulary (parameters ``vocab_<i>``)."""
    columns = ["c.id::float8"]
    for i, (name, kind, _vocab) in enumerate(spec):
        if name in _CONTRACT_SQL:
            expr = _CONTRACT_SQL[name]
        else:
            safe = name.replace("'", "''")
            expr = (
                f"c.attributes->>'{safe}'"
                if kind == CATEGORY
                else f"CASE WHEN c.attributes->>'{safe}' ~ '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$' "
                f"THEN (c.attributes->>'{safe}')::float8 END"
            )
        columns.append(_sql_category(expr, f"vocab_{i}") if kind == CATEGORY else _sql_number(expr))
    return "SELECT " + ",\n    ".join(columns) + _FROM_SQL + "ORDER BY c.id"


def feature_sql_params(*, spec, lo: int, hi: int, as_of: dt.datetime) -> dict:
    day = timezone.localdate(as_of)
    params = {
        "lo": lo,
        "hi": hi,
        "live": as_of >= timezone.now() - LIVE_WINDOW,
        "as_of": as_of,
        "day": day,
        "day30": day - dt.timedelta(days=30),
        "day90": day - dt.timedelta(days=90),
        "day130": day - dt.timedelta(days=130),
        "day_plus30": day + dt.timedelta(days=30),
        "since30": as_of - dt.timedelta(days=30),
        "since90": as_of - dt.timedelta(days=90),
        "contact_channels": list(CONTACT_CHANNELS),
        "valid_days": settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS,
        "t_private": settings.WORKBENCH_TIER_PRIVATE_MIN,
        "t_wealth": settings.WORKBENCH_TIER_WEALTH_MIN,
        "t_base": settings.WORKBENCH_TIER_BASE_MIN,
    }
    short = {
        "ai_intent_wealth": "wealth",
        "ai_intent_maturity": "maturity",
        "ai_intent_pension": "pension",
        "ai_asked_human": "human",
        "ai_not_interested": "refused",
    }
    for key, name in short.items():
        params[f"rx_{name}"] = INTENT_PATTERNS[key]
        params[f"in_{name}"] = [code for code, feature in AI_INTENTS.items() if feature == key]
    for i, (_name, _kind, vocab) in enumerate(spec):
        params[f"vocab_{i}"] = list(vocab)
    return params
