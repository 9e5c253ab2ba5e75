"""Benchmark the segment builder's conditions on AUM change, holdings, scores, AI-bot
intents, earlier campaigns and "all of these tags" (PostgreSQL): each live count through
``segment_queryset`` (the customer list's own filter) against a hand-written SQL statement
doing the same work, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<seeded db> .venv/bin/python bench/segment_conditions_bench.py

Seed first (``manage.py seed_demo --customers N``). Times are the best of 3; the ratios are
the figures to compare (docs/campaigns.md § Segments). Conditions naming a campaign or a
tag take the first ended campaign and the two most used tags.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from campaigns.models import PUBLISHED_STATUSES, Campaign  # noqa: E402
from campaigns.services.segments import segment_queryset  # noqa: E402
from customers.models import Customer, Tag  # noqa: E402

LATEST_30 = """(SELECT s.aum FROM customers_assetsnapshot s WHERE s.customer_id = c.id
                AND s.date <= CURRENT_DATE - 30 ORDER BY s.date DESC LIMIT 1)"""


def cases(campaign: int | None, tags: list[int]) -> list[tuple[str, dict, str]]:
    tagged = (
        f"AND EXISTS (SELECT 1 FROM customers_customertag t WHERE t.customer_id = c.id AND t.tag_id = {tags[0]})"
        if tags
        else ""
    )
    out = [
        (
            "AUM fell >= 20 % in 30 days",
            {"aum_change": "fall", "aum_change_days": "30", "aum_change_percent": "20"},
            f"SELECT COUNT(*) FROM customers_customer c WHERE c.aum <= {LATEST_30} * 0.8 AND {LATEST_30} > 0",
        ),
        (
            "holds a fund of R4+",
            {"product_type": "fund", "product_risk_min": "4"},
            """SELECT COUNT(*) FROM customers_customer c WHERE EXISTS (SELECT 1 FROM customers_holding h
               JOIN customers_product p ON p.id = h.product_id WHERE h.customer_id = c.id
               AND p.type = 'fund' AND p.risk_level >= 4)""",
        ),
        (
            "grade high",
            {"grade": "high"},
            "SELECT COUNT(*) FROM customers_customer c JOIN scoring_customerscore s ON s.customer_id = c.id"
            " WHERE s.grade = 'high'",
        ),
        (
            "score 40-60",
            {"score_min": "40", "score_max": "60"},
            "SELECT COUNT(*) FROM customers_customer c JOIN scoring_customerscore s ON s.customer_id = c.id"
            " WHERE s.score BETWEEN 40 AND 60",
        ),
        (
            "AI-bot intent ask_fund in 30 days",
            {"intent": "ask_fund", "intent_days": "30"},
            """SELECT COUNT(*) FROM customers_customer c WHERE EXISTS (SELECT 1 FROM customers_interactionintent i
               WHERE i.customer_id = c.id AND i.intent = 'ask_fund' AND i.occurred_at >= NOW() - INTERVAL '30 days')""",
        ),
    ]
    if campaign is not None:
        out += [
            (
                "entered an earlier campaign",
                {"in_campaign": str(campaign)},
                "SELECT COUNT(*) FROM customers_customer c WHERE c.id IN"
                f" (SELECT customer_id FROM campaigns_enrolment WHERE campaign_id = {campaign})",
            ),
            (
                "responded in an earlier campaign",
                {"responded_in_campaign": str(campaign)},
                f"""SELECT COUNT(*) FROM customers_customer c WHERE c.id IN (SELECT customer_id
                    FROM campaigns_message WHERE campaign_id = {campaign}
                    AND (replied_at IS NOT NULL OR clicked_at IS NOT NULL) UNION SELECT e.customer_id
                    FROM campaigns_journeyevent j JOIN campaigns_enrolment e ON e.id = j.enrolment_id
                    WHERE j.campaign_id = {campaign} AND j.kind = 'converted')""",
            ),
        ]
    if len(tags) == 2:
        out.append(
            (
                "has all of two tags",
                {"tags_all": [str(t) for t in tags]},
                f"""SELECT COUNT(*) FROM customers_customer c JOIN customers_customertag a ON a.customer_id = c.id
                    AND a.tag_id = {tags[0]} JOIN customers_customertag b ON b.customer_id = c.id
                    AND b.tag_id = {tags[1]}""",
            )
        )
    out.append(
        (
            "five conditions (tier, AUM fall, grade, intent, tag)",
            {
                "tier": "base",
                "aum_change": "fall",
                "aum_change_days": "30",
                "aum_change_percent": "20",
                "grade": "high",
                "intent": "ask_fund",
                **({"tags_all": [str(tags[0])]} if tags else {}),
            },
            f"""SELECT COUNT(*) FROM customers_customer c JOIN scoring_customerscore s ON s.customer_id = c.id
                WHERE c.tier = 'base' AND s.grade = 'high' AND c.aum <= {LATEST_30} * 0.8 AND {LATEST_30} > 0
                AND EXISTS (SELECT 1 FROM customers_interactionintent i WHERE i.customer_id = c.id
                            AND i.intent = 'ask_fund' AND i.occurred_at >= NOW() - INTERVAL '30 days')
                {tagged}""",
        )
    )
    return out


def best(fn, runs: int = 3) -> tuple[float, object]:
    times, value = [], None
    for _i in range(runs):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def raw(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def main() -> None:
    print(f"{connection.vendor}, {Customer.objects.count():,} customers")
    # The JSON the intent rows come from, read as a hand-written query would without them.
    json_sql = """SELECT COUNT(*) FROM customers_customer c WHERE EXISTS (SELECT 1 FROM customers_interaction i
        WHERE i.customer_id = c.id AND i.occurred_at >= NOW() - INTERVAL '30 days' AND i.intents @> '["ask_fund"]')"""
    print(f"for reference, the intent read from the sessions' JSON: {best(lambda: raw(json_sql))[0] * 1000:,.0f} ms")
    campaign = Campaign.objects.filter(status__in=PUBLISHED_STATUSES).values_list("pk", flat=True).first()
    tags = list(Tag.objects.annotate(n=Count("assignments")).order_by("-n", "pk").values_list("pk", flat=True)[:2])
    for name, params, sql in cases(campaign, tags):
        ours = best(lambda params=params: segment_queryset(definition={"groups": [params]}).count())
        theirs = best(lambda sql=sql: raw(sql))
        print(
            f"{name}: {ours[0] * 1000:,.0f} ms (result {ours[1]:,}) · raw SQL {theirs[0] * 1000:,.0f} ms "
            f"(result {theirs[1]:,}) · ratio {ours[0] / max(theirs[0], 1e-9):.2f}"
        )


if __name__ == "__main__":
    main()
