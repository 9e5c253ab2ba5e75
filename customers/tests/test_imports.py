"""File import: mapping, dry run with per-row errors, idempotent re-import, progress."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from core.models import Job, JobChunk
from customers import ingest, ingest_pg, tasks
from customers import models as m
from customers.services import imports as services
from org.tests.factories import BranchFactory

from .factories import CustomerFactory, ProductFactory, TagFactory

CSV = (
    "客户号,姓名,手机号,证件号,金融资产,归属网点,性别,出生日期\n"
    "C100,张一,13800000001,310101198001010011,80000,SH01,男,1980-01-01\n"
    "C101,李二,13800000002,310101198001010022,abc,SH01,女,1981-02-02\n"
    "C102,王三,13800000003,310101198001010033,7000000,XX99,女,1982-03-03\n"
    ",赵四,13800000004,,1000,SH01,女,1983-04-04\n"
    "C104,钱五,13800000005,310101198001010055,600000,SH01,男,19840505\n"
).encode()


def _upload(user, content=CSV, name="customers.csv", kind="customers"):
    return services.import_batch_create(actor=user, kind=kind, uploaded_file=SimpleUploadedFile(name, content))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def run_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    """The task is queued on commit; tests run inside a transaction, so run it right away
    when the service's transaction block ends (CELERY_TASK_ALWAYS_EAGER in tests)."""
    monkeypatch.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: fn())


class TestCustomerImport:
    def test_dry_run_then_import_then_reimport(self, world, client_for):
        BranchFactory(code="SH01")
        batch = _upload(world.lead_a)
        assert batch.columns["customer_no"] == "客户号" and batch.columns["aum"] == "金融资产"
        client = client_for(world.lead_a)
        url = reverse("customers:import_detail", args=[batch.pk])
        form = {f"col_{k}": v for k, v in batch.columns.items()} | {"action": "dry_run", "save_as": "核心系统客户"}
        r = client.post(url, form)
        assert r.status_code == 302
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.CHECKED
        assert batch.preview["valid"] == 2 and batch.preview["rejected"] == 3
        lines = {(e["line"], e["column"]) for e in batch.preview["errors"]}
        assert lines == {(3, "金融资产"), (4, "归属网点"), (5, "客户号")}
        assert "不是数字" in " ".join(e["message"] for e in batch.preview["errors"])  # the user's language
        assert not m.Customer.objects.filter(customer_no__startswith="C10").exists()  # dry run wrote nothing
        assert m.ImportMapping.objects.filter(name="核心系统客户", kind="customers").exists()
        html = client.get(url).content.decode()
        assert 'data-testid="dry-run-result"' in html and 'data-testid="run-import"' in html

        r = client.post(url, {"action": "import"})
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.DONE
        assert batch.report["created"] == 2 and batch.report["rejected"] == 3
        assert Job.objects.get(pk=batch.job_id).status == Job.Status.SUCCEEDED
        c = m.Customer.objects.get(customer_no="C104")
        assert c.tier == m.Tier.WEALTH and c.birth_date.isoformat() == "1984-05-05" and c.mobile_last4 == "0005"
        before = c.updated_at

        # Re-importing the same file changes nothing.
        again = _upload(world.lead_a)
        services.import_batch_start(actor=world.lead_a, batch=again, dry_run=True)
        again.refresh_from_db()
        services.import_batch_start(actor=world.lead_a, batch=again, dry_run=False)
        again.refresh_from_db()
        assert again.report["created"] == 0 and again.report["updated"] == 0 and again.report["unchanged"] == 2
        c.refresh_from_db()
        assert c.updated_at == before

    def test_errors_in_english_for_english_users(self, world):
        BranchFactory(code="SH01")
        with translation.override("en"):
            batch = _upload(world.lead_a)
            services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        batch.refresh_from_db()
        assert "Not a number." in [e["message"] for e in batch.preview["errors"]]

    def test_import_requires_dry_run(self, world):
        batch = _upload(world.lead_a)
        with pytest.raises(Exception, match="dry run|试运行"):
            services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)

    def test_mapping_missing_required_field(self, world, client_for):
        batch = _upload(world.lead_a)
        url = reverse("customers:import_detail", args=[batch.pk])
        r = client_for(world.lead_a).post(url, {"col_customer_no": "客户号", "action": "dry_run"})
        assert r.status_code == 200
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.UPLOADED and batch.job is None

    def test_excel_upload(self, world):
        BranchFactory(code="SH01")
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["customer_no", "name", "aum"])
        ws.append(["X1", "周六", 12345.5])
        buf = io.BytesIO()
        wb.save(buf)
        batch = _upload(world.lead_a, buf.getvalue(), "book.xlsx")
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        batch.refresh_from_db()
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        assert m.Customer.objects.get(customer_no="X1").aum == 12345.5

    def test_gbk_csv(self, world):
        batch = _upload(world.lead_a, "客户号,姓名\nG1,孙七\n".encode("gbk"))
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        batch.refresh_from_db()
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        g1 = m.Customer.objects.get(customer_no="G1")
        assert g1.name == "孙七" and g1.tier == m.Tier.LONG_TAIL and g1.gender == m.Gender.UNKNOWN

    def test_upload_page_rejects_other_formats(self, world, client_for):
        r = client_for(world.lead_a).post(
            reverse("customers:imports"), {"kind": "customers", "file": SimpleUploadedFile("x.pdf", b"%PDF")}
        )
        assert r.status_code == 200 and not m.ImportBatch.objects.exists()


