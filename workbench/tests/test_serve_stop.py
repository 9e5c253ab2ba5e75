"""`make run`'s foreground part (scripts/serve.sh): Ctrl-C stops the web server, the
worker and beat within ten seconds, leaving no process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ours(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (what serve.sh started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_ctrl_c_stops_the_server_the_worker_and_beat_within_ten_seconds(tmp_path):
    port = _free_port()
    marker = f"WORKBENCH_SERVE_TEST={tmp_path.name}"
    env = {
        **os.environ,
        "WORKBENCH_SERVE_TEST": tmp_path.name,
        "WORKBENCH_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "workbench.settings",
        "DJANGO_SECRET_KEY": "serve-test",
        "DJANGO_DEBUG": "1",
        "PORT": str(port),
    }
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        up = ready = False
        while time.monotonic() < deadline and not (up and ready):
            time.sleep(0.5)
            ready = ready or "ready." in log.read_text(errors="replace")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                up = True
            except urllib.error.HTTPError:
                up = True  # any answer: the server is listening (the database is not migrated)
            except OSError:
                pass
        assert up and ready, log.read_text(errors="replace")[-3000:]
        assert len(_ours(marker)) >= 4  # the script, the web server, the worker and its pool
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        proc.wait(timeout=15)
        left = _ours(marker)
        stopped_in = time.monotonic() - started
    finally:
        for pid in _ours(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    print(f"stopped in {stopped_in:.1f} s")
    assert not left, f"still running after Ctrl-C: {left}"
    assert stopped_in < 10, f"took {stopped_in:.1f} s\n" + log.read_text(errors="replace")[-3000:]
