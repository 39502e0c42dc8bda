# Entry points for users (see README): `make demo`, `make test` (the full suite, what CI runs)
# and `make test-fast` (the everyday subset: minutes, not tens of minutes).
# Both build their own virtual environment in .venv (re-created when setup.cfg changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The dataset mirror: tests read the benchmark files from here instead of the internet.
# (the first that exists of ../shared/datasets and /work/shared/datasets, as .ci/run does)
export ZOO_DATA_DIR ?= $(firstword $(wildcard $(abspath ../shared/datasets) /work/shared/datasets) $(abspath ../shared/datasets))
export TF_CPP_MIN_LOG_LEVEL ?= 3

$(VENV)/.installed: setup.cfg pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# The fast lane leaves out tests marked `slow` and the files that train models, reproduce every
# checkpoint's metrics or read the large benchmarks end to end (`make test` runs them all).
SLOW_FILES := test_pretrained.py test_train.py test_finetune.py test_tutorial.py \
	test_baselines.py test_text_baselines.py test_reuters_fashion.py
FAST_ARGS := -m "not slow" $(foreach f,$(SLOW_FILES),--ignore=tests/$(f))

.PHONY: venv demo test test-fast
venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m zoo demo

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q $(FAST_ARGS) tests

test: $(VENV)/.installed
	$(PY) -m pytest -q tests
	KERAS_BACKEND=jax $(PY) -m pytest -q -m multibackend tests
