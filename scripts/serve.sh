#!/usr/bin/env bash
# The foreground part of `make run`: the web server, a Celery worker and beat (embedded in
# the worker). Ctrl-C (or SIGTERM) stops all of them within ten seconds:
#   - a warm stop first: each gets SIGTERM, and a worker finishes the task in hand;
#   - after WARM_STOP_SECONDS (default 6), a cold stop: the worker gets SIGQUIT and ends
#     its running tasks (they acknowledge late, so the broker hands them out again, and
#     the job sweeper resumes any chunked job);
#   - two seconds later, SIGKILL to whatever is left, pool processes included.
# Each program runs in its own process group, so a signal reaches its children too.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
WARM_STOP_SECONDS=${WARM_STOP_SECONDS:-6}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-workbench.settings}

groups=()
alive() {
  local g
  for g in "${groups[@]}"; do
    if kill -0 -- "-$g" 2>/dev/null; then return 0; fi
  done
  return 1
}
signal_all() {
  local g
  for g in "${groups[@]}"; do kill "-$1" -- "-$g" 2>/dev/null || true; done
}
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping…"
  signal_all TERM
  local waited=0
  while alive && [ "$waited" -lt $((WARM_STOP_SECONDS * 10)) ]; do sleep 0.1; waited=$((waited + 1)); done
  if alive; then
    signal_all QUIT
    waited=0
    while alive && [ "$waited" -lt 20 ]; do sleep 0.1; waited=$((waited + 1)); done
  fi
  if alive; then signal_all KILL; fi
  wait 2>/dev/null || true
  echo "Stopped."
}
trap cleanup INT TERM EXIT

# -B runs beat inside the worker: one process fewer on a laptop; production runs beat apart.
setsid "$(dirname "$PY")/celery" -A workbench worker -B -Q interactive,bulk --loglevel=INFO --concurrency=2 &
groups+=($!)
setsid "$PY" manage.py runserver "127.0.0.1:${PORT}" --noreload &
groups+=($!)

sleep 2
cat <<MSG

  远程理财经理工作台 / Remote wealth workbench
  URL:      http://127.0.0.1:${PORT}/
  API docs: http://127.0.0.1:${PORT}/api/docs/
  Demo logins (password for all: demo-pass-123):
$("$PY" manage.py demo_logins 2>/dev/null | sed 's/^/    /')

  Ctrl-C stops the web server, the worker and beat.
MSG
# Until one of them exits (or Ctrl-C); then stop the others.
while alive; do
  for g in "${groups[@]}"; do
    if ! kill -0 -- "-$g" 2>/dev/null; then exit 1; fi
  done
  sleep 1
done
