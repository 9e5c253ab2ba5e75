"""Every page, as each role sees it, over HTTP against a running gunicorn, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/wb_bench .venv/bin/python bench/pages_bench.py \
        [--repeat 20] [--warmup 3] [--only customers]

Needs a seeded database (`make bench-seed`, or `manage.py seed_demo --customers N`). The
bench starts gunicorn itself (one worker, one thread: it measures latency, not
throughput) with ``WORKBENCH_SERVER_TIMING`` on, logs in as one demo user of each role,
and for every page it requests it ``warmup`` times, then ``repeat`` times, and prints:

- the median and p95 of the time the client waited (ms);
- the median server time (``Server-Timing: app``) and SQL time (``db``), the query count;
- the ratio of server time to SQL time: how much of a page is Python (views, templates,
  table rendering) rather than the database.

Ids in the URLs (a customer, a lead, a referral...) are picked from the database as
records the logged-in user may see. Pages that answer anything but 200 are reported as
such, never timed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "pages-bench")

import django  # noqa: E402

django.setup()

from compliance.models import Flag, Script  # noqa: E402
from customers.models import Customer  # noqa: E402
from leads.models import Lead  # noqa: E402
from org.demo import DEMO_PASSWORD  # noqa: E402
from org.models import StaffProfile  # noqa: E402
from org.roles import Role  # noqa: E402
from referrals.models import Referral  # noqa: E402

TIMING = re.compile(r"(\w+);dur=([\d.]+)(?:;desc=\"(\d+)\")?")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "WORKBENCH_SERVER_TIMING": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        # plain HTTP on the loopback: the production redirect to HTTPS and Secure cookies off
        "DJANGO_HTTPS": "false",
    }
    # with debug off, pages name the collected (hashed) static files
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen([str(gunicorn), "workbench.wsgi"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not start")


class Session:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect,  # a redirect is an answer, not a page
        )

    def get(self, path: str) -> tuple[int, float, dict]:
        started = time.perf_counter()
        try:
            with self.opener.open(self.base + path, timeout=60) as r:
                r.read()
                status, headers = r.status, r.headers
        except urllib.error.HTTPError as e:
            e.read()
            status, headers = e.code, e.headers
        waited = (time.perf_counter() - started) * 1000
        timing = {}
        for name, dur, desc in TIMING.findall(headers.get("Server-Timing", "")):
            timing[name] = float(dur)
            if desc:
                timing[name + "_queries"] = int(desc)
        return status, waited, timing

    def login(self, username: str) -> None:
        with self.opener.open(self.base + "/login/", timeout=30) as r:
            r.read()
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode(
            {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        req = urllib.request.Request(  # noqa: S310 - the bench's own http:// server
            self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"}
        )
        try:
            self.opener.open(req, timeout=30).read()
        except urllib.error.HTTPError as e:
            if e.code != 302:
                raise
        if not any(c.name == "sessionid" for c in self.jar):
            raise SystemExit(f"could not log in as {username}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def first_id(qs) -> int | None:
    return qs.order_by("pk").values_list("pk", flat=True).first()


def pages_for(role: str, user) -> list[tuple[str, str]]:
    """(label, path) of the pages this role works with, with ids it may see."""
    pages = [("home", "/"), ("notifications", "/shell/notifications/")]
    if role in (Role.ADMIN, Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADVISOR):
        pages.append(("jobs", "/shell/jobs/"))
    customers = Customer.objects.restrict(user, "view")
    customer = first_id(customers.filter(aum__gt=0))
    if customer:
        pages += [("customer list", "/customers/"), ("customer search", "/customers/?q=%E5%BC%A0")]
        pages += [("portrait", f"/customers/{customer}/")]
        for tab in ("assets", "tags", "interactions", "needs", "products", "leads"):
            pages.append((f"portrait tab {tab}", f"/customers/{customer}/tab/{tab}/"))
    if role in (Role.ADVISOR, Role.TEAM_LEAD):
        tabs = ("confirm", "today", "nurturing", "pool", "referred")
        pages += [(f"queue: {tab}", f"/leads/?tab={tab}") for tab in tabs]
        if role == Role.TEAM_LEAD:
            pages.append(("team metrics", "/leads/metrics/"))
        lead = first_id(Lead.objects.restrict(user, "view").filter(status__in=("new", "contacting", "claimed")))
        if lead:
            pages.append(("call screen", f"/leads/{lead}/"))
    if role in (Role.BRANCH_MANAGER, Role.BRANCH_RM, Role.TEAM_LEAD, Role.ADMIN):
        pages.append(("referral inbox", "/referrals/"))
        if role != Role.BRANCH_RM:
            pages.append(("referral dashboard", "/referrals/dashboard/"))
        referral = first_id(Referral.objects.restrict(user, "view"))
        if referral:
            pages.append(("referral detail", f"/referrals/{referral}/"))
    if role in (Role.COMPLIANCE, Role.ADMIN):
        pages += [
            ("review queue", "/compliance/review/"),
            ("lexicon", "/compliance/lexicon/"),
            ("scripts", "/compliance/scripts/"),
            ("compliance reports", "/compliance/reports/"),
            ("audit log", "/shell/audit/"),
            ("access log", "/customers/access-log/"),
        ]
        flag = first_id(Flag.objects.restrict(user, "view"))
        if flag:
            pages.append(("flag detail", f"/compliance/flags/{flag}/"))
        script = first_id(Script.objects.restrict(user, "view"))
        if script:
            pages.append(("script detail", f"/compliance/scripts/{script}/"))
    if role in (Role.ADMIN, Role.TEAM_LEAD):
        pages += [("scoring model", "/scoring/"), ("imports", "/customers/imports/")]
    return pages


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="", help="only pages whose label contains this")
    args = parser.parse_args()

    users = {}
    for profile in StaffProfile.objects.select_related("user").order_by("user__username"):
        users.setdefault(profile.role, profile.user)
    print(f"customers: {Customer.objects.count():,}; open leads: {Lead.objects.filter(status='new').count():,}")
    port = free_port()
    server = start_gunicorn(port)
    rows = []
    try:
        for role, user in users.items():
            session = Session(f"http://127.0.0.1:{port}")
            session.login(user.username)
            for label, path in pages_for(role, user):
                if args.only and args.only not in label:
                    continue
                status, _, _ = session.get(path)
                if status != 200:
                    rows.append((role, label, f"HTTP {status}", "", "", "", "", "", ""))
                    continue
                for _ in range(args.warmup - 1):
                    session.get(path)
                waited, app, db, queries = [], [], [], []
                for _ in range(args.repeat):
                    _, ms, timing = session.get(path)
                    waited.append(ms)
                    app.append(timing.get("app", 0.0))
                    db.append(timing.get("db", 0.0))
                    queries.append(timing.get("db_queries", 0))
                med_app, med_db = statistics.median(app), statistics.median(db)
                rows.append(
                    (
                        role,
                        label,
                        f"{statistics.median(waited):.1f}",
                        f"{p95(waited):.1f}",
                        f"{med_app:.1f}",
                        f"{med_db:.1f}",
                        f"{min(queries)}–{max(queries)}" if min(queries) != max(queries) else str(queries[0]),
                        f"{med_app / med_db:.1f}×" if med_db else "–",
                        "✔" if statistics.median(waited) < 50 and p95(waited) < 100 else "✘",
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    header = ("role", "page", "median ms", "p95 ms", "server ms", "SQL ms", "queries", "server/SQL", "<50/100")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)))
    timed = [r for r in rows if r[3]]
    meeting = sum(1 for r in timed if r[8] == "✔")
    print(f"\n{meeting} of {len(timed)} pages under 50 ms median and 100 ms p95 (load: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
