"""Campaign and segment pages: who gets them, the lifecycle through the pages, the
builder's live count, a list filter saved as a segment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus, Segment
from campaigns.services.segments import segment_save
from campaigns.tests.factories import approved_script, make_campaign
from customers.models import Tier
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_pages_by_role(world, client_for):
    running = make_campaign(world, status=CampaignStatus.RUNNING)
    draft = make_campaign(world)
    for user, code in ((world.advisor_a, 200), (world.manager_x, 403), (world.campaigner, 200)):
        assert client_for(user).get(reverse("campaigns:list")).status_code == code
    assert client_for(world.advisor_a).get(reverse("campaigns:detail", args=[running.pk])).status_code == 200
    assert client_for(world.advisor_a).get(reverse("campaigns:detail", args=[draft.pk])).status_code == 404
    assert client_for(world.lead_a).get(reverse("campaigns:create")).status_code == 403
    assert client_for(world.lead_a).get(reverse("campaigns:segments")).status_code == 403
    assert client_for(world.advisor_a).post(reverse("campaigns:move", args=[running.pk, "pause"])).status_code == 302
    assert Campaign.objects.get(pk=running.pk).status == CampaignStatus.RUNNING


def test_build_submit_and_approve_through_the_pages(world, client_for):
    script = approved_script(world)
    c = client_for(world.campaigner)
    response = c.post(reverse("campaigns:create"), {"name": "到期提醒", "priority": "6"})
    campaign = Campaign.objects.get(name="到期提醒")
    assert response.status_code == 302
    bad = c.post(reverse("campaigns:step_add", args=[campaign.pk]), {"kind": "send"})
    assert bad.status_code == 200 and campaign.steps.count() == 0
    c.post(reverse("campaigns:step_add", args=[campaign.pk]), {"kind": "send", "channel": "sms", "script": script.pk})
    c.post(reverse("campaigns:move", args=[campaign.pk, "submit"]))
    # the author is not offered the approval, and a forged post is refused
    page = c.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'data-testid="approve"' not in page
    c.post(reverse("campaigns:move", args=[campaign.pk, "approve"]))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PENDING_APPROVAL
    lead = client_for(world.lead_a)
    assert 'data-testid="approve"' in lead.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    lead.post(reverse("campaigns:move", args=[campaign.pk, "approve"]))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
    assert (
        client_for(world.campaigner).post(reverse("campaigns:move", args=[campaign.pk, "nonsense"])).status_code == 404
    )


def test_builder_live_count_and_list_filter_saved_as_segment(world, client_for):
    for _i in range(3):
        CustomerFactory(tier=Tier.BASE, owner=world.advisor_a)
    CustomerFactory(tier=Tier.WEALTH)
    c = client_for(world.campaigner)
    # the customer list offers "save as segment" with its own query string
    listing = c.get(reverse("customers:list") + "?tier=base").content.decode()
    assert reverse("campaigns:segment_new") + "?tier=base" in listing
    page = c.get(reverse("campaigns:segment_new") + "?tier=base")
    assert page.status_code == 200 and page.context["count"] == 3
    preview = c.get(
        reverse("campaigns:segment_preview") + "?groups=2&g0-tier=base&g1-tier=wealth", HTTP_HX_REQUEST="true"
    )
    assert (
        b'data-testid="live-count">4<' in preview.content
        and b'id="segment-preview"' in preview.content
        and b"<html" not in preview.content
    )
    bad = c.get(reverse("campaigns:segment_preview") + "?g0-aum_min=abc", HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and b"alert-danger" in bad.content
    response = c.post(
        reverse("campaigns:segment_new"), {"name": "基础客群", "kind": "dynamic", "groups": "1", "g0-tier": "base"}
    )
    segment = Segment.objects.get(name="基础客群")
    assert response.status_code == 302 and segment.member_count == 3
    detail = c.get(reverse("campaigns:segment_detail", args=[segment.pk])).content.decode()
    assert reverse("customers:list") + "?tier=base" in detail  # the segment opens as the list
    # no name: refused, nothing saved, the page says why
    again = c.post(reverse("campaigns:segment_new"), {"name": "", "groups": "1", "g0-tier": "base"})
    assert again.status_code == 200 and again.context["errors"] and Segment.objects.count() == 1


def test_upload_page_reports_lines(world, client_for):
    known = CustomerFactory()
    c = client_for(world.campaigner)
    upload = SimpleUploadedFile("list.csv", f"{known.customer_no}\nNOPE1\n".encode())
    response = c.post(reverse("campaigns:segment_upload"), {"name": "名单", "file": upload})
    assert response.status_code == 200 and response.context["problems"][0]["line"] == 2
    assert not Segment.objects.exists()


def test_calendar_warns_of_shared_audiences(world, client_for):
    for _i in range(3):
        CustomerFactory(tier=Tier.BASE)
    CustomerFactory(tier=Tier.WEALTH)
    base = segment_save(actor=world.campaigner, name="基础", definition={"groups": [{"tier": "base"}]})
    everyone = segment_save(actor=world.campaigner, name="全部", definition={"groups": [{}]})
    wealth = segment_save(actor=world.campaigner, name="财富", definition={"groups": [{"tier": "wealth"}]})
    june, july = dt.date(2026, 6, 1), dt.date(2026, 7, 1)
    rows = []
    for segment, start, end, status in (
        (base, june, july, CampaignStatus.RUNNING),
        (everyone, june, july, CampaignStatus.SCHEDULED),
        (wealth, july + dt.timedelta(days=1), None, CampaignStatus.SCHEDULED),  # after the others
        (base, june, july, CampaignStatus.DRAFT),  # not on the calendar
    ):
        c = make_campaign(world, status=status, name=segment.name)
        Campaign.objects.filter(pk=c.pk).update(audience=segment, starts_on=start, ends_on=end)
        rows.append(c)
    page = client_for(world.advisor_a).get(reverse("campaigns:calendar"))
    assert page.status_code == 200
    by_name = {r["campaign"].name: r["overlaps"] for r in page.context["rows"]}
    assert set(by_name) == {"基础", "全部", "财富"}
    assert [(o["other"].name, o["shared"]) for o in by_name["基础"]] == [("全部", 3)]
    assert by_name["财富"] == []
    assert client_for(world.manager_x).get(reverse("campaigns:calendar")).status_code == 403
