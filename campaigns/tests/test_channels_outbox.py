"""The outbox page: who sees it, what it shows (masked recipients), and its query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import access
from campaigns.channels.dispatch import messages_dispatch
from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.tests.factories import make_campaign
from core.testing import assert_rule_agrees

from .channel_servers import make_message

pytestmark = pytest.mark.django_db

URL = "/campaigns/outbox/"


def _users(world):
    return [
        world.advisor_a,
        world.lead_a,
        world.manager_x,
        world.rm_x,
        world.compliance,
        world.campaigner,
        world.admin,
    ]


def test_the_message_rule_agrees_with_its_predicate(world):
    messages = [make_message(), make_message(channel="email", recipient="a@example.com")]
    allowed = assert_rule_agrees(
        model=Message, action="view", predicate=access.can_view_message, users=_users(world), objects=messages
    )
    assert allowed == 3 * len(messages)  # compliance, campaign manager, administrator


def test_campaign_managers_compliance_and_admins_see_the_outbox(world, client_for, settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {}
    campaign = make_campaign(world, status=CampaignStatus.RUNNING, name="到期续投提醒")
    make_message(campaign=campaign, recipient="13812345678", body="尊敬的李先生：您的理财将于6月1日到期。")
    messages_dispatch()
    assert reverse("campaigns:outbox") == URL
    for user in (world.campaigner, world.compliance, world.admin):
        page = client_for(user).get(URL)
        assert page.status_code == 200
        html = page.content.decode()
        assert "138****5678" in html and "13812345678" not in html
        assert "尊敬的李先生：您的理财将于6月1日到期。" in html and "到期续投提醒" in html
        assert 'data-testid="outbox-table"' in html


@pytest.mark.parametrize("who", ["advisor_a", "lead_a", "manager_x", "rm_x"])
def test_everyone_else_is_refused(world, client_for, who):
    make_message()
    assert client_for(getattr(world, who)).get(URL).status_code == 403


def test_anonymous_goes_to_log_in(client):
    assert client.get(URL).status_code in (302, 403)


def test_the_campaign_list_links_the_outbox_only_for_those_who_may_open_it(world, client_for):
    assert 'data-testid="outbox-link"' in client_for(world.campaigner).get("/campaigns/").content.decode()
    assert 'data-testid="outbox-link"' not in client_for(world.advisor_a).get("/campaigns/").content.decode()


def test_filters_by_status_and_channel_and_ignore_unknown_values(world, client_for):
    make_message(body="排队中的短信")
    make_message(status=MessageStatus.FAILED, body="发送失败的短信")
    make_message(channel="wechat", recipient="o6_bmjrPTlm6_2sgVt7hMZOPfL2M", body="微信消息")
    client = client_for(world.campaigner)
    failed = client.get(URL, {"status": "failed"}).content.decode()
    assert "发送失败的短信" in failed and "排队中的短信" not in failed
    wechat = client.get(URL, {"channel": "wechat"}).content.decode()
    assert "微信消息" in wechat and "排队中的短信" not in wechat
    odd = client.get(URL, {"status": "<script>", "channel": "fax"})
    assert odd.status_code == 200 and "排队中的短信" in odd.content.decode()


def test_the_htmx_table_partial(world, client_for):
    make_message(body="局部刷新")
    answer = client_for(world.campaigner).get(URL, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table")
    html = answer.content.decode()
    assert answer.status_code == 200 and "局部刷新" in html and "<html" not in html


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx)


def test_the_query_count_does_not_grow_with_the_messages(world, client_for, django_assert_num_queries):
    client = client_for(world.campaigner)
    campaign = make_campaign(world, status=CampaignStatus.RUNNING)
    make_message(campaign=campaign)
    few = _queries(client)
    # the session, the user, their role, the capped count, the page (campaigns joined)
    assert few == 5
    for i in range(12):
        make_message(campaign=make_campaign(world, status=CampaignStatus.RUNNING, name=f"活动{i}"))
    assert _queries(client) == few
    with django_assert_num_queries(few):
        client.get(URL)
