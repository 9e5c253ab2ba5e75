"""Walking every page: which pages exist (from the URL resolver), a sample object for each
page that needs one, and what a reader sees on a page (its visible text).

Shared by the language walk (``test_language_walk.py``, Django's test client) and the
browser walk (``test_browser_walk.py``, Chromium), so a page added to a ``urls.py`` is
walked by both without anyone listing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campaigns.models import Campaign, CampaignStep, Segment, Variant
from compliance.models import ConceptGroup, Flag, LexiconRule, Script, ScriptVersion
from core.models import Job
from customers.models import Customer, CustomerTag, ImportBatch
from customers.views import portrait_tabs
from leads.models import Lead
from org.models import StaffProfile
from referrals.models import Referral
from reports.models import WealthReport
from scoring.models import ModelVersion

# Pages not walked, and why.
SKIPPED_PREFIXES = (
    "admin/",  # Django's own admin, in Django's words
    "api/",  # JSON for machines; the API's own tests check its messages
    "i18n/",  # the language switch answers with a redirect
    "logout/",
)


def _first(qs):
    return qs.order_by("pk").first()


def _pk(obj):
    return None if obj is None else {"pk": obj.pk}


def _restricted(model, action: str = "view") -> Callable:
    return lambda user: _pk(_first(model.objects.restrict(user, action)))


def _first_of(model) -> Callable:
    return lambda user: _pk(_first(model.objects.all()))


def _cadence_advisor(user):
    """An advisor page the user may open: their own, else the first advisor's."""
    advisors = StaffProfile.objects.filter(role="advisor").order_by("user_id")
    own = advisors.filter(user_id=user.pk).first()
    profile = own or advisors.first()
    return None if profile is None else {"pk": profile.user_id}


def _customer_tab(user) -> Iterator[dict]:
    customer = _first(Customer.objects.restrict(user, "view"))
    if customer is not None:
        for tab in portrait_tabs():
            yield {"pk": customer.pk, "tab": tab.key}


def _tag_remove(user):
    link = _first(CustomerTag.objects.filter(customer__in=Customer.objects.restrict(user, "work")))
    return None if link is None else {"pk": link.customer_id, "tag_id": link.tag_id}


def _export(fmt: str) -> Callable:
    return lambda user: {"fmt": fmt}


