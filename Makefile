# The two commands: `make run` (set up and start everything) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_CUSTOMERS ?= 3000

.PHONY: run test venv deps dev-deps migrate seed lint format messages bench-seed clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# Installed requirements are stamped so re-running is fast and safe.
$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.deps

venv: $(VENV)/bin/python
deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# make run: development server + Celery worker (with beat) in the foreground. Ctrl-C stops all.
run: deps
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-1} DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-dev-only-insecure-key-for-make-run} \
	  PORT=$(PORT) DEMO_CUSTOMERS=$(DEMO_CUSTOMERS) PY=$(PY) ./scripts/run.sh

test: dev-deps
	@./scripts/test.sh $(ARGS)

# ruff, the layer contract (import-linter), no project import hidden in a function, and
# dead code (vulture; scripts/check_dead_code.py knows what Django calls by name).
lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_local_imports.py
	$(PY) scripts/check_dead_code.py

format: dev-deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Re-extract and compile translations: one catalogue per app (run inside its folder),
# and the project's (the shell: workbench/ and templates/) at the top.
APPS := core org customers compliance leads scoring referrals calls campaigns reports cadence dashboards
messages: dev-deps
	for app in $(APPS); do (cd $$app && DJANGO_SECRET_KEY=messages ../$(PY) ../manage.py makemessages -l zh_Hans --no-obsolete); done
	DJANGO_SECRET_KEY=messages $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=bench $(foreach app,$(APPS),--ignore=$(app))
	DJANGO_SECRET_KEY=messages $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

bench-seed: dev-deps
	$(PY) bench/seed_demo_bench.py

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
