"""How a score is shown, the same on every page (the queue, the call screen, the portrait,
a referral): the customer's current score with the time it was computed and the model
that computed it, and a lead's or referral's own score labelled with the date it was
taken ("at proposal, 2026-12-01"), so a retrain never leaves two unlabelled numbers for
one customer.

``{% load scores %}``: ``{% score_now customer %}``, ``{% score_at_proposal lead %}``,
``{% score_at_referral referral %}``; tables call :func:`current_score_html` and
:func:`proposal_score_html`.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def _current(customer):
    try:
        return customer.score
    except ObjectDoesNotExist:
        return None


def _day(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d") if when else "—"


def score_source(score) -> str:
    """ "model v3, 2026-12-02 10:15" or "rules, …": what computed the score, and when."""
    made_by = (
        _("model %(version)s") % {"version": score.model_version or "—"} if score.method == "model" else _("rules")
    )
    return f"{made_by} · {timezone.localtime(score.scored_at).strftime('%Y-%m-%d %H:%M')}"


def current_score_html(customer) -> SafeString:
    score = _current(customer)
    if score is None:
        return format_html('<span class="text-secondary" data-score-now="">{}</span>', _("not scored yet"))
    shown = f"{score.score:.1f}"
    return format_html(
        '<span data-score-now="{}" title="{}">{}</span> <span class="small text-secondary">{}</span>',
        shown,
        _("Current score of the customer"),
        shown,
        score_source(score),
    )


def proposal_score_html(value: float | None, when: dt.datetime | None, *, label: str | None = None) -> SafeString:
    if value is None:
        return format_html("{}", "—")
    shown = f"{value:.1f}"
    return format_html(
        '<span class="small text-secondary" data-score-then="{}">{}</span>',
        shown,
        (label or _("at proposal, %(date)s: %(score)s")) % {"date": _day(when), "score": shown},
    )


@register.simple_tag
def score_now(customer) -> SafeString:
    return current_score_html(customer)


@register.simple_tag
def score_at_proposal(lead) -> SafeString:
    return proposal_score_html(lead.score, lead.score_taken_at)


@register.simple_tag
def score_at_referral(referral) -> SafeString:
    return proposal_score_html(referral.score, referral.created_at, label=_("at referral, %(date)s: %(score)s"))
