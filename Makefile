# merchant: `make run` serves the shop with the demo catalog; `make test` runs the whole suite.
PYTHON ?= python3
PORT ?= 5000
# HOST=0.0.0.0: every address of this machine (a VPS reached from a phone).
HOST ?= 127.0.0.1
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app merchant
PYBABEL := $(VENV)/bin/pybabel
# The translations: one .po per language, compiled to a .mo that git ignores.
PO := $(wildcard merchant/translations/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)

.PHONY: run dev test lint bench bench-orders clean translations messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

translations: $(MO)

%.mo: %.po | $(VENV)/.installed
	$(PYBABEL) compile --statistics -i $< -o $@

# After adding or changing strings in the code: bring every .po up to date, then translate the
# new entries (empty or "#, fuzzy") in merchant/translations/<lang>/LC_MESSAGES/messages.po.
messages: $(VENV)/.installed
	$(PYBABEL) extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
		--project merchant -o merchant/translations/messages.pot .
	$(PYBABEL) update -i merchant/translations/messages.pot -d merchant/translations \
		--no-wrap --ignore-pot-creation-date --ignore-obsolete
	$(PYBABEL) update -D wtforms -i "$$($(PY) -c 'import os, wtforms.i18n as i; \
		print(os.path.join(i.messages_path(), "wtforms.pot"))')" -d merchant/translations \
		--no-wrap --ignore-pot-creation-date --ignore-obsolete

# First start: fresh random secrets, kept out of git.
instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}\nSANDBOX_WEBHOOK_SECRET = {secrets.token_hex(32)!r}')" > $@

# The production server (waitress) with the worker inside: the whole shop in one process.
run: $(VENV)/.installed $(MO) instance/config.py
	$(FLASK) seed-demo --if-empty
	$(FLASK) serve --host $(HOST) --port $(PORT)

# The same with Flask's development server, which reloads on code changes.
dev: $(VENV)/.installed $(MO) instance/config.py
	$(FLASK) seed-demo --if-empty
	$(FLASK) dev --host $(HOST) --port $(PORT)

# Also installs Debian's chromium for the browser tests when it can (.ci/chromium says what to
# install when it cannot). The tests are spread over TEST_WORKERS processes (pytest-xdist), each
# file kept on one of them.
TEST_WORKERS ?= auto
test: $(VENV)/.installed $(MO)
	@./.ci/chromium
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check merchant tests bench

# Requests/s against budgets (bench/README.md), then Pay -> Delivered and Lighthouse; every
# part runs, and any missed budget fails the target.
bench: $(VENV)/.installed $(MO)
	@./bench/tools.sh
	@status=0; \
	$(PY) bench/throughput.py || status=1; \
	$(PY) bench/pay_to_delivered.py || status=1; \
	$(PY) bench/lighthouse.py || status=1; \
	exit $$status

# The admin order list at 100,000 orders (SQLite; PostgreSQL when MERCHANT_TEST_DATABASE_URL is set).
bench-orders: $(VENV)/.installed $(MO)
	$(PY) bench/orders_list.py

clean:
	rm -rf $(VENV) .pytest_cache
