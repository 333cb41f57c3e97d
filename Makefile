# Two commands for a newcomer: `make run` and `make test`. Both create .venv if it is missing.
# Every install uses the exact versions in constraints.txt (ranges are in pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt
SCENARIO ?= iraq-2010
OUT ?= out/$(SCENARIO)
# every extra, for the lock
ALL_EXTRAS := test,bench

.PHONY: run test test-fast lint bench clean install install-test constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/shatterbelt run $(SCENARIO) --out $(OUT)

# the whole suite
test: install-test
	$(BIN)/python -m pytest -q

# the edit loop (under a minute on two idle cores): everything not marked slow (tests/conftest.py:
# SLOW), the digest guard included
test-fast: install-test
	$(BIN)/python -m pytest -q -m "not slow"

lint: install-test
	$(BIN)/ruff check src tests benchmarks tools

bench: $(BIN)/python
	$(PIP) -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

# renew constraints.txt: the newest versions pyproject.toml's ranges allow, for every extra
constraints: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --dry-run --ignore-installed --report $(VENV)/lock.json -e ".[$(ALL_EXTRAS)]"
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -c 'import json, sys; r = json.load(open(sys.argv[1])); \
	  print("\n".join(sorted(("%s==%s" % (m["name"], m["version"]) for m in (i["metadata"] for i in r["install"]) \
	  if m["name"] != "shatterbelt"), key=str.lower)))' $(VENV)/lock.json; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
