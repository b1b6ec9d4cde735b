# Two commands do all the set-up on a fresh machine:
#   make demo   -> creates .venv, installs everything, runs the main job on built-in defaults
#   make test   -> creates .venv, installs everything, runs the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out/demo

.PHONY: setup demo test test-all lint book clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# the CPU wheel first: an unpinned torch would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,book]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/sip-theory demo --out $(OUT)

test: setup
	$(PY) -m pytest -n 2 -m "not slow" -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit code 5)" >&2; fi; exit $$rc

test-all: setup
	$(PY) -m pytest -n 2 -q

lint: setup
	$(VENV)/bin/ruff check .

book: setup
	$(VENV)/bin/jupyter-book build book --keep-going -W

clean:
	rm -rf $(VENV) book/_build out
