"""What campaigns adds to the customer list's filter, and so to segments
(``customers.extensions.LIST_FILTERS``): who entered an earlier campaign, who responded
in it (replied to or clicked a message, or converted), and who did not enter it.
Registered from ``CampaignsConfig.ready()``.

The choices are the published campaigns (scheduled, running, paused, ended): the ones
every role of the customer list may see (``campaigns.access``), and the only ones with
members. Each condition is one ``IN`` over an index that leads with the campaign
(``enrolment_once_per_occurrence``, ``message_camp_step_idx``, ``journey_event_step_idx``)."""

from __future__ import annotations

import django_filters as df
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.extensions import LIST_FILTERS, ListFilter

from .models import PUBLISHED_STATUSES, Campaign, Enrolment, JourneyEvent, JourneyEventKind, Message


def _published():
    return Campaign.objects.filter(status__in=PUBLISHED_STATUSES).order_by("-created_at", "-id")


def _entered(campaign):
    return Enrolment.objects.filter(campaign=campaign).values("customer_id")


def _in_campaign(qs, name, value):
    return qs.filter(pk__in=_entered(value))


def _not_in_campaign(qs, name, value):
    return qs.exclude(pk__in=_entered(value))


def _responded(qs, name, value):
    """One ``IN`` over a UNION: an ``OR`` of two ``IN``s would make PostgreSQL read every
    customer (170 ms at 1M customers for an empty answer; 9 ms this way)."""
    answered = Message.objects.filter(campaign=value).filter(Q(replied_at__isnull=False) | Q(clicked_at__isnull=False))
    converted = JourneyEvent.objects.filter(campaign=value, kind=JourneyEventKind.CONVERTED)
    return qs.filter(
        pk__in=answered.order_by().values("customer_id").union(converted.order_by().values("enrolment__customer_id"))
    )


def campaign_filters() -> dict:
    return {
        "in_campaign": df.ModelChoiceFilter(
            queryset=_published(), method=_in_campaign, label=_("Entered campaign"), empty_label=_("Any")
        ),
        "responded_in_campaign": df.ModelChoiceFilter(
            queryset=_published(),
            method=_responded,
            label=_("Responded in campaign (replied, clicked or converted)"),
            empty_label=_("Any"),
        ),
        "not_in_campaign": df.ModelChoiceFilter(
            queryset=_published(), method=_not_in_campaign, label=_("Never entered campaign"), empty_label=_("Any")
        ),
    }


def register() -> None:
    LIST_FILTERS.register(ListFilter(key="campaigns", filters=campaign_filters, order=40))
