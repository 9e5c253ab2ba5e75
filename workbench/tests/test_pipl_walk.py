"""PIPL: every page and API answer about one customer leaves an access record.

The walk takes every URL of the project from the resolver. Each one is either a page or
API answer about one customer (``SHOWS_A_CUSTOMER``: opened here as a user who may see
the customer, it must write exactly one access record of that user and customer) or is
listed in ``SHOWS_NO_CUSTOMER`` with the reason. A URL added to the project in neither
fails the first test until someone decides which it is.

The Django admin is walked by rule: the change page of every model that is a customer
or has a ``customer`` must record (its admin class takes ``CustomerViewRecorded``).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from calls.tests.factories import CallLogFactory
from compliance.models import Flag
from compliance.services import surveillance as surveillance_services
from customers.admin import CustomerViewRecorded
from customers.models import AccessKind, AccessRecord, Customer, ViewPlace
from customers.tests.factories import CustomerFactory, HoldingFactory
from customers.views import portrait_tabs
from referrals import services as referral_services
from referrals.tests.factories import high_lead
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db

# url name -> (who opens it, how to build the URL from the world, the place recorded)
SHOWS_A_CUSTOMER = {
    "customers:detail": ("advisor_a", lambda w: reverse("customers:detail", args=[w.customer.pk]), ViewPlace.PORTRAIT),
    "calls:call": ("advisor_a", lambda w: reverse("calls:call", args=[w.lead.pk]), ViewPlace.CALL_SCREEN),
    "calls:product_check": (
        "advisor_a",
        lambda w: reverse("calls:product_check", args=[w.lead.pk]),
        ViewPlace.PRODUCT_CHECK,
    ),
    "referrals:detail": ("manager_x", lambda w: reverse("referrals:detail", args=[w.referral.pk]), ViewPlace.REFERRAL),
    "compliance:flag_detail": (
        "compliance",
        lambda w: reverse("compliance:flag_detail", args=[w.flag.pk]),
        ViewPlace.FLAG,
    ),
    "api-referral-detail": (
        "manager_x",
        lambda w: reverse("api-referral-detail", args=[w.referral.pk]),
        ViewPlace.API_REFERRAL,
    ),
    "scoring-customer-score": (
        "advisor_a",
        lambda w: reverse("scoring-customer-score", args=[w.customer.pk]),
        ViewPlace.API_SCORE,
    ),
}
# Walked per tab below (every registered tab of the portrait).
PORTRAIT_TAB_ROUTE = "customers:tab"

_ACTION = "an action (POST): it writes; the page it returns to records its own view"
_LIST = "a list or a figure over many customers (masked names, no personal details): lists record no view"
SHOWS_NO_CUSTOMER = {
    "home": "the user's home: figures and their own lists",
    "login": "the log-in page",
    "logout": "log-out",
    "set_language": "the language switch",
    "workbench:audit": "the audit log: actions, no personal data",
    "workbench:jobs": "background jobs",
    "workbench:job_progress": "a job's progress",
    "workbench:notifications": "the user's notifications",
    "cadence:overview": _LIST,
    "cadence:teams": "figures per team: counts, no customer",
    "cadence:advisor": _LIST,
    "cadence:targets": "the yearly targets: settings, no customer",
    "workbench:notification_badge": "the unread count",
    "workbench:notifications_read": _ACTION,
    "customers:list": _LIST,
    "customers:export": "the export of personal data: recorded as an export (customers_export_record)",
    "customers:access_log": "the PIPL log itself (compliance and administrators)",
    "customers:imports": "the uploader's own files",
    "customers:import_detail": "the uploader's own file and its mapping",
    "customers:import_status": "an import's progress",
    "customers:import_errors": "the uploader's own rejected rows",
    "customers:reveal": "recorded as a reveal (customer_reveal_pii), with the typed reason",
    "customers:tag_add": _ACTION,
    "customers:tag_remove": _ACTION,
    "calls:queue": _LIST,
    "calls:claim_next": _ACTION,
    "calls:kpis": "team figures per advisor",
    "calls:capacity": "advisors' capacity and planned-call counts (staff, no customers)",
    "calls:capacity_set": _ACTION,
    "calls:claim": _ACTION,
    "calls:confirm": "an action; a refused form shows the call screen again, which records the view",
    "calls:log_call": "an action; a refused form shows the call screen again, which records the view",
    "scoring:model": "the model's figures",
    "scoring:cutoffs_preview": "grade counts for proposed cut-offs",
    "scoring:cutoffs": _ACTION,
    "scoring:retrain": _ACTION,
    "scoring:rescore": _ACTION,
    "scoring:activate": _ACTION,
    "referrals:list": _LIST,
    "referrals:bulk_accept": _ACTION,
    "referrals:dashboard": _LIST,
    "dashboards:funnel": "figures over many customers",
    "dashboards:operations": "figures per advisor and team",
    "dashboards:branch": "figures per relationship manager and branch",
    "dashboards:records": _LIST,
    "referrals:export": "an export: recorded as one (referral_export_record)",
    "referrals:accept": _ACTION,
    "referrals:reject": _ACTION,
    "referrals:reassign": _ACTION,
    "referrals:follow_up": _ACTION,
    "referrals:outcome": _ACTION,
    "referrals:return": _ACTION,
    "reports:list": _LIST,
    "reports:batch": _ACTION,
    "reports:generate": "an action; it records the generation as a view of the customer (place: wealth report)",
    "reports:download": "the report's PDF: recorded as an export (reports.services.report_download_record)",
    "reports:deliver": _ACTION,
    "compliance:scripts": "approved scripts",
    "compliance:script_create": "a script form",
    "compliance:script_detail": "a script and its versions",
    "compliance:script_revise": "a script form",
    "compliance:version_edit": "a script form",
    "compliance:version_submit": _ACTION,
    "compliance:version_review": "a script version under review",
    "compliance:version_approve": _ACTION,
    "compliance:version_reject": _ACTION,
    "compliance:version_retire": _ACTION,
    "compliance:review_queue": _LIST,
    "compliance:script_reviews": "scripts awaiting review",
    "compliance:flags_bulk_close": _ACTION,
    "compliance:qa_settings": "sampling settings",
    "compliance:rescan": "rescan jobs",
    "compliance:flag_claim": _ACTION,
    "compliance:flag_release": _ACTION,
    "compliance:flag_escalate": _ACTION,
    "compliance:flag_close": _ACTION,
    "compliance:my_flags": "the advisor's own review outcomes",
    "compliance:lexicon": "the lexicon",
    "compliance:lexicon_create": "a lexicon form",
    "compliance:lexicon_try": "a lexicon test box",
    "compliance:lexicon_edit": "a lexicon rule",
    "compliance:reports": "figures",
    "compliance:reports_export": "figures",
    "api-me": "the caller's own profile",
    "api-interactions": "ingest (write) of the bank's data",
    "api-ingest": "ingest (write) of the bank's data",
    "api-leads": _LIST,
    "api-leads-claim-next": _ACTION,
    "api-lead-confirm": _ACTION,
    "api-call-logs": _LIST,
    "scoring-models": "model versions",
    "api-referral-list": _LIST,
    "api-referral-accept": "answers the referral: recorded like its detail (referrals.api._data)",
    "api-referral-reject": "answers the referral: recorded like its detail (referrals.api._data)",
    "api-referral-outcome": "answers the referral: recorded like its detail (referrals.api._data)",
    "api-compliance-scripts": "approved scripts",
    "api-compliance-scan": "a scan of text the caller sends",
    "api-compliance-flags": _LIST,
    "api-schema": "the OpenAPI schema",
    "api-docs": "the API documentation",
    "api-call-measures": "call measures per advisor: counts, no customer",
    "campaigns:list": "campaigns: names, states and sizes",
    "campaigns:calendar": "campaigns by date, with audience overlap counts",
    "campaigns:create": "a campaign form",
    "campaigns:edit": "a campaign form",
    "campaigns:trigger": "a campaign's trigger form and the last sweep's counts",
    "campaigns:detail": "a campaign: its steps, the journey diagram's counts and the exclusion funnel's counts",
    "campaigns:results": "a campaign's results: counts, rates and AUM sums per group, no customer",
    "campaigns:variants": "a campaign's A/B variants: names, weights, counts and templates, no customer",
    "campaigns:variant_add": "adds an A/B variant (POST): the variants section, no customer",
    "campaigns:variant_edit": "changes an A/B variant (POST): the variants section, no customer",
    "campaigns:variant_remove": "removes an A/B variant (POST): the variants section, no customer",
    "campaigns:variant_step": "changes a variant's step (POST): the variants section, no customer",
    "campaigns:variant_order": "changes a variant's order of the steps (POST): the variants section, no customer",
    "campaigns:results_export": "a campaign's results per arm as a file: counts, rates, AUM differences, no customer",
    "campaigns:variant_promote": "promotes a variant (POST): back to the results, no customer",
    "campaigns:step_add": _ACTION,
    "campaigns:step_remove": _ACTION,
    "campaigns:step_edit": _ACTION,
    "campaigns:step_move": _ACTION,
    "campaigns:journey_settings": _ACTION,
    "campaigns:journey_publish": _ACTION,
    "campaigns:journey_discard": _ACTION,
    "campaigns:move": _ACTION,
    "campaigns:segments": "segments: names, kinds and counts",
    "campaigns:segment_new": "the segment builder",
    "campaigns:segment_preview": _LIST + " (the builder's count and masked sample)",
    "campaigns:segment_upload": "an uploaded list of customer numbers, checked line by line",
    "campaigns:segment_detail": _LIST + " (a segment's count and masked sample)",
    "campaigns:outbox": _LIST + " (messages with masked recipients)",
    "campaigns:holdout": "the global holdout's draws (share, dates, who drew) and a count, no customer",
    "campaigns:holdout_report": "the global-holdout report: counts, rates and AUM means per group and month",
    "campaigns:holdout_report_export": "the global-holdout report's figures as a file, no customer",
    "campaigns:uplift": "the uplift model's held-out figures and versions: no customer",
    "campaigns:uplift_train": _ACTION,
    "campaigns:segment_uplift": _ACTION,
    "api-channel-receipts": "a gateway's receipt (write) about a message",
    "api-channel-bot-sessions": "a gateway's AI-bot session (write), recorded as an interaction",
    "compliance:concept_groups": "the lexicon's synonym groups",
    "compliance:concept_group_create": "a synonym group form",
    "compliance:concept_group_edit": "a synonym group form",
    "compliance:flag_add_to_corpus": _ACTION,
}


def _routes() -> list[str]:
    def walk(patterns, ns=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, ns + (f"{p.namespace}:" if p.namespace else ""))
            else:
                yield ns + (p.name or f"<unnamed {p.pattern}>")

    return sorted(set(walk(get_resolver().url_patterns)))


def _customer_models() -> list:
    return [
        model
        for model in admin.site._registry
        if model is Customer
        or any(f.many_to_one and f.related_model is Customer for f in model._meta.get_fields() if f.is_relation)
    ]


def test_every_url_is_classified():
    routes = [r for r in _routes() if not r.startswith("admin:")]
    known = {*SHOWS_A_CUSTOMER, PORTRAIT_TAB_ROUTE, *SHOWS_NO_CUSTOMER}
    unclassified = [r for r in routes if r not in known]
    assert not unclassified, (
        f"new URLs {unclassified}: add each to SHOWS_A_CUSTOMER (and record the view with "
        "customers.services.privacy.customer_view_record) or to SHOWS_NO_CUSTOMER with the reason"
    )
    assert not [r for r in known if r not in routes], "a classified URL no longer exists"
    assert all(reason.strip() for reason in SHOWS_NO_CUSTOMER.values())


def test_every_admin_of_a_model_with_a_customer_records_its_change_page():
    models = _customer_models()
    assert len(models) > 10
    missing = [m._meta.label for m in models if not isinstance(admin.site._registry[m], CustomerViewRecorded)]
    assert not missing, f"admin classes without CustomerViewRecorded: {missing}"


@pytest.fixture
def shown(world):
    """One customer every page above can show: a lead, a referral, a flag, a score."""
    w = world
    lead = high_lead(advisor=w.advisor_a, team=w.team_a, branch=w.branch_x)
    referral = referral_services.referral_create(actor=w.advisor_a, lead=lead, needs_summary="到期资金再投资")
    customer = lead.customer
    surveillance_services.communication_scan(
        source="call_note",
        object_id=4242,
        text="这款产品是保本的。",
        advisor_id=w.advisor_a.pk,
        customer_id=customer.pk,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
    )
    CustomerScore.objects.create(
        customer=customer, score=80.0, grade="high", method="rules", scored_at=timezone.now(), reasons=[]
    )
    return SimpleNamespace(customer=customer, lead=lead, referral=referral, flag=Flag.objects.get())


def _records(user, customer) -> list[AccessRecord]:
    return list(AccessRecord.objects.filter(user=user, customer=customer, kind=AccessKind.VIEW).order_by("id"))


def _opens_with_one_record(client, user, customer, url: str, place: str) -> None:
    before = len(_records(user, customer))
    response = client.get(url)
    assert response.status_code == 200, url
    after = _records(user, customer)
    assert len(after) == before + 1, f"{url} wrote {len(after) - before} access records"
    assert after[-1].details["page"] == place


@pytest.mark.parametrize("route", sorted(SHOWS_A_CUSTOMER))
def test_each_page_about_a_customer_records_the_view(world, client_for, shown, route):
    who, url, place = SHOWS_A_CUSTOMER[route]
    user = getattr(world, who)
    _opens_with_one_record(client_for(user), user, shown.customer, url(shown), place)


def test_each_portrait_tab_records_the_view(world, client_for, shown):
    client = client_for(world.advisor_a)
    for tab in portrait_tabs():
        url = reverse(PORTRAIT_TAB_ROUTE, args=[shown.customer.pk, tab.key])
        _opens_with_one_record(client, world.advisor_a, shown.customer, url, ViewPlace.PORTRAIT)
        before = len(_records(world.advisor_a, shown.customer))
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200  # the htmx pane too
        assert len(_records(world.advisor_a, shown.customer)) == before + 1


def test_admin_change_pages_record_the_view(world, client_for, shown):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client = client_for(world.admin)
    holding = HoldingFactory(customer=shown.customer)
    call = CallLogFactory(lead=shown.lead, customer=shown.customer, advisor=world.advisor_a)
    for obj in (shown.customer, holding, shown.lead, shown.referral, call):
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        _opens_with_one_record(client, world.admin, shown.customer, url, ViewPlace.ADMIN)


def test_a_page_refused_writes_no_record(world, client_for, shown):
    stranger = CustomerFactory(owner=world.advisor_b)
    client = client_for(world.advisor_a)
    assert client.get(reverse("customers:detail", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("scoring-customer-score", args=[stranger.pk])).status_code == 404
    assert not AccessRecord.objects.filter(customer=stranger, kind=AccessKind.VIEW).exists()


def test_a_refused_call_form_shown_again_records_the_view(world, client_for, shown):
    client = client_for(world.advisor_a)
    before = len(_records(world.advisor_a, shown.customer))
    response = client.post(reverse("calls:log_call", args=[shown.lead.pk]), {"next_action": "won"})
    assert response.status_code == 400  # the call screen again, with the errors
    after = _records(world.advisor_a, shown.customer)
    assert len(after) == before + 1 and after[-1].details["page"] == ViewPlace.CALL_SCREEN
