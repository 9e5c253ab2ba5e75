"""Demo campaigns: segments and six campaigns in every status of the lifecycle, built
through the real services (steps, submission, the second person's approval, start, pause,
end), so their transitions and audit events are the ones the services write. Campaigns
already there (by code) are left alone."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from compliance.models import Script
from customers.models import Product
from org.calendar import call_hours

from .demo_uplift import seed_uplift_history
from .journeys.enrol import enrol_customers
from .journeys.runner import journey_advance, journey_start
from .models import Campaign, Message, MessageStatus, SegmentKind
from .services import journey, lifecycle
from .services.segments import segment_members, segment_save
from .triggers.services import trigger_set

# How many of a started demo campaign's segment entered it in the past (the rest enter
# through the enrolment job once a worker runs), and how their messages fared.
HISTORY_ENTRANTS = 300
DELIVERED_EVERY, REPLIED_EVERY = 20, 6  # one in 20 undelivered, one in 6 replied

OPENING = "开场白：到期资金关怀"
PRODUCT_INTRO = "稳享180天持有期 产品介绍"
PENSION = "养老理财：客户担心流动性"
PENDING_REVIEW = "沪深300指数基金 推介（待审）"

# (code, name, segment, product code, steps, how far it goes, description)
CAMPAIGNS = [
    (
        "DEMO-MATURITY",
        "理财到期提醒：短信后三天未回复转外呼",
        "maturing",
        "WM003",
        [
            {"kind": "send", "channel": "sms", "script": OPENING},
            {"kind": "wait", "wait_hours": 72},
            {"kind": "branch", "condition": "replied", "yes_position": None, "no_position": 4},
            {"kind": "call_task", "script": PRODUCT_INTRO, "due_hours": 48},
        ],
        "running",
        "到期前7天短信提醒，3天内未回复的客户生成理财经理外呼任务。",
    ),
    (
        "DEMO-RISK",
        "风险测评到期提醒推送",
        "expired",
        None,
        [{"kind": "send", "channel": "app_push", "script": OPENING}],
        "scheduled",
        "风险测评即将到期或已过期的客户，App推送提醒重新测评。",
    ),
    (
        "DEMO-AIBOT",
        "长尾客户AI外呼筛选",
        "long_tail",
        None,
        [
            {"kind": "send", "channel": "ai_bot", "script": OPENING, "lead_intents": ["ask_wealth_product"]},
            {"kind": "call_task", "script": PENSION},
        ],
        "pending_approval",
        "AI外呼筛选长尾客户需求，有意向的客户交理财经理确认线索。",
    ),
    (
        "DEMO-OUTFLOW",
        "大额流出挽留外呼",
        "wealth",
        None,
        [{"kind": "call_task", "script": PENDING_REVIEW}],
        "draft",
        "近30天资产下降超过20%的客户，由理财经理外呼挽留。话术尚待合规审批。",
    ),
    (
        "DEMO-BIRTHDAY",
        "生日祝福",
        "base",
        None,
        [{"kind": "send", "channel": "wechat", "script": OPENING}],
        "paused",
        "客户生日当天微信祝福。",
    ),
    (
        "DEMO-LASTQ",
        "上季度到期续投（已结束）",
        "base",
        "WM003",
        [{"kind": "send", "channel": "sms", "script": OPENING}, {"kind": "call_task", "script": PRODUCT_INTRO}],
        "ended",
        "上季度到期客户的续投策略，已结束。",
    ),
]
# Event-triggered demo campaigns (事件式经营): the trigger each one has.
TRIGGERS = {
    "DEMO-RISK": {"kind": "risk_expiry", "days": 30, "entry_rule": "once_per_days", "entry_days": 90},
    "DEMO-OUTFLOW": {"kind": "outflow", "percent": Decimal("20"), "window_days": 30, "entry_rule": "once_ever"},
    "DEMO-BIRTHDAY": {"kind": "birthday", "days": 0, "entry_rule": "each_event"},
}
ORDER = ["draft", "pending_approval", "scheduled", "running", "paused", "ended"]


def _segments(author) -> dict:
    return {
        "base": segment_save(actor=author, name="基础层级客户", definition={"groups": [{"tier": "base"}]}),
        "maturing": segment_save(
            actor=author,
            name="30天内到期且授权短信的客户",
            definition={"groups": [{"maturity_within_days": "30", "consent": "sms"}]},
        ),
        "long_tail": segment_save(actor=author, name="长尾客户", definition={"groups": [{"tier": "long_tail"}]}),
        "wealth": segment_save(
            actor=author,
            name="财富及私行客户（快照）",
            definition={"groups": [{"tier": "wealth"}, {"tier": "private"}]},
            kind=SegmentKind.SNAPSHOT,
        ),
        "expired": segment_save(
            actor=author, name="风险测评过期客户", definition={"groups": [{"assessment_expired": "true"}]}
        ),
    }


def seed_campaigns(*, author, approver, today: dt.date) -> int:
    """The demo campaigns (``author`` builds, ``approver`` approves); returns how many were created."""
    if Campaign.objects.filter(code__startswith="DEMO-").exists():
        return 0
    segments = _segments(author)
    scripts = {s.title: s for s in Script.objects.filter(title__in=[OPENING, PRODUCT_INTRO, PENSION, PENDING_REVIEW])}
    created = 0
    for code, name, segment, product_code, steps, goal, description in CAMPAIGNS:
        ended = goal == "ended"
        campaign = lifecycle.campaign_create(
            actor=author,
            code=code,
            name=name,
            description=description,
            audience=segments[segment],
            product=Product.objects.filter(code=product_code).first() if product_code else None,
            priority=7 if code == "DEMO-OUTFLOW" else 5,
            starts_on=today - dt.timedelta(days=90 if ended else 3),
            ends_on=today - dt.timedelta(days=1) if ended else today + dt.timedelta(days=30),
        )
        if code in TRIGGERS:
            trigger_set(actor=author, campaign=campaign, **TRIGGERS[code])
        forward = []  # a branch to a later step points there once that step exists
        for step in steps:
            fields = {**step, "script": scripts.get(step["script"])} if "script" in step else dict(step)
            target = fields.pop("no_position", None) if fields["kind"] == "branch" else None
            added = journey.journey_step_add(actor=author, campaign=campaign, **fields)
            if target is not None:
                forward.append((added, {**fields, "no_position": target}))
        for added, fields in forward:
            journey.journey_step_edit(actor=author, step=added, **fields)
        created += 1
        # A script still awaiting review keeps its campaign a draft (launch is blocked).
        with contextlib.suppress(ValidationError):
            _advance(campaign, goal=goal, author=author, approver=approver, today=today)
    # A past campaign with a half control group, for the uplift model to learn from.
    if seed_uplift_history(author=author, approver=approver, today=today, script=scripts.get(OPENING)):
        created += 1
    return created


def _morning(day: dt.date) -> dt.datetime:
    start, _end, tz = call_hours()
    return dt.datetime.combine(day, start, tzinfo=tz) + dt.timedelta(hours=1)


def _history(campaign: Campaign, *, since: dt.date) -> None:
    """The past of a started campaign: part of its segment entered on ``since``, got its
    messages (most delivered, some replied, through the outbox as in development), and
    moved on through the journey's waits and call tasks up to now."""
    entered_at = _morning(since)
    ids = list(
        segment_members(segment=campaign.audience).order_by("pk").values_list("pk", flat=True)[:HISTORY_ENTRANTS]
    )
    entry = enrol_customers(campaign=campaign, entrants=ids, now=entered_at)
    journey_start(entry.enrolments, now=entered_at)
    sent = entered_at + dt.timedelta(minutes=2)
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    for n, message in enumerate(messages):
        message.adapter, message.attempts, message.sent_at = "outbox", 1, sent
        if n % DELIVERED_EVERY == 0:
            message.status, message.last_error = MessageStatus.FAILED, "号码停机"
            continue
        message.status, message.delivered_at = MessageStatus.DELIVERED, sent + dt.timedelta(seconds=5)
        if n % REPLIED_EVERY == 1:
            message.replied_at = sent + dt.timedelta(hours=3)
    Message.objects.bulk_update(
        messages, ["adapter", "attempts", "sent_at", "status", "last_error", "delivered_at", "replied_at"]
    )
    now = min(timezone.now(), _morning(since + dt.timedelta(days=90)))
    for _ in range(10):  # a few rounds: waits end, branches decide, call tasks are placed
        if journey_advance(now=now, limit=5000)["moved"] == 0:
            break


def _advance(campaign, *, goal: str, author, approver, today: dt.date) -> None:
    if ORDER.index(goal) >= ORDER.index("pending_approval"):
        lifecycle.campaign_submit(actor=author, campaign=campaign)
    if ORDER.index(goal) >= ORDER.index("scheduled"):
        lifecycle.campaign_approve_launch(actor=approver, campaign=campaign)
    if ORDER.index(goal) >= ORDER.index("running"):
        campaign = lifecycle.campaign_start(actor=author, campaign=campaign)
        _history(campaign, since=campaign.starts_on or today)
    if goal == "paused":
        lifecycle.campaign_pause(actor=author, campaign=campaign, note="节假日暂停")
    if goal == "ended":
        lifecycle.campaign_end(actor=author, campaign=campaign, note="到期结束")
