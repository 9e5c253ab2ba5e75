"""The one way lists count rows: at most ``WORKBENCH_LIST_COUNT_CAP`` of them.

A COUNT(*) over a million customers or a hundred thousand leads on every page costs more
than the page itself, and nobody works a list by its exact length. Counts stop at the
cap (``SELECT count(*) FROM (… LIMIT cap + 1)``) and pages show "N+" beyond it; filters
and sorting reach any row faster than page 41 would.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import LimitOffsetPagination


def count_cap() -> int:
    return settings.WORKBENCH_LIST_COUNT_CAP


def capped_count(qs: QuerySet, cap: int | None = None) -> int:
    """The number of rows of ``qs``, counting at most ``cap`` + 1 (so "more than cap"
    shows as cap + 1)."""
    cap = count_cap() if cap is None else cap
    return qs.order_by().values("pk")[: cap + 1].count()


# The most rows an HTML table shows on one page, whatever ``per_page`` asks.
MAX_PER_PAGE = 500


class CappedPaginator(Paginator):
    """A paginator for django-tables2 tables whose count is :func:`capped_count`: paging
    stops at the cap, and ``capped`` says the list holds more.

    ``per_page`` comes from the query string (django-tables2 reads it): a value a page
    cannot hold (zero, negative, beyond MAX_PER_PAGE) falls back to the page's own
    ``default_per_page``. ``known_count``: the capped count of these very rows when the
    page has already counted them (a tab's badge), so they are not counted twice.
    """

    def __init__(
        self, object_list, per_page, *args, default_per_page: int = 50, known_count: int | None = None, **kwargs
    ):
        if not 1 <= int(per_page) <= MAX_PER_PAGE:
            per_page = default_per_page
        super().__init__(object_list, per_page, *args, **kwargs)
        if known_count is not None:
            cap = count_cap()
            self.capped = known_count > cap
            self.__dict__["count"] = min(known_count, cap)  # the cached_property's slot

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        for _hop in range(2):  # BoundRows -> TableQuerysetData -> QuerySet
            qs = getattr(qs, "data", qs)
        if not isinstance(qs, QuerySet):
            return len(self.object_list)
        cap = count_cap()
        n = capped_count(qs, cap)
        self.capped = n > cap
        return min(n, cap)


class ApiPagination(LimitOffsetPagination):
    """Every API list: ``limit`` (default PAGE_SIZE) and ``offset``, at most
    ``max_limit`` rows a page whatever ``limit`` asks (a limit beyond a bigint reached the
    database as one before)."""

    max_limit = 1000
