# Set-up is two commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench check-hardening clean web-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/allocator demo --out out

lint: $(STAMP)
	$(BIN)/ruff check allocator api cli data models report tests bench vulture_whitelist.py
	$(BIN)/mypy
	$(BIN)/vulture

test: $(STAMP) lint
	sh tests/browser/install_chromium.sh
	bash tests/api/start_postgres.sh >/dev/null || echo "PostgreSQL unavailable: its storage tests will skip"
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/bench_allocation.py
	$(BIN)/python -m bench.bench_estates
	$(BIN)/python -m bench.bench_site_choice
	$(BIN)/python -m bench.bench_national
	$(BIN)/python -m bench.bench_time_limit
	$(BIN)/python bench/bench_api.py

# Issue 10's figures, full size: loader fuzz, formula cells, schemathesis for every role,
# upload while health is polled, decision races, load with a full queue, kill -9 and restart.
# Quick versions of each run in `make test` (tests marked slow still run there).
check-hardening: $(STAMP)
	bash tests/api/start_postgres.sh >/dev/null || echo "PostgreSQL unavailable: the PostgreSQL parts will skip"
	$(BIN)/python -m bench.hardening.fuzz_loader
	$(BIN)/python -m bench.hardening.formula_cells
	$(BIN)/python -m bench.hardening.schema_sweep
	$(BIN)/python -m bench.hardening.upload_health
	$(BIN)/python -m bench.hardening.race
	$(BIN)/python -m bench.hardening.load
	$(BIN)/python -m bench.hardening.crash

# Re-fetch the pinned front-end packages (govuk-frontend, MoJ Frontend) into api/web/static; the
# copies are committed, so no other target needs npm.
web-assets:
	sh api/web/fetch_assets.sh
	sh api/web/fetch_leaflet.sh

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
