#!/usr/bin/env bash
# Build every package's wheel, then install each stage ALONE in a clean venv from those wheels (plus its
# dependencies from PyPI) and check it: `uv pip check`, import, and its command's --help. uv does not
# enforce the `cryptoflow-contracts>=1.0,<2` range inside the workspace; this is where the range bites.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchain.sh

rm -rf dist
uv build --all-packages --wheel --quiet --out-dir dist
ls dist

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for pyproject in packages/*/pyproject.toml; do
  dist=$(sed -n 's/^name = "\(.*\)"/\1/p' "$pyproject" | head -n 1)
  module=$(echo "$dist" | tr '-' '_')
  venv="$work/$dist"
  uv venv --quiet --python 3.11 "$venv"
  mapfile -t wheels < <(python3 scripts/workspace_wheels.py "$dist")
  # Wheels by path: a same-named project on PyPI can never shadow ours.
  VIRTUAL_ENV="$venv" uv pip install --quiet "${wheels[@]}"
  VIRTUAL_ENV="$venv" uv pip check --quiet
  version=$("$venv/bin/python" -c "import $module; print($module.__version__)")
  if [[ -x "$venv/bin/$dist" ]]; then
    "$venv/bin/$dist" --help >/dev/null
  fi
  echo "wheel ok: $dist $version"
done
