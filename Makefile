# Developer entry points for skaae. Every target builds the local .venv first.
#
# torch is installed on its own, pinned, BEFORE the package: an unpinned or
# ranged torch resolved from scratch would pull a multi-GB CUDA build.
# Override on the command line, e.g. `make venv TORCH_SPEC="torch==2.13.0"`.

PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.skaae-installed

.PHONY: venv demo test docs clean

venv: $(STAMP)

$(VENV_PY):
	$(PYTHON) -m venv $(VENV)

# Re-runs whenever pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install --upgrade pip
	$(VENV_PY) -m pip install "$(TORCH_SPEC)"
	$(VENV_PY) -m pip install -e ".[test,docs,demo]"
	touch $(STAMP)

demo: venv
	$(VENV_PY) docs/examples/demo_digits.py --output-dir demo_output

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV_PY) -m pytest

docs: venv
	rm -rf docs/generated
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build docs/generated demo_output build dist *.egg-info \
		.pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
