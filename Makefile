# Quick start: `make demo` (train the headline example) and `make test` (run the test suite).
# Both create a local virtual environment in .venv with `python3 -m venv` on first use; later runs
# reinstall only when pyproject.toml changed (the .venv/.stamp-* files record the last install).

PYTHON ?= python3
VENV   := .venv
# why: offline machines keep the data sets beside the checkout; elsewhere the loaders download them
AUTOGRAD_DATA ?= $(if $(wildcard ../shared/data/mnist),$(abspath ../shared/data),)
export AUTOGRAD_DATA
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
ARGS   ?=

.PHONY: demo test bench venv clean help

help:
	@echo "make demo    train examples/mnist_mlp.py, the headline example (creates .venv on first use)"
	@echo "make test    install .[dev] into .venv and run the whole test suite"
	@echo "make bench   run the benchmarks (python -m benchmarks \$$ARGS)"
	@echo "make clean   remove .venv and caches"

demo: $(VENV)/.stamp-examples
	$(PY) examples/mnist_mlp.py $(ARGS)

test: $(VENV)/.stamp-dev
	$(PY) -m pytest $(ARGS)

bench: $(VENV)/.stamp-base
	$(PY) -m benchmarks $(ARGS)

venv: $(PY)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "error: $(PYTHON) is older than 3.10 (or missing); run make PYTHON=python3.X with X >= 10"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }

# The stamps live inside .venv, so deleting .venv also forgets what was installed.
$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.stamp-examples: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[examples]'
	@touch $@ $(VENV)/.stamp-base

$(VENV)/.stamp-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.stamp-base

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
