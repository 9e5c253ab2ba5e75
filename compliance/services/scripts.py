"""Scripts (话术) and their versions: propose, edit, the automatic check, submit, approve,
reject, revise, retire. Each review action writes a ``ScriptReview`` evidence row."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record, records_refusals, refusal
from core.languages import Words
from core.services import notification_send, notifications_resolve

from ..access import (
    can_approve_version,
    can_edit_version,
    can_propose_script,
    can_review_version,
    can_revise_script,
)
from ..constants import Severity
from ..models import (
    OPEN_VERSION_STATUSES,
    FindingKind,
    LexiconRule,
    ReviewAction,
    Script,
    ScriptFinding,
    ScriptReview,
    ScriptVersion,
    VersionStatus,
)
from ..scanner import Scanner, active_scanner
from ..selectors import compliance_officers


def _require_review(actor, version: ScriptVersion) -> None:
    if not can_review_version(actor, version):
        raise PermissionDenied(_("Only compliance officers may do this."))


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
    if not can_propose_script(actor):
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
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; this version is %(status)s.") % {"status": version.get_status_display()}
        )
    if not can_edit_version(actor, version):
        raise PermissionDenied(_("Only the author edits a draft."))
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
        use_model=False,
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
            source=_("Required disclosure (sales conduct rules)"),
        )
        for d in result.missing_disclosures
    ]
    return rows


@transaction.atomic
def script_version_check(*, version_id: int) -> list[ScriptFinding]:
    """Run the automatic check on a version and attach its findings (replacing earlier ones)."""
    version = ScriptVersion.objects.select_for_update(of=("self",)).select_related("script__product").get(pk=version_id)
    scanner = active_scanner(model=False)
    version.findings.all().delete()
    rows = ScriptFinding.objects.bulk_create(_check_findings(version, scanner))
    version.checked_at = timezone.now()
    version.lexicon_revision = LexiconRule.objects.revision_key()[:64]
    version.save(update_fields=["checked_at", "lexicon_revision"])
    return rows


def _notify_compliance(*, title: Words, url: str, target, event: str, author) -> None:
    """Ask the officers to review; never the author, who may not approve their own script."""
    for officer in compliance_officers():
        if officer.pk != author.pk:
            notification_send(recipient=officer, title=title, url=url, target=target, event_key=f"{event}:{target.pk}")


@transaction.atomic
def script_submit_for_review(*, actor, version: ScriptVersion) -> ScriptVersion:
    """draft → submitted; the automatic check runs and its findings are attached."""
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be submitted; this version is %(status)s.") % {"status": version.get_status_display()}
        )
    if not can_edit_version(actor, version):
        raise PermissionDenied(_("Only the author submits a draft."))
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
        title=lambda: (
            _("Script awaiting review: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number}
        ),
        url=url,
        target=version,
        event="script.submitted",
        author=version.author,
    )
    return version


def _findings_snapshot(findings) -> list[dict]:
    return [
        {"id": f.pk, "code": f.code, "severity": f.severity, "match": f.match, "acknowledged": bool(f.acknowledged_at)}
        for f in findings
    ]


@records_refusals
@transaction.atomic
def script_approve(
    *, actor, version: ScriptVersion, comment: str = "", acknowledge_medium: bool = False
) -> ScriptVersion:
    """submitted → approved. Blocked while a high finding is open; medium ones need acknowledging.

    The previously approved version of the script is retired in the same transaction, so
    only the latest approved version is ever in use.
    """
    _require_review(actor, version)
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.status != VersionStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted version can be approved; this version is %(status)s.")
            % {"status": version.get_status_display()}
        )
    if not can_approve_version(actor, version):
        raise refusal(
            ValidationError(
                _("You cannot approve a script you wrote; another officer must review it."), code="self_approval"
            ),
            actor=actor,
            verb="script.approve_refused",
            target=version,
            details={"reason": "self_approval"},
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
    notifications_resolve(event_keys=[f"script.submitted:{version.pk}"])  # the review is done
    notification_send(
        recipient=version.author,
        title=lambda: _("Script approved: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number},
        url=reverse("compliance:script_detail", args=[version.script_id]),
        target=version,
        event_key=f"script.approved:{version.pk}",
    )
    return version


@transaction.atomic
def script_reject(*, actor, version: ScriptVersion, comment: str) -> ScriptVersion:
    """submitted → rejected, with the comments the author sees when revising."""
    _require_review(actor, version)
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
    notifications_resolve(event_keys=[f"script.submitted:{version.pk}"])
    notification_send(
        recipient=version.author,
        title=lambda: _("Script rejected: %(title)s v%(n)s") % {"title": version.script.title, "n": version.number},
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
    if not can_revise_script(actor, script):
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
    _require_review(actor, version)
    version = ScriptVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.APPROVED:
        raise ValidationError(_("Only an approved version can be retired."))
    version.status = VersionStatus.RETIRED
    version.save(update_fields=["status"])
    ScriptReview.objects.create(version=version, actor=actor, action=ReviewAction.RETIRE, comment=comment)
    audit_record(actor=actor, verb="script.retire", target=version, details={"comment": comment})
    return version
