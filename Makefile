# chaintrail: two commands set everything up on a fresh machine.
#   make demo   create .venv, install (compiling numba's kernels), run the bundled scenario
#   make test   create .venv, install with test extras, lint and run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEMO_DIR ?= demo-output

.PHONY: demo test lint bench clean install

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	$(PY) -m chaintrail.demo --compile-only  # numba's kernels, once, now rather than mid-demo
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m chaintrail.demo --out $(DEMO_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

test: $(STAMP) lint
	$(VENV)/bin/pytest

# make bench [CHAIN=simulate-output-dir] [TAGPACKS=path/to/graphsense-tagpacks]
bench: $(STAMP)
	$(PY) -m bench.run $(if $(CHAIN),--chain $(CHAIN)) $(if $(TAGPACKS),--tagpacks $(TAGPACKS))

clean:
	rm -rf $(VENV) $(DEMO_DIR) chaintrail-data .pytest_cache
