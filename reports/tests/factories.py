"""Factories and helpers for the wealth-report tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from customers.models import Channel
from customers.tests.factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    HoldingFactory,
    InteractionFactory,
    ProductFactory,
)
from reports.demo import seed_report_script


def approve_report_wording(world) -> None:
    seed_report_script(author=world.advisor_a, officer=world.compliance)


def customer_with_book(owner, **kwargs):
    """A customer with a year of statements, two holdings (one maturing), contacts, and
    products of every risk level on the shelf."""
    year = timezone.localdate().year
    customer = CustomerFactory(owner=owner, aum=Decimal("523456.78"), risk_level=3, **kwargs)
    for month, aum in ((1, "400000.00"), (4, "450000.00"), (8, "480000.00"), (11, "523456.78")):
        AssetSnapshotFactory(
            customer=customer,
            date=dt.date(year, month, 1),
            aum=Decimal(aum),
            deposits=Decimal("123456.78"),
            wealth=Decimal("300000.00"),
            funds=Decimal("100000.00"),
        )
    HoldingFactory(
        customer=customer,
        product=ProductFactory(code="WMR2", name="稳享180天", risk_level=2),
        amount=Decimal("300000.00"),
        maturity_date=timezone.localdate() + dt.timedelta(days=40),
    )
    HoldingFactory(
        customer=customer,
        product=ProductFactory(code="FDR3", name="均衡混合基金", type="fund", risk_level=3),
        amount=Decimal("100000.00"),
        maturity_date=None,
    )
    ProductFactory(code="OKR3", name="稳进增利", risk_level=3)
    ProductFactory(code="NOR5", name="高波动权益", risk_level=5)
    ProductFactory(code="NOR4", name="进取成长", risk_level=4)
    now = timezone.now()
    for days, channel in ((1, Channel.PHONE), (2, Channel.PHONE), (3, Channel.WECHAT)):
        InteractionFactory(customer=customer, channel=channel, occurred_at=now - dt.timedelta(hours=days))
    return customer
