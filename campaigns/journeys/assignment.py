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
