"""Gate: no HTML page answers a server error, whatever is in its query string or form.

The crawler finds the pages in the URL resolver (every named route of the project's own
apps; Django's admin, the API and the language switch are left to their own tests), fills
path ids from a small seeded world, and asks each page as an administrator and as an
advisor. It reads the parameters a page offers (the names of its form fields and the query
keys of its links, plus the paging and sorting keys every table takes) and sends each one
hostile values: a NUL byte, numbers beyond any database integer, negative numbers, a very
long string, markup, unicode digits and impossible dates. Forms on the page are posted
back the same way. Any 5xx fails the gate, with the requests that caused it.

A new page is covered as soon as it has a route; a new path parameter needs one line in
``PATH_VALUES`` (the gate fails and names the route until it has one).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from campaigns.models import Campaign, CampaignStep, Segment, Variant
from compliance.models import ConceptGroup, Flag, LexiconRule, Script, ScriptVersion
from core.models import Job
from customers.models import Customer, ImportBatch, Tag
from customers.views import portrait_tabs
from leads.models import Lead
from org.models import StaffProfile
from referrals.models import Referral
from reports.models import WealthReport
from scoring.models import ModelVersion

pytestmark = pytest.mark.slow

SKIPPED_NAMESPACES = {"admin"}
SKIPPED_PREFIXES = ("api/", "i18n/", "admin/")
SKIPPED_NAMES = {"logout", "login"}  # the login form has its own tests (and a throttle)

HOSTILE = [
    "a\x00b",
    "\x1b[2J",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    "-1",
    "1e400",
    "²",
    "x" * 3000,
    "<script>alert(1)</script>\"'",
    "9999-12-31",
]
# Each value of HOSTILE goes to all of a page's parameters at once; then these go round
# the parameters (request k gives parameter i ROTATED[(i + k) % len]), so each parameter
# also meets each of them beside different neighbours, in len(ROTATED) more requests.
ROTATED = ["99999999999999999999999999", "²", "9999-12-31", "-1"]
# Every table takes these, whether the page links to them or not.
ALWAYS = ("page", "per_page", "sort", "q")


def _first_pk(model, **filters):
    obj = model.objects.filter(**filters).order_by("pk").first()
    return obj.pk if obj else 999_999


# One line per route with path parameters; a value is a dict of kwargs or a list of them.
PATH_VALUES = {
    "workbench:job_progress": lambda: {"pk": _first_pk(Job)},
    "customers:import_detail": lambda: {"pk": _first_pk(ImportBatch)},
    "customers:import_status": lambda: {"pk": _first_pk(ImportBatch)},
    "customers:import_errors": lambda: {"pk": _first_pk(ImportBatch)},
    "customers:detail": lambda: {"pk": _first_pk(Customer)},
    "customers:tab": lambda: [{"pk": _first_pk(Customer), "tab": t.key} for t in portrait_tabs()],
    "customers:reveal": lambda: {"pk": _first_pk(Customer)},
    "customers:tag_add": lambda: {"pk": _first_pk(Customer)},
    "customers:tag_remove": lambda: {"pk": _first_pk(Customer), "tag_id": _first_pk(Tag)},
    "calls:call": lambda: {"pk": _first_pk(Lead)},
    "calls:claim": lambda: {"pk": _first_pk(Lead)},
    "calls:confirm": lambda: {"pk": _first_pk(Lead)},
    "calls:log_call": lambda: {"pk": _first_pk(Lead)},
    "calls:product_check": lambda: {"pk": _first_pk(Lead)},
    "calls:capacity_set": lambda: {"pk": _first_pk(StaffProfile, role="advisor")},
    "cadence:advisor": lambda: {
        "pk": StaffProfile.objects.filter(role="advisor").order_by("user_id").values_list("user_id", flat=True).first()
        or 999_999
    },
    "scoring:activate": lambda: {"pk": _first_pk(ModelVersion)},
    "referrals:export": lambda: [{"fmt": "csv"}, {"fmt": "xlsx"}, {"fmt": "x\x00"}],
    "referrals:detail": lambda: {"pk": _first_pk(Referral)},
    "referrals:accept": lambda: {"pk": _first_pk(Referral)},
    "referrals:reject": lambda: {"pk": _first_pk(Referral)},
    "referrals:reassign": lambda: {"pk": _first_pk(Referral)},
    "referrals:follow_up": lambda: {"pk": _first_pk(Referral)},
    "referrals:outcome": lambda: {"pk": _first_pk(Referral)},
    "referrals:return": lambda: {"pk": _first_pk(Referral)},
    "compliance:script_detail": lambda: {"pk": _first_pk(Script)},
    "compliance:script_revise": lambda: {"pk": _first_pk(Script)},
    "compliance:version_edit": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:version_submit": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:version_review": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:version_approve": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:version_reject": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:version_retire": lambda: {"pk": _first_pk(ScriptVersion)},
    "compliance:flag_detail": lambda: {"pk": _first_pk(Flag)},
    "compliance:flag_claim": lambda: {"pk": _first_pk(Flag)},
    "compliance:flag_release": lambda: {"pk": _first_pk(Flag)},
    "compliance:flag_escalate": lambda: {"pk": _first_pk(Flag)},
    "compliance:flag_close": lambda: {"pk": _first_pk(Flag)},
    "compliance:lexicon_edit": lambda: {"pk": _first_pk(LexiconRule)},
    "compliance:reports_export": lambda: [{"fmt": "csv"}, {"fmt": "xlsx"}],
    "compliance:concept_group_edit": lambda: {"pk": _first_pk(ConceptGroup)},
    "compliance:flag_add_to_corpus": lambda: {"pk": _first_pk(Flag)},
    "campaigns:detail": lambda: {"pk": _first_pk(Campaign)},
    "reports:generate": lambda: {"customer_id": _first_pk(Customer)},
    "reports:download": lambda: {"pk": _first_pk(WealthReport)},
    "reports:deliver": lambda: {"pk": _first_pk(WealthReport)},
    "campaigns:edit": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:trigger": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:results": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:holdout_report_export": lambda: {"fmt": "csv"},
    "campaigns:step_add": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:step_remove": lambda: {"pk": _first_pk(CampaignStep)},
    "campaigns:step_edit": lambda: {"pk": _first_pk(CampaignStep)},
    "campaigns:step_move": lambda: [{"pk": _first_pk(CampaignStep), "direction": d} for d in ("up", "down", "x\x00")],
    "campaigns:journey_settings": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:journey_publish": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:journey_discard": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:move": lambda: [
        {"pk": _first_pk(Campaign), "move": move} for move in ("submit", "approve", "return", "pause", "x\x00")
    ],
    "campaigns:segment_detail": lambda: {"pk": _first_pk(Segment)},
    "campaigns:variants": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:variant_add": lambda: {"pk": _first_pk(Campaign)},
    "campaigns:variant_edit": lambda: {"pk": _first_pk(Variant)},
    "campaigns:variant_remove": lambda: {"pk": _first_pk(Variant)},
    "campaigns:variant_step": lambda: {"pk": _first_pk(Variant)},
    "campaigns:variant_order": lambda: {"pk": _first_pk(Variant)},
    "campaigns:results_export": lambda: {"pk": _first_pk(Campaign), "fmt": "csv"},
    "campaigns:variant_promote": lambda: {"pk": _first_pk(Variant)},
    "campaigns:segment_uplift": lambda: {"pk": _first_pk(Segment)},
}


def named_routes(resolver=None, prefix: str = "", namespace: str | None = None):
    """(qualified name, route text, parameter names) of every named route."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from named_routes(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield name, prefix + str(p.pattern), list(p.pattern.converters) or re.findall(r"<(?:\w+:)?(\w+)>", str(p))


