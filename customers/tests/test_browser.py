"""The advisor's journey in headless Chromium: search, open the portrait, switch tabs, see the chart."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from customers import models as m
from org.tests.factories import BranchFactory

from .factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    CustomerTagFactory,
    HoldingFactory,
    InteractionFactory,
    ProductFactory,
    RiskAssessmentFactory,
    TagFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots/issue3"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_advisor_searches_opens_portrait_switches_tabs(page, live_server, login, world):
    today = timezone.localdate()
    c = CustomerFactory(
        owner=world.advisor_a, name="陈静怡", mobile="13912348765", aum=Decimal("468000"), customer_no="C2026000123"
    )
    CustomerFactory.create_batch(3, owner=world.advisor_a)
    CustomerFactory(owner=world.advisor_b, name="陈别人")
    assessed = timezone.now() - dt.timedelta(days=350)
    RiskAssessmentFactory(customer=c, level=3, assessed_at=assessed)
    m.Customer.objects.filter(pk=c.pk).update(risk_assessed_at=assessed)
    for d in range(0, 730, 7):
        AssetSnapshotFactory(
            customer=c,
            date=today - dt.timedelta(days=d),
            aum=Decimal(380000 + (730 - d) * 120),
            deposits=Decimal(150000),
            wealth=Decimal(200000 + (730 - d) * 120),
            funds=Decimal(30000),
        )
    HoldingFactory(
        customer=c,
        product=ProductFactory(name="稳健理财90天", risk_level=2),
        maturity_date=today + dt.timedelta(days=8),
    )
    HoldingFactory(
        customer=c, product=ProductFactory(name="纯债基金A", type=m.ProductType.FUND, risk_level=2), maturity_date=None
    )
    ProductFactory(name="权益增强混合", type=m.ProductType.FUND, risk_level=4)
    CustomerTagFactory(
        customer=c, tag=TagFactory(code="maturity_soon", name="近期到期", category=m.TagCategory.BEHAVIOUR)
    )
    TagFactory(code="pension_need", name="养老规划需求", source=m.TagSource.MANUAL, category=m.TagCategory.PREFERENCE)
    InteractionFactory(
        customer=c,
        channel=m.Channel.AI_BOT,
        direction=m.Direction.OUTBOUND,
        summary="智能外呼：客户关注到期再投资",
        transcript=[
            {"speaker": "bot", "text": "您好，您的稳健理财90天将于下周到期，是否需要了解续投方案？"},
            {"speaker": "customer", "text": "可以，最好风险低一点。<script>alert('x')</script>"},
            {"speaker": "bot", "text": "好的，稍后会有理财经理联系您。"},
        ],
        intents=["ask_maturity"],
    )
    InteractionFactory(customer=c, channel=m.Channel.PHONE, summary="电话回访，客户下周有空")

    login(world.advisor_a)
    page.goto(f"{live_server.url}/customers/")
    page.keyboard.press("/")
    page.keyboard.type("8765")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=customer-link]').length === 1")
    assert "陈*" in page.locator("[data-testid=customer-table]").inner_text()
    assert "陈别人" not in page.content()
    assert "q=8765" in page.url  # the URL reflects the search
    _shot(page, "1-search")

    page.click("[data-testid=customer-link]")
    page.wait_for_selector("[data-testid=portrait-header]")
    page.wait_for_function(
        "() => document.getElementById('aum-chart') && document.getElementById('aum-chart').dataset.rendered === '1'"
    )
    header = page.locator("[data-testid=portrait-header]").inner_text()
    assert "139****8765" in header and "13912348765" not in header
    assert page.locator("tr[data-maturing='1']").count() == 1
    assert page.locator("[data-testid=risk] .text-bg-danger").count() == 1  # expires within 30 days
    _shot(page, "2-portrait-assets")

    page.click("[data-tab=interactions]")
    page.wait_for_selector("[data-testid=transcript]")
    assert "<script>alert('x')</script>" in page.locator("[data-testid=transcript]").inner_text()  # shown as text
    assert page.url.endswith("/tab/interactions/")
    _shot(page, "3-interactions")

    page.click("[data-tab=products]")
    page.wait_for_selector("[data-testid=excluded-products]")
    assert "R4" in page.locator("[data-testid=excluded-products]").inner_text()
    _shot(page, "4-products")

    page.click("[data-tab=tags]")
    page.wait_for_selector("[data-testid=tag-add]")
    page.click("[data-testid=tag-add] button")
    page.wait_for_selector("[data-tag=pension_need]")
    _shot(page, "5-tags")

    page.click("[data-tab=assets]")
    page.wait_for_function(
        "() => document.getElementById('aum-chart') && document.getElementById('aum-chart').dataset.rendered === '1'"
    )
    assert m.AccessRecord.objects.filter(customer=c, user=world.advisor_a).exists()

    page.set_viewport_size({"width": 1920, "height": 1080})
    page.reload()
    page.wait_for_selector("[data-testid=aum-chart]")
    _shot(page, "6-portrait-1920")


def test_team_lead_imports_a_csv_with_dry_run(page, live_server, login, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    BranchFactory(code="SH01")
    csv_path = tmp_path / "核心系统客户.csv"
    csv_path.write_text(
        "客户号,姓名,手机号,金融资产,归属网点\n"
        "C900001,周一,13800001111,120000,SH01\n"
        "C900002,吴二,13800002222,很多,SH01\n"
        "C900003,郑三,13800003333,80000,ZZ99\n",
        encoding="utf-8",
    )
    login(world.lead_a)
    page.goto(f"{live_server.url}/customers/imports/")
    page.set_input_files("#id_file", str(csv_path))
    page.click("[data-testid=upload-form] button[type=submit]")
    page.wait_for_selector("[data-testid=mapping-form]")
    assert page.locator("#id_col_customer_no").input_value() == "客户号"
    page.fill("#id_save_as", "核心系统客户表")
    page.click("[data-testid=mapping-form] button[type=submit]")
    page.wait_for_selector("[data-testid=dry-run-result]")
    errors = page.locator("[data-testid=row-errors]").inner_text()
    assert "不是数字" in errors and "没有该代码对应的网点" in errors
    _shot(page, "7-import-dry-run")
    page.click("[data-testid=run-import]")
    page.wait_for_selector("[data-testid=import-report]")
    assert "新增 1" in page.locator("[data-testid=import-report]").inner_text()
    assert m.Customer.objects.filter(customer_no="C900001").exists()
    assert not m.Customer.objects.filter(customer_no__in=["C900002", "C900003"]).exists()
    _shot(page, "8-import-done")
