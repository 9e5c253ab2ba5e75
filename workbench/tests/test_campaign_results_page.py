"""A campaign's results page in Chinese and in English: its words translated, no code
on the screen (the walk's rule, ``workbench.tests.walk.code_like``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Arm, Campaign, CampaignStatus, Enrolment, JourneyEvent, JourneyEventKind
from customers.models import AssetSnapshot
from customers.tests.factories import CustomerFactory, ProductFactory

from .walk import CJK, code_like, visible_text


@pytest.fixture
def campaign(world):
    campaign = Campaign.objects.create(
        code="R1", name="到期续投", status=CampaignStatus.RUNNING, product=ProductFactory(), created_by=world.campaigner
    )
    entered = timezone.now() - dt.timedelta(days=100)
    for i in range(8):
        enrolment = Enrolment.objects.create(
            campaign=campaign,
            customer=CustomerFactory(),
            bucket=i,
            arm=Arm.CONTROL if i % 4 == 0 else Arm.TREATMENT,
            entered_at=entered + dt.timedelta(days=i),
        )
        if i % 2:
            JourneyEvent.objects.create(
                campaign=campaign, enrolment=enrolment, kind=JourneyEventKind.CONVERTED, at=enrolment.entered_at
            )
        day = timezone.localdate(enrolment.entered_at)
        for offset, aum in ((-1, 1000 * (i + 1)), (30, 1100 * (i + 1) + i), (90, 1200 * (i + 1) - i)):
            AssetSnapshot.objects.create(
                customer=enrolment.customer, date=day + dt.timedelta(days=offset), aum=Decimal(aum)
            )
    return campaign


@pytest.fixture
def _keep_the_language():
    before = translation.get_language()
    yield
    translation.activate(before)


@pytest.mark.django_db
@pytest.mark.usefixtures("_keep_the_language")
@pytest.mark.parametrize(("lang", "words"), [("zh-hans", "中期数据"), ("en", "Interim figures")])
def test_the_results_page_in_both_languages_shows_no_code(world, client, campaign, lang, words):
    client.force_login(world.campaigner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    response = client.get(reverse("campaigns:results", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html
    texts = visible_text(html)
    assert code_like(" ".join(texts)) == []
    if lang == "en":
        # Only the campaign's name, the user's name and the language switch stay Chinese.
        chinese = {t for t in texts if CJK.search(t) and campaign.name not in t}
        assert chinese <= {"简体中文", world.campaigner.staff_profile.display_name}, chinese
    else:
        assert "实验组" in html and "对照组" in html and "最小" in html and "转化的口径" in html
