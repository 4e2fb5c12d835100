# kafkette: `make run` starts a broker on 127.0.0.1:9092 (data in ./data), `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test typecheck fuzz bench bench-compare conformance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml setup.py protocol/record_scan.py | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[$*]'
	$(BIN)/python -m compileall -q kafkette protocol storage broker  # a first start without bytecode takes 0.8 s
	touch $@

# `make run PORT=9093`; without PORT the broker's own defaults and KAFKETTE_* variables apply
# (a PORT that only comes from the environment is ignored: many hosts set one for other programs).
run: $(VENV)/.installed-test
	$(BIN)/kafkette serve $(if $(filter command line,$(origin PORT)),--port $(PORT))

# kafkajs for the Node.js client test (npm comes with Node.js)
$(VENV)/js/node_modules/kafkajs: | $(BIN)/python
	npm install --silent --no-audit --no-fund --prefix $(VENV)/js kafkajs@2.2.4

# mypy reads kafkette.* through links (see [tool.mypy] in pyproject.toml), made afresh each run
typecheck: $(VENV)/.installed-test
	mkdir -p $(VENV)/typecheck/kafkette
	ln -sfn $(addprefix $(CURDIR)/,$(wildcard kafkette/*.py) kafkette/cli broker protocol storage) $(VENV)/typecheck/kafkette/
	$(BIN)/mypy

test: typecheck $(VENV)/js/node_modules/kafkajs
	$(BIN)/python -m pytest -q

# tests/test_fuzz.py with new seeds: FUZZ_EXAMPLES examples of 8 cases per property (default 160,000 cases, ~6 min)
FUZZ_EXAMPLES ?= 10000
fuzz: $(VENV)/.installed-test
	KAFKETTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q --timeout=1800 tests/test_fuzz.py

# Against Apache Kafka itself (conformance/run.py): needs a JDK 17+ and Maven; the first run downloads Kafka's jars.
conformance: $(VENV)/.installed-test $(VENV)/js/node_modules/kafkajs
	$(BIN)/python conformance/run.py

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

bench-compare: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py --compare

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache
