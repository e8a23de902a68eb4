# The container engine for scripts/images.sh and scripts/compose-check.sh (sourced). Two ways:
#   podman (the default): this kind of machine. Installs podman, buildah, runc and debootstrap from Debian
#     when missing; builds local stand-ins for the base images (no registry is reachable); writes a
#     containers.conf of its own (runc, since crun fails on hybrid cgroups here; nofile/nproc ulimits no
#     higher than this shell's hard limits, which the runtime cannot raise) and points CONTAINERS_CONF at it.
#   CRYPTOFLOW_CONTAINER=docker: a Docker engine that pulls the official base images.
source scripts/lib/toolchain.sh
CONTAINER=${CRYPTOFLOW_CONTAINER:-podman}
CA_BUNDLE=${CRYPTOFLOW_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

package_version() { # package_version DIST: the version in its pyproject.toml
  local file
  file=$(grep -l "^name = \"$1\"" packages/*/pyproject.toml)
  sed -n 's/^version = "\(.*\)"/\1/p' "$file" | head -n 1
}

compose_container() { # compose_container PROJECT SERVICE: the name of that service's (first) container
  "$CONTAINER" ps -a --filter "label=com.docker.compose.project=$1" \
    --filter "label=com.docker.compose.service=$2" --format '{{.Names}}' | head -n 1
}

image_exists() { "$CONTAINER" image inspect "$1" >/dev/null 2>&1; }

project_logs() { # project_logs PROJECT LINES: each container's state and its last LINES log lines (stderr)
  local name
  for name in $("$CONTAINER" ps -a --filter "label=com.docker.compose.project=$1" --format '{{.Names}}'); do
    echo "----- $name ($("$CONTAINER" inspect --format '{{.State.Status}} exit={{.State.ExitCode}}' "$name"))" >&2
    "$CONTAINER" logs --tail "$2" "$name" 2>&1 | sed 's/^/  /' >&2
  done
}

wait_for() { # wait_for WHAT SECONDS COMMAND...: runs COMMAND every 2 s until it succeeds
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    if ((SECONDS > deadline)); then
      echo "$(basename "$0" .sh): $what did not happen within the time allowed" >&2
      return 1
    fi
    sleep 2
  done
}

apt_mirror() { # the Debian mirror apt uses here
  local mirror
  mirror=$(awk '$1 == "URIs:" || $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) {print $i; exit}}' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null || true)
  echo "${mirror:-http://deb.debian.org/debian}"
}

if [[ "$CONTAINER" == podman ]]; then
  LOCAL_BASES=${CRYPTOFLOW_LOCAL_BASES:-1}
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    echo "containers: installing podman, buildah, runc, debootstrap (apt)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc debootstrap netavark aardvark-dns uidmap slirp4netns \
      fuse-overlayfs >/dev/null
  fi
  conf_dir=${CRYPTOFLOW_STATE_DIR:-$PWD/.state}/podman
  mkdir -p "$conf_dir"
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [[ "$nofile" == unlimited || "$nofile" -gt 20000 ]] && nofile=20000
  # runc here cannot set a higher nproc than this, whatever the hard limit says.
  [[ "$nproc" == unlimited || "$nproc" -gt 4096 ]] && nproc=4096
  cat >"$conf_dir/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF="$conf_dir/containers.conf"
  # Docker image format: the OCI one has no HEALTHCHECK.
  CONTAINER_BUILD_FLAGS="--format docker --layers --ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
else
  LOCAL_BASES=${CRYPTOFLOW_LOCAL_BASES:-0}
  CONTAINER_BUILD_FLAGS=""
  export DOCKER_BUILDKIT=1
fi

if ((LOCAL_BASES)); then
  PYTHON_IMAGE=localhost/cryptoflow-base/python:3.11-slim
  RUST_IMAGE=localhost/cryptoflow-base/rust:local
  KAFKA_IMAGE=localhost/cryptoflow-base/kafka:3.9.1
  POSTGRES_IMAGE=localhost/cryptoflow-base/postgres:15
  REDIS_IMAGE=localhost/cryptoflow-base/redis:7
else
  PYTHON_IMAGE=python:3.11-slim
  RUST_IMAGE=rust:1.95-slim-bookworm
  KAFKA_IMAGE=apache/kafka:3.9.1
  POSTGRES_IMAGE=postgres:15
  REDIS_IMAGE=redis:7
fi
export PYTHON_IMAGE RUST_IMAGE KAFKA_IMAGE POSTGRES_IMAGE REDIS_IMAGE
