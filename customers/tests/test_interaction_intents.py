"""The intents an AI-bot session heard, as narrow rows: written with the session, once each,
gone with it, and filled for sessions recorded before the rows existed (the migration)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations import RunPython
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from customers.models import Channel, Interaction, InteractionIntent
from customers.services.interactions import interaction_record
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _rows():
    return sorted(InteractionIntent.objects.values_list("interaction_id", "customer_id", "intent", "occurred_at"))


def test_a_session_writes_each_intent_once_at_its_time():
    customer = CustomerFactory()
    when = timezone.now() - dt.timedelta(hours=2)
    session, created = interaction_record(
        actor=None,
        customer=customer,
        channel=Channel.AI_BOT,
        direction="in",
        occurred_at=when,
        intents=["ask_fund", "ask_human", "ask_fund"],
        external_id="bot-1",
    )
    assert created
    assert _rows() == [(session.pk, customer.pk, "ask_fund", when), (session.pk, customer.pk, "ask_human", when)]
    again, created = interaction_record(
        actor=None,
        customer=customer,
        channel=Channel.AI_BOT,
        occurred_at=when,
        intents=["ask_fund"],
        external_id="bot-1",
    )
    assert (again.pk, created) == (session.pk, False) and len(_rows()) == 2
    interaction_record(actor=None, customer=customer, channel=Channel.PHONE, occurred_at=when)
    assert len(_rows()) == 2  # a touch that heard nothing has no rows
    session.delete()
    assert _rows() == []


def test_the_migration_fills_the_rows_of_earlier_sessions():
    customer = CustomerFactory()
    when = timezone.now() - dt.timedelta(days=1)
    heard = Interaction.objects.create(
        customer=customer, channel=Channel.AI_BOT, occurred_at=when, intents=["ask_fund", "maturity"]
    )
    Interaction.objects.create(customer=customer, channel=Channel.PHONE, occurred_at=when)
    migration = MigrationLoader(connection).get_migration("customers", "0009_interaction_intents")
    backfill = next(op.code for op in migration.operations if isinstance(op, RunPython))
    with connection.cursor() as cursor:  # what the migration's schema editor offers it
        backfill(None, SimpleNamespace(connection=connection, execute=cursor.execute))
    assert _rows() == [(heard.pk, customer.pk, "ask_fund", when), (heard.pk, customer.pk, "maturity", when)]
