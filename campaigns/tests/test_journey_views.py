"""The journey editor on the campaign page: who may edit, htmx partials, the version
banner, and bad input answered with a message that changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, CampaignStep, Enrolment
from campaigns.tests.factories import approved_script, make_campaign
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "journey"}


def _snapshot(campaign):
    campaign = Campaign.objects.get(pk=campaign.pk)
    steps = list(
        CampaignStep.objects.filter(campaign=campaign).values_list(
            "version", "position", "kind", "channel", "wait_hours", "yes_position", "no_position"
        )
    )
    return (campaign.journey_version, campaign.draft_version, campaign.control_percent, steps)


def _posts(campaign):
    step = campaign.steps.get(position=1)
    return [
        (reverse("campaigns:step_add", args=[campaign.pk]), {"kind": "wait", "wait": "2", "wait_unit": "days"}),
        (reverse("campaigns:step_edit", args=[step.pk]), {"edit-kind": "wait", "edit-wait": "3"}),
        (reverse("campaigns:step_remove", args=[step.pk]), {}),
        (reverse("campaigns:step_move", args=[step.pk, "down"]), {}),
        (
            reverse("campaigns:journey_settings", args=[campaign.pk]),
            {"settings-control_percent": "20", "settings-exit_rules": ["converted"]},
        ),
        (reverse("campaigns:journey_publish", args=[campaign.pk]), {}),
        (reverse("campaigns:journey_discard", args=[campaign.pk]), {}),
    ]


def test_only_campaign_managers_edit_journeys(world, client_for):
    running = make_campaign(world, status=CampaignStatus.RUNNING, script=approved_script(world))
    CampaignStep.objects.create(campaign=running, position=2, kind="wait", wait_hours=24)
    before = _snapshot(running)
    for user in (world.advisor_a, world.lead_a, world.compliance):
        c = client_for(user)
        for url, data in _posts(running):
            assert c.post(url, data).status_code == 404, (user, url)
        page = c.get(reverse("campaigns:detail", args=[running.pk])).content.decode()
        # everyone who sees the campaign sees its diagram; nobody but its managers an editor
        assert 'data-testid="journey-diagram"' in page and "<svg" in page
        assert 'data-testid="step-form"' not in page and 'data-testid="edit-step"' not in page
        assert 'data-testid="journey-settings"' not in page
    assert _snapshot(running) == before
    # a campaign manager edits (a draft version of the running campaign), and so does a second one
    c = client_for(world.campaigner)
    page = c.get(reverse("campaigns:detail", args=[running.pk])).content.decode()
    assert 'data-testid="step-form"' in page and 'data-testid="version-note"' in page
    assert c.post(*_posts(running)[0]).status_code == 302
    assert Campaign.objects.get(pk=running.pk).draft_version == 2
    other = client_for(world.campaigner2)
    step = running.steps.get(version=2, position=3)
    assert other.post(reverse("campaigns:step_move", args=[step.pk, "up"])).status_code == 302
    assert running.steps.get(pk=step.pk).position == 2
    # an ended campaign's journey is nobody's to edit
    ended = make_campaign(world, status=CampaignStatus.ENDED)
    assert c.post(reverse("campaigns:step_add", args=[ended.pk]), {"kind": "wait", "wait": "1"}).status_code == 404
    assert 'data-testid="step-form"' not in c.get(reverse("campaigns:detail", args=[ended.pk])).content.decode()


def test_the_editor_through_htmx_and_the_version_banner(world, client_for):
    script = approved_script(world)
    running = make_campaign(world, status=CampaignStatus.RUNNING, script=script)
    first = running.steps.get()
    now = timezone.now()
    for i in range(3):
        Enrolment.objects.create(
            campaign=running, customer=CustomerFactory(), bucket=i, step=first, entered_at=now, state="active"
        )
    c = client_for(world.campaigner)
    added = c.post(
        reverse("campaigns:step_add", args=[running.pk]), {"kind": "wait", "wait": "3", "wait_unit": "days"}, **HTMX
    )
    body = added.content.decode()
    assert added.status_code == 200 and "<html" not in body and 'id="journey"' in body
    assert "步骤已添加。" in body
    # the banner: the draft version and who is in flight on each live step
    assert 'data-testid="version-banner"' in body and "正在编辑第 2 版" in body
    assert "第 1 版上有 3 位客户正在旅程中" in body and "第 1 步（发送消息）：3 人" in body
    # a branch on the draft: no reply → back to the wait
    c.post(
        reverse("campaigns:step_add", args=[running.pk]),
        {"kind": "branch", "condition": "replied", "yes_position": "", "no_position": "2"},
        **HTMX,
    )
    assert running.steps.get(version=2, position=3).no_position == 2
    # the edit form opens in place
    wait = running.steps.get(version=2, position=2)
    form = c.get(reverse("campaigns:detail", args=[running.pk]) + f"?edit={wait.pk}", **HTMX).content.decode()
    assert 'data-testid="step-edit-form"' in form and 'value="3"' in form
    edit = {"edit-kind": "wait", "edit-wait": "12", "edit-wait_unit": "hours"}
    c.post(reverse("campaigns:step_edit", args=[wait.pk]), edit, **HTMX)
    assert running.steps.get(pk=wait.pk).wait_hours == 12
    # publish: new entrants follow version 2; the enrolments keep their step of version 1
    published = c.post(reverse("campaigns:journey_publish", args=[running.pk]), **HTMX).content.decode()
    assert 'data-testid="version-banner"' not in published and "旅程 · 第 2 版" in published
    assert Campaign.objects.get(pk=running.pk).journey_version == 2
    assert set(Enrolment.objects.values_list("step_id", flat=True)) == {first.pk}
    page = c.get(reverse("campaigns:detail", args=[running.pk])).content.decode()
    assert page.count('class="jd-step ') == 3 and 'data-to="2"' in page


def test_a_branch_waits_for_an_answer_as_the_editor_says(world, client_for):
    draft = make_campaign(world, script=approved_script(world))
    c = client_for(world.campaigner)
    data = {"kind": "branch", "condition": "responded", "within": "3", "within_unit": "days", "no_position": ""}
    c.post(reverse("campaigns:step_add", args=[draft.pk]), data, **HTMX)
    branch = draft.steps.get(position=2)
    assert (branch.condition, branch.wait_hours) == ("responded", 72)
    page = c.get(reverse("campaigns:detail", args=[draft.pk])).content.decode()
    assert "客户有回应（回复、点击或接通）" in page and "3 天内" in page
    form = c.get(reverse("campaigns:detail", args=[draft.pk]) + f"?edit={branch.pk}", **HTMX).content.decode()
    assert 'name="edit-within" value="3"' in form
    c.post(
        reverse("campaigns:step_edit", args=[branch.pk]), {"edit-kind": "branch", "edit-condition": "replied"}, **HTMX
    )
    assert draft.steps.get(pk=branch.pk).wait_hours is None  # no window: asks at once
    # after a call task, a branch about the call must give the advisor time to call
    call = {"kind": "call_task", "script": str(approved_script(world, title="外呼").pk), "due_hours": "24"}
    c.post(reverse("campaigns:step_add", args=[draft.pk]), call, **HTMX)
    at_once = {"kind": "branch", "condition": "reached"}
    response = c.post(reverse("campaigns:step_add", args=[draft.pk]), at_once, **HTMX).content.decode()
    assert "来不及外呼" in response and draft.steps.count() == 3
    too_long = {"kind": "branch", "condition": "replied", "within": "31", "within_unit": "days"}
    response = c.post(reverse("campaigns:step_add", args=[draft.pk]), too_long, **HTMX)
    assert "form-errors" in response.content.decode() and draft.steps.count() == 3


def test_bad_input_says_why_and_changes_nothing(world, client_for):
    draft = make_campaign(world, script=approved_script(world))
    step = draft.steps.get()
    c = client_for(world.campaigner)
    before = _snapshot(draft)
    cases = [
        (reverse("campaigns:step_add", args=[draft.pk]), {"kind": "wait", "wait": "abc"}, "form-errors"),
        (reverse("campaigns:step_add", args=[draft.pk]), {"kind": "wait"}, "至少一小时"),
        (reverse("campaigns:step_add", args=[draft.pk]), {"kind": "send", "channel": "sms"}, "话术"),
        (reverse("campaigns:step_add", args=[draft.pk]), {"kind": "nonsense"}, "form-errors"),
        (
            reverse("campaigns:step_edit", args=[step.pk]),
            {"edit-kind": "branch", "edit-condition": "replied"},
            "不能以分支开始",
        ),
        (
            reverse("campaigns:step_edit", args=[step.pk]),
            {"edit-kind": "branch", "edit-condition": "replied", "edit-yes_position": "99"},
            "form-errors",
        ),
        (
            reverse("campaigns:journey_settings", args=[draft.pk]),
            {"settings-control_percent": "80"},
            "form-errors",
        ),
        (
            reverse("campaigns:journey_settings", args=[draft.pk]),
            {"settings-control_percent": "5", "settings-exit_rules": ["nope"]},
            "form-errors",
        ),
    ]
    for url, data, says in cases:
        for extra in ({}, HTMX):
            response = c.post(url, data, **extra)
            assert response.status_code == 200, (url, data)
            assert says in response.content.decode(), (url, data)
    assert _snapshot(draft) == before
    # refusals after a redirect say why on the page
    response = c.post(reverse("campaigns:journey_publish", args=[draft.pk]), follow=True)
    assert "没有可发布的旅程草稿版本" in response.content.decode()
    response = c.post(reverse("campaigns:step_move", args=[step.pk, "up"]), follow=True)
    assert "已经是第一步" in response.content.decode()
    assert c.post(reverse("campaigns:step_move", args=[step.pk, "sideways"])).status_code == 404
    assert c.post(reverse("campaigns:step_edit", args=[999_999]), {"edit-kind": "wait"}).status_code == 404
    assert c.get(reverse("campaigns:detail", args=[draft.pk]) + "?edit=x²").status_code == 200
    pending = make_campaign(world, status=CampaignStatus.PENDING_APPROVAL)
    response = c.post(reverse("campaigns:step_add", args=[pending.pk]), {"kind": "wait", "wait": "1"})
    assert response.status_code == 200 and "旅程不能编辑" in response.content.decode()
    assert _snapshot(draft) == before and pending.steps.count() == 1


def _queries_of_the_page(client, campaign) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200
    return len(queries)


def test_the_page_takes_the_same_queries_whatever_the_journey(world, client_for):
    script = approved_script(world)
    c = client_for(world.campaigner)
    counts = []
    for n in (2, 12):
        campaign = make_campaign(world, status=CampaignStatus.RUNNING, script=script, name=f"{n} 步")
        for position in range(2, n + 1):
            CampaignStep.objects.create(campaign=campaign, position=position, kind="wait", wait_hours=24)
        # a draft version too: the banner, the editor and the preview
        CampaignStep.objects.create(campaign=campaign, version=2, position=1, kind="send", channel="sms", script=script)
        Campaign.objects.filter(pk=campaign.pk).update(draft_version=2)
        counts.append(_queries_of_the_page(c, campaign))
    assert counts[0] == counts[1]


def test_attribution_window_on_the_settings_form_and_the_results_page(world, client_for):
    draft = make_campaign(world, script=approved_script(world))
    c = client_for(world.campaigner)
    url = reverse("campaigns:journey_settings", args=[draft.pk])
    page = c.get(reverse("campaigns:detail", args=[draft.pk])).content.decode()
    assert 'name="settings-attribution_days"' in page and "首位客户进入后窗口即固定" in page
    settings_post = {"settings-control_percent": "10", "settings-exit_rules": ["converted"]}
    for bad in ("0", "181", "abc", ""):
        for extra in ({}, HTMX):
            response = c.post(url, {**settings_post, "settings-attribution_days": bad}, **extra).content.decode()
            assert "转化归因窗口须为 1 至 180 之间的整数天" in response, bad
    assert Campaign.objects.get(pk=draft.pk).attribution_days == 30
    c.post(url, {**settings_post, "settings-attribution_days": "14"}, **HTMX)
    assert Campaign.objects.get(pk=draft.pk).attribution_days == 14
    page = c.get(reverse("campaigns:detail", args=[draft.pk])).content.decode()
    assert "归因窗口 14 天" in page
    results = c.get(reverse("campaigns:results", args=[draft.pk])).content.decode()
    assert 'data-testid="attribution-window"' in results and "转化归因窗口 14 天" in results
    # once a customer has entered, the field is disabled, says why, and a posted value is ignored
    Enrolment.objects.create(
        campaign=draft, customer=CustomerFactory(), bucket=1, entered_at=timezone.now(), state="active"
    )
    page = c.get(reverse("campaigns:detail", args=[draft.pk])).content.decode()
    assert "已有客户进入" in page and "disabled" in page.split('name="settings-attribution_days"')[1].split(">")[0]
    c.post(url, {**settings_post, "settings-attribution_days": "60"}, **HTMX)
    assert Campaign.objects.get(pk=draft.pk).attribution_days == 14
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Attribution window: 14 days" in c.get(reverse("campaigns:results", args=[draft.pk])).content.decode()
    response = c.post(url, {**settings_post, "settings-attribution_days": "0"}, **HTMX).content.decode()
    assert "Fixed: customers have entered" in response
