"""Server time of the three pages issue 17 called slow, on a seeded demo.

Usage (PostgreSQL, after ``manage.py migrate`` and ``manage.py seed_demo --customers 3000``):

    DJANGO_SECRET_KEY=dev DATABASE_URL=postgres://root@127.0.0.1:5432/wb_bench \\
        .venv/bin/python bench/day_work_timing.py --runs 15

In-process with Django's test client and the Server-Timing middleware (core/timing.py):
``app`` is the whole view and template time, ``db`` the SQL inside it. For each of

- the lexicon page (``GET /compliance/lexicon/``, the compliance officer),
- script submit (``POST /compliance/versions/<id>/submit/``, the author; a fresh draft
  each run, with the automatic check the submit runs),
- referral accept (``POST /referrals/<id>/accept/``, the branch manager; a pending
  referral each run),

it prints the median and p95 of app and db time, the median CPU time of this process per
request (what the view, the templates and the driver cost; unlike app time it does not
count the waits for a core on a loaded machine), the query count, and where the rest of
the time went: the project functions with the most own time in one profiled run.
``--pages lexicon`` (or ``submit``, ``accept``) runs only those.
Figures are of one machine and one run: compare them with each other, not with a budget.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
os.environ.setdefault("DJANGO_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ["WORKBENCH_SERVER_TIMING"] = "true"
os.environ.setdefault("DJANGO_HTTPS", "false")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from compliance.models import ScriptVersion, VersionStatus  # noqa: E402
from compliance.services import scripts as script_services  # noqa: E402
from leads.models import Lead  # noqa: E402
from org.models import StaffProfile  # noqa: E402
from org.roles import Role  # noqa: E402
from referrals.models import Referral, ReferralStatus  # noqa: E402
from referrals.services import referral_create  # noqa: E402
from referrals.views import _rms_for  # noqa: E402

BODY = (
    "您好，我是您的远程理财经理。您有一笔理财下周到期，我们有一款稳健型产品，风险等级 R2，"
    "业绩比较基准 2.8%-3.2%。理财非存款、产品有风险、投资须谨慎。过往业绩不代表未来表现。"
)


def _timing(response, cpu_ms: float) -> tuple[float, float, int, float]:
    parts = {p.split(";")[0].strip(): p for p in response.headers.get("Server-Timing", "").split(",") if p.strip()}

    def dur(name):
        for field in parts.get(name, "").split(";"):
            if field.strip().startswith("dur="):
                return float(field.strip()[4:])
        return 0.0

    desc = [f for f in parts.get("db", "").split(";") if f.strip().startswith("desc=")]
    queries = int("".join(ch for ch in desc[0] if ch.isdigit()) or 0) if desc else 0
    return dur("app"), dur("db"), queries, cpu_ms


def _report(name: str, rows: list[tuple[float, float, int, float]], profile: cProfile.Profile) -> None:
    app = sorted(r[0] for r in rows)
    db = sorted(r[1] for r in rows)
    p95 = app[min(len(app) - 1, int(len(app) * 0.95))]
    print(
        f"{name}: app median {statistics.median(app):.0f} ms (p95 {p95:.0f}), "
        f"db median {statistics.median(db):.0f} ms, cpu median {statistics.median(r[3] for r in rows):.0f} ms, "
        f"{rows[-1][2]} queries"
    )
    stats = pstats.Stats(profile).stats
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())

    def cumulative(path_end: str, func: str) -> float:
        return max((v[3] for (f, _l, n), v in stats.items() if f.endswith(path_end) and n == func), default=0.0)

    def own_in(fragment: str) -> float:
        return sum(v[2] for (f, _l, _n), v in stats.items() if fragment in f)

    shares = {
        "SQL (execute)": cumulative("django/db/backends/utils.py", "_execute"),
        "templates (Template.render)": cumulative("django/template/base.py", "render"),
        "django-tables2 (own)": own_in("django_tables2"),
        "translation (own)": own_in("django/utils/translation"),
        "project code (own)": sum(
            v[2] for (f, _l, _n), v in stats.items() if f.startswith(str(ROOT)) and ".venv" not in f
        ),
    }
    print(
        f"  one profiled run ({total * 1000:.0f} ms under the profiler): "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in shares.items())
    )
    own = [
        (v[2], f"{Path(f).relative_to(ROOT)}:{line} {func}")
        for (f, line, func), v in stats.items()
        if f.startswith(str(ROOT)) and ".venv" not in f and "/bench/" not in f
    ]
    print(
        "  most own time in project code: "
        + "; ".join(f"{where} {tt * 1000:.1f} ms" for tt, where in sorted(own, reverse=True)[:3])
    )


def _run(name, runs, request):
    rows = []
    for _ in range(runs):
        started = time.process_time()
        response = request()
        rows.append(_timing(response, (time.process_time() - started) * 1000))
    profile = cProfile.Profile()
    profile.enable()
    request()
    profile.disable()
    _report(name, rows, profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--pages", nargs="+", choices=("lexicon", "submit", "accept"), default=("lexicon", "submit", "accept")
    )
    args = parser.parse_args()
    users = get_user_model().objects

    officer = Client()
    officer.force_login(users.get(username="compliance1"))
    if "lexicon" in args.pages:
        officer.get("/compliance/lexicon/")  # warm the scanner's compiled lexicon
        _run("lexicon page", args.runs, lambda: officer.get("/compliance/lexicon/"))

    author_user = users.get(username="advisor1")
    author = Client()
    author.force_login(author_user)

    def submit():
        version = script_services.script_create(
            actor=author_user, title="到期续作话术", purpose="product_intro", body=BODY, product_type="wealth"
        )
        response = author.post(f"/compliance/versions/{version.pk}/submit/")
        assert ScriptVersion.objects.get(pk=version.pk).status == VersionStatus.SUBMITTED
        return response

    if "submit" in args.pages:
        submit()  # warm
        _run("script submit", args.runs, submit)
    if "accept" not in args.pages:
        return

    # Pending referrals to accept: the demo's open high leads referred to their home
    # branch through the service (each accepted by that branch's manager).
    leads = (
        Lead.objects.filter(proposed_grade="high", status__in=["new", "contacting"], owner__isnull=False)
        .exclude(customer__home_branch__isnull=True)
        .filter(referrals__isnull=True)
        .select_related("customer", "owner")
        .order_by("pk")[: args.runs + 2]
    )
    pending = [referral_create(actor=lead.owner, lead=lead, needs_summary="到期资金续作") for lead in leads]
    managers: dict[int, Client] = {}

    def manager_of(branch_id: int) -> Client:
        if branch_id not in managers:
            profile = StaffProfile.objects.filter(branch_id=branch_id, role=Role.BRANCH_MANAGER).first()
            managers[branch_id] = Client()
            managers[branch_id].force_login(profile.user)
        return managers[branch_id]

    def accept():
        referral = pending.pop()
        rm = _rms_for(referral.branch_id)[0]["id"]
        response = manager_of(referral.branch_id).post(f"/referrals/{referral.pk}/accept/", {"rm": rm})
        assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED, response
        return response

    accept()  # warm
    _run("referral accept", args.runs, accept)


if __name__ == "__main__":
    main()
