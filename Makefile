# Two commands a new user needs (see README):
#   make demo   - set up a venv and run a real conversation through load_provider("github_models")
#                 (against the bundled emulator unless a real endpoint and token are configured)
#   make test   - set up a venv and run the test suite (no network: 127.0.0.1 only)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The checkout's stand-in framework (`shared`) is not installed (the wheel installs only
# jaato_github_models, so it never collides with jaato-server's `shared`): run from here.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
STAMP := $(VENV)/.installed-dev
# The main job needs the package and its runtime dependencies only (no test, lint or docs
# toolchain): its own stamp, so `make demo` on a fresh machine installs just that.
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: setup demo test adversarial lint typecheck docs artefacts bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $(STAMP)

setup: $(STAMP)

$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/python examples/agent_demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The adversarial suite with many more hypothesis examples, seeded so a failure can be replayed:
#   make adversarial SEED=1234 EXAMPLES=5000
SEED ?= 20260730
EXAMPLES ?= 1500
adversarial: $(STAMP)
	HYPOTHESIS_PROFILE=adversarial ADVERSARIAL_EXAMPLES=$(EXAMPLES) $(BIN)/python -m pytest -q \
		-p no:cacheprovider --hypothesis-seed=$(SEED) tests/adversarial

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

# Build the sdist and wheel, check them, install the wheel into a fresh venv and run the demo,
# --version, models and doctor there (CI runs this too)
artefacts: $(STAMP)
	$(BIN)/python tools/check_artefacts.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build site .pytest_cache .mypy_cache .ruff_cache
