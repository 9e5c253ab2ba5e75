"""The customer access grants the apps above keep (customers.CustomerAccess): a team with an open
lead on the customer, a branch the customer was referred to. The customer row rule reads only these."""

from __future__ import annotations

from django.db import connection

from ..models import (
    AccessReason,
    CustomerAccess,
)


def customer_access_open_lead(*, customer_id: int, team_id: int | None) -> None:
    """The customer has an open lead of ``team_id``: the team may see them. One grant per
    customer (there is one open lead at most); None removes it."""
    CustomerAccess.objects.filter(customer_id=customer_id, reason=AccessReason.OPEN_LEAD).exclude(
        team_id=team_id
    ).delete()
    if team_id is not None:
        CustomerAccess.objects.get_or_create(customer_id=customer_id, reason=AccessReason.OPEN_LEAD, team_id=team_id)


def customer_access_open_leads(*, pairs: list[tuple[int, int | None]]) -> int:
    """Bulk form of :func:`customer_access_open_lead` for newly opened leads (customer id,
    team id) of customers that had none. One statement on PostgreSQL (rescoring opens
    hundreds of thousands at once). Returns the number of grants asked for."""
    pairs = [(cid, tid) for cid, tid in pairs if tid is not None]
    if not pairs:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {CustomerAccess._meta.db_table} (customer_id, team_id, reason, granted_at) "  # noqa: S608
                "SELECT c, t, %s, now() FROM unnest(%s::bigint[], %s::bigint[]) AS g(c, t) ON CONFLICT DO NOTHING",
                [AccessReason.OPEN_LEAD, [p[0] for p in pairs], [p[1] for p in pairs]],
            )
        return len(pairs)
    CustomerAccess.objects.bulk_create(
        [CustomerAccess(customer_id=cid, reason=AccessReason.OPEN_LEAD, team_id=tid) for cid, tid in pairs],
        ignore_conflicts=True,
        batch_size=5000,
    )
    return len(pairs)


def customer_access_close_lead(*, customer_id: int) -> None:
    """The customer's lead is closed: its team no longer sees them through it."""
    CustomerAccess.objects.filter(customer_id=customer_id, reason=AccessReason.OPEN_LEAD).delete()


def customer_access_referral(*, customer_id: int, branch_id: int) -> None:
    """The customer was referred to ``branch_id``: its staff may see them from now on."""
    CustomerAccess.objects.get_or_create(customer_id=customer_id, reason=AccessReason.REFERRAL, branch_id=branch_id)


def customer_access_referrals(*, pairs: list[tuple[int, int]]) -> int:
    """Bulk form of :func:`customer_access_referral` (customer id, branch id), for bulk
    loads such as the demo seeder. Grants already there are left alone."""
    CustomerAccess.objects.bulk_create(
        [CustomerAccess(customer_id=cid, reason=AccessReason.REFERRAL, branch_id=bid) for cid, bid in pairs],
        ignore_conflicts=True,
        batch_size=5000,
    )
    return len(pairs)
