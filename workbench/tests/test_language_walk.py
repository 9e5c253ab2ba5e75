"""Every page, every role, both languages: no code on the screen, no word of the other
language.

The pages come from the URL resolver (``walk.pages``), so a new page is walked without
being listed. The world is the demo (``seed_demo``) plus what a working day adds (an
import with rejected rows, a background job, scripts in every state), because codes leak
where real data is, not where a factory left a field empty.

What people wrote stays in their language: customer names and transcripts, scripts,
notes, product and branch names are Chinese on the English pages too. The walk removes
them (read from the database) before looking for Chinese on an English page; whatever
Chinese is left is the product's own wording.
"""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.db.models import Case, When
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy

from calls.models import CallLog
from campaigns.models import Campaign, CampaignTransition, Message, Segment
from compliance.models import (
    Communication,
    ConceptGroup,
    CorpusEntry,
    Flag,
    LexiconRule,
    LexiconRuleVersion,
    Script,
    ScriptFinding,
    ScriptVersion,
)
from core import services as core_services
from customers.ingest import SCHEMAS
from customers.models import Customer, ImportBatch, ImportMapping, Interaction, Product
from customers.services import imports as import_services
from leads.models import Grade, Lead, LeadStatus, PlannedCall
from org.models import Branch, Holiday, StaffProfile, Team
from org.roles import Role
from referrals import services as referral_services
from referrals.models import FollowUp, Referral, ReferralEvent, ReferralStatus, RejectReason

from .walk import CJK, code_like, urls_for, visible_text

pytestmark = pytest.mark.slow

ROLES = ["admin", "compliance1", "lead1", "advisor1", "manager_sh01", "rm_sh01_1"]

# Words that are the same in Chinese text: units, standards and product names.
LATIN_IN_CHINESE = {
    "BRIER",
    "JSON",
    "UTF",
    "GBK",
    "AUM",
    "AI",
    "API",
    "AUC",
    "CSV",
    "XLSX",
    "Excel",
    "ROC",
    "PIPL",
    "SMS",
    "SLA",
    "KPI",
    "IP",
    "ID",
    "OpenAPI",
    "Swagger",
    "Ctrl",
    "Enter",
    "Esc",
    "Tab",
    "CNY",
    "UTC",
    "PDF",
    "App",
    "VIP",
    "WeChat",
    "Qini",  # the Qini curve and coefficient (uplift modelling), a name in Chinese texts too
}
LATIN_UPPER = {w.upper() for w in LATIN_IN_CHINESE}
LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")

# The wording regulators require a script to contain, quoted as is on both languages' pages.
QUOTED_DISCLOSURES = [
    "理财非存款、产品有风险、投资须谨慎",
    "基金的过往业绩并不预示其未来表现",
    "基金有风险，投资须谨慎",
]

CSV = (
    "客户号,姓名,手机号,证件号,金融资产,归属网点\n"
    "C900001,张一,13800000001,310101198001010011,80000,SH01\n"
    "C900002,李二,13800000002,310101198001010022,abc,SH01\n"
    "C900003,王三,13800000003,310101198001010033,7000000,XX99\n"
).encode()


@pytest.fixture(autouse=True)
def _keep_the_language():
    """English requests activate English in this thread (LocaleMiddleware does not
    switch back): the tests that follow start in the language they started in."""
    before = translation.get_language()
    yield
    translation.activate(before)


def _texts(values) -> set[str]:
    out: set[str] = set()
    for value in values:
        if isinstance(value, str):
            out.update(part.strip() for part in re.split(r"[\n\r]+", value) if part.strip())
        elif isinstance(value, dict):
            out |= _texts(list(value.values()))
        elif isinstance(value, list | tuple):
            out |= _texts(value)
    return {t for t in out if len(t) >= 2}