class TestOtherKinds:
    def test_holdings_snapshots_assessments_tags_interactions(self, world):
        c = CustomerFactory(customer_no="K1", risk_level=None, risk_assessed_at=None)
        ProductFactory(code="P1")
        TagFactory(code="pension")
        files = {
            "holdings": "external_id,customer_no,product_code,amount,opened_on,maturity_date\n"
            "H1,K1,P1,50000,2026-01-01,2026-12-01\nH2,K1,NOPE,1,2026-01-01,\n",
            "snapshots": "customer_no,date,aum,deposits,wealth\nK1,2026-11-01,100000,40000,60000\n"
            "K1,2026-11-02,101000,40000,61000\n",
            "risk_assessments": "customer_no,level,assessed_at,channel\n"
            "K1,C4,2026-10-01 10:00,手机银行\nK1,C9,2026-10-02,x\n",
            "tags": "customer_no,tag_code,score\nK1,pension,0.8\n",
            "interactions": "external_id,customer_no,channel,occurred_at,summary,transcript\n"
            'S1,K1,ai_bot,2026-11-01 09:00,问到期,"[{""speaker"": ""customer"", ""text"": ""<b>hi</b>""}]"\n',
        }
        for kind, text in files.items():
            for _ in range(2):  # the second run changes nothing
                batch = _upload(world.admin, text.encode(), f"{kind}.csv", kind)
                services.import_batch_start(actor=world.admin, batch=batch, dry_run=True)
                batch.refresh_from_db()
                services.import_batch_start(actor=world.admin, batch=batch, dry_run=False)
        assert m.Holding.objects.get(external_id="H1").amount == 50000
        assert not m.Holding.objects.filter(external_id="H2").exists()
        assert m.AssetSnapshot.objects.filter(customer=c).count() == 2
        assert m.RiskAssessment.objects.filter(customer=c).count() == 1
        c.refresh_from_db()
        assert c.risk_level == 4
        assert m.CustomerTag.objects.get(customer=c).score == 0.8
        i = m.Interaction.objects.get(external_id="S1")
        assert i.transcript == [{"speaker": "customer", "text": "<b>hi</b>"}]
        batch.refresh_from_db()
        assert batch.report["unchanged"] == 1

    def test_a_snapshot_whose_parts_do_not_add_up_to_the_aum_is_refused(self, world):
        """The portrait once showed wealth products 77,375 in the structure next to 243,497
        in holdings, deposits plus holdings above the AUM: ingest keeps the picture whole."""
        CustomerFactory(customer_no="K2")
        text = (
            "customer_no,date,aum,deposits,wealth,funds\n"
            "K2,2026-11-01,100000,40000,60000,\n"  # adds up
            "K2,2026-11-02,100000,40000,77375,243497\n"  # does not
        )
        batch = _upload(world.admin, text.encode(), "snapshots.csv", "snapshots")
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=True)
        batch.refresh_from_db()
        [error] = batch.preview["errors"]
        assert error["line"] == 3 and "360,872.00" in error["message"] and "与金融资产不符" in error["message"]
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=False)
        batch.refresh_from_db()
        dates = list(m.AssetSnapshot.objects.filter(customer__customer_no="K2").values_list("date", flat=True))
        assert [d.isoformat() for d in dates] == ["2026-11-01"] and batch.report["rejected"] == 1


