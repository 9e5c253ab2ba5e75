"""Production-safe defaults: ``manage.py check --deploy`` with the production settings,
the HTTPS defaults and their opt-outs, and the headers and idle timeout of every session."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from core.middleware import SESSION_SEEN_KEY

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'redirect': settings.SECURE_SSL_REDIRECT, 'hsts': settings.SECURE_HSTS_SECONDS, "
    "'session_secure': settings.SESSION_COOKIE_SECURE, 'csrf_secure': settings.CSRF_COOKIE_SECURE, "
    "'proxy': getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), 'age': settings.SESSION_COOKIE_AGE, "
    "'browser_close': settings.SESSION_EXPIRE_AT_BROWSER_CLOSE}))"
)


def _env(tmp_path, **extra) -> dict:
    """The production settings module with nothing but a strong key (as a deployment would)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "WORKBENCH_VAR_DIR": str(tmp_path),
        **extra,
    }


def _probe(tmp_path, **extra) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=_env(tmp_path, **extra), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _readme_listed_warnings() -> dict[str, str]:
    """The check ids the README's production section leaves on purpose, with their reason."""
    text = (ROOT / "README.md").read_text()
    section = text.split("#### What `check --deploy` still says", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `([a-z_]+\.W\d+)` \| (.+?) \|$", section, flags=re.M))


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", result.stdout + result.stderr))
    listed = _readme_listed_warnings()
    assert all(reason.strip() for reason in listed.values())
    assert found <= set(listed), f"check --deploy found {sorted(found - set(listed))}, not listed in the README"
    assert not any(".E" in code for code in found)


def test_debug_off_means_https_by_default_and_each_part_can_opt_out(tmp_path):
    prod = _probe(tmp_path)
    assert prod["redirect"] is True
    assert prod["hsts"] >= 365 * 24 * 3600
    assert prod["session_secure"] is True and prod["csrf_secure"] is True
    assert prod["age"] == 30 * 60 and prod["browser_close"] is True
    assert prod["proxy"] is None

    plain = _probe(tmp_path, DJANGO_HTTPS="false")
    assert (plain["redirect"], plain["hsts"], plain["session_secure"]) == (False, 0, False)

    proxied = _probe(
        tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO=https", WORKBENCH_SESSION_IDLE_MINUTES="15"
    )
    assert proxied["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["age"] == 15 * 60

    cookies_only = _probe(tmp_path, DJANGO_SECURE_COOKIES="false")
    assert cookies_only["redirect"] is True and cookies_only["session_secure"] is False


def test_a_malformed_proxy_header_stops_the_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_env(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr


# --- headers and the idle timeout (test settings: http, the same middleware) ------------------


def test_pages_and_api_answers_are_not_stored_and_carry_the_policy(world, client_for):
    client = client_for(world.advisor_a)
    for url in (reverse("home"), reverse("customers:list"), "/api/me/", reverse("login")):
        response = client.get(url)
        cache = response.headers.get("Cache-Control", "")
        assert "no-store" in cache and "private" in cache, url
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_a_session_ends_after_the_idle_time(world, client_for, settings):
    settings.WORKBENCH_SESSION_IDLE_MINUTES = 30
    client = client_for(world.advisor_a)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    assert SESSION_SEEN_KEY in session  # stamped at log-in
    session[SESSION_SEEN_KEY] = int(time.time()) - 29 * 60  # active 29 minutes ago
    session.save()
    assert client.get(reverse("home")).status_code == 200
    assert client.session[SESSION_SEEN_KEY] > int(time.time()) - 5  # refreshed

    session = client.session
    session[SESSION_SEEN_KEY] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.get(reverse("home")).status_code == 302  # the session is gone, not just this request


def test_a_recent_stamp_is_not_rewritten_on_every_request(world, client_for):
    client = client_for(world.advisor_a)
    client.get(reverse("home"))
    stamp = client.session[SESSION_SEEN_KEY]
    client.get(reverse("home"))
    assert client.session[SESSION_SEEN_KEY] == stamp
