"""The tasks' declared policy: names, queues, time limits, late acks for chunked work,
and retries on transient database errors only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import OperationalError

from customers.tests.factories import CustomerFactory
from scoring import tasks
from scoring.models import CustomerScore
from scoring.services import scores as score_services

pytestmark = pytest.mark.django_db

BULK = ("scoring.rescore_all", "scoring.rescore_chunk", "scoring.train_model", "scoring.resurface_pool")
ALL = (tasks.rescore_customer, tasks.rescore_all, tasks.rescore_chunk, tasks.train_model, tasks.resurface_pool)


def test_bulk_work_is_routed_apart_from_the_interactive_rescore():
    for name in BULK:
        assert settings.CELERY_TASK_ROUTES[name] == {"queue": "bulk"}
    assert "scoring.rescore_customer" not in settings.CELERY_TASK_ROUTES
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "interactive"


def test_every_task_is_named_and_time_limited():
    assert {t.name for t in ALL} == {"scoring.rescore_customer", *BULK}
    for t in ALL:
        assert 0 < t.soft_time_limit < t.time_limit, t.name
    assert tasks.rescore_chunk.acks_late and tasks.rescore_all.acks_late


def test_rescore_customer_retries_a_transient_database_error(monkeypatch):
    customer = CustomerFactory()
    real = score_services.customer_rescore
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(score_services, "customer_rescore", flaky)
    # eager: the retry runs at once in this process (a worker would wait its backoff)
    result = tasks.rescore_customer.apply(args=[customer.pk], throw=False)
    assert calls["n"] == 2 and result.successful()
    assert result.get()["grade"] == CustomerScore.objects.get(customer=customer).grade


def test_rescore_customer_does_not_retry_a_programming_error(monkeypatch):
    customer = CustomerFactory()
    calls = {"n": 0}

    def broken(**kwargs):
        calls["n"] += 1
        raise ValueError("a bug")

    monkeypatch.setattr(score_services, "customer_rescore", broken)
    with pytest.raises(ValueError, match="a bug"):
        tasks.rescore_customer.apply(args=[customer.pk], throw=True)
    assert calls["n"] == 1
    assert tasks.rescore_customer.autoretry_for == (OperationalError,)
    assert tasks.rescore_customer.retry_jitter and tasks.rescore_customer.retry_backoff
