"""The shell: log-in, home per role, navigation, audit log, jobs, notifications, API docs."""

import re

import pytest
from django.urls import reverse

from core import services
from core.audit import audit_record
from core.exports import spreadsheet_row
from core.middleware import client_ip_var, request_id_var
from core.models import AuditEvent, Job, Notification
from customers.models import Customer
from customers.tests.factories import CustomerFactory, HoldingFactory
from leads.models import Grade
from leads.tests.factories import LeadFactory
from referrals.tests.factories import ReferralFactory


def test_every_page_requires_login(client, db):
    for url in ["/", reverse("workbench:audit"), reverse("workbench:notifications"), "/api/me/", "/api/docs/"]:
        response = client.get(url)
        assert response.status_code in (302, 401, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith("/login/")


def test_login_page_is_chinese_by_default_and_english_on_request(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in response.content.decode()


def test_language_switcher_changes_the_language(client_for, advisor):
    client = client_for(advisor)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Customers in my book" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的客户" in client.get("/").content.decode()


def _stat(html: str, key: str) -> str:
    match = re.search(rf'data-stat="{key}".*?wb-stat-value">(?:<a [^>]*>)?([^<]*)<', html, re.S)
    assert match, f"stat {key} missing"
    return match.group(1).strip()


def test_advisor_home_shows_real_counts_of_their_own_book(client_for, world):
    mine = CustomerFactory.create_batch(3, owner=world.advisor_a)
    CustomerFactory.create_batch(2, owner=world.advisor_b)
    HoldingFactory(customer=mine[0])
    LeadFactory(team=world.team_a, proposed_grade=Grade.HIGH)
    LeadFactory(team=world.team_a, owner=world.advisor_a)
    LeadFactory(team=world.team_a, owner=world.advisor_a2)  # a teammate's: not in my queues
    LeadFactory(team=world.team_b)
    client = client_for(world.advisor_a)
    html = client.get("/").content.decode()
    # The customers the list shows: my three and the customers of my team's open leads.
    listed = Customer.objects.restrict(world.advisor_a, "view").count()
    assert listed == 3 + 3
    assert _stat(html, "customers") == str(listed)
    assert _stat(html, "maturing") == "1"
    assert _stat(html, "leads_new") == "2"  # as in the 待确认 queue: unclaimed and mine
    assert _stat(html, "leads_unclaimed") == "1"


def _linked(html: str, key: str) -> tuple[str, str]:
    match = re.search(rf'data-stat="{key}".*?wb-stat-value"><a [^>]*href="([^"]+)">([^<]*)<', html, re.S)
    assert match, f"stat {key} has no link"
    return match.group(1).replace("&amp;", "&"), match.group(2).strip()


def test_each_home_figure_agrees_with_the_list_it_links_to(client_for, world):
    """The team lead's home once said 516 customers and the customer list 782, and the
    home's lead counters lagged the queue tabs by a minute: each figure now links to its
    list, and the list shows the same number of rows, right after a change too."""
    for owner in (world.advisor_a, world.advisor_a2):
        CustomerFactory.create_batch(2, owner=owner, last_contact_at=None)
    LeadFactory(team=world.team_a)  # a customer owned elsewhere, visible through the lead
    LeadFactory(team=world.team_b)
    client = client_for(world.lead_a)
    html = client.get("/").content.decode()
    href, value = _linked(html, "customers")
    listing = client.get(href).content.decode()
    assert re.search(rf"\b{value}\b", listing) and value == str(Customer.objects.restrict(world.lead_a, "view").count())
    href, value = _linked(html, "not_contacted")
    assert "not_contacted_days=90" in href
    assert "data-as-of" in html  # the book's sums are cached and say when they were counted
    before = _linked(html, "leads_new")[1]
    LeadFactory(team=world.team_a)
    html = client.get("/").content.decode()
    href, after = _linked(html, "leads_new")
    assert int(after) == int(before) + 1  # live, not a minute late
    tabs = client.get(href).content.decode()
    assert re.search(rf'data-count="confirm">{after}<', tabs)


def _as_of_on(html: str, key: str) -> bool:
    card = html.split(f'data-stat="{key}"')[1].split('<div class="col">')[0]
    return "data-as-of" in card


def test_book_counts_are_live_and_only_the_sums_are_cached(client_for, world, settings):
    """The customer list's counts on the home page are the list's own capped counts, live:
    a new customer shows at once; only the sums over the whole book (AUM, maturing
    holdings) are cached, and only they say "as of"."""
    CustomerFactory.create_batch(2, owner=world.advisor_a, last_contact_at=None)
    client = client_for(world.advisor_a)
    html = client.get("/").content.decode()
    assert (_stat(html, "customers"), _stat(html, "not_contacted")) == ("2", "2")
    assert _as_of_on(html, "aum") and _as_of_on(html, "maturing")
    assert not any(_as_of_on(html, k) for k in ("customers", "risk_expired", "not_contacted"))
    CustomerFactory(owner=world.advisor_a, last_contact_at=None)
    html = client.get("/").content.decode()
    assert (_stat(html, "customers"), _stat(html, "not_contacted")) == ("3", "3")  # not a minute late
    settings.WORKBENCH_LIST_COUNT_CAP = 2
    html = client.get("/").content.decode()
    assert _stat(html, "customers") == "2+"  # capped like the list ("more than 2")


@pytest.mark.parametrize(("cap", "shown"), [(2, "2+"), (3, "3+"), (4, "4+"), (5, "5"), (50, "5")])
def test_book_counts_read_owned_then_granted_customers_up_to_the_cap(client_for, world, settings, cap, shown):
    """The book is counted in two parts (the advisor's own customers, then the team's
    granted ones they do not own) under one cap: the figure is the list's capped count
    wherever the cap falls, and a customer both owned and granted counts once."""
    own = CustomerFactory.create_batch(3, owner=world.advisor_a, last_contact_at=None)
    LeadFactory(team=world.team_a, customer=own[0])  # owned and granted: one customer
    LeadFactory.create_batch(2, team=world.team_a, customer__last_contact_at=None)
    LeadFactory(team=world.team_b)  # another team's: not in the book
    settings.WORKBENCH_LIST_COUNT_CAP = cap
    client = client_for(world.advisor_a)
    html = client.get("/").content.decode()
    assert Customer.objects.restrict(world.advisor_a, "view").count() == 5
    assert _stat(html, "customers") == _stat(html, "not_contacted") == shown
    summary = re.search(r'id="table-summary">([^<]*)<', client.get("/customers/").content.decode()).group(1)
    assert re.search(rf"\b{shown.rstrip('+')}\b", summary)  # the list says the same ("more than 2")


def test_branch_manager_home_counts_their_branch_referrals(client_for, world):
    ReferralFactory.create_batch(2, branch=world.branch_x)
    ReferralFactory(branch=world.branch_y)
    html = client_for(world.manager_x).get("/").content.decode()
    assert _stat(html, "referrals_pending") == "2"
    assert 'data-stat="customers"' not in html  # no customer-book figures for branch staff


def test_home_query_count_is_constant(client_for, world, django_assert_max_num_queries):
    CustomerFactory.create_batch(5, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    client.get("/")
    # The queue figures are the tabs' own capped counts, live (seven bounded COUNTs).
    with django_assert_max_num_queries(20):
        client.get("/")
    CustomerFactory.create_batch(20, owner=world.advisor_a)
    with django_assert_max_num_queries(20):
        client.get("/")


@pytest.mark.parametrize(("who", "queries"), [("advisor_a", 19), ("lead_a", 17)])
def test_home_query_counts_are_pinned(client_for, world, django_assert_num_queries, who, queries):
    """Session and profile, the book's counts (3 bounded COUNTs, live, each over the
    owned then the granted customers; a team lead's team staff read once for them), the queue tabs' (6)
    and the two lead figures (bounded), the referral figures in one aggregate (a team
    lead's: made by the team's advisors or about its leads, a per-referral probe of the
    lead's key), the sums from the cache; an advisor's call measures on top. The same
    number with more rows."""
    user = getattr(world, who)
    client = client_for(user)
    client.get("/")  # warm the session, the translations and the cached sums
    with django_assert_num_queries(queries):
        client.get("/")
    CustomerFactory.create_batch(4, owner=world.advisor_a)
    LeadFactory.create_batch(3, team=world.team_a)
    ReferralFactory.create_batch(2, lead__team=world.team_a, from_advisor=world.advisor_a)
    with django_assert_num_queries(queries):
        client.get("/")


def test_navigation_follows_the_role(client_for, world):
    advisor_html = client_for(world.advisor_a).get("/").content.decode()
    assert reverse("workbench:audit") not in advisor_html
    compliance_html = client_for(world.compliance).get("/").content.decode()
    assert reverse("workbench:audit") in compliance_html


@pytest.mark.parametrize(
    "who,status", [("advisor_a", 403), ("lead_a", 403), ("manager_x", 403), ("compliance", 200), ("admin", 200)]
)
def test_audit_log_is_for_compliance_and_admin(client_for, world, who, status):
    assert client_for(getattr(world, who)).get(reverse("workbench:audit")).status_code == status


def test_audit_log_filters_and_swaps_only_the_table_for_htmx(client_for, world, django_assert_max_num_queries):
    from django.db import transaction

    with transaction.atomic():
        audit_record(actor=world.advisor_a, verb="customer.tag_add", target_type="customers.customer", target_id=7)
        audit_record(actor=world.lead_a, verb="lead.confirm_grade", target_type="leads.lead", target_id=8)
    client = client_for(world.compliance)
    page = client.get(reverse("workbench:audit"), {"verb": "lead.confirm_grade"}).content.decode()
    assert "线索 #8" in page and "客户 #7" not in page
    with django_assert_max_num_queries(8):
        partial = client.get(reverse("workbench:audit"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table")
    body = partial.content.decode()
    assert 'id="table"' in body and "<html" not in body


def test_audit_log_query_count_is_pinned_and_rows_say_who_did_what(client_for, world, django_assert_num_queries):
    """The rows are written by the table's row template: the actor's name (one join),
    the verb and object in words, the details as text; the same queries for 2 or 12 rows."""
    from django.db import transaction

    def record(n):
        with transaction.atomic():
            for i in range(n):
                audit_record(
                    actor=world.advisor_a if i % 2 else None,
                    verb="customer.tag_add",
                    target_type="customers.customer",
                    target_id=i + 1,
                    details={"tag": "理财"},
                )

    record(2)
    client = client_for(world.compliance)
    client.get(reverse("workbench:audit"))
    # session, user, profile, the filter's choices, the capped count and the page's rows
    # with their actors: nothing per row
    with django_assert_num_queries(9):
        page = client.get(reverse("workbench:audit")).content.decode()
    assert page.count("<tr data-request-id=") >= 2
    record(10)
    with django_assert_num_queries(9):
        page = client.get(reverse("workbench:audit")).content.decode()
    assert page.count("<tr data-request-id=") >= 12
    assert "系统" in page and "客户 #3" in page and "标签：理财" in page
    assert world.advisor_a.staff_profile.display_name in page


def test_audit_record_captures_request_id_and_address(client_for, world):
    client = client_for(world.advisor_a)
    client.post(reverse("workbench:notifications_read"), HTTP_X_REQUEST_ID="req-123", REMOTE_ADDR="10.1.2.3")
    # notifications_mark_read does not audit; write one through a request-scoped path:
    t1, t2 = request_id_var.set("req-9"), client_ip_var.set("10.0.0.9")
    try:
        event = audit_record(actor=world.advisor_a, verb="test.verb", target_type="x", target_id=1)
    finally:
        request_id_var.reset(t1)
        client_ip_var.reset(t2)
    event.refresh_from_db()
    assert (event.request_id, event.ip_address) == ("req-9", "10.0.0.9")


def test_admin_cannot_edit_or_delete_audit_events(client_for, world):
    event = audit_record(actor=None, verb="x", target_type="y", target_id=1)
    client = client_for(world.admin)
    assert client.get(reverse("admin:core_auditevent_change", args=[event.pk])).status_code == 200  # view only
    client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_job_progress_partial_polls_until_finished(client_for, world):
    job = services.job_create(actor=world.lead_a, kind="demo", total=200)
    services.job_start(job_id=job.pk)
    services.job_advance(job_id=job.pk, by=50)
    client = client_for(world.lead_a)
    html = client.get(reverse("workbench:job_progress", args=[job.pk])).content.decode()
    assert "25%" in html and "hx-trigger" in html
    services.job_advance(job_id=job.pk, by=150)  # a job that finished all its items reads 100 %
    services.job_finish(job_id=job.pk, result={"rows": 200})
    html = client.get(reverse("workbench:job_progress", args=[job.pk])).content.decode()
    assert "100%" in html and "hx-trigger" not in html
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    # someone else's job is not visible to an advisor
    assert client_for(world.advisor_a).get(reverse("workbench:job_progress", args=[job.pk])).status_code == 404


def test_notifications_badge_list_and_mark_read(client_for, world):
    services.notification_send(recipient=world.advisor_a, title="转介已接受", url="/", event_key="ref:1:accepted")
    services.notification_send(recipient=world.advisor_a, title="转介已接受", url="/", event_key="ref:1:accepted")
    services.notification_send(recipient=world.advisor_b, title="别人的通知")
    assert Notification.objects.filter(recipient=world.advisor_a).count() == 1  # once per event
    client = client_for(world.advisor_a)
    badge = client.get(reverse("workbench:notification_badge")).content.decode()
    assert 'data-testid="notification-count">1<' in badge
    listing = client.get(reverse("workbench:notifications")).content.decode()
    assert "转介已接受" in listing and "别人的通知" not in listing
    client.post(reverse("workbench:notifications_read"))
    assert client.get(reverse("workbench:notification_badge")).content.decode().strip() == ""


def test_login_is_throttled_with_a_clear_message(client, world):
    for _ in range(5):
        client.post("/login/", {"username": "advisor_a", "password": "wrong-password"}, REMOTE_ADDR="10.9.9.9")
    response = client.post("/login/", {"username": "advisor_a", "password": "demo-pass-123"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_wrong_password_shows_a_chinese_error_and_logs_nobody_in(client, world):
    response = client.post("/login/", {"username": "advisor_a", "password": "nope"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_api_me_schema_and_docs_use_local_assets(client_for, world):
    client = client_for(world.advisor_a)
    assert client.get("/api/me/").json()["role"] == "advisor"
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert not re.search(r"(src|href)=\"https?://", docs), "API docs must not load anything from the internet"


def test_base_layout_loads_no_external_asset(client_for, world):
    html = client_for(world.advisor_a).get("/").content.decode()
    assert not re.search(r"(src|href)=\"https?://", html)


def test_only_the_most_specific_navigation_entry_is_active(client_for, world):
    html = client_for(world.lead_a).get(reverse("calls:kpis")).content.decode()
    active = re.findall(r'class="nav-link active" href="([^"]+)"', html)
    assert active == [reverse("calls:kpis")]


def test_spreadsheet_cells_never_start_a_formula():
    row = spreadsheet_row(['=HYPERLINK("x")', "+86 138", "-1", "@sum", "张三", 12, None, "a=b"])
    assert row == ['\'=HYPERLINK("x")', "'+86 138", "'-1", "'@sum", "张三", 12, None, "a=b"]
