"""A real Celery worker, through the configured broker (Redis in CI, files on a laptop)."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import Notification
from workbench.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_task_runs_in_a_real_worker_through_the_broker(world, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process needs a database it can share with the test (PostgreSQL)")
    old = Notification.objects.create(
        recipient=world.advisor_a, title="old", read_at=timezone.now() - dt.timedelta(days=120)
    )
    fresh = Notification.objects.create(recipient=world.advisor_a, title="fresh", read_at=timezone.now())
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "DJANGO_SECRET_KEY": "worker-test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "WORKBENCH_VAR_DIR": str(settings.VAR_DIR),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    queue = f"test-{os.getpid()}-{int(time.time())}"  # a private queue: no other worker takes it
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workbench",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        app.send_task("core.purge_read_notifications", kwargs={"days": 90}, queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Notification.objects.filter(pk=old.pk).exists():
            time.sleep(0.5)
        assert not Notification.objects.filter(pk=old.pk).exists(), "the worker did not run the task"
        assert Notification.objects.filter(pk=fresh.pk).exists()
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = ""
    assert "Traceback" not in output, output
