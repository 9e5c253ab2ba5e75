"""A/B variants: hashed proportions on 100,000 ids, stability, the runner sending each
variant's template and channel, the control group never contacted, editing in words,
the launch blocked on a variant's unapproved script, promotion with its audit row, and
who may do what."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from campaigns.journeys.assignment import BUCKETS, arm_of, bucket_of, variant_of
from campaigns.journeys.enrol import enrol_customers
from campaigns.journeys.runner import journey_advance
from campaigns.models import (
    Arm,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    Message,
    StepKind,
    Variant,
    VariantStep,
)
from campaigns.results import results_refresh
from campaigns.services.lifecycle import campaign_submit
from campaigns.tests.factories import approved_script, draft_script, make_campaign
from campaigns.tests.test_journeys import NOW, customers, running
from campaigns.variants import variant_add, variant_promote, variant_remove, variant_step_set, variant_update
from compliance.models import ScriptVersion, VersionStatus
from core.models import AuditEvent
from customers.models import Channel, ContactLedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The refusals are matched in English (their Chinese is in the catalogue)."""
    with translation.override("en"):
        yield


# --- hashing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [(1, 1), (1, 1, 2), (3, 1), (5, 3, 1, 1)])
def test_variant_shares_follow_the_weights_on_100000_ids(weights):
    control_percent = 10
    table = list(enumerate(weights, start=1))
    counts = Counter(variant_of(bucket_of("salt-v", cid), control_percent, table) for cid in range(1, 100_001))
    total = sum(weights)
    assert abs(counts[None] / 100_000 - 0.10) < 0.005  # the control group
    for pk, weight in table:
        expected = 0.9 * weight / total
        assert abs(counts[pk] / 100_000 - expected) < 0.006, (pk, counts[pk])


def test_variants_are_stable_and_only_the_treated_get_one():
    table = [(7, 2), (8, 1)]
    first = [variant_of(bucket_of("s", cid), 20, table) for cid in range(1, 5001)]
    assert first == [variant_of(bucket_of("s", cid), 20, table) for cid in range(1, 5001)]
    for cid, variant in zip(range(1, 5001), first, strict=True):
        assert (variant is None) == (arm_of(bucket_of("s", cid), 20) == Arm.CONTROL)
    # The edges: the first treated bucket goes to the first variant, the last to the last.
    assert variant_of(2000, 20, table) == 7 and variant_of(BUCKETS - 1, 20, table) == 8
    assert variant_of(1999, 20, table) is None
    # A weight of 0 takes nobody; a winner takes every treated bucket.
    assert {variant_of(b, 20, [(7, 0), (8, 1)]) for b in range(2000, BUCKETS)} == {8}
    assert {variant_of(b, 20, table, winner=7) for b in range(2000, BUCKETS)} == {7}
    assert variant_of(5, 20, table, winner=7) is None


# --- a journey with variants -----------------------------------------------------------------


@pytest.fixture
def scripts(world):
    return approved_script(world, title="模板甲"), approved_script(world, title="模板乙")


def ab_campaign(world, scripts, *, control_percent=20):
    first, second = scripts
    campaign = running(
        world, steps=[{"kind": StepKind.SEND, "channel": Channel.SMS, "script": first}], control_percent=control_percent
    )
    a = variant_add(actor=world.campaigner, campaign=campaign, label="A", weight=1)
    b = variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)
    step = CampaignStep.objects.get(campaign=campaign)
    variant_step_set(actor=world.campaigner, variant=b, step=step, script=second, channel=Channel.WECHAT)
    return campaign, a, b


def test_each_variant_sends_its_template_and_channel_and_control_gets_nothing(world, scripts):
    campaign, a, b = ab_campaign(world, scripts)
    people = customers(world, 40, channels=(Channel.SMS, Channel.WECHAT))
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    enrolments = list(Enrolment.objects.filter(campaign=campaign))
    by_variant = Counter(e.variant_id for e in enrolments)
    assert by_variant[a.pk] > 0 and by_variant[b.pk] > 0 and by_variant[None] > 0
    versions = {s.pk: ScriptVersion.objects.get(script=s, status=VersionStatus.APPROVED).pk for s in scripts}
    for e in enrolments:
        sent = list(Message.objects.filter(enrolment=e))
        if e.arm == Arm.CONTROL:
            assert e.variant_id is None and sent == []
            continue
        assert len(sent) == 1
        if e.variant_id == a.pk:
            assert (sent[0].channel, sent[0].script_version_id) == (Channel.SMS, versions[scripts[0].pk])
        else:
            assert (sent[0].channel, sent[0].script_version_id) == (Channel.WECHAT, versions[scripts[1].pk])
    control = [e.customer_id for e in enrolments if e.arm == Arm.CONTROL]
    assert not ContactLedgerEntry.objects.filter(customer_id__in=control).exists()
    assert JourneyEvent.objects.filter(
        enrolment__arm=Arm.CONTROL, campaign=campaign, kind=JourneyEventKind.CONTROL
    ).count() == len(control)


