#!/usr/bin/env bash
# Releases are per package, tagged `<package>-v<version>` (the folder name under packages/, the version
# in its pyproject.toml; e.g. `contracts-v1.3.0`).
#   scripts/release.sh tag PACKAGE     # prints the tag the package's current version gets
#   scripts/release.sh verify TAG      # exit 1 unless TAG names a package whose pyproject.toml has that
#                                      # version; prints the package folder
# .github/workflows/release.yml runs both: `tag` to create the tag, `verify` before publishing anything.
set -euo pipefail
cd "$(dirname "$0")/.."

version_of() { sed -n 's/^version = "\(.*\)"/\1/p' "packages/$1/pyproject.toml" | head -n 1; }

case "${1:-}" in
  tag)
    package=${2:?usage: release.sh tag PACKAGE}
    [[ -f "packages/$package/pyproject.toml" ]] || { echo "release: no package '$package' under packages/" >&2; exit 2; }
    echo "$package-v$(version_of "$package")"
    ;;
  verify)
    tag=${2:?usage: release.sh verify TAG}
    [[ "$tag" =~ ^(.+)-v([0-9]+\.[0-9]+\.[0-9]+.*)$ ]] || { echo "release: '$tag' is not <package>-v<version>" >&2; exit 1; }
    package=${BASH_REMATCH[1]} version=${BASH_REMATCH[2]}
    [[ -f "packages/$package/pyproject.toml" ]] || { echo "release: tag $tag names no package under packages/" >&2; exit 1; }
    actual=$(version_of "$package")
    if [[ "$actual" != "$version" ]]; then
      echo "release: tag $tag says $version, packages/$package/pyproject.toml says $actual" >&2
      exit 1
    fi
    if [[ "$package" == contracts && ! -f "packages/contracts/schemas/$version.json" ]]; then
      echo "release: contracts $version has no schema snapshot (cryptoflow-contracts schema export)" >&2
      exit 1
    fi
    echo "$package"
    ;;
  *)
    echo "usage: release.sh tag PACKAGE | verify TAG" >&2
    exit 2
    ;;
esac
