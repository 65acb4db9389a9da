# Peiban — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa 3.6 supports nothing newer). pyenv shims may exist without the version
# being active, so try the candidates until one really is 3.10.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
MODEL_DIR := models
export PEIBAN_ACTION_URL ?= http://127.0.0.1:5055/webhook
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export TF_DETERMINISTIC_OPS ?= 1
# Rasa's training cache (.rasa/cache) drops its oldest entries past 1 GB, and one of our
# trainings fills most of that: the next `make train` then retrained the ResponseSelector
# although nothing had changed. Room for a few trainings keeps "train once" true.
export RASA_MAX_CACHE_SIZE ?= 4000
# Rasa sends anonymous usage data by default; never from a children's service.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help setup venv migrate train run test lint validate browser pytest stories nlu-eval bench eval-safety clean

help:
	@echo "make run          set everything up and start Peiban (chat page, console, Rasa, actions)"
	@echo "make test         set everything up and run the whole test suite"
	@echo "make train        train the model (skipped when nothing changed)"
	@echo "make bench        latency, throughput, training time, memory -> bench/results.json"
	@echo "make eval-safety  risk detector: dev-set bars, then held-out sets (reported, no bars)"
	@echo "make lint         ruff"

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (python3.10 not found)"; exit 1; }
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON310)"; $(PYTHON310) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade "pip<25" wheel "setuptools<71"
	# One resolver call, pinned by the lock, so rasa's pins (SQLAlchemy 1.4, aiohttp 3.9) hold.
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv setup: $(STAMP)

migrate: $(STAMP)
	$(PY) -m bot db upgrade

# `rasa train` itself skips training when the newest model matches data, config and domain.
train: $(STAMP)
	@before=$$(stat -c %Y $(MODEL_DIR)/peiban.tar.gz 2>/dev/null || echo 0); start=$$(date +%s); \
	flock /tmp/peiban-train.lock $(RASA) train --out $(MODEL_DIR) --fixed-model-name peiban || exit $$?; \
	after=$$(stat -c %Y $(MODEL_DIR)/peiban.tar.gz 2>/dev/null || echo 0); \
	if [ "$$after" != "$$before" ]; then mkdir -p var; \
		echo "{\"train_seconds\": $$(( $$(date +%s) - start ))}" > var/train-time.json; fi

run: migrate train
	$(PY) -m bot run --model $(MODEL_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

validate: $(STAMP)
	$(RASA) data validate --max-history 5

pytest: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider; code=$$?; \
	if [ $$code -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$code

stories: $(STAMP)
	$(RASA) test core --model $(MODEL_DIR)/peiban.tar.gz --stories tests/stories \
		--fail-on-prediction-errors --out var/results/core

nlu-eval: $(STAMP)
	$(PY) -m bot.nlu.evaluate --model $(MODEL_DIR)/peiban.tar.gz tests/nlu/heldout_zh.yml tests/nlu/heldout_en.yml

# Browser tests drive Debian's chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ echo "Installing Debian's chromium for the browser tests"; apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; } || \
		echo "chromium is not installed: browser tests will be skipped"

test: migrate lint validate train browser pytest stories nlu-eval
	@echo "make test: all checks passed"

eval-safety: $(STAMP)
	$(PY) -m bot.safety.eval tests/safety/devset.jsonl --report $(sort $(wildcard tests/safety/blind*.jsonl)) tests/nlu/heldout_zh.yml tests/nlu/heldout_en.yml

bench: migrate train
	$(PY) -m bot.bench --model $(MODEL_DIR)/peiban.tar.gz --out bench/results.json

clean:
	rm -rf var/results .pytest_cache .ruff_cache
