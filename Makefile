# Switchboard. `make run` and `make test` are the two commands a new machine needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install preflight migrate seed contract contract-check lock lint bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $(STAMP)

install: $(STAMP)

PORT ?= 8000
run: export DJANGO_SETTINGS_MODULE ?= config.settings.local_dev
run: export SWITCHBOARD_WEB_PORT = $(PORT)
run: install
	$(BIN)/python deploy/preflight.py
	$(BIN)/python manage.py migrate_schemas --shared --noinput -v 0
	$(BIN)/python manage.py migrate_schemas --tenant --noinput -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v 0
	@mkdir -p var
	@# Each command under deploy/respawn.py: one that dies starts again, the rest run on.
	$(BIN)/python deploy/respawn.py --write deploy/Procfile var/Procfile.run
	PATH=$(abspath $(BIN)):$$PATH exec $(BIN)/honcho -f var/Procfile.run -d . start

test: export DJANGO_SETTINGS_MODULE = config.settings.local_test
test: install
	rm -rf var/test$(if $(SWITCHBOARD_TEST_NS),_$(SWITCHBOARD_TEST_NS),)/logs  # a fresh run
	SWITCHBOARD_FRESH_DB=1 $(BIN)/python deploy/preflight.py
	$(BIN)/python manage.py migrate_schemas --shared --noinput -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python manage.py export_contract --check
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest -m "not bench" $(PYTEST_ARGS)

bench: export DJANGO_SETTINGS_MODULE = config.settings.local_test
bench: install
	$(BIN)/python deploy/preflight.py
	$(BIN)/python manage.py migrate_schemas --shared --noinput -v 0
	$(BIN)/python manage.py migrate_schemas --tenant --noinput -v 0
	$(BIN)/python manage.py seed_demo
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest -m bench -s tests/bench $(PYTEST_ARGS)

contract: install
	$(BIN)/python manage.py export_contract

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Regenerate the lock from pyproject.toml (needs the registry).
lock: install
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --extra test --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) var