class TestFundFlows:
    FILE = (
        "交易流水号,客户号,资金方向,交易金额,交易时间,渠道\n"
        "T1,F1,转入,50000,2026-11-24 10:00,跨行转账\n"
        "T2,F1,流出,8000.50,2026-11-25 14:30,现金\n"
        "T3,F1,sideways,100,2026-11-25,现金\n"  # unknown direction
        "T4,F1,in,-5,2026-11-25,现金\n"  # negative
        "T5,F1,in,0,2026-11-25,现金\n"  # nothing
        "T6,NOPE,in,100,2026-11-25,现金\n"  # unknown customer
        "T7,F1,in,100,yesterday,现金\n"  # not a date
        "T8,F1,in,100,2026-11-25,carrier pigeon\n"  # unknown channel
        "T1,F1,in,100,2026-11-25,现金\n"  # the same transaction again
    ).encode()

    def test_bad_rows_are_refused_each_with_a_message_and_not_written(self, world):
        CustomerFactory(customer_no="F1")
        batch = _upload(world.admin, self.FILE, "flows.csv", "flows")
        assert batch.columns == {
            "external_id": "交易流水号",
            "customer_no": "客户号",
            "direction": "资金方向",
            "amount": "交易金额",
            "occurred_at": "交易时间",
            "channel": "渠道",
        }
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=True)
        batch.refresh_from_db()
        assert not m.FundFlow.objects.exists()  # a dry run writes nothing
        errors = {(e["line"], e["column"]): e["message"] for e in batch.preview["errors"]}
        assert set(errors) == {
            (4, "资金方向"),
            (5, "交易金额"),
            (6, "交易金额"),
            (7, "客户号"),
            (8, "交易时间"),
            (9, "渠道"),
            (10, "交易流水号"),
        }
        assert "不能为负" in errors[(5, "交易金额")] and "必须大于零" in errors[(6, "交易金额")]
        assert batch.preview["valid"] == 2
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=False)
        batch.refresh_from_db()
        assert batch.report["created"] == 2 and batch.report["rejected"] == 7
        flows = {f.external_id: f for f in m.FundFlow.objects.all()}
        assert set(flows) == {"T1", "T2"}
        assert flows["T2"].signed_amount == Decimal("-8000.50") and flows["T1"].channel == m.FlowChannel.TRANSFER
        assert timezone.localtime(flows["T2"].occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-11-25 14:30"
        # The same file again changes nothing.
        again = _upload(world.admin, self.FILE, "flows.csv", "flows")
        services.import_batch_start(actor=world.admin, batch=again, dry_run=True)
        again.refresh_from_db()
        services.import_batch_start(actor=world.admin, batch=again, dry_run=False)
        again.refresh_from_db()
        assert again.report["created"] == 0 and again.report["unchanged"] == 2
        assert m.FundFlow.objects.count() == 2

    def test_a_file_of_bad_rows_writes_nothing(self, world):
        CustomerFactory(customer_no="F1")
        text = "external_id,customer_no,direction,amount,occurred_at\nT9,F1,in,abc,2026-11-25\n"
        batch = _upload(world.admin, text.encode(), "flows.csv", "flows")
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=True)
        batch.refresh_from_db()
        services.import_batch_start(actor=world.admin, batch=batch, dry_run=False)
        batch.refresh_from_db()
        assert batch.report["rejected"] == 1 and batch.report["errors"][0]["column"] == "amount"
        assert not m.FundFlow.objects.exists()


def _checked(user):
    BranchFactory(code="SH01")
    batch = _upload(user)
    services.import_batch_start(actor=user, batch=batch, dry_run=True)
    batch.refresh_from_db()
    return batch


