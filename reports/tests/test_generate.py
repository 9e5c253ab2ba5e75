"""Generating a report: the PDF's text, suitability, the approved wording, the scan,
delivery, audit and PIPL records."""

from __future__ import annotations

import io
import threading

import pypdfium2 as pdfium
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from compliance.models import CommSource, Communication, Flag, ScriptVersion
from core.models import AuditEvent
from customers.models import AccessKind, AccessRecord
from reports import services
from reports.models import DeliveryChannel, WealthReport
from reports.pdf import DISCLOSURES_ZH
from reports.selectors import reports_delivered

from .factories import approve_report_wording, customer_with_book

pytestmark = pytest.mark.django_db


def pdf_text(report: WealthReport) -> str:
    with report.file.open("rb") as handle:
        doc = pdfium.PdfDocument(io.BytesIO(handle.read()))
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    # pdfium breaks lines inside table cells and long paragraphs
    return text.replace("\r", "").replace("\n", "")


@pytest.fixture
def generate(django_capture_on_commit_callbacks):
    """Generate as a request would: the scan queued on commit runs (Celery is eager)."""

    def _generate(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.report_generate(**kwargs)

    return _generate


@pytest.fixture
def book(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    approve_report_wording(world)
    return customer_with_book(world.advisor_a)


def test_pdf_holds_the_customers_figures_and_the_disclosures(world, book):
    with translation.override("zh-hans"):
        report = services.report_generate(actor=world.advisor_a, customer=book)
    text = pdf_text(report)
    assert f"{timezone.localdate().year}年度财富报告" in text
    assert book.name in text and book.customer_no in text
    assert "¥523,456.78" in text  # AUM now
    assert "¥400,000.00" in text  # first statement of the year
    assert "¥123,456.78" in text  # deposits in the allocation
    assert "稳享180天" in text and "¥300,000.00" in text  # a holding
    assert "C3" in text  # risk tolerance
    assert "3" in text and "电话" in text  # the year's contacts by channel
    for disclosure in DISCLOSURES_ZH:
        assert disclosure in text
    assert "感谢您过去一年对我行的信任" in text  # the approved wording
    assert report.language == "zh-hans"


def test_unsuitable_products_are_never_listed(world, book):
    report = services.report_generate(actor=world.advisor_a, customer=book)
    text = pdf_text(report)
    assert "稳进增利" in text  # R3 for a C3 customer
    assert "高波动权益" not in text and "NOR5" not in text
    assert "进取成长" not in text and "NOR4" not in text


def test_expired_assessment_lists_no_product(world, book):
    book.risk_assessed_at = timezone.now() - timezone.timedelta(days=400)
    book.save()
    report = services.report_generate(actor=world.advisor_a, customer=book)
    text = pdf_text(report)
    assert "稳进增利" not in text and "OKR3" not in text
    assert "风险测评有效" in text or "有效后" in text


def test_english_report_when_the_user_works_in_english(world, book):
    with translation.override("en"):
        report = services.report_generate(actor=world.advisor_a, customer=book)
    text = pdf_text(report)
    assert report.language == "en"
    assert "Annual wealth report" in text
    assert DISCLOSURES_ZH[0] in text and "Wealth products are not deposits" in text


def test_refused_while_no_wording_is_approved(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer = customer_with_book(world.advisor_a)
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        services.report_generate(actor=world.advisor_a, customer=customer)
    assert "approve" in exc.value.messages[0]
    assert not WealthReport.objects.exists()


def test_generation_is_audited_recorded_and_scanned(world, book, generate):
    report = generate(actor=world.advisor_a, customer=book)
    event = AuditEvent.objects.get(verb="report.generate")
    assert event.actor == world.advisor_a and event.target_id == str(report.pk)
    assert event.details["script_version"] == report.script_version_id
    record = AccessRecord.objects.get(customer=book, details__page="wealth_report")
    assert record.user == world.advisor_a and record.kind == AccessKind.VIEW
    comm = Communication.objects.get(source=CommSource.WEALTH_REPORT, object_id=report.pk)
    assert comm.scanned_at is not None  # Celery is eager: scanned on commit
    assert comm.text == report.text and "理财非存款" in comm.text


def test_regenerating_replaces_the_years_report(world, book):
    first = services.report_generate(actor=world.advisor_a, customer=book)
    second = services.report_generate(actor=world.advisor_a, customer=book)
    assert first.pk == second.pk and WealthReport.objects.count() == 1
    assert Communication.objects.filter(source=CommSource.WEALTH_REPORT).count() == 1


def test_delivery_is_recorded_with_time_and_channel(world, book, generate):
    report = generate(actor=world.advisor_a, customer=book)
    services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.EMAIL)
    report.refresh_from_db()
    assert report.delivered_at is not None and report.delivery_channel == "email"
    assert report.delivered_by == world.advisor_a
    assert AuditEvent.objects.filter(verb="report.deliver", details__channel="email").count() == 1
    assert reports_delivered([book.pk], timezone.localdate().year) == {book.pk: report.delivered_at}
    assert reports_delivered([book.pk], timezone.localdate().year - 1) == {}
    with pytest.raises(ValidationError):
        services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.POST)
    with pytest.raises(ValidationError):  # a sent report is not replaced
        services.report_generate(actor=world.advisor_a, customer=book)


def test_a_blocking_finding_stops_sending(world, book, generate):
    report = generate(actor=world.advisor_a, customer=book)
    comm = Communication.objects.get(source=CommSource.WEALTH_REPORT, object_id=report.pk)
    Flag.objects.create(
        communication=comm,
        source=comm.source,
        occurred_at=comm.occurred_at,
        severity="high",
        category="guarantee",
        text_snapshot=comm.text,
        match="保本",
    )
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.EMAIL)
    assert "must not be sent" in exc.value.messages[0]
    report.refresh_from_db()
    assert report.delivered_at is None
    assert AuditEvent.objects.filter(verb="report.deliver", details__refused=True).count() == 1


