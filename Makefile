# Bashgah: `make run` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.DEFAULT_GOAL := help
.PHONY: help run test lint format translations compile-translations bench vendor clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

compile-translations: $(VENV)/.installed ## Compile the .po catalogues into .mo files
	$(BIN)/pybabel compile -d portal/translations

run: $(VENV)/.installed compile-translations ## Install, migrate, load the demo club on first start, serve on http://127.0.0.1:$(PORT)
	$(FLASK) db upgrade
	$(FLASK) portal seed-demo --if-empty
	PORT=$(PORT) $(BIN)/python wsgi.py

test: $(VENV)/.dev-installed compile-translations ## Install the dev requirements and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed ## ruff (lint and format check) and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev-installed ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

translations: $(VENV)/.dev-installed ## Extract the strings, update the fa and en catalogues, compile them
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot --no-location --sort-output --project Bashgah --ignore-dirs='.venv static tests bench migrations instance' .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d portal/translations

bench: $(VENV)/.dev-installed compile-translations ## Generate a small data set and measure the pages against a hello-world ceiling
	$(BIN)/python -m bench.run --members 200 --duration 5

vendor: ## Copy the front-end packages from the npm registry into static/vendor/
	bash static/vendor/update.sh

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) instance tests/artifacts
