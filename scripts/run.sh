#!/usr/bin/env bash
# `make run`: migrate, seed demo data into an empty database, then run the web server,
# a Celery worker and Celery beat in the foreground. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=workbench.settings

"$PY" manage.py migrate --noinput
seeded=$("$PY" manage.py seed_demo --if-empty --json --customers "${DEMO_CUSTOMERS:-3000}" --seed 42)
echo "$seeded"
if echo "$seeded" | grep -q '"seconds"'; then
  # A fresh demo: train the first lead model on the seeded outcomes. It queues the full
  # rescoring, which the worker started below carries out.
  "$PY" manage.py train_lead_model
fi
if [ "${DJANGO_DEBUG:-0}" != "1" ]; then
  "$PY" manage.py collectstatic --noinput >/dev/null
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# -B runs beat inside the worker: one process fewer on a laptop; production runs beat apart.
.venv/bin/celery -A workbench worker -B -Q interactive,bulk --loglevel=INFO --concurrency=2 &
pids+=($!)
"$PY" manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

sleep 2
cat <<MSG

  远程理财经理工作台 / Remote wealth workbench
  URL:      http://127.0.0.1:${PORT}/
  API docs: http://127.0.0.1:${PORT}/api/docs/
  Demo logins (password for all: demo-pass-123):
$("$PY" manage.py demo_logins | sed 's/^/    /')

  Ctrl-C stops the web server, the worker and beat.
MSG
wait -n "${pids[@]}"
