#!/usr/bin/env bash
# `make run`: migrate, seed demo data into an empty database, then run the web server,
# a Celery worker and Celery beat in the foreground (scripts/serve.sh). Ctrl-C stops all
# three within ten seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=workbench.settings

if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && [ -z "${WORKBENCH_REPORT_FONT:-}" ]; then
  echo "Wealth reports (PDF) need a Chinese TrueType font: apt-get install fonts-wqy-microhei (or set WORKBENCH_REPORT_FONT to a .ttf/.ttc); until then generating a report is refused." >&2
fi
"$PY" manage.py migrate --noinput
seeded=$("$PY" manage.py seed_demo --if-empty --json --customers "${DEMO_CUSTOMERS:-3000}" --seed 42)
echo "$seeded"
if echo "$seeded" | grep -q '"seconds"'; then
  # A fresh demo: train the first lead model on the seeded outcomes. It queues the full
  # rescoring, which the worker started below carries out.
  "$PY" manage.py train_lead_model
  # ... and count the dashboards' last two months from the seeded history, so a period
  # before today shows figures too (the beat keeps today and yesterday current).
  "$PY" manage.py dashboards_refresh --days 62
fi
if [ "${DJANGO_DEBUG:-0}" != "1" ]; then
  "$PY" manage.py collectstatic --noinput >/dev/null
fi

exec ./scripts/serve.sh
