# The front door: `make run` serves the App, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser kubectl run test fuzz migrate lint bench image-test compose-test clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[server,test]'
	touch $(STAMP)

run: install
	$(BIN)/python -m bot serve

# Debian's chromium and chromium-driver, for tests/browser (installed as root, else named).
browser:
	scripts/install-browser

# kubectl, which tests/test_deploy_manifests.py renders deploy/kubernetes with (as root, else named).
kubectl:
	scripts/install-kubectl

test: install browser kubectl
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The property tests with the long hypothesis profile; prints the tally of the webhook fuzz.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -s \
		tests/test_fuzz_webhooks.py tests/test_markdown.py tests/test_render.py tests/test_prompt.py \
		tests/test_scopes.py tests/test_chunks.py tests/test_conversation_payloads.py \
		tests/test_commands.py

migrate: install
	$(BIN)/python -m bot migrate

lint: install
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/run_all.py

# The container image built and run beside the fakes; compose.yaml with a replica killed
# (podman, runc, mmdebstrap, podman-compose installed with apt when missing: run as root).
image-test: install
	PYTHON=$(BIN)/python scripts/image-test

compose-test: install
	PYTHON=$(BIN)/python scripts/compose-test

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache artifacts
