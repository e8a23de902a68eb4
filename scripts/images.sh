#!/usr/bin/env bash
# `make images`: every package's image from deploy/Dockerfile, tagged localhost/cryptoflow-<target>:<version>
# (and :latest). With a Docker engine that can pull (CRYPTOFLOW_CONTAINER=docker) the official base images
# are used as they are. With podman on a machine that reaches no registry (the default here) it first
# builds local stand-ins, each once: a Debian bookworm base (debootstrap), Python 3.11, PostgreSQL 15 and
# Redis from Debian's packages, Kafka 3.9 from the jars deploy/local/install.sh fetched, and a Rust
# toolchain image from the host's (the one scripts/lib/toolchain.sh requires).
#   scripts/images.sh [target ...]     # default: every target; prints each image's size at the end
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/containers.sh

# target:distribution, in the order compose needs them.
ALL_TARGETS=(contracts:cryptoflow-contracts upbit-sim:upbit-sim ingest:cryptoflow-ingest
  stream-sink:cryptoflow-stream-sink archive:cryptoflow-archive batch:cryptoflow-batch service:cryptoflow-service)
KAFKA_VERSION=3.9.1
state=.state/images
mkdir -p "$state"

timed() { # timed LABEL COMMAND...: runs it, prints how long it took
  local label=$1 start=$SECONDS
  shift
  "$@" || return
  printf 'images: %-28s %4ds\n' "$label" $((SECONDS - start))
}

build() { # build CONTEXT DOCKERFILE TAG [ARGS...]
  local context=$1 file=$2 tag=$3
  shift 3
  # shellcheck disable=SC2086 # CONTAINER_BUILD_FLAGS is a list of words
  nice -n 10 "$CONTAINER" build $CONTAINER_BUILD_FLAGS -f "$file" -t "$tag" "$@" "$context" \
    >"$state/$(basename "$tag" | tr ':/' '__').log" 2>&1 \
    || { echo "images: building $tag failed; the log: $state/$(basename "$tag" | tr ':/' '__').log" >&2
      tail -n 30 "$state/$(basename "$tag" | tr ':/' '__').log" >&2; return 1; }
}

local_bases() {
  local debian=localhost/cryptoflow-base/debian:bookworm
  if ! image_exists "$debian"; then
    local mirror rootfs="$PWD/$state/debian-rootfs"
    mirror=$(apt_mirror)
    rm -rf "$rootfs"
    timed "debian base (debootstrap)" nice -n 10 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
      >"$state/debootstrap.log" 2>&1 || { tail -n 20 "$state/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    tar -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - "$debian" >/dev/null
    rm -rf "$rootfs"
  fi
  local args=(--build-arg "DEBIAN_IMAGE=$debian")
  image_exists "$PYTHON_IMAGE" || timed "python 3.11" build deploy/images deploy/images/python.Dockerfile "$PYTHON_IMAGE" "${args[@]}"
  image_exists "$POSTGRES_IMAGE" || timed "postgres 15" build deploy/images deploy/images/postgres.Dockerfile "$POSTGRES_IMAGE" "${args[@]}"
  image_exists "$REDIS_IMAGE" || timed "redis" build deploy/images deploy/images/redis.Dockerfile "$REDIS_IMAGE" "${args[@]}"
  if ! image_exists "$KAFKA_IMAGE"; then
    local jars="${CRYPTOFLOW_CACHE_DIR:-$HOME/.cache/cryptoflow}/kafka/$KAFKA_VERSION/libs" context="$state/kafka"
    [[ -d "$jars" ]] || bash deploy/local/install.sh
    rm -rf "$context" && mkdir -p "$context"
    cp -r "$jars" "$context/libs"
    cp deploy/images/kafka-entrypoint.sh deploy/images/log4j.properties "$context/"
    timed "kafka $KAFKA_VERSION" build "$context" deploy/images/kafka.Dockerfile "$KAFKA_IMAGE" "${args[@]}"
    rm -rf "$context"
  fi
  if ! image_exists "$RUST_IMAGE"; then
    # The official rust image's layout (/usr/local/cargo, /usr/local/rustup), from the host's toolchain;
    # only the build stage copies it, so it needs no operating system of its own.
    local toolchain
    toolchain=$(rustc --print sysroot)
    timed "rust $(rustc --version | cut -d' ' -f2)" bash -c '
      set -euo pipefail
      tmp=$(mktemp -d)
      trap "rm -rf $tmp" EXIT
      mkdir -p "$tmp/usr/local/cargo/bin" "$tmp/usr/local/rustup/toolchains"
      for tool in cargo rustc rustup; do cp -L "$(command -v rustup)" "$tmp/usr/local/cargo/bin/$tool"; done
      cp -a "$1" "$tmp/usr/local/rustup/toolchains/$(basename "$1")"
      rm -rf "$tmp/usr/local/rustup/toolchains/$(basename "$1")/share/doc"
      printf "version = \"12\"\ndefault_toolchain = \"%s\"\nprofile = \"minimal\"\nauto_self_update = \"disable\"\n" \
        "$(basename "$1")" >"$tmp/usr/local/rustup/settings.toml"
      tar -C "$tmp" -c . | podman import - "$2" >/dev/null' _ "$toolchain" "$RUST_IMAGE"
  fi
}

targets=("$@")
((${#targets[@]})) || targets=("${ALL_TARGETS[@]%%:*}")
((LOCAL_BASES)) && local_bases

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
source_url=$(git config --get remote.origin.url 2>/dev/null || echo https://github.com/cryptoflow/cryptoflow)
build_start=$SECONDS
for target in "${targets[@]}"; do
  dist=""
  for entry in "${ALL_TARGETS[@]}"; do [[ "${entry%%:*}" == "$target" ]] && dist=${entry#*:}; done
  [[ -n "$dist" ]] || { echo "images: unknown target '$target' (known: ${ALL_TARGETS[*]%%:*})" >&2; exit 2; }
  version=$(package_version "$dist")
  tag="localhost/cryptoflow-$target"
  timed "$target $version" build . deploy/Dockerfile "$tag:$version" --target "$target" \
    --build-arg "PACKAGE=$dist" --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
    --build-arg "SOURCE=$source_url" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --build-arg "RUST_IMAGE=$RUST_IMAGE" \
    --secret "id=ca,src=$CA_BUNDLE"
  "$CONTAINER" tag "$tag:$version" "$tag:latest"
done
echo "images: every package image built in $((SECONDS - build_start))s"
echo "images: sizes"
for target in "${targets[@]}"; do
  read -r bytes version < <("$CONTAINER" image inspect \
    --format '{{.Size}} {{index .Config.Labels "org.opencontainers.image.version"}}' "localhost/cryptoflow-$target:latest")
  printf '  %-40s %6d MB\n' "localhost/cryptoflow-$target:$version" $((bytes / 1000000))
done