def test_new_weights_apply_to_new_entrants_and_earlier_enrolments_keep_their_variant(world, scripts):
    campaign, a, b = ab_campaign(world, scripts)
    people = customers(world, 30)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    before = dict(Enrolment.objects.filter(campaign=campaign).values_list("customer_id", "variant_id"))
    # Entering again under a new occurrence with the same weights: the same variant.
    enrol_customers(campaign=campaign, entrants=[(c.pk, "again") for c in people], now=NOW)
    again = dict(
        Enrolment.objects.filter(campaign=campaign, occurrence="again").values_list("customer_id", "variant_id")
    )
    assert again == before
    variant_update(actor=world.campaigner, variant=a, label="A", weight=0)
    enrol_customers(campaign=campaign, entrants=[(c.pk, "third") for c in people], now=NOW)
    third = set(Enrolment.objects.filter(campaign=campaign, occurrence="third").values_list("variant_id", flat=True))
    assert third <= {b.pk, None}
    assert (
        dict(Enrolment.objects.filter(campaign=campaign, occurrence="").values_list("customer_id", "variant_id"))
        == before
    )


# --- editing -----------------------------------------------------------------------------------


def test_bad_weights_and_names_are_refused_in_words_and_change_nothing(world, scripts):
    campaign, a, b = ab_campaign(world, scripts)
    with pytest.raises(ValidationError) as error:
        variant_update(actor=world.campaigner, variant=a, label="A", weight=-1)
    assert "0" in str(error.value)
    variant_update(actor=world.campaigner, variant=a, label="A", weight=0)
    with pytest.raises(ValidationError, match="weight above 0"):
        variant_update(actor=world.campaigner, variant=b, label="B", weight=0)
    with pytest.raises(ValidationError):
        variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)  # the name is taken
    with pytest.raises(ValidationError):
        variant_add(actor=world.campaigner, campaign=campaign, label=" ", weight=1)
    assert list(Variant.objects.filter(campaign=campaign).values_list("label", "weight")) == [("A", 0), ("B", 1)]


def test_only_approved_scripts_and_message_channels_can_be_chosen(world, scripts):
    campaign, a, _b = ab_campaign(world, scripts)
    step = CampaignStep.objects.get(campaign=campaign)
    with pytest.raises(ValidationError, match="approved"):
        variant_step_set(actor=world.campaigner, variant=a, step=step, script=draft_script(world), channel="")
    with pytest.raises(ValidationError):
        variant_step_set(actor=world.campaigner, variant=a, step=step, script=None, channel=Channel.PHONE)
    assert not VariantStep.objects.filter(variant=a).exists()


def test_a_variant_with_entrants_cannot_be_removed(world, scripts):
    campaign, a, b = ab_campaign(world, scripts, control_percent=0)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 10)], now=NOW)
    used = a if Enrolment.objects.filter(variant=a).exists() else b
    with pytest.raises(ValidationError, match="weight 0"):
        variant_remove(actor=world.campaigner, variant=used)
    assert Variant.objects.filter(pk=used.pk).exists()


