"""A job's progress bar and its "done/total" text say the same thing."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils.translation import override

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
