"""Generate a customer's wealth report from the portrait and download it, in headless
Chromium (screenshots in /tmp/shots/reports/)."""

from __future__ import annotations

import os

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from reports.models import WealthReport

from .factories import approve_report_wording, customer_with_book

SHOTS = "/tmp/shots/reports"  # noqa: S108 (screenshots for a human to look at)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_generate_and_download_from_the_portrait(world, page, login, live_server, settings, tmp_path):
    os.makedirs(SHOTS, exist_ok=True)
    settings.MEDIA_ROOT = tmp_path
    approve_report_wording(world)
    customer = customer_with_book(world.advisor_a)
    login(world.advisor_a)
    page.goto(f"{live_server.url}{reverse('customers:tab', args=[customer.pk, 'wealth_report'])}")
    expect(page.locator("[data-testid=wealth-report-tab]")).to_be_visible()
    # The scan runs as the request commits (Celery is eager): give it time.
    page.set_default_timeout(90_000)
    page.click("[data-testid=generate-report]")
    row = page.locator("[data-testid=wealth-reports] tr[data-report]")
    expect(row).to_have_count(1)
    assert WealthReport.objects.filter(customer=customer).count() == 1
    page.screenshot(path=f"{SHOTS}/1-generated.png", full_page=True)

    with page.expect_download() as info:
        page.click("[data-testid=download-report]")
    path = tmp_path / "downloaded.pdf"
    info.value.save_as(path)
    doc = pdfium.PdfDocument(str(path))
    assert customer.name in doc[0].get_textpage().get_text_range()
    doc[0].render(scale=1.4).to_pil().save(f"{SHOTS}/2-report-page-1.png")

    # Once the scan has passed (Celery is eager), the report can be marked as sent.
    page.reload()
    expect(page.locator("[data-testid=scan-state]")).to_contain_text("已通过")
    page.select_option("[data-testid=wealth-reports] select[name=channel]", "email")
    page.click("[data-testid=deliver-report]")
    expect(page.locator("[data-testid=wealth-reports] tr[data-report]")).to_contain_text("电子邮件")
    page.screenshot(path=f"{SHOTS}/3-sent.png", full_page=True)
    assert WealthReport.objects.get(customer=customer).delivery_channel == "email"
