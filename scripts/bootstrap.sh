#!/usr/bin/env bash
# Install everything CryptoFlow needs on a fresh machine of our kind (Debian, Python 3.11+, Java 17, Go),
# idempotently: uv, the Python workspace, PostgreSQL, Redis and the Kafka jars. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/toolchain.sh
UV_VERSION="0.13.9"

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv ${UV_VERSION} from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
  hash -r
  command -v uv >/dev/null 2>&1 || { command -v pyenv >/dev/null 2>&1 && pyenv rehash; }
  command -v uv >/dev/null 2>&1 || { echo "bootstrap: uv installed but not on PATH ($(python3 -m uv --version))" >&2; exit 1; }
fi

echo "bootstrap: services (PostgreSQL, Redis, Kafka jars)"
bash deploy/local/install.sh

# The dashboard's browser tests drive Debian's Chromium (Playwright's own browser download cannot work here);
# a Korean font makes their screenshots show the markets' Korean names.
if command -v chromium >/dev/null 2>&1 && [[ -d /usr/share/fonts/truetype/nanum ]]; then
  echo "bootstrap: Chromium: present ($(chromium --version 2>/dev/null))"
else
  echo "bootstrap: apt-get install chromium fonts-nanum"
  root=(); ((EUID == 0)) || root=(sudo)
  "${root[@]}" apt-get update -qq -o DPkg::Lock::Timeout=300
  DEBIAN_FRONTEND=noninteractive "${root[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium fonts-nanum
fi

echo "bootstrap: Python workspace ($(uv --version))"
uv sync --all-packages --locked --quiet
