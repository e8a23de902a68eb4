# The two commands a new user needs: `make up` runs the whole system, `make test` runs every test.
# Both install what they need first (scripts/bootstrap.sh).
.PHONY: up down status test bootstrap lint chaos images compose-check compose-cluster-check

up:
	bash scripts/up.sh

down:
	bash scripts/down.sh

status:
	bash scripts/status.sh

test:
	bash scripts/test.sh

# Every package's image (deploy/Dockerfile); on this kind of machine podman, with local base images.
images:
	bash scripts/images.sh

# Every image, then the Compose stack with the simulator, checked end to end and removed.
compose-check:
	bash scripts/compose-check.sh

compose-cluster-check:
	bash scripts/compose-cluster-check.sh

bootstrap:
	bash scripts/bootstrap.sh

lint:
	UV_PYTHON_DOWNLOADS=never uv run ruff check . && UV_PYTHON_DOWNLOADS=never uv run ruff format --check . && UV_PYTHON_DOWNLOADS=never uv run mypy packages/*/src && cargo fmt --check --manifest-path packages/contracts/Cargo.toml

# Not part of `make test`: minutes of random faults on the hot path, then every trade checked exactly once.
chaos: bootstrap
	UV_PYTHON_DOWNLOADS=never uv run --package cryptoflow-ingest python bench/chaos.py --minutes $(or $(MINUTES),10)