# For each page that takes arguments: the arguments for ``user`` (a dict, a list of
# dicts, or None when the user has nothing such a page could show). A page with
# arguments missing here fails the walk, so a new page gets its sample.
SAMPLES: dict[str, Callable] = {
    "workbench:job_progress": _restricted(Job),
    "customers:detail": _restricted(Customer),
    "customers:tab": lambda user: list(_customer_tab(user)),
    "customers:reveal": _restricted(Customer),
    "customers:tag_add": _restricted(Customer, "work"),
    "customers:tag_remove": _tag_remove,
    "customers:import_detail": _restricted(ImportBatch),
    "customers:import_status": _restricted(ImportBatch),
    "customers:import_errors": _restricted(ImportBatch),
    "calls:call": _restricted(Lead),
    "calls:claim": _restricted(Lead, "claim"),
    "calls:confirm": _restricted(Lead, "confirm"),
    "calls:log_call": _restricted(Lead, "call"),
    "calls:product_check": _restricted(Lead),
    "calls:capacity_set": _restricted(StaffProfile, "plan"),
    "cadence:advisor": _cadence_advisor,
    "scoring:activate": _first_of(ModelVersion),
    "referrals:export": _export("csv"),
    "referrals:detail": _restricted(Referral),
    "referrals:accept": _restricted(Referral, "decide"),
    "referrals:reject": _restricted(Referral, "decide"),
    "referrals:reassign": _restricted(Referral, "decide"),
    "referrals:follow_up": _restricted(Referral, "work"),
    "referrals:outcome": _restricted(Referral, "work"),
    "referrals:return": _restricted(Referral, "work"),
    "reports:generate": lambda user: (
        None if (c := _first(Customer.objects.restrict(user, "view"))) is None else {"customer_id": c.pk}
    ),
    "reports:download": _restricted(WealthReport),
    "reports:deliver": _restricted(WealthReport, "work"),
    "compliance:script_detail": _restricted(Script),
    "compliance:script_revise": _restricted(Script, "revise"),
    "compliance:version_edit": _restricted(ScriptVersion, "edit"),
    "compliance:version_submit": _restricted(ScriptVersion, "edit"),
    "compliance:version_review": _restricted(ScriptVersion, "review"),
    "compliance:version_approve": _restricted(ScriptVersion, "approve"),
    "compliance:version_reject": _restricted(ScriptVersion, "review"),
    "compliance:version_retire": _restricted(ScriptVersion, "review"),
    "compliance:flag_detail": _restricted(Flag),
    "compliance:flag_claim": _restricted(Flag, "review"),
    "compliance:flag_release": _restricted(Flag, "review"),
    "compliance:flag_escalate": _restricted(Flag, "review"),
    "compliance:flag_close": _restricted(Flag, "review"),
    "compliance:lexicon_edit": _first_of(LexiconRule),
    "compliance:reports_export": _export("csv"),
    "compliance:concept_group_edit": _first_of(ConceptGroup),
    "compliance:flag_add_to_corpus": _restricted(Flag, "review"),
    "campaigns:detail": _restricted(Campaign),
    "campaigns:edit": _restricted(Campaign, "change"),
    "campaigns:step_add": _restricted(Campaign, "change"),
    "campaigns:step_remove": lambda user: _pk(
        _first(CampaignStep.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:step_edit": lambda user: _pk(
        _first(CampaignStep.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:step_move": lambda user: [
        {**sample, "direction": "down"}
        for sample in [_pk(_first(CampaignStep.objects.filter(campaign__in=Campaign.objects.restrict(user, "change"))))]
        if sample
    ],
    "campaigns:journey_settings": _restricted(Campaign, "change"),
    "campaigns:journey_publish": _restricted(Campaign, "change"),
    "campaigns:journey_discard": _restricted(Campaign, "change"),
    "campaigns:move": lambda user: [
        {**sample, "move": "submit"} for sample in [_pk(_first(Campaign.objects.restrict(user, "change")))] if sample
    ],
    "campaigns:segment_detail": _restricted(Segment),
    "campaigns:trigger": _restricted(Campaign, "change"),
    "campaigns:results": _restricted(Campaign),
    "campaigns:holdout_report_export": lambda user: [{"fmt": "csv"}],
    "campaigns:variants": _restricted(Campaign),
    "campaigns:variant_add": _restricted(Campaign, "change"),
    "campaigns:variant_edit": lambda user: _pk(
        _first(Variant.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:variant_remove": lambda user: _pk(
        _first(Variant.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:variant_step": lambda user: _pk(
        _first(Variant.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:variant_order": lambda user: _pk(
        _first(Variant.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:results_export": lambda user: [
        {**sample, "fmt": "csv"} for sample in [_pk(_first(Campaign.objects.restrict(user, "view")))] if sample
    ],
    "campaigns:variant_promote": lambda user: _pk(
        _first(Variant.objects.filter(campaign__in=Campaign.objects.restrict(user, "change")))
    ),
    "campaigns:segment_uplift": _restricted(Segment, "change"),
}


@dataclass(frozen=True)
class Page:
    name: str
    route: str
    args: bool


def pages() -> list[Page]:
    """Every named URL of the project outside ``SKIPPED_PREFIXES``."""
    found: list[Page] = []

    def walk(resolver, prefix: str, namespace: str) -> None:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p, route, ns)
            elif isinstance(p, URLPattern) and p.name and not route.startswith(SKIPPED_PREFIXES):
                found.append(Page(namespace + p.name, route, bool(p.pattern.converters)))

    walk(get_resolver(), "", "")
    return found


def urls_for(user) -> Iterator[tuple[str, str]]:
    """(URL name, URL) of every page for ``user``: sampled arguments where a page needs them."""
    missing = [p.name for p in pages() if p.args and p.name not in SAMPLES]
    assert not missing, f"pages without a sample object in workbench/tests/walk.py SAMPLES: {missing}"
    for p in pages():
        if not p.args:
            yield p.name, reverse(p.name)
            continue
        sample = SAMPLES[p.name](user)
        for kwargs in sample if isinstance(sample, list) else [sample] if sample else []:
            yield p.name, reverse(p.name, kwargs=kwargs)


class _VisibleText(HTMLParser):
    """Text a reader sees, and the words of attributes a reader meets (titles, placeholders,
    labels for screen readers); not scripts, styles or hidden inputs."""

    # <code> holds what an officer types as written: rule syntax, group and rule names.
    SKIP = {"script", "style", "template", "code"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRS = ("title", "placeholder", "aria-label", "alt", "data-bs-title")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip_depth += 1
            return
        values = dict(attrs)
        for name in self.ATTRS:
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data):
        if not self._skip_depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return parser.parts


CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")

# What a code looks like when it reaches the screen: snake_case (``not_interested``),
# a dotted task or model name (``scoring.rescore_all``), a namespaced event
# (``referral:converted``), a file of the repository (``DOMAIN.md``), a Python or JSON
# repr (``\\u901a``, ``{'key': ...}``, ``None``), a decoder's message.
CODE_LIKE = [
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    re.compile(r"\b[a-z]+\.[a-z_]+[a-z]\b"),
    re.compile(r"\b[a-z]+:[a-z_]+\b"),
    re.compile(r"\b[A-Z]+\.md\b"),
    re.compile(r"\\u[0-9a-fA-F]{4}"),
    re.compile(r"[{\[]['\"]\w"),
    re.compile(r"\b(?:None|True|False)\b"),
    re.compile(r"Expecting value|invalid literal|Traceback|object has no attribute"),
]


def code_like(text: str) -> list[str]:
    return [m.group(0) for pattern in CODE_LIKE for m in pattern.finditer(text)]
