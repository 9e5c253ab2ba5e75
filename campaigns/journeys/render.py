"""The words a customer receives: an approved template with its placeholders filled.

Placeholders a compliance officer writes into a message template (a script version):
{称呼} the salutation (张女士, never more of the name), {产品} the campaign's product,
{到期日} the customer's next maturity of that product (or of any holding), {金额} that
holding's amount. The text is rendered in Chinese, the customers' language, and stored
per message as sent.
"""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from core.templatetags.formatting import cny
from customers.models import Customer, Holding, Product

PLACEHOLDERS = ("{称呼}", "{产品}", "{到期日}", "{金额}")


def next_maturities(*, customer_ids: list[int], product: Product | None, today: dt.date) -> dict[int, Holding]:
    """Each customer's next maturing holding (of ``product`` when given), one query."""
    qs = Holding.objects.filter(customer_id__in=customer_ids, maturity_date__gte=today).select_related("product")
    if product is not None:
        qs = qs.filter(product=product)
    nearest: dict[int, Holding] = {}
    for holding in qs.order_by("customer_id", "maturity_date", "id"):
        nearest.setdefault(holding.customer_id, holding)
    return nearest


def render_message(*, template: str, customer: Customer, product: Product | None, holding: Holding | None) -> str:
    with translation.override("zh-hans"):
        values = {
            "{称呼}": customer.salutation,
            "{产品}": product.name if product else (holding.product.name if holding else ""),
            "{到期日}": f"{holding.maturity_date:%Y年%m月%d日}" if holding and holding.maturity_date else "",
            "{金额}": cny(holding.amount) if holding else "",
        }
    text = template
    for token, value in values.items():
        text = text.replace(token, value)
    return text.strip()
