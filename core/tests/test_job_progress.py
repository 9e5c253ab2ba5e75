"""A job's progress bar and its "done/total" text say the same thing, and its message
reads in the reader's language."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils.translation import gettext, gettext_lazy, override

from core import services
from core.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "done", "total", "percent", "left"),
    [
        (Job.Status.SUCCEEDED, 4, 5, 80, 1),
        (Job.Status.SUCCEEDED, 5, 5, 100, 0),
        (Job.Status.SUCCEEDED, 0, 0, 100, 0),
        (Job.Status.RUNNING, 4, 5, 80, 0),
        (Job.Status.FAILED, 2, 5, 40, 3),
    ],
)
def test_bar_and_count_agree(status, done, total, percent, left):
    job = Job.objects.create(kind="core.test", status=status, done=done, total=total)
    assert (job.percent, job.left_over) == (percent, left)
    with override("zh-hans"):
        html = render_to_string("core/_job_progress.html", {"job": job})
    assert f'aria-valuenow="{percent}"' in html and f">{percent}%<" in html
    if total:
        assert f"<span data-job-count>{done}/{total}</span>" in html
    assert ("未处理" in html) == bool(left)


@pytest.mark.parametrize("worker_language", ["zh-hans", "en"])
def test_a_workers_message_reads_in_the_readers_language(worker_language, settings):
    """A worker reports in its own language; the bar is read in the reader's."""
    job = Job.objects.create(kind="core.test", status=Job.Status.RUNNING, total=5)
    with override(worker_language):
        services.job_set_progress(job_id=job.pk, done=1, message=gettext_lazy("Loading outcomes"))
        services.job_advance(job_id=job.pk, message=lambda: gettext("%(n)d new flags so far") % {"n": 3})
    job.refresh_from_db()
    assert (job.message, job.message_en) == ("已新增 3 条预警", "3 new flags so far")
    with override("en"):
        assert "3 new flags so far" in render_to_string("core/_job_progress.html", {"job": job})
    with override("zh-hans"):
        assert "已新增 3 条预警" in render_to_string("core/_job_progress.html", {"job": job})


def test_an_exceptions_text_is_kept_as_written_and_attempts_are_worded_in_both():
    job = Job.objects.create(kind="core.test", status=Job.Status.RUNNING, total=5)
    services.job_finish(job_id=job.pk, error="disk full")
    job.refresh_from_db()
    assert (job.message, job.message_en) == ("disk full", "")
    with override("en"):
        assert job.message_text == "disk full"
    stuck = Job.objects.create(kind="core.test", status=Job.Status.RUNNING, total=5, attempts=99)
    assert services.job_claim(job_id=stuck.pk) is False
    stuck.refresh_from_db()
    assert stuck.message_en.startswith("Stopped after 99 attempts") and "99" in stuck.message
    with override("en"):
        assert stuck.message_text == stuck.message_en


def test_a_finished_job_does_not_say_it_is_still_working():
    """The demo's enrolment job read 已完成 · 正在纳入客群客户 (its last step's message)."""
    job = Job.objects.create(
        kind="core.test",
        status=Job.Status.SUCCEEDED,
        done=1,
        total=1,
        message="正在纳入客群客户",
        message_en="Enrolling",
    )
    with override("zh-hans"):
        html = render_to_string("core/_job_progress.html", {"job": job})
    assert "正在纳入客群客户" not in html and "已完成" in html
    failed = Job.objects.create(kind="core.test", status=Job.Status.FAILED, message="文件无法读取")
    with override("zh-hans"):
        assert "文件无法读取" in render_to_string("core/_job_progress.html", {"job": failed})
