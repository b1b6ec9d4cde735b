# Two commands do all the set-up on a fresh machine:
#   make run    -> creates .venv, installs the package, runs the main job on built-in defaults
#                  (sip-theory reproduce --profile quick: the paper's synthetic experiments)
#   make test   -> creates .venv, installs the package with its dev and book extras, runs the
#                  test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out
JOBS ?= 2

.PHONY: setup setup-base run demo cora theorem paper-gpu test test-all lint book book-check clean

# the package alone (what the jobs need), then the extras for tests, lint and the book
$(VENV)/.installed-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU wheel first: an unpinned torch would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet --no-compile torch==2.13.0
	$(PY) -m pip install --quiet --no-compile -e .
	# byte-compile only the modules the jobs import (--no-compile skips all of torch's
	# thousands of files: about 50 s of set-up), so no worker compiles them again
	PYTHONDONTWRITEBYTECODE= $(PY) -c "import sip_theory.cli, sip_theory.experiments, matplotlib.pyplot"
	touch $@

$(VENV)/.installed: $(VENV)/.installed-base
	$(PY) -m pip install --quiet -e ".[dev,book]"
	touch $@

setup-base: $(VENV)/.installed-base
setup: $(VENV)/.installed

run: setup-base
	$(VENV)/bin/sip-theory reproduce --profile quick --jobs $(JOBS) --out $(OUT)/reproduce-quick

demo: setup-base
	$(VENV)/bin/sip-theory demo --out $(OUT)/demo

cora: setup-base
	$(VENV)/bin/sip-theory cora --jobs $(JOBS) --out $(OUT)

# the theorem in action: premise and conclusion of Theorem 1 along training (CPU, resumable)
theorem: setup-base
	$(VENV)/bin/sip-theory theorem --jobs $(JOBS) --out experiments/results/theorem

# the whole paper profile on one GPU: concurrent worker processes share the device
GPU_JOBS ?= 16
paper-gpu: setup-base
	$(VENV)/bin/sip-theory reproduce --profile paper --device cuda --jobs $(GPU_JOBS) \
		--out experiments/results/paper-gpu

test: setup
	$(PY) -m pytest -n 2 -m "not slow" -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5)" >&2; fi; exit $$rc

test-all: setup
	$(PY) -m pytest -n 2 -q

lint: setup
	$(VENV)/bin/ruff check .

# the book; MathJax is a local copy (math renders offline), fetched once into book/_mathjax
book: setup
	$(PY) .ci/fetch_mathjax.py
	$(VENV)/bin/jupyter-book build book --keep-going -W

# the book, then the check of its HTML, then a full-page screenshot of every page (headless
# Chromium: apt-get install -y chromium) in book/_build/screenshots/ to look at
book-check: book
	$(PY) .ci/check_book_html.py book/_build/html
	$(PY) .ci/screenshot_book.py book/_build/html book/_build/screenshots

clean:
	rm -rf $(VENV) book/_build book/_mathjax out
