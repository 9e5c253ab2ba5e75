"""Writes of the compliance feature: scripts and their review, the lexicon, flags, QA, rescans.

Every service is atomic, takes ``actor=``, checks the actor's role itself (so no view can
forget), writes evidence rows where a review happened, and records an audit event.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import Job
from core.services import job_create, job_finish, job_set_progress, job_start, notification_send
from core.tasks import enqueue
from customers.models import Customer, Interaction
from customers.services.interactions import transcript_text
from org.models import StaffProfile
from org.roles import Role, role_of

from .constants import Severity
from .lexicon_data import _PREFIX
from .models import (
    OPEN_VERSION_STATUSES,
    CommSource,
    Communication,
    FindingKind,
    Flag,
    FlagAction,
    FlagKind,
    FlagOutcome,
    FlagReview,
    FlagStatus,
    LexiconRule,
    LexiconRuleVersion,
    QASampleRun,
    QASamplingConfig,
    ReviewAction,
    Script,
    ScriptFinding,
    ScriptReview,
    ScriptVersion,
    VersionStatus,
)
from .scanner import Scanner, active_scanner

SENIOR_GROUP = "compliance_senior"
AUTHOR_ROLES = (Role.ADVISOR, Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)
RESCAN_CHUNK = 500


def _require_compliance(actor) -> None:
    if role_of(actor) != Role.COMPLIANCE:
        raise PermissionDenied(_("Only compliance officers may do this."))


def _compliance_officers():
    return get_user_model().objects.filter(staff_profile__role=Role.COMPLIANCE, is_active=True)


# --- scripts ------------------------------------------------------------------------------


def _validate_script_fields(*, title: str, body: str, product, product_type: str) -> None:
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("A script needs a title.")
    if not (body or "").strip():
        errors["body"] = _("A script needs its text.")
    if product is None and not product_type:
        errors["product_type"] = _("Choose a product or a product type.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def script_create(*, actor, title: str, purpose: str, body: str, product=None, product_type: str = "") -> ScriptVersion:
    """Propose a new script: the script and its first version, as a draft."""
    if role_of(actor) not in AUTHOR_ROLES:
        raise PermissionDenied(_("You may not propose scripts."))
    _validate_script_fields(title=title, body=body, product=product, product_type=product_type)
    script = Script.objects.create(
        title=title.strip(),
        purpose=purpose,
        product=product,
        product_type=product.type if product is not None else product_type,
        author=actor,
    )
    version = ScriptVersion.objects.create(script=script, number=1, body=body.strip(), author=actor)
    audit_record(actor=actor, verb="script.create", target=script, details={"version_id": version.pk})
    return version


@transaction.atomic
def script_version_update(*, actor, version: ScriptVersion, title: str, body: str) -> ScriptVersion:
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.author_id != actor.pk:
        raise PermissionDenied(_("Only the author edits a draft."))
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; this version is %(status)s.") % {"status": version.get_status_display()}
        )
    script = version.script
    _validate_script_fields(title=title, body=body, product=script.product, product_type=script.product_type)
    version.body = body.strip()
    version.save(update_fields=["body"])
    if script.title != title.strip():
        script.title = title.strip()
        script.save(update_fields=["title"])
    audit_record(actor=actor, verb="script.version_update", target=version)
    return version


def _check_findings(version: ScriptVersion, scanner: Scanner) -> list[ScriptFinding]:
    script = version.script
    product = script.product
    result = scanner.scan(
        version.body,
        product_type=script.effective_product_type or None,
        product_risk_level=product.risk_level if product is not None else None,
        check_disclosures=True,
    )
    rows = [
        ScriptFinding(
            version=version,
            kind=FindingKind.LEXICON,
            rule_id=f.rule_id,
            code=f.rule,
            rule_version=f.rule_version,
            category=f.category,
            severity=f.severity,
            start=f.start,
            end=f.end,
            match=f.match[:200],
            source=f.source[:200],
        )
        for f in result.findings
    ]
    rows += [
        ScriptFinding(
            version=version,
            kind=FindingKind.DISCLOSURE,
            code=d.code,
            severity=d.severity,
            required_text=d.required_text[:200],
            detail=d.reason[:200],
            source=_("Required disclosure (shared/DOMAIN.md)"),
        )
        for d in result.missing_disclosures
    ]
    return rows


@transaction.atomic
def script_version_check(*, version_id: int) -> list[ScriptFinding]:
    """Run the automatic check on a version and attach its findings (replacing earlier ones)."""
    version = ScriptVersion.objects.select_for_update(of=("self",)).select_related("script__product").get(pk=version_id)
    scanner = active_scanner()
    version.findings.all().delete()
    rows = ScriptFinding.objects.bulk_create(_check_findings(version, scanner))
    version.checked_at = timezone.now()
    version.lexicon_revision = LexiconRule.objects.revision_key()[:64]
    version.save(update_fields=["checked_at", "lexicon_revision"])
    return rows


def _notify_compliance(*, title: str, url: str, target, event: str) -> None:
    for officer in _compliance_officers():
        notification_send(recipient=officer, title=title, url=url, target=target, event_key=f"{event}:{target.pk}")


@transaction.atomic
def script_submit_for_review(*, actor, version: ScriptVersion) -> ScriptVersion:
    """draft → submitted; the automatic check runs and its findings are attached."""
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.author_id != actor.pk:
        raise PermissionDenied(_("Only the author submits a draft."))
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be submitted; this version is %(status)s.") % {"status": version.get_status_display()}
        )
    version.status = VersionStatus.SUBMITTED
    version.submitted_at = timezone.now()
    version.save(update_fields=["status", "submitted_at"])
    findings = script_version_check(version_id=version.pk)
    ScriptReview.objects.create(version=version, actor=actor, action=ReviewAction.SUBMIT)
    audit_record(
        actor=actor,
        verb="script.submit",
        target=version,
        details={"findings": len(findings), "high": sum(1 for f in findings if f.severity == Severity.HIGH)},
    )
    url = reverse("compliance:version_review", args=[version.pk])
    _notify_compliance(
        title=_("Script awaiting review: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number},
        url=url,
        target=version,
        event="script.submitted",
    )
    return version


def _findings_snapshot(findings) -> list[dict]:
    return [
        {"id": f.pk, "code": f.code, "severity": f.severity, "match": f.match, "acknowledged": bool(f.acknowledged_at)}
        for f in findings
    ]


@transaction.atomic
def script_approve(
    *, actor, version: ScriptVersion, comment: str = "", acknowledge_medium: bool = False
) -> ScriptVersion:
    """submitted → approved. Blocked while a high finding is open; medium ones need acknowledging.

    The previously approved version of the script is retired in the same transaction, so
    only the latest approved version is ever in use.
    """
    _require_compliance(actor)
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.status != VersionStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted version can be approved; this version is %(status)s.")
            % {"status": version.get_status_display()}
        )
    if version.author_id == actor.pk:
        raise ValidationError(
            _("You cannot approve a script you wrote; another officer must review it."), code="self_approval"
        )
    findings = list(version.findings.all())
    high = [f for f in findings if f.severity == Severity.HIGH]
    if high:
        raise ValidationError(
            _(
                "Approval is blocked: %(n)d high-severity finding(s) are open. "
                "Reject with comments so the author revises."
            )
            % {"n": len(high)},
            code="blocked_by_high",
        )
    medium = [f for f in findings if f.severity == Severity.MEDIUM and f.acknowledged_at is None]
    if medium and not acknowledge_medium:
        raise ValidationError(
            _("%(n)d medium-severity finding(s) must be acknowledged explicitly before approval.") % {"n": len(medium)},
            code="medium_not_acknowledged",
        )
    now = timezone.now()
    if medium:
        ScriptFinding.objects.filter(pk__in=[f.pk for f in medium]).update(acknowledged_by=actor, acknowledged_at=now)
        ScriptReview.objects.create(
            version=version,
            actor=actor,
            action=ReviewAction.ACKNOWLEDGE,
            comment=comment,
            findings_snapshot=_findings_snapshot(medium),
        )
    previous = list(
        ScriptVersion.objects.select_for_update().filter(script=version.script, status=VersionStatus.APPROVED)
    )
    for old in previous:
        old.status = VersionStatus.RETIRED
        old.save(update_fields=["status"])
    version.status = VersionStatus.APPROVED
    version.decided_at = now
    version.decided_by = actor
    version.review_comment = comment
    version.save(update_fields=["status", "decided_at", "decided_by", "review_comment"])
    ScriptReview.objects.create(
        version=version,
        actor=actor,
        action=ReviewAction.APPROVE,
        comment=comment,
        findings_snapshot=_findings_snapshot(findings),
    )
    audit_record(
        actor=actor,
        verb="script.approve",
        target=version,
        details={"retired": [v.pk for v in previous], "acknowledged": [f.pk for f in medium]},
    )
    notification_send(
        recipient=version.author,
        title=_("Script approved: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number},
        url=reverse("compliance:script_detail", args=[version.script_id]),
        target=version,
        event_key=f"script.approved:{version.pk}",
    )
    return version


@transaction.atomic
def script_reject(*, actor, version: ScriptVersion, comment: str) -> ScriptVersion:
    """submitted → rejected, with the comments the author sees when revising."""
    _require_compliance(actor)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the script is rejected, so the author can revise it.")})
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.status != VersionStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted version can be rejected; this version is %(status)s.")
            % {"status": version.get_status_display()}
        )
    version.status = VersionStatus.REJECTED
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.review_comment = comment.strip()
    version.save(update_fields=["status", "decided_at", "decided_by", "review_comment"])
    ScriptReview.objects.create(
        version=version,
        actor=actor,
        action=ReviewAction.REJECT,
        comment=comment.strip(),
        findings_snapshot=_findings_snapshot(version.findings.all()),
    )
    audit_record(actor=actor, verb="script.reject", target=version, details={"comment": comment.strip()})
    notification_send(
        recipient=version.author,
        title=_("Script rejected: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number},
        body=comment.strip(),
        url=reverse("compliance:script_detail", args=[version.script_id]),
        target=version,
        event_key=f"script.rejected:{version.pk}",
    )
    return version


@transaction.atomic
def script_revise(*, actor, script: Script) -> ScriptVersion:
    """A new draft from the latest version (approved or rejected). The approved one stays in use.

    If a draft or submitted version already exists, that one is returned: a script has
    one version in the works at a time.
    """
    if role_of(actor) not in AUTHOR_ROLES:
        raise PermissionDenied(_("You may not edit scripts."))
    script = Script.objects.select_for_update().get(pk=script.pk)
    open_version = script.versions.filter(status__in=OPEN_VERSION_STATUSES).first()
    if open_version is not None:
        if open_version.status == VersionStatus.DRAFT and open_version.author_id != actor.pk:
            raise ValidationError(
                _("Another draft of this script is being written by %(author)s.") % {"author": open_version.author}
            )
        return open_version
    latest = script.versions.order_by("-number").first()
    number = (script.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ScriptVersion.objects.create(
        script=script, number=number, body=latest.body if latest else "", author=actor, based_on=latest
    )
    audit_record(actor=actor, verb="script.revise", target=version, details={"based_on": latest.pk if latest else None})
    return version


@transaction.atomic
def script_retire(*, actor, version: ScriptVersion, comment: str = "") -> ScriptVersion:
    """approved → retired: the script is withdrawn from use."""
    _require_compliance(actor)
    version = ScriptVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.APPROVED:
        raise ValidationError(_("Only an approved version can be retired."))
    version.status = VersionStatus.RETIRED
    version.save(update_fields=["status"])
    ScriptReview.objects.create(version=version, actor=actor, action=ReviewAction.RETIRE, comment=comment)
    audit_record(actor=actor, verb="script.retire", target=version, details={"comment": comment})
    return version


# --- lexicon --------------------------------------------------------------------------------

RULE_FIELDS = LexiconRule.SNAPSHOT_FIELDS


def _validate_rule(data: dict) -> None:
    errors = {}
    pattern = (data.get("pattern") or "").strip()
    if not pattern:
        errors["pattern"] = _("Enter a phrase or a regular expression.")
    elif data.get("is_regex"):
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            errors["pattern"] = _("This regular expression is not valid: %(error)s") % {"error": exc}
        else:
            if compiled.search(""):
                errors["pattern"] = _("This regular expression matches empty text; it would flag everything.")
    start, end = data.get("active_from"), data.get("active_until")
    if start and end and end < start:
        errors["active_until"] = _("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)


def _next_code(language: str, category: str) -> str:
    prefix = f"{language.upper()}-{_PREFIX.get(category, 'MISC')}-"
    codes = LexiconRule.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(c[len(prefix) :]) for c in codes if c[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


@transaction.atomic
def lexicon_rule_create(*, actor, data: dict, note: str = "") -> LexiconRule:
    _require_compliance(actor)
    _validate_rule(data)
    values = {k: data[k] for k in RULE_FIELDS if k in data and k != "owner_id"}
    values["pattern"] = values["pattern"].strip()
    owner = data.get("owner") or actor
    rule = LexiconRule.objects.create(
        code=_next_code(values["language"], values["category"]), owner=owner, version=1, **values
    )
    LexiconRuleVersion.objects.create(
        rule=rule, version=1, snapshot=rule.snapshot(), changes={}, note=note or _("created"), changed_by=actor
    )
    audit_record(actor=actor, verb="lexicon.create", target=rule, details={"snapshot": rule.snapshot(), "note": note})
    return rule


@transaction.atomic
def lexicon_rule_update(*, actor, rule: LexiconRule, data: dict, note: str = "") -> LexiconRule:
    """Save a new version of a rule with its changelog row. Not retroactive: flags stay as they were."""
    _require_compliance(actor)
    rule = LexiconRule.objects.select_for_update().get(pk=rule.pk)
    _validate_rule({**{n: getattr(rule, n) for n in RULE_FIELDS if n != "owner_id"}, **data})
    before = rule.snapshot()
    for name in RULE_FIELDS:
        if name == "owner_id":
            if "owner" in data and data["owner"] is not None:
                rule.owner = data["owner"]
            continue
        if name in data:
            setattr(rule, name, data[name].strip() if name == "pattern" else data[name])
    after = rule.snapshot()
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return rule
    rule.version += 1
    rule.save()
    LexiconRuleVersion.objects.create(
        rule=rule, version=rule.version, snapshot=after, changes=changes, note=note, changed_by=actor
    )
    audit_record(actor=actor, verb="lexicon.update", target=rule, details={"changes": changes, "note": note})
    return rule


# --- surveillance ------------------------------------------------------------------------


def _flag_rows(comm: Communication, result) -> list[Flag]:
    return [
        Flag(
            communication=comm,
            kind=FlagKind.LEXICON,
            source=comm.source,
            advisor_id=comm.advisor_id,
            team_id=comm.team_id,
            occurred_at=comm.occurred_at,
            rule_id=f.rule_id,
            rule_code=f.rule,
            rule_version=f.rule_version,
            category=f.category,
            severity=f.severity,
            start=f.start,
            end=f.end,
            match=f.match[:200],
            text_snapshot=comm.text,
        )
        for f in result.findings
    ]


def _create_flags(rows: list[Flag]) -> int:
    """Insert flags, skipping hits already flagged (the unique constraint decides); returns how many are new."""
    if not rows:
        return 0
    comm_ids = {r.communication_id for r in rows}
    before = Flag.objects.filter(communication_id__in=comm_ids, kind=FlagKind.LEXICON).count()
    Flag.objects.bulk_create(rows, ignore_conflicts=True)
    return Flag.objects.filter(communication_id__in=comm_ids, kind=FlagKind.LEXICON).count() - before


def communication_store(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: str | dt.datetime | None = None,
    source_url: str = "",
) -> Communication:
    """Store (or refresh) the snapshot of a text to scan; call inside the caller's
    transaction. An edited note keeps its row: the new text is scanned, earlier flags
    keep the text they were raised on."""
    if isinstance(occurred_at, str):
        occurred_at = parse_datetime(occurred_at)
    occurred_at = occurred_at or timezone.now()
    team_id = None
    if advisor_id is not None:
        team_id = StaffProfile.objects.filter(user_id=advisor_id).values_list("team_id", flat=True).first()
    if customer_id is not None and not Customer.objects.filter(pk=customer_id).exists():
        customer_id = None
    comm, created = Communication.objects.select_for_update().get_or_create(
        source=source,
        object_id=object_id,
        defaults={
            "text": text,
            "advisor_id": advisor_id,
            "customer_id": customer_id,
            "team_id": team_id,
            "occurred_at": occurred_at,
            "source_url": source_url[:300],
        },
    )
    if not created and comm.text != text:
        comm.text = text
        comm.save(update_fields=["text"])
    return comm


@transaction.atomic
def communication_flag(*, communication_id: int) -> int:
    """Scan a stored communication with the active lexicon and flag its hits (none
    twice). Returns the number of new flags."""
    comm = Communication.objects.select_for_update().filter(pk=communication_id).first()
    if comm is None:
        return 0
    result = active_scanner().scan(comm.text)
    comm.scanned_at = timezone.now()
    comm.lexicon_revision = LexiconRule.objects.revision_key()[:64]
    comm.save(update_fields=["scanned_at", "lexicon_revision"])
    created = _create_flags(_flag_rows(comm, result))
    if created:
        audit_record(actor=None, verb="compliance.flag", target=comm, details={"new_flags": created})
    return created


@transaction.atomic
def communication_scan(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: str | dt.datetime | None = None,
    source_url: str = "",
) -> tuple[Communication, int]:
    """Store the snapshot of a text and flag its hits at once. Idempotent."""
    comm = communication_store(
        source=source,
        object_id=object_id,
        text=text,
        advisor_id=advisor_id,
        customer_id=customer_id,
        occurred_at=occurred_at,
        source_url=source_url,
    )
    created = communication_flag(communication_id=comm.pk)
    comm.refresh_from_db()
    return comm, created


@transaction.atomic
def interaction_scan(*, interaction_id: int) -> int:
    """Scan what was said in one interaction (its summary and AI-bot transcript): the
    customers app asks for this by task name when it records an interaction."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None:
        return 0
    text = "\n".join(filter(None, [interaction.summary or "", transcript_text(interaction.transcript)]))
    if not text.strip():
        return 0
    _comm, created = communication_scan(
        source=CommSource.TRANSCRIPT if interaction.transcript else CommSource.INTERACTION,
        object_id=interaction.pk,
        text=text,
        advisor_id=interaction.actor_id,
        customer_id=interaction.customer_id,
        occurred_at=interaction.occurred_at,
        source_url=reverse("customers:tab", args=[interaction.customer_id, "interactions"]),
    )
    return created