def people_wrote() -> list[str]:
    """Text written by people or taken from the bank's systems: shown as written."""
    sources = [
        (Customer, ["name", "city", "occupation", "education", "marital_status"]),
        (Product, ["name", "issuer"]),
        (Branch, ["name", "city"]),
        (Team, ["name"]),
        (StaffProfile, ["display_name"]),
        (Holiday, ["name"]),
        (Interaction, ["summary", "transcript"]),
        (Script, ["title"]),
        (ScriptVersion, ["body", "review_comment"]),
        (ScriptFinding, ["match", "required_text", "source"]),
        (LexiconRule, ["code", "pattern", "description", "source"]),
        (Communication, ["text"]),
        (Flag, ["match", "text_snapshot"]),
        (CallLog, ["notes", "service_reason"]),
        (Referral, ["needs_summary", "reject_note", "outcome_note", "preferred_contact_time", "branch_reason"]),
        (FollowUp, ["note"]),
        (ReferralEvent, ["note"]),
        (PlannedCall, ["note"]),
        (ImportMapping, ["name"]),
        (ImportBatch, ["original_name", "headers"]),
        (LexiconRuleVersion, ["note"]),
        (ConceptGroup, ["name", "description", "terms"]),
        (CorpusEntry, ["text"]),
        (Campaign, ["code", "name", "description"]),
        (Segment, ["name"]),
        (CampaignTransition, ["note"]),
        (Message, ["recipient", "subject", "body"]),
    ]
    texts: set[str] = set()
    for model, fields in sources:
        for row in model.objects.values_list(*fields):
            texts |= _texts(row)
    # The synonym lists as the lexicon's list shows them (cut at 120 characters).
    texts |= {Truncator(terms).chars(120) for terms in ConceptGroup.objects.values_list("terms", flat=True)}
    # A customer's surname in how an advisor addresses them (Ms 王 / 王女士): a name.
    for name, gender in Customer.objects.values_list("name", "gender"):
        if name and gender in ("F", "M"):
            texts |= {f"Ms {name[0]}", f"Mr {name[0]}", f"Address as Ms {name[0]}", f"Address as Mr {name[0]}"}
    # The column headers a bank's file uses, and the disclosures a script must quote.
    for schema in SCHEMAS.values():
        texts |= _texts([list(f.aliases) for f in schema.fields])
    texts |= set(QUOTED_DISCLOSURES)
    # What a file held (its preview rows, the values of rejected rows), shown as read.
    for preview, report in ImportBatch.objects.values_list("preview", "report"):
        for result in (preview or {}, report or {}):
            texts |= _texts([{k: v for k, v in result.items() if k != "errors"}])
            texts |= _texts([e.get("value", "") for e in result.get("errors", [])])
    return sorted(texts, key=len, reverse=True)


# The language switch names each language in its own words.
LANGUAGE_NAMES = {"English", "简体中文"}


def _messages(report: dict) -> list[str]:
    return [e.get("message", "") for e in (report or {}).get("errors", [])]


def uploaded_in_chinese() -> list[str]:
    """An import's row errors are worded in the uploader's language (the job carries
    it) for the uploader to fix the file: a Chinese uploader's report stays Chinese.
    Everything else the product stores and shows (reasons, notifications, job
    messages) is stored in both languages and must read in English here."""
    texts: set[str] = set()
    # A message's last error is worded when the send failed, in the worker's language.
    texts |= _texts(Message.objects.values_list("last_error", flat=True))
    for preview, report in ImportBatch.objects.values_list("preview", "report"):
        texts |= _texts(_messages(preview) + _messages(report))
    return sorted({t for t in texts if CJK.search(t)}, key=len, reverse=True)


def _without_people(text: str, written: list[str]) -> str:
    for t in written:
        if t in text:
            text = text.replace(t, " ")
    return re.sub(r"[\u3400-\u9fff][\u3400-\u9fff]?\*{1,3}", " ", text)


