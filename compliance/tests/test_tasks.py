"""Tasks run twice have one effect; the beat entry points at a registered task; every task
has a name, time limits and retries only for transient errors."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from compliance import tasks
from compliance.models import Flag, QASampleRun
from compliance.services import surveillance as surveillance_services
from core.tasks import task_by_name
from customers.models import Interaction
from customers.tests.factories import CustomerFactory


def test_scan_task_twice_one_flag_per_communication(world):
    comm = surveillance_services.communication_store(
        source="transcript", object_id=77, text="bot: 这款产品保本保息，额度有限", occurred_at=timezone.now()
    )
    # Only the id travels on the broker; the task reads the stored text.
    assert tasks.scan_communication.delay(comm.pk).get() == 1
    assert tasks.scan_communication.delay(comm.pk).get() == 0
    assert [f["match"] for f in Flag.objects.get().rule_findings] == ["保本保息", "额度有限"]


def test_qa_task_twice(world):
    tasks.qa_sample_week.delay()
    tasks.qa_sample_week.delay()
    assert QASampleRun.objects.count() == 1


def test_beat_entry():
    entry = settings.CELERY_BEAT_SCHEDULE["compliance-qa-sample-week"]
    assert task_by_name(entry["task"]).name == entry["task"]


@pytest.mark.parametrize("task", [tasks.scan_communication, tasks.scan_interaction, tasks.rescan, tasks.qa_sample_week])
def test_tasks_declare_name_limits_and_transient_retries(task):
    assert task.name.startswith("compliance.")
    assert task_by_name(task.name) is not None
    assert 0 < task.soft_time_limit < task.time_limit
    assert set(task.autoretry_for) == {OperationalError, ConnectionError}
    assert task.retry_backoff and task.retry_jitter


def test_interaction_scan_reads_the_transcript_by_id(world):
    interaction = Interaction.objects.create(
        customer=CustomerFactory(),
        channel="ai_bot",
        direction="in",
        occurred_at=timezone.now(),
        actor=world.advisor_a,
        transcript=[{"speaker": "bot", "text": "您好"}, {"speaker": "customer", "text": "听说这款保本保息？"}],
    )
    assert tasks.scan_interaction.delay(interaction.pk).get() == 1
    assert tasks.scan_interaction.delay(interaction.pk).get() == 0
    flag = Flag.objects.get()
    assert flag.source == "transcript" and "保本保息" in flag.text_snapshot
    assert flag.communication.advisor_id == world.advisor_a.pk
    assert flag.communication.source_url.endswith(f"/customers/{interaction.customer_id}/tab/interactions/")
