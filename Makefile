# Ledgerline developer tasks. Only Python 3.12+ is needed: SQLite is the
# default database and Celery runs tasks eagerly when no broker is set.
#
#   make demo    virtualenv, migrations, roles, demo portfolio, dev server
#   make test    the test suite            make lint   ruff check + format check + import contracts
#   make bench   close-of-business benchmark (needs DATABASE_URL=postgres://…)

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PY_CANDIDATES := python3.13 python3.12 python3 $(wildcard $(HOME)/.pyenv/versions/3.1[23]*/bin/python3)
DEMO_CUSTOMERS ?= 2000
BENCH_DEBTS ?= 100000

.PHONY: venv migrate roles demo test lint bench screenshots

venv: $(STAMP)

# Rebuilt only when the requirements change; the first Python 3.12+ found wins.
$(STAMP): requirements.txt requirements-dev.txt requirements-nodeps.txt
	@set -e; \
	if [ ! -x $(PYTHON) ]; then \
		py=""; \
		for candidate in $(PY_CANDIDATES); do \
			if command -v "$$candidate" >/dev/null 2>&1 && \
				"$$candidate" -c "import sys; sys.exit(sys.version_info < (3, 12))" >/dev/null 2>&1; then \
				py="$$candidate"; break; \
			fi; \
		done; \
		if [ -z "$$py" ]; then echo "Python 3.12 or newer is required; none found." >&2; exit 1; fi; \
		echo "Creating $(VENV) with $$py"; \
		"$$py" -m venv $(VENV); \
	fi; \
	$(PYTHON) -m pip install --quiet --upgrade pip; \
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt; \
	$(PYTHON) -m pip install --quiet --no-deps -r requirements-nodeps.txt; \
	touch $(STAMP)

migrate: venv
	$(PYTHON) manage.py migrate --noinput

roles: migrate
	$(PYTHON) manage.py setup_roles

# The demo runs without the admin's second factor (OTP_ENFORCE=false, refused
# unless DEBUG is true); every admin page then shows a banner saying so.
demo: roles
	OTP_ENFORCE=false $(PYTHON) manage.py seed_demo --customers $(DEMO_CUSTOMERS)
	OTP_ENFORCE=false $(PYTHON) manage.py runserver 127.0.0.1:8000

test: venv
	$(VENV)/bin/pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: venv
	$(PYTHON) bench/close_of_business.py --debts $(BENCH_DEBTS)

# Refresh the pictures in docs/screenshots/ from the browser tests.
screenshots: venv
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest -q -n 0 -m browser tests/browser/
