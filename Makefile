# kafkette: `make run` starts a broker on 127.0.0.1:9092, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-compare acceptance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kafkette serve --host 127.0.0.1 --port 9092 --data-dir ./data

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-compare: $(STAMP)
	$(BIN)/python bench/run.py --compare

acceptance: $(STAMP)
	$(BIN)/python bench/acceptance.py

clean:
	rm -rf $(VENV) data .pytest_cache
