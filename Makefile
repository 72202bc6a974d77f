# make demo: run the whole flow on a synthetic district.  make test: run the test suite.
# Each creates what it needs from nothing: system packages (scripts/system-deps.sh, via apt-get
# when root) and a virtual environment in .venv with secscan and its Python dependencies.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: test demo lint bench system-deps clean

$(VENV)/.installed: pyproject.toml
	@echo "make: creating $(VENV) and installing secscan[dev] with pip"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

system-deps:
	@bash scripts/system-deps.sh

test: system-deps $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

demo: system-deps $(VENV)/.installed
	$(VENV)/bin/secscan demo --out demo-out

bench: $(VENV)/.installed
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) demo-out build dist