class TestTask:
    """``customers.import_batch_run`` is a thin entry point: the run is the service's."""

    def test_running_twice_has_one_effect(self, world):
        batch = _checked(world.lead_a)
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.DONE and batch.report["created"] == 2
        tasks.import_batch_run.apply(args=(batch.pk, batch.job_id))  # a duplicate delivery: the job is done
        # A duplicate while the job is running (its worker reported a moment ago): refused.
        Job.objects.filter(pk=batch.job_id).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now())
        m.ImportBatch.objects.filter(pk=batch.pk).update(status=m.ImportBatch.Status.RUNNING)
        tasks.import_batch_run.apply(args=(batch.pk, batch.job_id))
        assert m.ImportBatch.objects.get(pk=batch.pk).status == m.ImportBatch.Status.RUNNING
        # A run whose worker died before recording the end (quiet for a whole lease): the
        # sweeper's message claims it, skips the chunks already written, and reports as
        # the uninterrupted run did.
        Job.objects.filter(pk=batch.job_id).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
        tasks.import_batch_run.apply(args=(batch.pk, batch.job_id))
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.DONE
        assert batch.report["created"] == 2 and batch.report["unchanged"] == 0
        assert m.Customer.objects.filter(customer_no__in=["C100", "C104"]).count() == 2
        assert JobChunk.objects.filter(job_id=batch.job_id).count() == 1

    @pytest.fixture
    def queued(self, world, monkeypatch):
        """A checked file queued for import, with the task run by hand (eagerly, retries
        included: eager retries re-run only when errors are not propagated)."""
        batch = _checked(world.lead_a)
        monkeypatch.setattr(services, "job_enqueue", lambda *args, **kwargs: None)
        job = services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        monkeypatch.setitem(tasks.import_batch_run.app.conf, "task_eager_propagates", False)
        return batch, job

    def test_a_transient_database_error_is_retried(self, queued, monkeypatch):
        batch, job = queued
        real, calls = ingest_pg.batch_process, []

        def flaky(**kwargs):
            calls.append(kwargs["batch_id"])
            if len(calls) == 1:
                raise OperationalError("server closed the connection unexpectedly")
            return real(**kwargs)

        monkeypatch.setattr(ingest_pg, "batch_process", flaky)
        assert tasks.import_batch_run.apply(args=(batch.pk, job.pk)).successful()
        batch.refresh_from_db()
        assert calls == [batch.pk, batch.pk]
        assert batch.status == m.ImportBatch.Status.DONE and batch.report["created"] == 2

    def test_retries_exhausted_fail_the_batch(self, queued, monkeypatch):
        batch, job = queued
        calls = []

        def down(**kwargs):
            calls.append(1)
            raise OperationalError("the database is down")

        monkeypatch.setattr(ingest_pg, "batch_process", down)
        assert tasks.import_batch_run.apply(args=(batch.pk, job.pk)).failed()
        batch.refresh_from_db()
        assert len(calls) == 1 + tasks.import_batch_run.max_retries
        assert batch.status == m.ImportBatch.Status.FAILED
        assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED

    def test_any_other_error_fails_at_once(self, world, monkeypatch):
        batch = _checked(world.lead_a)
        calls = []

        def broken(**kwargs):
            calls.append(1)
            raise ValueError("bad file")

        monkeypatch.setattr(ingest_pg, "batch_process", broken)
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        batch.refresh_from_db()
        assert calls == [1] and batch.status == m.ImportBatch.Status.FAILED
        job = Job.objects.get(pk=batch.job_id)
        assert job.status == Job.Status.FAILED and "bad file" in job.message


class TestErrorsDownload:
    def test_rejected_rows_as_csv_defused(self, world, client_for):
        BranchFactory(code="SH01")
        batch = _upload(world.lead_a, "客户号,姓名,金融资产\nC1,张一,=1+1\n".encode())
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        r = client_for(world.lead_a).get(reverse("customers:import_errors", args=[batch.pk]))
        body = b"".join(r.streaming_content).decode()
        assert body.startswith("\ufeff") and "'=1+1" in body
        assert client_for(world.lead_a).get(reverse("customers:import_errors", args=[999999])).status_code == 404


