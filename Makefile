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

.PHONY: run dev test lint bench bench-spike bench-h2h bench-orders clean translations messages \
	lock lock-upgrade

# Installs come from the locks in requirements/ (exact versions with their hashes, made by
# `make lock`): run.txt for run, dev and the translations; test.txt (run's versions plus the
# test extra) for test and lint; bench.txt (run's plus locust) for the benchmarks. Each install
# runs again when pyproject.toml or its lock changes; test.txt and bench.txt hold run.txt's
# versions, so installing either also counts as run's install.
INSTALL = $(PY) -m pip install -q --require-hashes -r $< \
	&& $(PY) -m pip install -q --no-build-isolation --no-deps -e .

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(PY)
	$(INSTALL)
	touch $@

$(VENV)/.installed: requirements/test.txt pyproject.toml | $(PY)
	$(INSTALL)
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: requirements/bench.txt pyproject.toml | $(PY)
	$(INSTALL)
	touch $@ $(VENV)/.installed-run

# The locks again from pyproject.toml, for Python 3.11+ on any platform (x86_64 and aarch64
# Linux included): pins that still fit are kept. `make lock-upgrade` takes the newest versions
# the bounds allow. uv does the resolving; it is installed into the virtualenv the first time.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml requirements/build.in --quiet \
	--universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
	$(UV_FLAGS)
lock: | $(PY)
	test -x $(VENV)/bin/uv || $(PY) -m pip install -q 'uv>=0.5,<1'
	$(UV_COMPILE) --extra postgres --extra redis --extra server -o requirements/run.txt
	$(UV_COMPILE) --extra postgres --extra redis --extra server --extra test \
		-c requirements/run.txt -o requirements/test.txt
	$(UV_COMPILE) --extra postgres --extra redis --extra server --extra bench \
		-c requirements/run.txt -o requirements/bench.txt

lock-upgrade:
	$(MAKE) lock UV_FLAGS=--upgrade

translations: $(MO)

%.mo: %.po | $(VENV)/.installed-run
	$(PYBABEL) compile --statistics -i $< -o $@

# After adding or changing strings in the code: bring every .po up to date, then translate the
# new entries (empty or "#, fuzzy") in merchant/translations/<lang>/LC_MESSAGES/messages.po.
messages: $(VENV)/.installed-run
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
run: $(VENV)/.installed-run $(MO) instance/config.py
	$(FLASK) seed-demo --if-empty
	$(FLASK) serve --host $(HOST) --port $(PORT)

# The same with Flask's development server, which reloads on code changes.
dev: $(VENV)/.installed-run $(MO) instance/config.py
	$(FLASK) seed-demo --if-empty
	$(FLASK) dev --host $(HOST) --port $(PORT)

# Also installs Debian's chromium for the browser tests when it can (.ci/chromium says what to
# install when it cannot). The tests are spread over TEST_WORKERS processes (pytest-xdist), each
# file kept on one of them.
TEST_WORKERS ?= auto
test: $(VENV)/.installed $(MO)
	@./.ci/chromium
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# ruff, then the package layers and the no-cycles rule of .importlinter (ARCHITECTURE.md).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check merchant tests bench
	$(VENV)/bin/lint-imports --no-cache

# Requests/s against budgets (bench/README.md), then Pay -> Delivered, Lighthouse, the spike
# of phone buyers and the H2H API's 1,000 orders; every part runs, and any missed budget or
# broken check fails the target.
bench: $(VENV)/.installed-bench $(MO)
	@./bench/tools.sh
	@status=0; \
	$(PY) bench/throughput.py || status=1; \
	$(PY) bench/pay_to_delivered.py || status=1; \
	$(PY) bench/lighthouse.py || status=1; \
	$(MAKE) --no-print-directory bench-spike || status=1; \
	$(MAKE) --no-print-directory bench-h2h || status=1; \
	exit $$status

# Locust, which plays the buyers from its own process: the venv's (bench.txt), or any other
# install with LOCUST=/path/to/bin/locust.
LOCUST ?= $(VENV)/bin/locust

# The most phone buyers at once held by gunicorn + workers on PostgreSQL and by `flask serve` on
# SQLite, against bench/spike_baseline.json (bench/README.md, Spike; about 10 minutes).
bench-spike: $(VENV)/.installed-bench $(MO)
	$(PY) bench/spike.py --locust "$(LOCUST)"

# The H2H API on gunicorn + 2 workers and PostgreSQL: 1,000 reseller orders, each sent twice at
# once, none doubled or lost, the saldo's books balanced (bench/README.md, H2H API; a few
# minutes). A new database bench_h2h (H2H_BENCH_DATABASE), dropped at the end.
bench-h2h: $(VENV)/.installed-bench $(MO)
	$(PY) bench/h2h_orders.py

# The admin order list at 100,000 orders (SQLite; PostgreSQL when MERCHANT_TEST_DATABASE_URL is set).
bench-orders: $(VENV)/.installed-bench $(MO)
	$(PY) bench/orders_list.py

clean:
	rm -rf $(VENV) .pytest_cache
