#!/usr/bin/env bash
# The one test command (README, `make test`, .ci/run): installs what is missing, then runs every check
# CI runs — lock, lint, types, workflow lint, the contract gate, each package's tests against real
# services, each stage installed from built wheels outside the workspace, and the compose stack end to end
# (every image built; scripts/compose-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh
# Airflow, Django and Celery start many processes: let each reuse the bytecode the first one wrote.
unset PYTHONDONTWRITEBYTECODE

bash scripts/bootstrap.sh

results=.state/test-results
rm -rf "$results" dist
mkdir -p "$results"
step() { printf '\n=== %s\n' "$*"; }

step "lock is current"
uv lock --check

step "ruff"
uv run --no-sync ruff check .
uv run --no-sync ruff format --check .

step "mypy (strict)"
uv run --no-sync mypy packages/*/src

step "rust (rustfmt, clippy): cryptoflow-contracts' compiled hot path"
cargo fmt --check --manifest-path packages/contracts/Cargo.toml
cargo clippy --quiet --release --manifest-path packages/contracts/Cargo.toml -- -D warnings

step "workflows and compose (actionlint, check-jsonschema)"
bash scripts/lint-config.sh

step "contract gate"
uv run --no-sync cryptoflow-contracts check-compat

failed=()
for dir in packages/*/; do
  pkg=$(basename "$dir")
  dist=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/pyproject.toml" | head -n 1)
  if ! find "$dir/tests" -name 'test_*.py' | grep -q .; then
    step "$dist: no tests yet"
    continue
  fi
  step "$dist: tests"
  if ! uv run --package "$dist" pytest "$dir/tests" --junitxml="$results/$pkg.xml" -p no:cacheprovider; then
    failed+=("$dist")
  fi
done

step "wheels: build all, install each stage alone in a clean venv"
bash scripts/check-wheels.sh

step "compose: every image built, the stack up with the simulator, checked end to end, removed"
if ! bash scripts/compose-check.sh; then
  failed+=("compose-check")
fi

step "compose cluster profile: three brokers, RF 3, min.insync.replicas=2, a broker SIGKILLed, nothing lost"
if ! bash scripts/compose-cluster-check.sh; then
  failed+=("compose-cluster-check")
fi

summary_ok=0
python3 scripts/summarize-junit.py "$results" || summary_ok=$?
if ((${#failed[@]})) || ((summary_ok)); then
  echo "failed packages: ${failed[*]:-none} (summary exit ${summary_ok})" >&2
  exit 1
fi
