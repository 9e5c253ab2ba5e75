"""The review of flags: claim, release, escalate to a senior officer, close with an
outcome, close false positives in bulk. Each action writes a ``FlagReview`` evidence row;
the advisor is told of every outcome but "no issue"."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.services import notification_send, notifications_resolve
from org.roles import staff_name

from ..access import can_review_flag
from ..classifier import CLEAN
from ..models import CorpusEntry, Flag, FlagAction, FlagOutcome, FlagReview, FlagStatus
from ..selectors import senior_officers
from .lexicon import rule_stats_count_outcomes


def _require_review(actor, flag: Flag | None = None) -> None:
    if not can_review_flag(actor, flag):
        raise PermissionDenied(_("Only compliance officers may do this."))


def _get_flag_for_update(flag_id: int) -> Flag:
    return Flag.objects.select_for_update().get(pk=flag_id)


@transaction.atomic
def flag_claim(*, actor, flag: Flag) -> Flag:
    _require_review(actor, flag)
    flag = _get_flag_for_update(flag.pk)
    if flag.status == FlagStatus.CLOSED:
        raise ValidationError(_("This flag is already closed."))
    if flag.status == FlagStatus.ESCALATED and flag.escalated_to_id != actor.pk:
        raise ValidationError(_("This flag was escalated to %(who)s.") % {"who": staff_name(flag.escalated_to)})
    if flag.status == FlagStatus.CLAIMED and flag.assignee_id not in (None, actor.pk):
        raise ValidationError(_("%(who)s is already reviewing this flag.") % {"who": staff_name(flag.assignee)})
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
    _require_review(actor, flag)
    flag = _get_flag_for_update(flag.pk)
    if flag.status != FlagStatus.CLAIMED or flag.assignee_id != actor.pk:
        raise ValidationError(_("You can release only a flag you are reviewing."))
    flag.status = FlagStatus.OPEN
    flag.assignee = None
    flag.save(update_fields=["status", "assignee"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.RELEASE)
    audit_record(actor=actor, verb="flag.release", target=flag)
    return flag


@transaction.atomic
def flag_escalate(*, actor, flag: Flag, to_user, comment: str) -> Flag:
    _require_review(actor, flag)
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
        title=lambda: _("Flag escalated to you: %(match)s") % {"match": flag.match or flag.get_kind_display()},
        body=comment.strip(),
        url=reverse("compliance:flag_detail", args=[flag.pk]),
        target=flag,
        event_key=f"flag.escalated:{flag.pk}:{to_user.pk}",
    )
    return flag


@transaction.atomic
def flag_close(*, actor, flag: Flag, outcome: str, comment: str) -> Flag:
    _require_review(actor, flag)
    if outcome not in FlagOutcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if not (comment or "").strip():
        raise ValidationError({"comment": _("A closing comment is required.")})
    flag = _get_flag_for_update(flag.pk)
    if flag.status == FlagStatus.CLOSED:
        raise ValidationError(_("This flag is already closed."))
    if flag.status == FlagStatus.ESCALATED and flag.escalated_to_id != actor.pk:
        raise ValidationError(
            _("Only %(who)s, to whom it was escalated, may close this flag.") % {"who": staff_name(flag.escalated_to)}
        )
    if flag.status == FlagStatus.CLAIMED and flag.assignee_id not in (None, actor.pk):
        raise ValidationError(_("%(who)s is reviewing this flag.") % {"who": staff_name(flag.assignee)})
    flag.status = FlagStatus.CLOSED
    flag.outcome = outcome
    flag.outcome_comment = comment.strip()
    flag.closed_by = actor
    flag.closed_at = timezone.now()
    if flag.assignee_id is None:
        flag.assignee = actor
    flag.save(update_fields=["status", "outcome", "outcome_comment", "closed_by", "closed_at", "assignee"])
    FlagReview.objects.create(flag=flag, actor=actor, action=FlagAction.CLOSE, outcome=outcome, comment=comment.strip())
    rule_stats_count_outcomes([flag])
    audit_record(actor=actor, verb="flag.close", target=flag, details={"outcome": outcome, "comment": comment})
    notifications_resolve(event_keys=[f"flag.escalated:{flag.pk}:"])  # the escalation is answered
    if outcome != FlagOutcome.NO_ISSUE and flag.advisor_id:
        notification_send(
            recipient=flag.advisor,
            title=lambda: _("Compliance feedback: %(outcome)s") % {"outcome": flag.get_outcome_display()},
            body=comment.strip(),
            url=reverse("compliance:my_flags"),
            target=flag,
            event_key=f"flag.closed:{flag.pk}",
        )
    return flag


@transaction.atomic
def flags_bulk_close(*, actor, flag_ids: list[int], reason: str) -> int:
    """Close many flags as false positives (outcome "no issue") with one reason."""
    _require_review(actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason these flags are false positives.")})
    if not flag_ids:
        raise ValidationError(_("Select at least one flag."))
    flags = list(
        Flag.objects.restrict(actor, "review")
        .select_for_update()
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
    rule_stats_count_outcomes(flags)
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


_LATIN = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@transaction.atomic
def flag_add_to_corpus(*, actor, flag: Flag) -> CorpusEntry:
    """Add a reviewed flag's text to the classifier's labelled corpus: "clean" when it was
    closed as no issue, else the category of its most severe finding. Once per flag; the
    classifier is retrained at the next scan."""
    _require_review(actor, flag)
    flag = _get_flag_for_update(flag.pk)
    if flag.status != FlagStatus.CLOSED:
        raise ValidationError(_("Only a reviewed (closed) flag can be added to the corpus."))
    if not flag.category:
        raise ValidationError(_("This flag has no category to learn from."))
    if CorpusEntry.objects.filter(flag=flag).exists():
        raise ValidationError(_("This flag is already in the corpus."))
    text = flag.text_snapshot.strip()[:2000]
    language = "en" if len(_LATIN.findall(text)) > 2 * len(_HAN.findall(text)) else "zh"
    label = CLEAN if flag.outcome == FlagOutcome.NO_ISSUE else flag.category
    entry = CorpusEntry.objects.create(text=text, label=label, language=language, flag=flag, added_by=actor)
    audit_record(actor=actor, verb="flag.add_to_corpus", target=flag, details={"label": label, "entry": entry.pk})
    return entry
