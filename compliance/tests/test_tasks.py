"""Tasks run twice have one effect; the beat entry points at a registered task."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from compliance import tasks
from compliance.models import Flag, QASampleRun

pytestmark = pytest.mark.django_db


def test_scan_task_twice_one_flag_per_hit(world):
    kwargs = {
        "source": "transcript",
        "object_id": 77,
        "text": "bot: 这款产品保本保息，额度有限",
        "advisor_id": None,
        "occurred_at": timezone.now().isoformat(),
    }
    assert tasks.scan_communication.delay(**kwargs).get() == 2
    assert tasks.scan_communication.delay(**kwargs).get() == 0
    assert sorted(Flag.objects.values_list("match", flat=True)) == ["保本保息", "额度有限"]


def test_qa_task_twice(world):
    tasks.qa_sample_week.delay()
    tasks.qa_sample_week.delay()
    assert QASampleRun.objects.count() == 1


def test_beat_entry():
    from workbench.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["compliance-qa-sample-week"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
