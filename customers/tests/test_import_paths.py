"""The two paths of a customer CSV import on PostgreSQL give the same outcome.

``ingest_pg`` (staged with COPY, checked in SQL) and ``ingest.batch_process`` (every value
parsed in Python) run the same hostile file from the same database state: the same rows
written, the same counts, the same errors word for word, the same chunk records.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import translation

from core.models import JobChunk
from customers import ingest, ingest_pg
from customers import models as m
from customers.services import imports as services
from org.models import StaffProfile
from org.tests.factories import BranchFactory

from .factories import CustomerFactory

HEADER = "客户号,姓名,性别,出生日期,手机号,证件号,城市,金融资产,归属网点,客户经理,生命周期,备注\n"


def _rows(owner: str) -> str:
    good = [
        f"P01,张一,男,1980-01-01,13800000001,310101198001010011,上海,80000,SH01,{owner},成熟,",
        'P02,李二,F,19810202,+86 138 0000 0002,31010119810202002x,北京,"1,000",SH01,,mature,x',
        "P03,王三,,1982/03/03,138-0000-0003,310101820303003,,1.005,,,,",  # Python lane: rounding
        "P04,\u3000赵四\u3000,女,,13800000004,,杭州,7000000.5,SH01,,growing,",
        "P05,\x1c钱五\x1c,女,1985.05.05,,,,0,SH01,,,",  # \x1c is whitespace to str.strip()
        "EXIST1,老客户,女,1975-05-20,13800000011,310101197505200011,上海,200000.00,SH01,,成熟,",  # unchanged
        "EXIST2,老客户二,男,1975-05-20,13800000012,310101197505200012,上海,300000,SH01,,mature,",  # changed
    ]
    bad = [
        "P10,孙六,x,1980-01-01,13800000010,,,,,,,",  # unknown gender
        "P11,周七,,1980-13-01,,,,,,,,",  # not a date
        "P12,吴八,,,12345,,,,,,,",  # not a mobile
        "P13,郑九,,,,1234,,,,,,",  # not an ID number
        "P14,冯十,,,,,,abc,,,,",  # not a number
        "P15,陈十一,,,,,,-5,,,,",  # negative
        "P16,褚十二,,,,,,1e20,,,,",  # too large
        "P17,卫\x07十三,,,,,,,,,,",  # a bell inside the name
        f"P18,{'长' * 51},,,,,,,,,,",  # too long
        ",无号,,,,,,,,,,",  # required
        "P19,蒋十四,,,,,,,XX99,,,",  # unknown branch
        "P20,沈十五,,,,,,,,NOBODY,,",  # unknown advisor
        "P21,韩十六,,,,,,,,,bogus,",  # unknown stage
        "P22,杨十七,,,,,,,XX99,NOBODY,,",  # two unknown codes
        "P23,朱十八,,,,,,",  # a field short
        "P24,秦十九,,,,,,,,,,,extra",  # a field too many
        "P25,尤二十,,,,,,,,,,,,,",  # blank fields too many: fine
        ",,,,,,,,,,,",  # blank: skipped
        "",  # an empty line: skipped
        '"P26","许二十一\n换行",,,,,,,,,,"a, b"',  # a quoted newline: the next line numbers move
        "P01,张一又来,,,,,,,,,,",  # P01 again
        "P19,蒋又来,,,,,,,,,,",  # again after a row refused for its branch: still a duplicate
        "P10,孙又来,,,,,,,,,,",  # again after a row refused for its gender: not a duplicate
        "EXIST1,老客户,女,1975-05-20,13800000011,310101197505200011,上海,200000.00,SH01,,成熟,",  # again
    ]
    return HEADER + "\n".join(good + bad) + "\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.WORKBENCH_IMPORT_CHUNK_ROWS = 4  # several chunks, duplicates across them


@pytest.fixture(autouse=True)
def run_on_commit(monkeypatch):
    monkeypatch.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: fn())


@pytest.fixture
def state(world):
    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")
    branch = BranchFactory(code="SH01")
    for no, name, gender, mobile, id_number, aum in (
        ("EXIST1", "老客户", m.Gender.FEMALE, "13800000011", "310101197505200011", Decimal("200000.00")),
        ("EXIST2", "旧名字", m.Gender.FEMALE, "13800000012", "310101197505200012", Decimal("1.00")),
    ):
        CustomerFactory(
            customer_no=no, name=name, gender=gender, mobile=mobile, id_number=id_number, aum=aum, home_branch=branch
        )
    return StaffProfile.objects.get(user=world.advisor_a).employee_no


def _outcome(user, content: bytes, *, fast: bool, monkeypatch) -> dict:
    monkeypatch.setattr(ingest_pg, "FAST_KINDS", frozenset({m.ImportKind.CUSTOMERS}) if fast else frozenset())
    calls = []
    real = ingest_pg.upsert_chunk
    monkeypatch.setattr(ingest_pg, "upsert_chunk", lambda *a, **k: calls.append(1) or real(*a, **k))
    batch = services.import_batch_create(
        actor=user, kind="customers", uploaded_file=SimpleUploadedFile("c.csv", content)
    )
    services.import_batch_start(actor=user, batch=batch, dry_run=True)
    batch.refresh_from_db()
    services.import_batch_start(actor=user, batch=batch, dry_run=False)
    batch.refresh_from_db()
    assert batch.status == m.ImportBatch.Status.DONE
    assert bool(calls) == fast  # the path asked for is the path taken
    report = {k: v for k, v in batch.report.items() if k != "finished_at"}
    fields = [*ingest.CUSTOMER_COLUMNS, "attributes"]
    customers = {
        c["customer_no"]: c for c in m.Customer.objects.filter(customer_no__regex=r"^(P|EXIST)").values(*fields)
    }
    touched = set(
        m.Customer.objects.filter(customer_no__regex=r"^(P|EXIST)", updated_at__gt=batch.created_at).values_list(
            "customer_no", flat=True
        )
    )
    chunks = list(JobChunk.objects.filter(job_id=batch.job_id).order_by("lo").values_list("lo", "hi", "result"))
    return {"report": report, "customers": customers, "touched": touched, "chunks": chunks}


def _both(user, content: bytes, monkeypatch) -> tuple[dict, dict]:
    with transaction.atomic():
        python = _outcome(user, content, fast=False, monkeypatch=monkeypatch)
        transaction.set_rollback(True)
    sql = _outcome(user, content, fast=True, monkeypatch=monkeypatch)
    return python, sql


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_sql_path_gives_the_python_paths_outcome(world, state, monkeypatch, encoding, language):
    content = _rows(state).encode(encoding)
    with translation.override(language):
        python, sql = _both(world.lead_a, content, monkeypatch)
    assert sql["report"] == python["report"]
    assert sql["customers"] == python["customers"]
    assert sql["touched"] == python["touched"]
    assert sql["chunks"] == python["chunks"]
    # and the outcome is the one meant, not two paths wrong the same way
    report = python["report"]
    # P01-P05, P25, P26 (its name holds a newline) and the second P10 (the first was refused)
    assert report["created"] == 8 and report["updated"] == 1 and report["unchanged"] == 1
    new = {"P01", "P02", "P03", "P04", "P05", "P10", "P25", "P26"}
    assert set(python["customers"]) == new | {"EXIST1", "EXIST2"}
    assert "EXIST1" not in python["touched"] and "EXIST2" in python["touched"]
    p02, p03 = python["customers"]["P02"], python["customers"]["P03"]
    assert p02["mobile"] == "13800000002" and p02["id_number"].endswith("X") and p02["aum"] == Decimal("1000.00")
    assert p03["aum"] == Decimal("1.00") and p03["gender"] == m.Gender.UNKNOWN and p03["birth_date"] is not None
    assert python["customers"]["P04"]["name"] == "赵四" and python["customers"]["P05"]["name"] == "钱五"
    lines = [e["line"] for e in report["errors"]]
    assert lines == sorted(lines) and len(report["errors"]) == report["rejected"] + 1  # P22 has two errors
    assert report["rows"] == report["valid"] + report["rejected"] == 29


def test_a_reimport_writes_nothing_on_either_path(world, state, monkeypatch):
    content = _rows(state).encode()
    _outcome(world.lead_a, content, fast=True, monkeypatch=monkeypatch)
    python, sql = _both(world.lead_a, content, monkeypatch)
    assert sql["report"] == python["report"]
    assert sql["report"]["created"] == sql["report"]["updated"] == 0 and sql["report"]["unchanged"] == 10


def test_a_customer_created_meanwhile_is_updated_not_refused(world, state, monkeypatch):
    """Someone creates one of the file's new customers between the check and the write:
    the plain INSERT of new customers meets the unique key and the chunk is written by the
    one INSERT .. ON CONFLICT instead, nothing refused or doubled."""
    real = ingest_pg.upsert_chunk

    def racing(*args, **kwargs):
        if not m.Customer.objects.filter(customer_no="P01").exists():
            CustomerFactory(customer_no="P01", name="别人先建")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_pg, "upsert_chunk", racing)
    content = (HEADER + f"P01,张一,男,1980-01-01,13800000001,,上海,80000,SH01,{state},成熟,\n").encode()
    batch = services.import_batch_create(
        actor=world.lead_a, kind="customers", uploaded_file=SimpleUploadedFile("c.csv", content)
    )
    services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
    batch.refresh_from_db()
    services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
    batch.refresh_from_db()
    assert batch.report["created"] == 0 and batch.report["updated"] == 1 and batch.report["rejected"] == 0
    p01 = m.Customer.objects.get(customer_no="P01")
    assert p01.name == "张一" and p01.owner == world.advisor_a


def test_a_reimport_sends_no_write_for_its_unchanged_chunks(world, state, monkeypatch):
    """The chunks of a re-import hold unchanged customers only: none of them sends an
    INSERT, and import_ready holds no row of theirs (issue 15: fewer round trips)."""
    content = _rows(state).encode()
    _outcome(world.lead_a, content, fast=True, monkeypatch=monkeypatch)
    seen = []
    real = ingest_pg.upsert_chunk

    def spying(cur, writes, params, *args, **kwargs):
        cur.execute("SELECT count(*) FILTER (WHERE valid AND NOT differs AND existing) FROM import_ready")
        seen.append((kwargs["work"], cur.fetchone()[0]))
        return real(cur, writes, params, *args, **kwargs)

    first = _outcome(world.lead_a, content, fast=True, monkeypatch=monkeypatch)
    monkeypatch.setattr(ingest_pg, "upsert_chunk", spying)
    again = _outcome(world.lead_a, content, fast=True, monkeypatch=monkeypatch)
    assert again["report"] == first["report"] and again["report"]["unchanged"] == 10
    assert seen and all(unchanged_rows == 0 for _work, unchanged_rows in seen)
    assert not any(work.new or work.changed for work, _n in seen)
    assert any(work.errors for work, _n in seen) and any(work.flagged for work, _n in seen)


def test_the_import_leaves_the_session_settings_as_it_found_them(world, state, monkeypatch):
    """The SQL path raises work_mem and turns JIT off for its own statements only: the
    worker's connection serves other tasks afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        before = cursor.fetchone()
        _outcome(world.lead_a, _rows(state).encode(), fast=True, monkeypatch=monkeypatch)
        cursor.execute("SELECT current_setting('work_mem'), current_setting('jit')")
        assert cursor.fetchone() == before
