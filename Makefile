# lasco-sionna: the two set-up commands are `make quickstart` and `make test`.
# Both create a virtual environment in .venv and install the package first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install sysdeps quickstart test clean

# Dr.Jit's CPU backend (Sionna RT) needs a runtime libLLVM.
sysdeps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libLLVM'; then \
	  echo "installing libLLVM for Sionna RT (Dr.Jit LLVM backend)"; \
	  (apt-get update -qq && apt-get install -y -qq libllvm14 >/dev/null) || \
	  (echo "could not install libllvm14: install a libLLVM package or set DRJIT_LIBLLVM_PATH" >&2; exit 1); \
	fi

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,notebooks,distributed]"
	touch $@

install: sysdeps $(BIN)/.installed

quickstart: install
	$(BIN)/python -m lasco_sionna.sweep sims/configs/quickstart.yaml

test: install
	$(BIN)/python -m pytest -q tests

# Keeps results/: its tables (CSV, Markdown) are committed
clean:
	rm -rf $(VENV) .cache
