"""The production web server's configuration, and the Server-Timing header benchmarks read."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_config_is_valid_and_loads_the_app():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workbench.settings", "DJANGO_SECRET_KEY": "config-check"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(
        [str(gunicorn), "--check-config", "--print-config", "workbench.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, flags=re.M))
    assert config["worker_class"] == "gthread" and int(config["threads"]) >= 2
    assert int(config["timeout"]) <= 120 and int(config["max_requests"]) > 0


@pytest.mark.django_db
def test_server_timing_only_when_asked(world, settings):
    client = Client()
    client.force_login(world.advisor_a)
    assert "Server-Timing" not in client.get("/")
    settings.WORKBENCH_SERVER_TIMING = True
    timed = Client()
    timed.force_login(world.advisor_a)
    header = timed.get("/")["Server-Timing"]
    app, db, queries = re.match(r'app;dur=([\d.]+), db;dur=([\d.]+);desc="(\d+)"', header).groups()
    assert float(app) >= float(db) >= 0 and int(queries) > 0
