"""The pages and actions: access per role and row, download audit, query counts, and a
segment's reports as a background job (progress, re-run)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Segment, SegmentKind, SegmentMember
from core.models import AuditEvent, Job, JobChunk
from customers.models import AccessKind, AccessRecord
from customers.tests.factories import CustomerFactory
from reports import services
from reports.models import WealthReport

from .factories import approve_report_wording, customer_with_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    approve_report_wording(world)
    return customer_with_book(world.advisor_a)


@pytest.fixture
def report(world, book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.report_generate(actor=world.advisor_a, customer=book)


def test_generate_from_the_portrait(world, book, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.advisor_a)
    tab = client.get(reverse("customers:tab", args=[book.pk, "wealth_report"]))
    assert tab.status_code == 200 and 'data-testid="generate-report"' in tab.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:generate", args=[book.pk]))
    assert response.status_code == 302
    assert WealthReport.objects.filter(customer=book).count() == 1


def test_another_teams_customer_is_404(world, book, client_for):
    client = client_for(world.advisor_b)
    assert client.post(reverse("reports:generate", args=[book.pk])).status_code == 404
    assert not WealthReport.objects.exists()


def test_compliance_reads_but_may_not_generate(world, book, report, client_for):
    client = client_for(world.compliance)
    assert client.post(reverse("reports:generate", args=[book.pk])).status_code == 403
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 200
    assert client.post(reverse("reports:deliver", args=[report.pk]), {"channel": "email"}).status_code == 404


def test_download_is_audited_and_recorded(world, report, client_for):
    response = client_for(world.lead_a).get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(verb="report.download", actor=world.lead_a).count() == 1
    record = AccessRecord.objects.get(user=world.lead_a, kind=AccessKind.EXPORT)
    assert record.customer_id == report.customer_id and record.details["page"] == "wealth_report"


def test_a_missing_file_is_404_and_no_download_is_recorded(world, report, client_for):
    report.file.storage.delete(report.file.name)
    response = client_for(world.lead_a).get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="report.download").exists()
    assert not AccessRecord.objects.filter(kind=AccessKind.EXPORT).exists()


@pytest.mark.parametrize("who", ["advisor_b", "manager_x", "rm_x"])
def test_download_outside_the_scope_is_404(world, report, client_for, who):
    response = client_for(getattr(world, who)).get(reverse("reports:download", args=[report.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(verb="report.download").exists()


def test_deliver_from_the_tab(world, report, client_for):
    client = client_for(world.advisor_a)
    response = client.post(reverse("reports:deliver", args=[report.pk]), {"channel": "post"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.delivery_channel == "post" and report.delivered_at is not None


def test_deliver_with_a_bad_channel_changes_nothing(world, report, client_for):
    client = client_for(world.advisor_a)
    response = client.post(reverse("reports:deliver", args=[report.pk]), {"channel": "pigeon"}, follow=True)
    assert response.status_code == 200
    assert "请选择报告的送达方式" in response.content.decode()
    report.refresh_from_db()
    assert report.delivered_at is None


def test_list_page_per_role(world, report, client_for):
    assert client_for(world.advisor_a).get(reverse("reports:list")).status_code == 200
    other = client_for(world.advisor_b).get(reverse("reports:list"))
    assert other.status_code == 200 and f'data-report="{report.pk}"' not in other.content.decode()
    assert f'data-report="{report.pk}"' in client_for(world.admin).get(reverse("reports:list")).content.decode()


def test_list_query_count_is_constant(world, book, client_for, django_assert_num_queries, settings):
    client = client_for(world.admin)
    for _ in range(2):
        services.report_generate(actor=world.admin, customer=CustomerFactory(owner=world.advisor_a))
    client.get(reverse("reports:list"))
    with django_assert_num_queries(8) as small:
        client.get(reverse("reports:list"))
    for _ in range(3):
        services.report_generate(actor=world.admin, customer=CustomerFactory(owner=world.advisor_a))
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("reports:list"))


def test_tab_query_count_is_constant(world, book, report, client_for, django_assert_num_queries):
    client = client_for(world.advisor_a)
    url = reverse("customers:tab", args=[book.pk, "wealth_report"])
    client.get(url, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(10) as first:
        client.get(url, HTTP_HX_REQUEST="true")
    services.report_generate(actor=world.advisor_a, customer=book, year=timezone.localdate().year - 1)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url, HTTP_HX_REQUEST="true")


def _segment(world, customers) -> Segment:
    segment = Segment.objects.create(name="高净值客群", kind=SegmentKind.SNAPSHOT, created_by=world.campaigner)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in customers])
    return segment


def test_batch_job_progress_and_rerun(world, book, client_for, django_capture_on_commit_callbacks, settings):
    settings.WORKBENCH_REPORT_BATCH_CHUNK = 2
    customers = [book, *(CustomerFactory(owner=world.advisor_a) for _ in range(4))]
    segment = _segment(world, customers)
    client = client_for(world.campaigner)
    year = timezone.localdate().year
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:batch"), {"segment": segment.pk, "year": year})
    assert response.status_code == 302
    job = Job.objects.get(kind="reports.batch")
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total) == (5, 5)
    assert job.result["generated"] == 5 and job.result["refused"] == 0
    assert WealthReport.objects.filter(year=year).count() == 5
    assert WealthReport.objects.filter(job=job).count() == 5
    # The job again (a redelivered message) does nothing; a new run skips what is there.
    services.report_batch_dispatch(job_id=job.pk)
    for lo in JobChunk.objects.filter(job=job).values_list("lo", flat=True):
        assert services.report_batch_chunk(job_id=job.pk, lo=lo) is None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:batch"), {"segment": segment.pk, "year": year})
    second = Job.objects.filter(kind="reports.batch").latest("id")
    assert second.pk != job.pk and second.result["skipped"] == 5 and second.result["generated"] == 0
    assert WealthReport.objects.count() == 5
    assert AuditEvent.objects.filter(verb="report.generate").count() == 5
    page = client.get(reverse("reports:list")).content.decode()
    assert "高净值客群" in page


def test_batch_is_for_campaign_managers(world, book, client_for):
    segment = _segment(world, [book])
    response = client_for(world.advisor_a).post(
        reverse("reports:batch"), {"segment": segment.pk, "year": timezone.localdate().year}
    )
    assert response.status_code == 403
    bad = client_for(world.campaigner).post(reverse("reports:batch"), {"segment": "x", "year": "soon"})
    assert bad.status_code == 400 and not Job.objects.filter(kind="reports.batch").exists()


def test_no_batch_for_a_year_not_begun(world, book, client_for):
    """A report of next year would have no statements yet, and its delivery would count
    as this year's written report."""
    segment = _segment(world, [book])
    next_year = timezone.localdate().year + 1
    response = client_for(world.campaigner).post(reverse("reports:batch"), {"segment": segment.pk, "year": next_year})
    assert response.status_code == 400 and f"{next_year} 年尚未开始" in response.content.decode()
    assert not Job.objects.filter(kind="reports.batch").exists()


def test_the_admin_shows_a_report_but_cannot_mark_it_sent(world, report, client):
    """Sending goes through the service (the scan, the audit): the admin only reads."""
    superuser = get_user_model().objects.create_superuser("root", "root@example.cn", "demo-pass-123")
    client.force_login(superuser)
    url = reverse("admin:reports_wealthreport_change", args=[report.pk])
    assert client.get(url).status_code == 200
    at = timezone.localtime(report.generated_at)
    response = client.post(
        url,
        {
            **{f: getattr(report, f"{f}_id") for f in ("customer", "script_version", "generated_by")},
            **{"year": report.year, "language": report.language, "size": report.size, "job": ""},
            **{"generated_at_0": at.date().isoformat(), "generated_at_1": at.time().isoformat("seconds")},
            **{"delivered_at_0": at.date().isoformat(), "delivered_at_1": "10:00:00", "delivered_by": ""},
            "delivery_channel": "post",
        },
    )
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.delivered_at is None and report.delivery_channel == ""