def test_the_launch_is_blocked_until_every_variant_script_is_approved(world):
    campaign = make_campaign(world, script=approved_script(world))
    variant = variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)
    draft = draft_script(world, title="变体话术")
    VariantStep.objects.create(variant=variant, step=campaign.steps.get(), script=draft)  # approved once, say
    with pytest.raises(ValidationError, match="变体话术"):
        campaign_submit(actor=world.campaigner, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


# --- promotion -------------------------------------------------------------------------------


def _convert(campaign, variant, share: float):
    """Mark the first ``share`` of the variant's enrolments converted."""
    enrolments = list(Enrolment.objects.filter(campaign=campaign, variant=variant).order_by("pk"))
    for e in enrolments[: int(len(enrolments) * share)]:
        JourneyEvent.objects.create(campaign=campaign, enrolment=e, kind=JourneyEventKind.CONVERTED, at=NOW)


def test_promoting_a_variant_not_significantly_better_needs_the_confirmation_and_is_audited(world, scripts):
    campaign, a, b = ab_campaign(world, scripts)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 20)], now=NOW)
    results_refresh(campaign_id=campaign.pk, now=NOW)
    with pytest.raises(ValidationError, match="not significantly better"):
        variant_promote(actor=world.campaigner, variant=b, now=NOW)
    assert not Variant.objects.filter(campaign=campaign, promoted_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(verb="campaign.variant_promote").exists()
    variant_promote(actor=world.campaigner, variant=b, confirmed=True, now=NOW)
    event = AuditEvent.objects.get(verb="campaign.variant_promote")
    assert event.actor == world.campaigner and event.target_id == str(campaign.pk)
    assert event.details["variant"] == "B" and event.details["significant"] == "not_significant_confirmed"
    b.refresh_from_db()
    assert b.promoted_at == NOW and b.promoted_by == world.campaigner


def test_a_significant_winner_takes_all_new_entrants_and_earlier_ones_keep_theirs(world, scripts):
    campaign, a, b = ab_campaign(world, scripts)
    people = customers(world, 160)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    _convert(campaign, b, 0.8)  # B converts 80 %, A and control nobody
    results_refresh(campaign_id=campaign.pk, now=NOW)
    before = dict(Enrolment.objects.filter(campaign=campaign).values_list("pk", "variant_id"))
    variant_promote(actor=world.campaigner, variant=b, now=NOW + dt.timedelta(minutes=1))
    event = AuditEvent.objects.get(verb="campaign.variant_promote")
    assert event.details["significant"] == "significantly_better" and event.details["uplift"] > 0
    enrol_customers(campaign=campaign, entrants=[(c.pk, "after") for c in people], now=NOW)
    after = Enrolment.objects.filter(campaign=campaign, occurrence="after")
    assert set(after.filter(arm=Arm.TREATMENT).values_list("variant_id", flat=True)) == {b.pk}
    assert set(after.filter(arm=Arm.CONTROL).values_list("variant_id", flat=True)) == {None}
    assert dict(Enrolment.objects.filter(pk__in=before).values_list("pk", "variant_id")) == before


def test_promotion_is_for_campaign_managers_only(world, scripts):
    campaign, _a, b = ab_campaign(world, scripts)
    for who in (world.lead_a, world.compliance, world.advisor_a):
        with pytest.raises(PermissionDenied):
            variant_promote(actor=who, variant=b, confirmed=True, now=NOW)
    with pytest.raises(PermissionDenied):
        variant_add(actor=world.lead_a, campaign=campaign, label="C", weight=1)


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "view", "edit"),
    [
        ("campaigner", 200, 200),
        ("admin", 200, 200),
        ("compliance", 200, 404),
        ("lead_a", 200, 404),
        ("advisor_a", 200, 404),
        ("manager_x", 403, 404),
    ],
)
def test_who_may_see_and_edit_the_variants(world, scripts, client, who, view, edit):
    campaign, a, _b = ab_campaign(world, scripts)
    client.force_login(getattr(world, who))
    page = client.get(reverse("campaigns:variants", args=[campaign.pk]))
    assert page.status_code == view
    if view == 200:
        assert ('data-testid="variant-add"' in page.content.decode()) == (edit == 200)
    response = client.post(
        reverse("campaigns:variant_edit", args=[a.pk]), {f"v{a.pk}-label": "甲", f"v{a.pk}-weight": "3"}
    )
    assert response.status_code in ((302,) if edit == 200 else (edit,))
    a.refresh_from_db()
    assert (a.label, a.weight) == (("甲", 3) if edit == 200 else ("A", 1))
    promote = client.post(reverse("campaigns:variant_promote", args=[a.pk]), {"confirm": "yes"})
    assert promote.status_code == (302 if edit == 200 else 404)


def test_the_htmx_editor_answers_bad_input_in_words(world, scripts, client):
    campaign, a, _b = ab_campaign(world, scripts)
    client.force_login(world.campaigner)
    response = client.post(
        reverse("campaigns:variant_add", args=[campaign.pk]), {"label": "C", "weight": "-5"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="variants"' in html and "<html" not in html
    assert 'data-testid="form-errors"' in html
    assert not Variant.objects.filter(label="C").exists()
    response = client.post(
        reverse("campaigns:variant_add", args=[campaign.pk]), {"label": "C", "weight": "2"}, HTTP_HX_REQUEST="true"
    )
    assert Variant.objects.filter(campaign=campaign, label="C", weight=2).exists()
    assert AuditEvent.objects.filter(verb="campaign.variant_add", details__variant="C").exists()
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:variants", args=[campaign.pk]) in detail


def test_the_variants_page_takes_the_same_queries_for_few_or_many(world, scripts, client):
    campaign, _a, _b = ab_campaign(world, scripts)
    client.force_login(world.campaigner)
    url = reverse("campaigns:variants", args=[campaign.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 30)], now=NOW)
    variant_add(actor=world.campaigner, campaign=campaign, label="C", weight=1)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)
