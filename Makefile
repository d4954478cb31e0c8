# Hearth: `make run` serves the demo on SQLite; `make test` installs what the tests need and runs them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint chromium nginx bench clean messages translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo --if-empty
	$(BIN)/python wsgi.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

nginx:
	@command -v nginx >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

# Load Hearth and the bare Flask-SocketIO stack with rooms of phones (bench/run.py): a table,
# then one JSON object as the last line. One scenario: make bench BENCH_ARGS="--scenario realistic --mode gevent"
bench: $(VENV)/.test-installed nginx
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: $(VENV)/.test-installed chromium lint
	$(BIN)/pip-audit --skip-editable --progress-spinner off
	$(BIN)/pytest -n auto --dist loadfile
	$(BIN)/pytest -n auto --dist loadfile --db postgresql -m "not browser and not live" tests/groups tests/facilitation tests/realtime

# Languages. `make messages` collects every marked string (templates, Python, static/js) into
# translations/messages.pot and merges it into each language's .po; after translating the .po,
# `make translations` compiles the .mo files, which are committed (the app reads only those).
# A new language: `$(BIN)/pybabel init -i translations/messages.pot -d translations -l xx`.
# Domain errors are translated where they are answered, so their classes are keywords too.
BABEL_KEYWORDS := -k N_ -k NC_:1c,2 -k H.t -k H.tn:1,2 -k check:3 -k ValidationFailed \
	-k NotAuthenticated -k Forbidden -k NotFound -k Conflict -k RateLimited

messages: $(VENV)/.run-installed
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-wrap --sort-by-file \
		--project Hearth --omit-header -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete \
		--no-fuzzy-matching
	$(MAKE) translations

translations: $(VENV)/.run-installed
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache
