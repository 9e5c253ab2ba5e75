"""Settings come from the environment; a bare machine gets SQLite and an embedded broker."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'broker': settings.CELERY_BROKER_URL, "
    "'debug': settings.DEBUG, 'hasher': settings.PASSWORD_HASHERS[0], 'lang': settings.LANGUAGE_CODE, "
    "'tz': settings.TIME_ZONE, 'use_tz': settings.USE_TZ}))"
)


def _run(env: dict) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "workbench.settings", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_settings_load_without_environment_on_the_sqlite_path(tmp_path):
    result = _run({"DJANGO_SECRET_KEY": "x", "WORKBENCH_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["broker"] == "filesystem://"
    assert loaded["debug"] is False
    assert loaded["hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert (loaded["lang"], loaded["tz"], loaded["use_tz"]) == ("zh-hans", "Asia/Shanghai", True)
    assert (tmp_path / "celery" / "queue").is_dir()  # the embedded broker's folder is ready


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = _run({"WORKBENCH_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_database_and_broker_come_from_the_environment(tmp_path):
    result = _run(
        {
            "DJANGO_SECRET_KEY": "x",
            "WORKBENCH_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://someone@db.example:5432/wb",
            "CELERY_BROKER_URL": "redis://cache.example:6379/1",
        }
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["broker"] == "redis://cache.example:6379/1"
