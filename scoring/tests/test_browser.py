"""The model page in headless Chromium: a team lead sees the active model, the charts,
edits the cutoffs with a live preview, and rescores everyone with a progress bar; an
advisor reads a customer's score on the portrait's "needs and propensities" tab."""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from customers.tests.factories import CustomerFactory, HoldingFactory
from scoring.models import CustomerScore, Outcome
from scoring.rules import RULES
from scoring.services.versions import model_train

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots/issue4"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _outcomes(n=600, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        f = {
            "aum": float(rng.lognormal(12, 1)),
            "aum_change_30d": float(rng.normal(0, 0.1)),
            "maturing_30d_amount": float(rng.choice([0, 50_000], p=[0.7, 0.3])),
            "ai_intent_pension": float(rng.random() < 0.2),
            "tier": str(rng.choice(["base", "wealth", "private"])),
        }
        logit = -2 + 1.5 * (f["maturing_30d_amount"] > 0) + 1.2 * f["ai_intent_pension"] - 3 * f["aum_change_30d"]
        rows.append(
            Outcome(
                contacted_at=timezone.now(),
                channel="phone",
                features=f,
                source="import",
                converted=bool(rng.random() < 1 / (1 + np.exp(-logit))),
            )
        )
    Outcome.objects.bulk_create(rows)


def test_team_lead_works_the_model_page(page, live_server, login, world):
    _outcomes()
    model_train(actor=world.lead_a, activate="always")
    for i in range(30):
        c = CustomerFactory(owner=world.advisor_a)
        CustomerScore.objects.create(
            customer=c, score=float(i * 3), grade="low", method="model", scored_at=timezone.now(), reasons=[]
        )
    login(world.lead_a)
    page.click("text=评分模型")
    page.wait_for_selector("[data-testid=active-model]")
    assert "当前评分来自已训练模型" in page.locator("[data-testid=scoring-mode]").inner_text()
    assert page.locator("[data-testid=versions] tbody tr").count() == 1
    page.wait_for_function(
        "() => document.querySelectorAll('canvas').length === 3 && Chart.instances && "
        "Object.keys(Chart.instances).length === 3"
    )
    # cutoff preview updates as the lead types
    page.fill("#id_high", "60")
    page.fill("#id_mid", "30")
    page.wait_for_function(
        "() => document.querySelector('[data-grade=high] td:nth-child(2)')?.textContent.trim() === '10'"
    )
    assert page.locator("[data-grade=mid] td:nth-child(2)").inner_text() == "10"
    _shot(page, "model-page")
    page.click("text=保存分数线")
    page.wait_for_selector(".alert-success")
    assert "分数线已保存" in page.locator("#messages").inner_text()
    # rescore everyone with a progress bar (eager Celery: finished when the bar appears)
    page.click("[data-testid=rescore]")
    page.wait_for_selector("#rescore-job .wb-job[data-status=succeeded]")
    assert re.search(r"30/30", page.locator("#rescore-job").inner_text())
    _shot(page, "model-page-rescored")


def test_cold_start_is_said_on_the_model_page(page, live_server, login, world):
    login(world.lead_a)
    page.goto(f"{live_server.url}/scoring/")
    assert "冷启动" in page.locator("[data-testid=scoring-mode]").inner_text()
    assert page.locator("[data-testid=rules] tbody tr").count() == len(RULES)
    assert "30 天内有产品到期" in page.locator("[data-testid=rules]").inner_text()
    _shot(page, "model-page-cold-start")


def test_advisor_reads_the_score_on_the_portrait(page, live_server, login, world):
    customer = CustomerFactory(owner=world.advisor_a)
    HoldingFactory(customer=customer, maturity_date=timezone.localdate() + dt.timedelta(days=12), amount=Decimal("1e5"))
    CustomerScore.objects.create(
        customer=customer,
        score=47.3,
        grade="high",
        method="rules",
        model_version="rules",
        scored_at=timezone.now(),
        reasons=[{"code": "maturity_30d", "text": "理财产品 12 天后到期", "weight": 0.9}],
    )
    login(world.advisor_a)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.click("[data-tab=needs]")
    page.wait_for_selector("[data-testid=needs-score]")
    assert page.url.endswith("/tab/needs/")
    text = page.locator("[data-testid=needs]").inner_text()
    assert "47.3" in text and "理财产品 12 天后到期" in text and "高" in text
    assert "30 天内到期" in text  # what the data says: the holding maturing soon
    _shot(page, "portrait-needs")
