# The two commands a newcomer needs (each installs whatever is missing first):
#   make app        serve the web app on http://127.0.0.1:7860 (builds the index if needed)
#   make test       run the whole test suite (real model, real FAISS, real browser); CI runs this
# For the inner loop:
#   make test-fast  unit and small integration tests: no browser, benchmark, full eval or model (seconds)
#   make lint       ruff (lint + format check) and mypy on src/, as CI runs them (.ci/run)
#   make format     rewrite the tree in ruff's format
.PHONY: app test test-fast lint format setup

PY = HF_HUB_OFFLINE=1 .venv/bin/python

app:
	bash scripts/setup.sh
	$(PY) app.py $(ARGS)

test:
	bash scripts/setup.sh --browser
	$(PY) -m pytest $(ARGS)

test-fast:
	bash scripts/setup.sh
	$(PY) -m pytest -m "not browser and not bench and not eval and not slow" $(ARGS)

lint:
	bash scripts/setup.sh
	.venv/bin/python -m ruff check .
	.venv/bin/python -m ruff format --check .
	.venv/bin/python -m mypy src

format:
	bash scripts/setup.sh
	.venv/bin/python -m ruff check --fix .
	.venv/bin/python -m ruff format .

setup:
	bash scripts/setup.sh --browser