def project_routes():
    for name, route, params in named_routes():
        if name.split(":")[0] in SKIPPED_NAMESPACES or route.startswith(SKIPPED_PREFIXES) or name in SKIPPED_NAMES:
            continue
        yield name, route, params


def _route_name(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.url_name


class _PageParser(HTMLParser):
    """The parameter names a page offers: form fields and the query keys of its links, and
    its POST forms (action and field names) to post back."""

    def __init__(self):
        super().__init__()
        self.params: set[str] = set()
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action"), "fields": {}}
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea") and a.get("name"):
            if a.get("type") in ("submit", "file"):
                return
            self.params.add(a["name"])
            if self._form is not None:
                self._form["fields"][a["name"]] = a.get("value") or ""
        for attr in ("href", "hx-get"):
            if a.get(attr) and "?" in a[attr]:
                self.params.update(k for k, _v in parse_qsl(urlsplit(a[attr]).query, keep_blank_values=True))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _page(client: Client, url: str) -> tuple[int, _PageParser]:
    parser = _PageParser()
    response = client.get(url)
    if response.status_code == 200 and "html" in response.get("Content-Type", ""):
        parser.feed(response.content.decode(errors="replace"))
    return response.status_code, parser


@pytest.fixture
def seeded(db, django_db_blocker):
    call_command("seed_demo", customers=40, seed=11, today=dt.date(2026, 11, 2), stdout=StringIO())
    return get_user_model().objects


def _rotations(names: list[str]):
    for k in range(len(ROTATED)):
        yield {name: ROTATED[(i + k) % len(ROTATED)] for i, name in enumerate(names)}


STATUS: dict[int, int] = {}  # answers by status code, for the failure message


def _crawl(client: Client) -> tuple[list[str], int]:
    failures: list[str] = []
    requests = 0
    missing = [name for name, _route, params in project_routes() if params and name not in PATH_VALUES]
    assert not missing, f"routes with path parameters the crawler cannot fill (add to PATH_VALUES): {missing}"

    def check(method: str, url: str, data: dict) -> None:
        nonlocal requests
        requests += 1
        response = getattr(client, method)(url, data)
        STATUS[response.status_code] = STATUS.get(response.status_code, 0) + 1
        if response.status_code >= 500:
            shown = {k: (v[:40] + "…" if len(v) > 40 else v) for k, v in data.items()}
            failures.append(f"{method.upper()} {url} {shown!r} -> {response.status_code}")

    for name, _route, params in project_routes():
        kwargs_list = PATH_VALUES[name]() if params else {}
        for kwargs in kwargs_list if isinstance(kwargs_list, list) else [kwargs_list]:
            url = reverse(name, kwargs=kwargs)
            status, page = _page(client, url)
            if status >= 500:
                failures.append(f"GET {url} -> {status}")
            if status != 200:
                continue  # refused (403, 404) or POST only (405) before any parameter is read
            params = sorted(page.params | set(ALWAYS))
            for value in HOSTILE:
                check("get", url, dict.fromkeys(params, value))
            for data in _rotations(params):
                check("get", url, data)
            for form in page.forms:
                if form["method"] != "post" or not form["fields"]:
                    continue
                action = form["action"] or url
                if (
                    urlsplit(action).path.lstrip("/").startswith(SKIPPED_PREFIXES)
                    or _route_name(action) in SKIPPED_NAMES
                ):
                    continue  # the language switch and logging out are not this page's forms
                fields = sorted(set(form["fields"]) - {"csrfmiddlewaretoken"})
                for data in _rotations(fields):
                    check("post", action, {**form["fields"], **data})
                for value in HOSTILE:
                    check(
                        "post",
                        action,
                        {**form["fields"], **dict.fromkeys(fields, value)},
                    )
    return failures, requests


# An administrator sees every page; an advisor the queues and the call screen as they work them.
ROLES = ["admin", "advisor1"]


def test_no_page_answers_a_server_error_to_hostile_input(seeded):
    """One seeded world, crawled as each role in turn (an administrator sees every page;
    the others see their own variants of the lists and forms)."""
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # 4xx and 5xx are counted below
    failures, requests = [], 0
    for username in ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(seeded.get(username=username))
        role_failures, role_requests = _crawl(client)
        failures += [f"[{username}] {f}" for f in role_failures]
        requests += role_requests
    assert requests > 800
    assert not failures, f"{len(failures)} of {requests} requests answered 5xx ({STATUS}):\n" + "\n".join(failures[:60])
