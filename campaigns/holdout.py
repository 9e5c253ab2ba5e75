"""The global holdout (全局对照组): customers no campaign touches, drawn afresh at most once
a quarter, so the total effect of all campaigns can be measured against them.

A draw (:class:`~campaigns.models.HoldoutDraw`) holds a share (1–5 %), a salt, a modulus
and the day it is valid from. A customer is held out under a draw when

    ((customer id × salt) mod modulus) mod 100 < percent

a multiplicative hash (a universal family: each salt scatters the ids differently) that
SQL computes as cheaply as Python, so enrolment and the exclusion funnel stay set-based.
New draws take a random salt below the prime 2³¹ − 1 as modulus; the first draw (data
migration) is the rule the workbench had before draws, ``id × 2654435761 mod 100 < 5``,
written as salt 2654435761 with a modulus no product of an id reaches.

The current draw is the latest valid from today or earlier. Earlier draws are never
changed (the monthly report compares each month with the draw valid then). A draw starts
on the first day of a month, today or later, in a later calendar quarter than the latest
draw: at most one re-draw a quarter.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, F, Q, Value
from django.db.models.functions import Cast, Mod
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record

from . import access
from .models import HoldoutDraw

# The rule before draws (campaigns/migrations/0010_global_holdout.py writes it as the first draw).
LEGACY_SALT = 2654435761
LEGACY_MODULUS = 2**62
# New draws: a prime modulus (every salt below it is invertible, so no id maps to 0 twice).
MODULUS = 2**31 - 1
PERCENT_MIN, PERCENT_MAX = 1, 5
BUCKETS = 100


def legacy_draw() -> HoldoutDraw:
    """The rule of the first draw, unsaved: what applies where no draw is stored (a test
    database flushed by a transactional test), so behaviour never silently changes."""
    return HoldoutDraw(percent=5, salt=LEGACY_SALT, modulus=LEGACY_MODULUS, valid_from=dt.date(2000, 1, 1))


def holdout_current(*, on: dt.date | None = None) -> HoldoutDraw:
    """The draw in force on ``on`` (default today, local): one query."""
    on = on or timezone.localdate()
    draw = HoldoutDraw.objects.filter(valid_from__lte=on).order_by("-valid_from").first()
    return draw or legacy_draw()


def holdout_bucket(draw: HoldoutDraw, customer_id: int) -> int:
    return (customer_id * draw.salt) % draw.modulus % BUCKETS


def is_held_out(draw: HoldoutDraw, customer_id: int) -> bool:
    """The Python twin of :func:`held_out_q` (tests check they agree)."""
    return holdout_bucket(draw, customer_id) < draw.percent


def bucket_expression(draw: HoldoutDraw, field: str = "pk"):
    # Cast to bigint: on PostgreSQL a salt below 2³¹ is an int4 literal and the product
    # of two int4 values would overflow.
    product = Cast(F(field), BigIntegerField()) * Value(draw.salt, output_field=BigIntegerField())
    return Mod(Mod(product, Value(draw.modulus, output_field=BigIntegerField())), Value(BUCKETS))


def held_out_q(draw: HoldoutDraw, field: str = "pk") -> Q:
    """Rows whose ``field`` (a customer id) is held out under ``draw``: one expression in
    the WHERE clause, no annotation or join."""
    return Q(LessThan(bucket_expression(draw, field), draw.percent))


# --- re-drawing -------------------------------------------------------------------------------


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> dt.date:
    return dt.date(year, 3 * (quarter - 1) + 1, 1)


def next_quarter_start(day: dt.date) -> dt.date:
    year, quarter = quarter_of(day)
    return quarter_start(year + 1, 1) if quarter == 4 else quarter_start(year, quarter + 1)


def next_month_start(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def earliest_redraw(*, today: dt.date | None = None, latest: HoldoutDraw | None = None) -> dt.date:
    """The first day a new draw may start: the first of a month (today if today is the
    first), in a later quarter than the latest draw."""
    today = today or timezone.localdate()
    if latest is None:
        latest = HoldoutDraw.objects.order_by("-valid_from").first()
    first = today if today.day == 1 else next_month_start(today)
    if latest is not None:
        first = max(first, next_quarter_start(latest.valid_from))
    return first


@dataclass
class DrawRow:
    draw: HoldoutDraw
    valid_until: dt.date | None  # the day before the next draw starts (None: still in force)
    is_current: bool
    is_legacy: bool


def holdout_history(*, today: dt.date | None = None) -> list[DrawRow]:
    """Every draw, newest first, with the day each stopped being in force: one query."""
    today = today or timezone.localdate()
    draws = list(HoldoutDraw.objects.select_related("drawn_by__staff_profile").order_by("-valid_from"))
    current = next((d for d in draws if d.valid_from <= today), None)
    rows = []
    for i, draw in enumerate(draws):
        later = draws[i - 1] if i else None
        rows.append(
            DrawRow(
                draw=draw,
                valid_until=later.valid_from - dt.timedelta(days=1) if later else None,
                is_current=draw is current,
                is_legacy=draw.modulus == LEGACY_MODULUS,
            )
        )
    return rows


@transaction.atomic
def holdout_redraw(*, actor, percent, valid_from: dt.date, note: str = "", today: dt.date | None = None) -> HoldoutDraw:
    """Draw the global holdout afresh from ``valid_from`` (the first day of a month, today
    or later, in a later quarter than the latest draw) with a new random salt. Earlier
    draws stay as they were. Audited in the same transaction."""
    if not access.can_manage_holdout(actor):
        raise PermissionDenied
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        percent = None
    if percent is None or not PERCENT_MIN <= percent <= PERCENT_MAX:
        errors["percent"] = [_("The held-out share must be a whole number from 1 to 5 (%).")]
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("The note may have at most 200 characters.")]
    # Lock the draws so two re-draws at once cannot both pass the quarter check.
    latest = HoldoutDraw.objects.select_for_update().order_by("-valid_from").first()
    if not isinstance(valid_from, dt.date):
        errors["valid_from"] = [_("Enter the day the new draw starts.")]
    elif valid_from.day != 1:
        errors["valid_from"] = [_("A draw starts on the first day of a month, so every month has one draw.")]
    elif valid_from < today:
        errors["valid_from"] = [_("A draw cannot start in the past: earlier months keep the draw they had.")]
    elif latest is not None and quarter_of(valid_from) <= quarter_of(latest.valid_from):
        year, quarter = quarter_of(latest.valid_from)
        errors["valid_from"] = [
            _(
                "The holdout is re-drawn at most once a quarter: the latest draw starts on %(start)s "
                "(quarter %(quarter)s of %(year)s). The next draw may start on %(earliest)s at the earliest."
            )
            % {
                "start": latest.valid_from.isoformat(),
                "quarter": quarter,
                "year": year,
                "earliest": earliest_redraw(today=today, latest=latest).isoformat(),
            }
        ]
    if errors:
        raise ValidationError(errors)
    draw = HoldoutDraw.objects.create(
        percent=percent,
        salt=secrets.randbelow(MODULUS - 2) + 2,
        modulus=MODULUS,
        valid_from=valid_from,
        note=note,
        drawn_by=actor,
    )
    audit_record(
        actor=actor,
        verb="campaign.holdout_redraw",
        target=draw,
        details={
            "held_out_percent": percent,
            "valid_from": valid_from.isoformat(),
            "previous_draw": latest.pk if latest else None,
            "note": note,
        },
    )
    return draw
