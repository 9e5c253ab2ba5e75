"""seed_demo: deterministic for a seed, realistic, and with outcomes a model can learn."""

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from compliance.models import ScriptVersion
from core.models import AuditEvent
from customers.models import (
    AccessReason,
    AssetSnapshot,
    Customer,
    CustomerAccess,
    Interaction,
    InteractionIntent,
    Tier,
)
from customers.tests.factories import CustomerFactory
from leads.models import OPEN_LEAD_STATUSES, Lead, LeadBranchAccess
from org.models import StaffProfile
from org.roles import Role
from referrals.models import Referral
from scoring.feature_spec import FEATURE_NAMES
from scoring.models import Outcome

ANCHOR = "2026-06-30"


def _fingerprint() -> str:
    h = hashlib.sha256()
    for row in Customer.objects.order_by("customer_no").values_list(
        "customer_no", "name", "mobile", "id_number", "aum", "tier", "owner__username", "risk_level", "birth_date"
    ):
        h.update(repr(row).encode())
    for row in Outcome.objects.order_by("customer__customer_no", "contacted_at").values_list(
        "customer__customer_no", "contacted_at", "converted", "features"
    ):
        h.update(repr(row).encode())
    for row in AssetSnapshot.objects.order_by("customer__customer_no", "date").values_list(
        "customer__customer_no", "date", "aum"
    ):
        h.update(repr(row).encode())
    for row in Interaction.objects.order_by("customer__customer_no", "occurred_at", "channel").values_list(
        "customer__customer_no", "channel", "occurred_at", "transcript"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def _wipe_customers():
    Referral.objects.all().delete()
    Lead.objects.all().delete()
    Outcome.objects.all().delete()
    Customer.objects.all().delete()


@pytest.mark.slow
def test_seed_is_deterministic_for_a_seed(db):
    call_command("seed_demo", customers=400, seed=7, today=dt.date.fromisoformat(ANCHOR), stdout=StringIO())
    first = _fingerprint()
    _wipe_customers()
    call_command("seed_demo", customers=400, seed=7, today=dt.date.fromisoformat(ANCHOR), stdout=StringIO())
    assert _fingerprint() == first
    _wipe_customers()
    call_command("seed_demo", customers=400, seed=8, today=dt.date.fromisoformat(ANCHOR), stdout=StringIO())
    assert _fingerprint() != first


@pytest.mark.slow
def test_seed_builds_a_realistic_world_with_learnable_outcomes(db):
    call_command("seed_demo", customers=3000, seed=42, today=dt.date.fromisoformat(ANCHOR), stdout=StringIO())

    assert set(StaffProfile.objects.values_list("role", flat=True)) == set(Role.values)
    tiers = dict(Customer.objects.values_list("tier").annotate(n=Count("id")))
    assert set(tiers) == set(Tier.values), tiers  # lognormal AUM reaches all four tiers
    assert tiers[Tier.LONG_TAIL] > tiers[Tier.BASE] > tiers[Tier.WEALTH] > tiers[Tier.PRIVATE]
    assert AssetSnapshot.objects.filter(customer=Customer.objects.first()).count() == 24
    assert Customer.objects.filter(
        risk_assessed_at__lt=dt.datetime(2025, 6, 30, tzinfo=dt.UTC)
    ).exists()  # expired ones
    bot = Interaction.objects.filter(channel="ai_bot").first()
    assert bot is not None and len(bot.transcript) >= 4 and bot.intents
    assert any("理财" in turn["text"] or "到期" in turn["text"] or "养老" in turn["text"] for turn in bot.transcript)
    # every heard intent is also its own row (what the segment condition and the trigger read)
    heard = {(i.pk, code) for i in Interaction.objects.exclude(intents=[]) for code in i.intents}
    rows = set(InteractionIntent.objects.values_list("interaction_id", "intent"))
    assert heard and rows == heard
    assert Customer.objects.filter(contact_preferences__dnd_until__isnull=False).exists()  # some opted out
    assert Lead.objects.exists() and AuditEvent.objects.filter(verb="demo.seed").exists()

    # scripts went through the real approval workflow: four approved (one the wealth
    # report's wording), one blocked for review
    statuses = sorted(ScriptVersion.objects.values_list("status", flat=True))
    assert statuses == ["approved", "approved", "approved", "approved", "submitted"]

    # the grants the lead and referral services keep: an open lead's team sees its customer,
    # a referral's branch sees its customer and its lead
    open_leads = set(Lead.objects.filter(status__in=OPEN_LEAD_STATUSES).values_list("customer_id", "team_id"))
    assert open_leads and open_leads == set(
        CustomerAccess.objects.filter(reason=AccessReason.OPEN_LEAD).values_list("customer_id", "team_id")
    )
    assert Referral.objects.exists()
    assert set(Referral.objects.values_list("customer_id", "branch_id")) == set(
        CustomerAccess.objects.filter(reason=AccessReason.REFERRAL).values_list("customer_id", "branch_id")
    )
    assert set(Referral.objects.values_list("lead_id", "branch_id")) == set(
        LeadBranchAccess.objects.values_list("lead_id", "branch_id")
    )

    rows = list(Outcome.objects.values_list("features", "converted"))
    assert set(rows[0][0]) == set(FEATURE_NAMES)  # the feature contract, point in time
    y = np.array([c for _, c in rows])
    assert 0.05 < y.mean() < 0.3
    X = DictVectorizer(sparse=False).fit_transform(
        [{k: (-1 if v is None else v) for k, v in f.items()} for f, _ in rows]
    )
    auc = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), X, y, scoring="roc_auc", cv=5
    ).mean()
    print(f"seed_demo outcomes: rows={len(y)} positives={int(y.sum())} logistic regression AUC={auc:.3f}")
    assert auc > 0.65


def test_seed_refuses_a_database_with_customers_unless_if_empty(db):
    CustomerFactory()
    with pytest.raises(CommandError, match="数据库中已有客户"):
        call_command("seed_demo", customers=10, seed=1, stdout=StringIO())
    call_command("seed_demo", customers=10, seed=1, if_empty=True, stdout=StringIO())
    assert Customer.objects.count() == 1


@pytest.mark.slow
def test_seed_runs_on_the_zero_setup_sqlite_path(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "WORKBENCH_VAR_DIR": str(tmp_path / "var"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=root, env=env, check=True, timeout=300)
    out = subprocess.run(
        [*manage, "seed_demo", "--customers", "300", "--seed", "3", "--json"],
        cwd=root,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["customers"] == 300 and summary["snapshots"] == 300 * 24 and summary["outcomes"] > 0
    logins = subprocess.run(
        [*manage, "demo_logins"], cwd=root, env=env, check=True, timeout=120, capture_output=True, text=True
    ).stdout
    for username in ("admin", "compliance1", "lead1", "advisor1", "manager_sh01", "rm_sh01_1"):
        assert username in logins
