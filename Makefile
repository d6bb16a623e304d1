# Every target sets up what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: setup run serve port-free ingest test test-fast lint typecheck unit clean bench browser cluster cluster-tools lock bench-cluster

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# CPU torch first: installed later by a dependency, pip would pull the multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

ingest: setup
	$(BIN)/advisor ingest

# Set up, ingest the bundled corpus, serve on 127.0.0.1:$(PORT) (make run PORT=8080). The port is
# checked first, so a taken one fails at once rather than after the set-up.
HOST ?= 127.0.0.1
PORT ?= 8000
run: port-free ingest
	$(BIN)/advisor serve --host $(HOST) --port $(PORT)

# Serve what is already indexed (no ingest), on $(HOST):$(PORT).
serve: port-free setup
	$(BIN)/advisor serve --host $(HOST) --port $(PORT)

port-free:
	@$(PYTHON) -c 'import socket, sys; taken = socket.socket().connect_ex(("$(HOST)", $(PORT))) == 0; \
		sys.exit("port $(PORT) on $(HOST) is taken: use make run PORT=<another port>" if taken else 0)'

lint: setup
	$(BIN)/ruff check src tests deploy benchmarks
	$(BIN)/ruff format --check src tests deploy benchmarks

typecheck: setup
	$(BIN)/mypy

# The widget's browser tests drive Debian's Chromium (/usr/bin/chromium); install it when missing.
browser:
	@test -x /usr/bin/chromium || { \
		echo "installing chromium for the widget's browser tests"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		else sudo apt-get update && sudo apt-get install -y chromium; fi; }

# Two replicas against one through the local cluster's balancer (docs/performance.md).
bench-cluster: setup cluster-tools
	$(BIN)/python -m benchmarks.cluster

# Pin the image's dependencies (requirements.lock) to what pip resolves now.
lock: setup
	$(BIN)/python -m deploy.lock

# The local cluster's load balancer and load generator, from Debian's packages.
cluster-tools:
	@command -v haproxy >/dev/null && command -v wrk >/dev/null || { \
		echo "installing haproxy and wrk for the local cluster"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y haproxy wrk; \
		else sudo apt-get update && sudo apt-get install -y haproxy wrk; fi; }

# Two replicas behind HAProxy on 127.0.0.1:$(CLUSTER_PORT), with `chroma run`, the local PostgreSQL
# and Redis (deploy/cluster.py; Ctrl-C stops it). Ingests the bundled corpus first.
CLUSTER_PORT ?= 8080
cluster: setup cluster-tools
	$(BIN)/python -m deploy.cluster --port $(CLUSTER_PORT)

# Tests run on every core (at most four workers): each worker builds its own fixtures, and the
# tests share nothing but PostgreSQL, where each gets a schema of its own.
PYTEST_WORKERS ?= -n auto --maxprocesses 4
unit: setup browser cluster-tools
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) --durations=15

# Set up, then lint, type-check and run the whole suite.
test: lint typecheck unit

# The fast tier alone (about 80 s on two cores): the hashing embedder and in-memory vector store instead of
# the real model, Chroma, PostgreSQL and the browser (see tests/conftest.py).
test-fast: setup
	$(BIN)/python -m pytest -q $(PYTEST_WORKERS) -m "not slow"

# Performance benchmark (docs/performance.md): prints a table, writes benchmarks/results/latest.json
# and latency.png. BENCH_SIZES=1k for a quick run; the default covers 1k, 10k and 100k chunks.
BENCH_SIZES ?= 1k,10k,100k
bench: setup
	$(BIN)/python -m benchmarks --sizes $(BENCH_SIZES) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
