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


def needs_holdings(template: str, product: Product | None) -> bool:
    """Whether rendering ``template`` reads the customer's next maturity (a launch skips
    that query for templates without {到期日} / {金额}, or {产品} with no product)."""
    return "{到期日}" in template or "{金额}" in template or ("{产品}" in template and product is None)


def render_message(*, template: str, customer: Customer, product: Product | None, holding: Holding | None) -> str:
    used = [token for token in PLACEHOLDERS if token in template]
    if not used:
        return template.strip()
    with translation.override("zh-hans"):
        values = {
            "{称呼}": lambda: customer.salutation,
            "{产品}": lambda: product.name if product else (holding.product.name if holding else ""),
            "{到期日}": lambda: f"{holding.maturity_date:%Y年%m月%d日}" if holding and holding.maturity_date else "",
            "{金额}": lambda: cny(holding.amount) if holding else "",
        }
        text = template
        for token in used:
            text = text.replace(token, values[token]())
    return text.strip()
