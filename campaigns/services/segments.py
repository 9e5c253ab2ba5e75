"""Segments (客群圈选): the customer list's filter, saved.

A segment's definition is ``{"groups": [params, …]}``: each group is exactly the query
parameters of the customer list (``customers.filters.CustomerFilter``), whose conditions
all hold; the groups are joined by OR. So a filter on the list saves as a one-group
segment, and each group opens as the list. A snapshot keeps the members it had when it
was saved; an uploaded list keeps the customers its numbers name.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from customers.filters import CustomerFilter, condition_names
from customers.models import Customer

from ..access import can_change_campaigns, can_change_segment
from ..models import Segment, SegmentKind, SegmentMember
from ..uplift_cut import uplift_cut

MAX_GROUPS = 5
MAX_UPLOAD_LINES = 200_000
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
SAMPLE_SIZE = 20
CUSTOMER_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Filter parameters that are not conditions (paging and sorting of the list).
_NOT_CONDITIONS = {"page", "sort", "per_page", "fmt"}


def clean_group(params) -> dict[str, str | list[str]]:
    """One group's conditions as the customer list's parameters: known names (the list's
    own and those the apps above register), non-empty. A parameter given more than once
    (tags "all of") keeps its values as a list; a ``QueryDict`` gives all of them."""
    known = condition_names() - _NOT_CONDITIONS
    group: dict[str, str | list[str]] = {}
    for key in params:
        if key not in known:
            continue
        raw = params.getlist(key) if isinstance(params, QueryDict) else params[key]
        values = [str(v).strip() for v in (raw if isinstance(raw, list | tuple) else [raw]) if v is not None]
        values = [v for v in values if v]
        if values:
            group[key] = values[0] if len(values) == 1 else values
    return group


def group_query(group: dict) -> QueryDict:
    """A group as the customer list's query string (a list value repeats its name)."""
    data = QueryDict(mutable=True)
    for key, value in group.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return data


def group_filters(definition: dict) -> list[CustomerFilter]:
    """The customer list's filter for each group of ``definition`` (bound, to validate)."""
    groups = definition.get("groups") or [{}]
    return [CustomerFilter(group_query(group), queryset=Customer.objects.all()) for group in groups[:MAX_GROUPS]]


def _errors(filters: list[CustomerFilter]) -> list[str]:
    errors = []
    for n, f in enumerate(filters, start=1):
        if not f.is_valid():
            for field, messages in f.errors.items():
                label = f.filters[field].label if field in f.filters else field
                errors += [
                    _("Group %(n)s, %(field)s: %(message)s") % {"n": n, "field": label, "message": m} for m in messages
                ]
    return errors


def segment_queryset(*, definition: dict, base=None):
    """The customers ``definition`` picks, out of ``base`` (every customer by default).
    Raises ValidationError for a condition the customer list would refuse."""
    filters = group_filters(definition)
    errors = _errors(filters)
    if errors:
        raise ValidationError(errors)
    base = Customer.objects.all() if base is None else base
    combined = None
    for f in filters:
        picked = f.filter_queryset(base.all())
        combined = picked if combined is None else combined | picked
    return combined


def segment_members(*, segment: Segment, base=None, uplift: bool = True):
    """The customers of ``segment`` now: a dynamic one is evaluated, a snapshot or an
    uploaded list is its stored members; then, unless ``uplift=False`` (the exclusion
    funnel counts the cut itself), only the most persuadable when the segment keeps its
    members by predicted uplift (``campaigns.uplift``)."""
    base = Customer.objects.all() if base is None else base
    if segment.kind == SegmentKind.DYNAMIC:
        members = segment_queryset(definition=segment.definition, base=base)
    else:
        members = base.filter(pk__in=SegmentMember.objects.filter(segment=segment).values("customer_id"))
    return uplift_cut(segment=segment, members=members) if uplift else members


def segment_sample(qs, size: int = SAMPLE_SIZE) -> list[dict]:
    """The first members, masked (who they are is not the builder's business)."""
    rows = qs.order_by("-aum", "id").only("name", "mobile", "tier", "aum", "customer_no")[:size]
    return [
        {"name": c.name_masked, "mobile": c.mobile_masked, "tier": c.get_tier_display(), "aum": c.aum} for c in rows
    ]


