"""Cells of the referral row template that need Python (``referrals.tables``)."""

from __future__ import annotations

from django import template

from referrals.tables import sla_cell, status_badge

register = template.Library()


@register.simple_tag
def referral_status_badge(referral) -> str:
    return status_badge(referral)


@register.simple_tag
def referral_sla(referral, now) -> str:
    return sla_cell(referral, now)
