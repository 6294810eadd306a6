# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make book   builds the book into _build/html
#   make test   runs every test: unit tests, nbval over every notebook, the book build
# Both create .venv and install the pinned requirements the first time.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JOBS ?= 2

# TensorFlow logs its start-up to stderr. Exported here, these reach every Jupyter kernel that nbval or
# `make notebooks` starts, before TensorFlow is imported, so no notebook stores that noise.
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONHASHSEED := 0
# Kernels are started as `python -m ipykernel_launcher`: the venv's python must come first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup book test unit nbval site notebooks serve clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not site" tests

nbval: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval --nbval-current-env book

# Browser tests of the built book in headless Chromium; run after `make book`. They need nothing from
# tests/conftest.py, which imports TensorFlow (seconds): --noconftest skips it.
site: $(STAMP)
	bash tools/install_browser.sh
	$(BIN)/python -m pytest --noconftest -m site tests/test_site.py

test: unit nbval book site

# Re-executes every notebook in place, in the same environment as nbval, after a builder changed.
# One chapter: make notebooks NOTEBOOKS="book/en/vgg.ipynb book/zh/vgg.ipynb"
NOTEBOOKS ?= book
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

serve: book
	$(BIN)/python -m http.server --directory _build/html 8000

clean:
	rm -rf _build
