"""Search by the full mobile or ID number is exact and indexed: an advisor taking an
inbound call types the number the customer calls from, and the answer must not scan the
bank's millions of customers."""

from __future__ import annotations

import pytest
from django.db import connection

from customers.filters import search_q
from customers.models import Customer


def test_full_number_columns_are_indexed_once():
    """One plain index each: searches are exact, so no LIKE twin (issue 15: each index
    costs every imported row)."""
    indexed = {tuple(i.fields): i for i in Customer._meta.indexes}
    for name in ("mobile", "id_number", "mobile_last4", "id_last4"):
        assert not Customer._meta.get_field(name).db_index, name
        assert not indexed[(name,)].opclasses, name


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index names are PostgreSQL's")
def test_customer_indexes_have_no_redundant_twins():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Customer._meta.db_table])
        indexes = dict(cursor.fetchall())
    assert not [n for n, d in indexes.items() if "pattern_ops" in d and "(name " not in d], indexes
    single = {d.split("(", 1)[1].rstrip(")") for d in indexes.values() if "," not in d.split("(", 1)[1]}
    assert not single & {"owner_id", "home_branch_id"}, indexes  # the composites begin with them


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
@pytest.mark.parametrize("term", ["138 1234 5678", "11010519491231002x"])
def test_a_full_number_search_is_an_index_lookup(term):
    sql, params = Customer.objects.filter(search_q(term)).only("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # small test tables: ask whether an index can answer
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan
