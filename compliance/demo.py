"""Demo sales scripts, through the real compliance workflow (create, submit, approve), so
their findings, reviews and audit events are the ones the services write."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError

from customers.demo import RISKY_CALL_NOTES
from customers.models import Channel, Interaction, Product

from .models import Script
from .services.scripts import script_approve, script_create, script_submit_for_review
from .services.surveillance import interaction_scan

# (title, purpose, product code, product type, body)
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


def seed_scripts(*, author, officer) -> int:
    """Sales scripts written by ``author`` and reviewed by ``officer``: three approved, one
    awaiting review with findings that block approval, so the review queue has work on day
    one. Scripts already there (by title) are left alone; returns how many were created."""
    created = 0
    for title, purpose, product_code, product_type, body in SCRIPTS:
        if Script.objects.filter(title=title).exists():
            continue
        product = Product.objects.get(code=product_code) if product_code else None
        version = script_create(
            actor=author, title=title, purpose=purpose, body=body, product=product, product_type=product_type
        )
        version = script_submit_for_review(actor=author, version=version)
        # The deliberately non-compliant one is blocked and stays in the review queue.
        with contextlib.suppress(ValidationError):
            script_approve(actor=officer, version=version, acknowledge_medium=True)
        created += 1
    return created


def seed_surveillance(*, limit: int = 200) -> int:
    """Scan the demo's risky call notes through the real scanner, as arrival would have
    (bulk-written interactions bypass the scan on arrival), so a fresh demo's
    surveillance queue holds findings to review. Returns the number of flags."""
    ids = (
        Interaction.objects.filter(channel=Channel.PHONE, summary__in=RISKY_CALL_NOTES)
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(interaction_scan(interaction_id=pk) for pk in ids)
