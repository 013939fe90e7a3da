# The two commands a newcomer needs (each installs whatever is missing first):
#   make app    serve the web app on http://127.0.0.1:7860 (builds the index if needed)
#   make test   run the whole test suite (real model, real FAISS, real browser)
.PHONY: app test setup

app:
	bash scripts/setup.sh
	HF_HUB_OFFLINE=1 .venv/bin/python app.py $(ARGS)

test:
	bash scripts/setup.sh --browser
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest $(ARGS)

setup:
	bash scripts/setup.sh --browser