@transaction.atomic
def segment_save(
    *, actor, name: str, definition: dict, kind: str = SegmentKind.DYNAMIC, segment: Segment | None = None
) -> Segment:
    """Save a dynamic segment or a frozen snapshot of one, counting its members exactly."""
    if segment is None and not can_change_campaigns(actor):
        raise PermissionDenied(_("You may not build segments."))
    if segment is not None and not can_change_segment(actor, segment):
        raise PermissionDenied(_("You may not change this segment."))
    if kind not in (SegmentKind.DYNAMIC, SegmentKind.SNAPSHOT):
        raise ValidationError({"kind": _("Choose dynamic or snapshot.")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the segment a name.")})
    groups = [clean_group(g) for g in (definition.get("groups") or [])][:MAX_GROUPS] or [{}]
    definition = {"groups": groups}
    members = segment_queryset(definition=definition)
    if segment is None:
        segment = Segment(created_by=actor)
    else:
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
    segment.name, segment.kind, segment.definition = name[:100], kind, definition
    segment.counted_at = timezone.now()
    segment.member_count = members.count()
    segment.save()
    frozen = 0
    if kind == SegmentKind.SNAPSHOT:
        frozen = _freeze(segment, members)
    audit_record(
        actor=actor,
        verb="segment.freeze" if kind == SegmentKind.SNAPSHOT else "segment.save",
        target=segment,
        details={"groups": len(groups), "members": segment.member_count, "frozen": frozen},
    )
    return segment


def _freeze(segment: Segment, members) -> int:
    """Replace the stored members with ``members`` (one INSERT … SELECT, set-based)."""
    SegmentMember.objects.filter(segment=segment).delete()
    ids = members.order_by().values_list("pk", flat=True)
    rows = [SegmentMember(segment=segment, customer_id=pk) for pk in ids.iterator(chunk_size=5000)]
    SegmentMember.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def read_customer_numbers(raw: bytes) -> list[tuple[int, str]]:
    """(line number, customer number) of each non-empty line of an uploaded list: the first
    column of a CSV or one number a line, UTF-8 (with or without BOM) or GBK."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The file is larger than 8 MB."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ValidationError(_("The file is not UTF-8 or GBK text."))
    lines = []
    for n, line in enumerate(text.splitlines(), start=1):
        first = re.split(r"[,;\t]", line, maxsplit=1)[0].strip().strip('"').strip()
        if first:
            lines.append((n, first))
        if len(lines) > MAX_UPLOAD_LINES:
            raise ValidationError(_("The file has more than %(n)s customer numbers.") % {"n": f"{MAX_UPLOAD_LINES:,}"})
    if not lines:
        raise ValidationError(_("The file holds no customer numbers."))
    return lines


def upload_report(lines: list[tuple[int, str]]) -> dict:
    """Which lines name a customer, which do not (per line, with the reason), which repeat."""
    numbers = {no for _n, no in lines if CUSTOMER_NO.match(no)}
    known: dict[str, int] = {}
    wanted = sorted(numbers)
    for start in range(0, len(wanted), 5000):
        known.update(
            Customer.objects.filter(customer_no__in=wanted[start : start + 5000]).values_list("customer_no", "pk")
        )
    seen: set[str] = set()
    ids, problems = [], []
    for n, no in lines:
        if not CUSTOMER_NO.match(no):
            problems.append({"line": n, "value": no[:40], "kind": "invalid", "reason": _("not a customer number")})
        elif no not in known:
            problems.append({"line": n, "value": no, "kind": "unknown", "reason": _("no such customer")})
        elif no in seen:
            problems.append({"line": n, "value": no, "kind": "repeat", "reason": _("repeats an earlier line")})
        else:
            seen.add(no)
            ids.append(known[no])
    return {"ids": ids, "problems": problems, "lines": len(lines)}


@transaction.atomic
def segment_upload(*, actor, name: str, raw: bytes, skip_unknown: bool = False) -> tuple[Segment | None, dict]:
    """A segment of the customers an uploaded list names. Lines naming no customer are
    reported one by one; nothing is saved unless there are none or ``skip_unknown``."""
    if not can_change_campaigns(actor):
        raise PermissionDenied(_("You may not build segments."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the segment a name.")})
    report = upload_report(read_customer_numbers(raw))
    unknown = [p for p in report["problems"] if p["kind"] != "repeat"]
    if (unknown and not skip_unknown) or not report["ids"]:
        return None, report
    segment = Segment.objects.create(
        name=name[:100],
        kind=SegmentKind.UPLOADED,
        definition={"uploaded_lines": report["lines"], "skipped_lines": len(report["problems"])},
        member_count=len(report["ids"]),
        counted_at=timezone.now(),
        created_by=actor,
    )
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, customer_id=pk) for pk in report["ids"]], batch_size=5000
    )
    audit_record(
        actor=actor,
        verb="segment.upload",
        target=segment,
        details={"lines": report["lines"], "members": len(report["ids"]), "skipped": len(report["problems"])},
    )
    return segment, report