def _problems(lang: str, parts: list[str], written: list[str]) -> list[str]:
    found = []
    parts = [p for p in parts if p not in LANGUAGE_NAMES]
    for part in parts:
        found += [f"code {c!r} in {part[:60]!r}" for c in code_like(_without_people(part, written))]
    if lang == "en":
        for part in parts:
            if CJK.search(_without_people(part, written)):
                found.append(f"Chinese {part[:80]!r}")
    else:
        for part in parts:
            words = [w for w in LATIN_WORD.findall(_without_people(part, written)) if w.upper() not in LATIN_UPPER]
            # Single letters are keys (g c, N); two capitals an abbreviation (AI, ID).
            if any(len(w) >= 3 or (len(w) == 2 and w[0].islower()) for w in words):
                found.append(f"English {part[:80]!r}")
    return found


@pytest.fixture
def working_day(db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", customers=120, seed=3, today=dt.date(2026, 6, 30), stdout=StringIO())
    lead = get_user_model().objects.get(username="lead1")
    monkeypatch.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: fn())
    batch = import_services.import_batch_create(
        actor=lead, kind="customers", uploaded_file=SimpleUploadedFile("customers.csv", CSV)
    )
    import_services.import_batch_start(actor=lead, batch=batch, dry_run=True)
    job = core_services.job_create(actor=lead, kind="scoring.rescore_all", total=5)
    # A worker reports progress in its own language (Chinese): read in English too.
    with translation.override("zh-hans"):
        core_services.job_set_progress(job_id=job.pk, done=1, message=gettext_lazy("Loading outcomes"))
    if not Referral.objects.exists():  # a small demo may refer nobody: refer its best lead
        best = (
            Lead.objects.filter(customer__home_branch__isnull=False, owner__isnull=False)
            .order_by("-score", "pk")
            .first()
        )
        Lead.objects.filter(pk=best.pk).update(status=LeadStatus.CONTACTING, confirmed_grade=Grade.HIGH)
        best.refresh_from_db()
        referral_services.referral_create(actor=best.owner, lead=best, needs_summary="到期资金再投资")
    # A branch manager working in Chinese rejects a referral: the advisor's notification
    # and the lead's history are stored by the product and must read in English too.
    pending = (
        Referral.objects.filter(status=ReferralStatus.PENDING)
        .order_by(Case(When(from_advisor__username="advisor1", then=0), default=1), "pk")
        .first()
    )
    if pending is not None:
        manager = StaffProfile.objects.filter(branch=pending.branch, role=Role.BRANCH_MANAGER).first().user
        with translation.override("zh-hans"):
            referral_services.referral_reject(
                actor=manager, referral=pending, reason=RejectReason.ALREADY_SERVED, note="客户已在网点办理"
            )
    assert Lead.objects.exists() and Referral.objects.exists()


def _walk(client, lang: str) -> dict[str, list[str]]:
    written = people_wrote() + uploaded_in_chinese()
    written.sort(key=len, reverse=True)  # the longest first, so a short name does not split a long text
    report: dict[str, list[str]] = {}
    for username in ROLES:
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        for name, url in urls_for(user):
            response = client.get(url, headers={"Accept-Language": lang})
            assert response.status_code < 500, (username, url)
            if response.status_code not in (200, 403, 404) or "text/html" not in response.get("Content-Type", ""):
                continue
            html = response.content.decode()
            problems = _problems(lang, visible_text(html), written)
            problems += [f"near {html[m.start() - 160 : m.end()]!r}" for m in re.finditer(r">\s*None\s*<", html)]
            if problems:
                report[f"{username} {url} ({name})"] = sorted(set(problems))
    return report


def _format(report: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}:\n    " + "\n    ".join(problems) for page, problems in sorted(report.items()))


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_page_in_the_users_language(client, working_day, settings, lang):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    report = _walk(client, lang)
    assert not report, f"{len(report)} pages with code or the other language:\n{_format(report)}"


def test_different_things_have_different_words():
    """Two columns once read 已退回 (a branch's rejection and a return to the advisor), and
    the uploader's column read 统计维度 (the call measures' "By")."""
    with translation.override("zh-hans"):
        assert ReferralStatus.REJECTED.label != ReferralStatus.RETURNED.label
        assert str(ReferralStatus.REJECTED.label) == "已拒绝"
        assert translation.gettext("Uploaded by") == "上传人"