def test_scan_of_guarantee_wording_blocks(world, book, generate):
    """The real scanner on the report's text: a wording promising principal is flagged
    high and the report cannot be sent."""
    version = ScriptVersion.objects.get(status="approved", script__purpose="wealth_report")
    ScriptVersion.objects.filter(pk=version.pk).update(body="本产品保本保收益，稳赚不赔。")
    report = generate(actor=world.advisor_a, customer=book)
    assert Flag.objects.filter(communication__object_id=report.pk, severity="high").exists()
    with pytest.raises(ValidationError):
        services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.EMAIL)


def test_compliance_may_not_generate(world, book):
    with pytest.raises(PermissionDenied):
        services.report_generate(actor=world.compliance, customer=book)
    with pytest.raises(PermissionDenied):  # another team's advisor
        services.report_generate(actor=world.advisor_b, customer=book)
    assert AuditEvent.objects.filter(verb="report.generate", details__refused=True).count() == 2


def test_a_regenerated_report_waits_for_the_scan_of_its_new_text(
    world, book, generate, django_capture_on_commit_callbacks
):
    """The first text was scanned clear; a report generated again with other wording may
    not be sent on that old scan: it waits for its own, which here blocks it."""
    generate(actor=world.advisor_a, customer=book)
    version = ScriptVersion.objects.get(status="approved", script__purpose="wealth_report")
    ScriptVersion.objects.filter(pk=version.pk).update(body="本产品保本保收益，稳赚不赔。")
    with django_capture_on_commit_callbacks(execute=False) as scans:
        report = services.report_generate(actor=world.advisor_a, customer=book)
    with pytest.raises(ValidationError) as exc:
        services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.EMAIL)
    assert exc.value.code == "scan_pending"
    for scan in scans:
        scan()
    with pytest.raises(ValidationError) as exc:
        services.report_deliver(actor=world.advisor_a, report=report, channel=DeliveryChannel.EMAIL)
    assert exc.value.code == "scan_blocked"
    report.refresh_from_db()
    assert report.delivered_at is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_two_generations_at_once_make_one_report(world, settings, tmp_path):
    """A click on the portrait while the segment's batch reaches the same customer: the
    second waits for the first and replaces its report (no duplicate-key error)."""
    settings.MEDIA_ROOT = tmp_path
    approve_report_wording(world)
    customer = customer_with_book(world.advisor_a)
    start, errors = threading.Barrier(2), []

    def generate():
        try:
            start.wait()
            services.report_generate(actor=world.advisor_a, customer=customer)
        except Exception as exc:  # noqa: BLE001 - the test reports what a thread met
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert WealthReport.objects.filter(customer=customer).count() == 1