class TestHostileFiles:
    """Control characters, misaligned rows, duplicates and identity changes: reported per
    line in the dry run, and an import writes every valid row and nothing else."""

    CSV = (
        "客户号,姓名,手机号,证件号,金融资产,归属网点\n"
        "H1,张一,13800000001,310101198001010011,80000,SH01\n"
        "H2,李\x00二,13800000002,310101198001010022,90000,SH01\n"  # a NUL inside a name
        "H3,王三,13800000003,310101198001010033,70000\n"  # a field short
        "H4,赵四,13800000004,310101198001010044,60000,SH01,extra\n"  # a field too many
        "H1,张一一,13800000009,310101198001010099,50000,SH01\n"  # H1 again
        "H5,钱\x07五,13800000005,310101198001010055,40000,SH01\n"  # a bell character
        "H6,孙六,13800000006,310101198001010066,30000,SH01\n"
    ).encode()

    def test_dry_run_reports_each_line_and_the_import_writes_the_valid_rows(self, world):
        BranchFactory(code="SH01")
        CustomerFactory(customer_no="H6", name="孙老六", mobile="13900000000")
        batch = _upload(world.lead_a, self.CSV)
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.CHECKED and Job.objects.get(pk=batch.job_id).is_finished
        preview = batch.preview
        by_line = {e["line"]: e for e in preview["errors"]}
        assert preview["rows"] == 7 and preview["valid"] == 2 and preview["rejected"] == 5
        assert sorted(by_line) == [3, 4, 5, 6, 7]
        assert "U+0000" in by_line[3]["message"] and "\x00" not in by_line[3]["value"]
        assert "U+0007" in by_line[7]["message"]
        assert "5" in by_line[4]["message"] and "6" in by_line[4]["message"]  # 5 fields, header has 6
        assert "第 2 行" in by_line[6]["message"] or "line 2" in by_line[6]["message"]
        # H6 exists: the dry run shows what the import would change (masked), H2.. are new
        assert preview["new_customers"] == 1 and preview["existing_customers"] == 1
        changed = {c["field"]: c for c in preview["changes"] if c["customer_no"] == "H6"}
        assert set(changed) >= {"客户姓名", "手机号"} or set(changed) >= {"customer name", "mobile"}
        name_change = next(c for c in preview["changes"] if c["line"] == 8 and "*" in c["before"])
        assert name_change["before"].startswith("孙") and "老" not in name_change["before"]
        assert not m.Customer.objects.filter(customer_no="H1").exists()  # a dry run writes nothing

        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.DONE
        assert batch.report["created"] == 1 and batch.report["updated"] == 1 and batch.report["rejected"] == 5
        assert set(m.Customer.objects.filter(customer_no__startswith="H").values_list("customer_no", flat=True)) == {
            "H1",
            "H6",
        }
        assert m.Customer.objects.get(customer_no="H1").name == "张一"  # the first H1, not a merge

    def test_a_header_with_a_control_character_is_refused_at_upload(self, world):
        with pytest.raises(ValidationError) as exc:
            _upload(world.lead_a, "客户号,姓\x00名\nC1,张一\n".encode())
        assert "U+0000" in str(exc.value)
        assert not m.ImportBatch.objects.exists()

    @pytest.mark.parametrize("path", ["python", "sql"])
    def test_an_import_that_stops_mid_file_resumes_without_writing_a_chunk_twice(
        self, world, settings, monkeypatch, path
    ):
        """The Python path (``ingest.write_chunk``) and the SQL path of PostgreSQL
        (``ingest_pg.upsert_chunk``) both commit a chunk with its record."""
        if path == "sql" and connection.vendor != "postgresql":
            pytest.skip("the SQL path is PostgreSQL's")
        if path == "python":
            monkeypatch.setattr(ingest_pg, "FAST_KINDS", frozenset())
        module, writer = (ingest, "write_chunk") if path == "python" else (ingest_pg, "upsert_chunk")
        settings.WORKBENCH_IMPORT_CHUNK_ROWS = 2
        BranchFactory(code="SH01")
        rows = "".join(f"R{i},客户{i},138000000{i:02d},,1000,SH01\n" for i in range(7))
        batch = _upload(world.lead_a, ("客户号,姓名,手机号,证件号,金融资产,归属网点\n" + rows).encode())
        services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=True)
        batch.refresh_from_db()
        monkeypatch.setattr(services, "job_enqueue", lambda *args, **kwargs: None)
        job = services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
        real, calls = getattr(module, writer), {"n": 0}

        def dying(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise SystemExit("worker killed")  # the process dies in the third chunk
            return real(*args, **kwargs)

        monkeypatch.setattr(module, writer, dying)
        with pytest.raises(SystemExit):
            tasks.import_batch_run.apply(args=(batch.pk, job.pk))
        assert JobChunk.objects.filter(job=job).count() == 2
        assert m.Customer.objects.filter(customer_no__startswith="R").count() == 4
        # the sweeper sends the job again once it has been quiet for a lease
        monkeypatch.setattr(module, writer, real)
        tasks.import_batch_run.apply(args=(batch.pk, job.pk))  # too soon: refused
        assert JobChunk.objects.filter(job=job).count() == 2
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
        tasks.import_batch_run.apply(args=(batch.pk, job.pk))
        batch.refresh_from_db()
        assert batch.status == m.ImportBatch.Status.DONE
        assert batch.report["rows"] == 7 and batch.report["created"] == 7 and batch.report["unchanged"] == 0
        assert JobChunk.objects.filter(job=job).count() == 4
        assert m.Customer.objects.filter(customer_no__startswith="R").count() == 7
        assert Job.objects.get(pk=job.pk).attempts == 2
