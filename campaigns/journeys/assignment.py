"""Hashed assignment of an entrant to a bucket and an arm.

A customer's bucket is a hash of the campaign's salt and the customer id into 10,000
buckets: stable across re-runs and re-entries, independent between campaigns (each has
its own salt), and recorded on the enrolment at entry, never changed after. Buckets below
``control_percent`` × 100 are the control group: they go through the journey's
bookkeeping without any send or call, so the campaign can be measured against them.
"""

from __future__ import annotations

import hashlib

from ..models import Arm, Campaign

BUCKETS = 10_000


def campaign_salt(campaign: Campaign) -> str:
    return campaign.salt or campaign.code


def bucket_of(salt: str, customer_id: int) -> int:
    digest = hashlib.blake2b(f"{salt}:{customer_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def arm_of(bucket: int, control_percent: int) -> str:
    return Arm.CONTROL if bucket < control_percent * BUCKETS // 100 else Arm.TREATMENT


def variant_of(
    bucket: int, control_percent: int, weights: list[tuple[int, int]], winner: int | None = None
) -> int | None:
    """The variant id a treated bucket follows: the treated buckets (those from the
    control share up) are cut into consecutive runs, one per variant in order, each as
    wide as its weight's share. Deterministic in (bucket, weights): the same customer
    gets the same variant on every run and re-entry while the weights stay; the caller
    records it, so later edits never move an enrolment. A promoted ``winner`` takes every
    treated bucket. None for the control group, or without variants (or weights)."""
    if arm_of(bucket, control_percent) == Arm.CONTROL:
        return None
    if winner is not None:
        return winner
    total = sum(weight for _pk, weight in weights)
    if total <= 0:
        return None
    start = control_percent * BUCKETS // 100
    point = (bucket - start) * total // (BUCKETS - start)  # 0 … total − 1
    for pk, weight in weights:
        if point < weight:
            return pk
        point -= weight
    return weights[-1][0]  # not reached: point < total