def rescan_start(*, actor, date_from: dt.date, date_to: dt.date) -> object:
    """Queue a rescan of communications that occurred in [date_from, date_to] with today's lexicon."""
    _require_compliance(actor)
    if date_to < date_from:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    if (date_to - date_from).days > 366:
        raise ValidationError({"date_to": _("Rescan at most one year at a time.")})
    with transaction.atomic():
        job = job_create(
            actor=actor,
            kind="compliance.rescan",
            params={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
        audit_record(
            actor=actor,
            verb="compliance.rescan",
            target=job,
            details={"date_from": date_from.isoformat(), "date_to": date_to.isoformat()},
        )
        enqueue("compliance.rescan", job.pk)
    return job


def _range_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def rescan_run(*, job_id: int) -> dict:
    """The body of the rescan task: chunks of communications, progress after each chunk.

    Safe to re-run: flags are unique per hit, so a second run adds only what a changed
    lexicon finds new.
    """
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result
    date_from = dt.date.fromisoformat(job.params["date_from"])
    date_to = dt.date.fromisoformat(job.params["date_to"])
    start, end = _range_bounds(date_from, date_to)
    qs = Communication.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("pk")
    total = qs.count()
    job_start(job_id=job_id, total=total, message=_("Rescanning"))
    try:
        scanner = active_scanner()
        done = created = 0
        last_pk = 0
        while True:
            chunk = list(
                qs.filter(pk__gt=last_pk).only("id", "text", "source", "advisor_id", "team_id", "occurred_at")[
                    :RESCAN_CHUNK
                ]
            )
            if not chunk:
                break
            rows: list[Flag] = []
            for comm in chunk:
                rows += _flag_rows(comm, scanner.scan(comm.text))
            with transaction.atomic():
                created += _create_flags(rows)
                Communication.objects.filter(pk__in=[c.pk for c in chunk]).update(scanned_at=timezone.now())
            done += len(chunk)
            last_pk = chunk[-1].pk
            job_set_progress(job_id=job_id, done=done, message=_("%(n)d new flags so far") % {"n": created})
        result = {"scanned": done, "new_flags": created}
        job_finish(job_id=job_id, result=result)
        return result
    except Exception as exc:
        job_finish(job_id=job_id, error=str(exc)[:500])
        raise


def _get_flag_for_update(flag_id: int) -> Flag:
    return Flag.objects.select_for_update().get(pk=flag_id)


@transaction.atomic
def flag_claim(*, actor, flag: Flag) -> Flag:
    _require_compliance(actor)
    flag = _get_flag_for_update(flag.pk)
    if flag.status == FlagStatus.CLOSED:
        raise ValidationError(_("This flag is already closed."))
    if flag.status == FlagStatus.ESCALATED and flag.escalated_to_id != actor.pk:
        raise ValidationError(_("This flag was escalated to %(who)s.") % {"who": flag.escalated_to})
    if flag.status == FlagStatus.CLAIMED and flag.assignee_id not in (None, actor.pk):
        raise ValidationError(_("%(who)s is already reviewing this flag.") % {"who": flag.assignee})
    if flag.assignee_id == actor.pk and flag.status != FlagStatus.ESCALATED:
        return flag
    flag.status = FlagStatus.CLAIMED if flag.status != FlagStatus.ESCALATED else FlagStatus.ESCALATED
    flag.assignee = actor
    flag.claimed_at = timezone.now()
    flag.save(update_fields=["status", "assignee", "claimed_at"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.CLAIM)
    audit_record(actor=actor, verb="flag.claim", target=flag)
    return flag


@transaction.atomic
def flag_release(*, actor, flag: Flag) -> Flag:
    _require_compliance(actor)
    flag = _get_flag_for_update(flag.pk)
    if flag.status != FlagStatus.CLAIMED or flag.assignee_id != actor.pk:
        raise ValidationError(_("You can release only a flag you are reviewing."))
    flag.status = FlagStatus.OPEN
    flag.assignee = None
    flag.save(update_fields=["status", "assignee"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.RELEASE)
    audit_record(actor=actor, verb="flag.release", target=flag)
    return flag


def senior_officers():
    """Officers a flag can be escalated to: the senior group if it has members, else all officers."""
    officers = _compliance_officers()
    seniors = officers.filter(groups__name=SENIOR_GROUP)
    return seniors if seniors.exists() else officers


@transaction.atomic
def flag_escalate(*, actor, flag: Flag, to_user, comment: str) -> Flag:
    _require_compliance(actor)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why you escalate this flag.")})
    if to_user is None or to_user.pk == actor.pk or not senior_officers().filter(pk=to_user.pk).exists():
        raise ValidationError({"to_user": _("Choose a senior compliance officer other than yourself.")})
    flag = _get_flag_for_update(flag.pk)
    if flag.status == FlagStatus.CLOSED:
        raise ValidationError(_("This flag is already closed."))
    flag.status = FlagStatus.ESCALATED
    flag.escalated_to = to_user
    flag.assignee = to_user
    flag.save(update_fields=["status", "escalated_to", "assignee"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.ESCALATE, comment=comment.strip())
    audit_record(actor=actor, verb="flag.escalate", target=flag, details={"to": to_user.pk, "comment": comment})
    notification_send(
        recipient=to_user,
        title=_("Flag escalated to you: %(match)s") % {"match": flag.match or flag.get_kind_display()},
        body=comment.strip(),
        url=reverse("compliance:flag_detail", args=[flag.pk]),
        target=flag,
        event_key=f"flag.escalated:{flag.pk}:{to_user.pk}",
    )
    return flag


@transaction.atomic
def flag_close(*, actor, flag: Flag, outcome: str, comment: str) -> Flag:
    _require_compliance(actor)
    if outcome not in FlagOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if not (comment or "").strip():
        raise ValidationError({"comment": _("A closing comment is required.")})
    flag = _get_flag_for_update(flag.pk)
    if flag.status == FlagStatus.CLOSED:
        raise ValidationError(_("This flag is already closed."))
    if flag.status == FlagStatus.ESCALATED and flag.escalated_to_id != actor.pk:
        raise ValidationError(
            _("Only %(who)s, to whom it was escalated, may close this flag.") % {"who": flag.escalated_to}
        )
    if flag.status == FlagStatus.CLAIMED and flag.assignee_id not in (None, actor.pk):
        raise ValidationError(_("%(who)s is reviewing this flag.") % {"who": flag.assignee})
    flag.status = FlagStatus.CLOSED
    flag.outcome = outcome
    flag.outcome_comment = comment.strip()
    flag.closed_by = actor
    flag.closed_at = timezone.now()
    if flag.assignee_id is None:
        flag.assignee = actor
    flag.save(update_fields=["status", "outcome", "outcome_comment", "closed_by", "closed_at", "assignee"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.CLOSE, outcome=outcome, comment=comment.strip())
    audit_record(actor=actor, verb="flag.close", target=flag, details={"outcome": outcome, "comment": comment})
    if outcome != FlagOutcome.NO_ISSUE and flag.advisor_id:
        notification_send(
            recipient=flag.advisor,
            title=_("Compliance feedback: %(outcome)s") % {"outcome": flag.get_outcome_display()},
            body=comment.strip(),
            url=reverse("compliance:my_flags"),
            target=flag,
            event_key=f"flag.closed:{flag.pk}",
        )
    return flag


@transaction.atomic
def flags_bulk_close(*, actor, flag_ids: list[int], reason: str) -> int:
    """Close many flags as false positives (outcome "no issue") with one reason."""
    _require_compliance(actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason these flags are false positives.")})
    if not flag_ids:
        raise ValidationError(_("Select at least one flag."))
    flags = list(
        Flag.objects.select_for_update()
        .filter(pk__in=flag_ids)
        .exclude(status=FlagStatus.CLOSED)
        .exclude(status=FlagStatus.ESCALATED)
    )
    now = timezone.now()
    for flag in flags:
        flag.status = FlagStatus.CLOSED
        flag.outcome = FlagOutcome.NO_ISSUE
        flag.outcome_comment = reason.strip()
        flag.closed_by = actor
        flag.closed_at = now
        if flag.assignee_id is None:
            flag.assignee = actor
    Flag.objects.bulk_update(flags, ["status", "outcome", "outcome_comment", "closed_by", "closed_at", "assignee"])
    FlagReview.objects.bulk_create(
        [
            FlagReview(
                flag=f, actor=actor, action=FlagAction.BULK_CLOSE, outcome=FlagOutcome.NO_ISSUE, comment=reason.strip()
            )
            for f in flags
        ]
    )
    audit_record(
        actor=actor,
        verb="flag.bulk_close",
        target_type="compliance.flag",
        target_id=",".join(str(f.pk) for f in flags)[:64],
        details={"ids": [f.pk for f in flags], "reason": reason.strip(), "skipped": len(set(flag_ids)) - len(flags)},
    )
    return len(flags)


# --- QA sampling -------------------------------------------------------------------------


def qa_config() -> QASamplingConfig:
    config, _created = QASamplingConfig.objects.get_or_create(pk=1)
    return config


@transaction.atomic
def qa_config_update(*, actor, share_percent: Decimal, minimum_per_advisor: int) -> QASamplingConfig:
    _require_compliance(actor)
    if share_percent is None or not (Decimal("0") <= share_percent <= Decimal("100")):
        raise ValidationError({"share_percent": _("The share must be between 0 and 100 percent.")})
    if minimum_per_advisor is None or minimum_per_advisor < 0:
        raise ValidationError({"minimum_per_advisor": _("The minimum cannot be negative.")})
    config = QASamplingConfig.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"share_percent": str(config.share_percent), "minimum_per_advisor": config.minimum_per_advisor}
    config.share_percent = share_percent
    config.minimum_per_advisor = minimum_per_advisor
    config.updated_by = actor
    config.save()
    audit_record(
        actor=actor,
        verb="compliance.qa_config",
        target=config,
        details={
            "before": before,
            "after": {"share_percent": str(share_percent), "minimum_per_advisor": minimum_per_advisor},
        },
    )
    return config


def _week_start(value: str | dt.date | None) -> dt.date:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if value is None:
        value = timezone.localdate() - dt.timedelta(days=7)
    return value - dt.timedelta(days=value.weekday())


@transaction.atomic
def qa_sample_week(*, week_start: str | dt.date | None = None) -> int:
    """Flag a random share of each advisor's calls of one ISO week for QA. Once per week.

    The draw is seeded by week and advisor, and each week is sampled once (QASampleRun),
    so a re-run or a redelivered task adds nothing.
    """
    monday = _week_start(week_start)
    config = qa_config()
    run, created = QASampleRun.objects.select_for_update().get_or_create(
        week_start=monday, defaults={"share_percent": config.share_percent}
    )
    if not created:
        return 0
    start, end = _range_bounds(monday, monday + dt.timedelta(days=6))
    comms = (
        Communication.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, advisor__isnull=False, source=CommSource.CALL_NOTE
        )
        .order_by("advisor_id", "pk")
        .values_list("pk", "advisor_id")
    )
    by_advisor: dict[int, list[int]] = {}
    for pk, advisor_id in comms:
        by_advisor.setdefault(advisor_id, []).append(pk)
    picked: list[int] = []
    for advisor_id, ids in by_advisor.items():
        n = max(config.minimum_per_advisor, math.ceil(len(ids) * float(config.share_percent) / 100))
        rng = random.Random(f"{monday.isoformat()}:{advisor_id}")  # noqa: S311 - sampling, not security
        picked += rng.sample(ids, min(n, len(ids)))
    rows = [
        Flag(
            communication=c,
            kind=FlagKind.QA_SAMPLE,
            source=c.source,
            advisor_id=c.advisor_id,
            team_id=c.team_id,
            occurred_at=c.occurred_at,
            category="",
            severity=Severity.LOW,
            text_snapshot=c.text,
        )
        for c in Communication.objects.filter(pk__in=picked)
    ]
    Flag.objects.bulk_create(rows, ignore_conflicts=True)
    run.sampled = len(rows)
    run.save(update_fields=["sampled"])
    audit_record(
        actor=None, verb="compliance.qa_sample", target=run, details={"week": monday.isoformat(), "sampled": len(rows)}
    )
    return len(rows)


# --- reports -----------------------------------------------------------------------------


def report_export_record(*, actor, fmt: str, params: dict, rows: int) -> None:
    """Exports leave the building: record who took which figures."""
    audit_record(
        actor=actor,
        verb="compliance.report_export",
        target_type="compliance.report",
        target_id=fmt,
        details={"format": fmt, "params": params, "rows": rows},
    )
