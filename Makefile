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
# `make notebooks` starts, before TensorFlow is imported, so no notebook stores that noise: the log level
# silences TensorFlow's Python-side lines, and the kernels' IPython configuration (tools/ipython_kernel_config.py,
# found through IPYTHONDIR) keeps the C++ lines, such as oneDNN's, out of the cells. oneDNN stays on.
export TF_CPP_MIN_LOG_LEVEL := 3
export IPYTHONDIR := $(abspath $(VENV)/ipython)
export PYTHONHASHSEED := 0
# Kernels are started as `python -m ipykernel_launcher`: the venv's python must come first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup book test unit floor nbval site notebooks check-chapter experiments serve clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/ipython_kernel_config.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	mkdir -p $(IPYTHONDIR)/profile_default
	cp tools/ipython_kernel_config.py $(IPYTHONDIR)/profile_default/ipython_kernel_config.py
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.txt)"
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -r requirements.txt \
		|| { echo "uv could not install the pins (it reads UV_INDEX_URL, not pip.conf); installing with pip" >&2; \
		     $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The two editions (_build/html/en, _build/html/zh) and the landing page (_build/html/index.html), built side by
# side from _config.yml and _toc.yml by Jupyter Book 1 with -W -n --keep-going (tools/build_book.py).
book: $(STAMP)
	$(BIN)/python tools/build_book.py

# Both measure themselves against their floor (tools/pytest_timing.py) and print the ratio.
unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --no-loadscope-reorder -p tools.pytest_timing --timing-report=unit -m "not site" tests

# The unit tests' floor as issue 14 defines it (every model and keras.applications twin built once, normally,
# over $(JOBS) workers): as long to measure as it is (100 s here), so make test does not run it. It rewrites
# tools/unit_floor.json, which make unit compares itself with on the machine it was measured on.
floor: $(STAMP)
	$(BIN)/python -m tools.unit_floor --workers $(JOBS)

nbval: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --no-loadscope-reorder -p tools.pytest_timing -p tools.nbval_shared_kernel --timing-report=nbval --nbval --nbval-current-env book

# Browser tests of the built book in headless Chromium; run after `make book`. They need nothing from
# tests/conftest.py, which imports TensorFlow (seconds): --noconftest skips it.
site: $(STAMP)
	bash tools/install_browser.sh
	$(BIN)/python -m pytest --noconftest -n $(JOBS) -m site tests/test_site.py

# The stages in order, each timed; the breakdown is printed at the end, also when a stage fails.
test:
	$(PYTHON) tools/test_stages.py setup unit nbval book site

# Re-executes every notebook in place, in the same environment as nbval, after a builder changed.
# One chapter: make notebooks NOTEBOOKS="book/en/vgg.ipynb book/zh/vgg.ipynb"
NOTEBOOKS ?= book
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py $(NOTEBOOKS)

# What a new or changed chapter can break, in one command: make check-chapter SLUG=toynet
#   1. the unit tests of its models (tests/test_SLUG.py and the generic tests of every model its family module
#      registers: tools/chapter_tests.py writes the -k expression, e.g. "lenet or lenet5 or nin");
#   2. the book-wide tests that -k SLUG skips (CHAPTER_BOOK_TESTS: every model appears in a chapter, twins,
#      stored outputs, figures in the prose, glossary terms, exercises, the editions' tables of contents);
#   3. nbval on its two notebooks and on the intro's two, whose stored output lists every model (re-execute
#      them first: make notebooks NOTEBOOKS="book/en/SLUG.ipynb book/zh/SLUG.ipynb book/en/intro.ipynb
#      book/zh/intro.ipynb"); ALSO="book/en/overview.ipynb book/zh/overview.ipynb" adds notebooks, e.g. when
#      the model joins the overview's table;
#   4. the book build (make book).
# It stops at the first stage that fails. make test still runs everything.
CHAPTER_BOOK_TESTS := tests/test_book.py tests/test_prose_figures.py tests/test_glossary.py \
	tests/test_exercises.py tests/test_editions.py
CHAPTER_NOTEBOOKS = book/en/$(SLUG).ipynb book/zh/$(SLUG).ipynb book/en/intro.ipynb book/zh/intro.ipynb $(ALSO)
ALSO ?=
check-chapter: $(STAMP)
	@test -n "$(SLUG)" || { echo "usage: make check-chapter SLUG=<slug>  (e.g. SLUG=toynet)" >&2; exit 2; }
	@test -f book/en/$(SLUG).ipynb || { echo "no chapter book/en/$(SLUG).ipynb" >&2; exit 2; }
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not site" -k "$$($(BIN)/python tools/chapter_tests.py $(SLUG))" tests
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup $(CHAPTER_BOOK_TESTS)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --no-loadscope-reorder -p tools.nbval_shared_kernel --nbval --nbval-current-env $(CHAPTER_NOTEBOOKS)
	$(BIN)/python tools/build_book.py

# Runs the training experiments (cnn_notes/experiments.py) and stores their results in book/experiments/.
# All of them take about an hour on 2 CPU cores; one: make experiments EXPERIMENTS=resnet_degradation
EXPERIMENTS ?=
experiments: $(STAMP)
	$(BIN)/python -m cnn_notes.experiments $(EXPERIMENTS)

serve: book
	$(BIN)/python -m http.server --directory _build/html 8000

clean:
	rm -rf _build
