# Set-up is two commands: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

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
	$(BIN)/python bench/bench_api.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
