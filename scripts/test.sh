#!/usr/bin/env bash
# `make test`: the whole suite. DATABASE_URL/CELERY_BROKER_URL choose PostgreSQL/Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! Chromium not found at ${CHROMIUM_PATH:-/usr/bin/chromium}: BROWSER TESTS WILL BE SKIPPED."
  echo "!! Install it with: apt-get install -y chromium fonts-noto-cjk"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
echo "Database: ${DATABASE_URL:-sqlite (default)}; broker: ${CELERY_BROKER_URL:-filesystem (default)}"
.venv/bin/ruff check .
.venv/bin/lint-imports  # the layer contract (docs/architecture.md)
.venv/bin/python scripts/check_local_imports.py
.venv/bin/python scripts/check_dead_code.py
exec .venv/bin/python -m pytest "$@"
