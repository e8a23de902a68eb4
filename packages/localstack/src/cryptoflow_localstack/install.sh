#!/usr/bin/env bash
# Installs what cryptoflow-localstack needs to run real Kafka, PostgreSQL and Redis without Docker:
#   - PostgreSQL and Redis from Debian packages (only when missing),
#   - a Java runtime and Maven (only when missing),
#   - the Kafka broker jars for each wanted version, resolved from Maven Central into
#     ${CRYPTOFLOW_CACHE_DIR:-$HOME/.cache/cryptoflow}/kafka/<version>/libs.
# Idempotent: a second run checks, prints and changes nothing.
#
#   install.sh                              # Kafka 3.9.1 (the default) + system packages
#   KAFKA_VERSIONS="3.9.1 4.1.1" install.sh # several broker versions
#   install.sh 4.1.1                        # versions as arguments work too
#
# This file ships inside the cryptoflow-localstack wheel (so the pytest plugin can run it on a machine
# without the repository); deploy/local/install.sh in the repository runs this same file.
set -euo pipefail

DEFAULT_KAFKA_VERSION=3.9.1
# Used only when a Kafka 4.x release brings no log4j-core of its own (4.0.x).
DEFAULT_LOG4J_VERSION=2.24.3
RELOAD4J_VERSION=1.2.25

if (($#)); then
  KAFKA_VERSIONS="$*"
else
  KAFKA_VERSIONS="${KAFKA_VERSIONS:-${CRYPTOFLOW_KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}}"
fi
# HOME may be unset in a stripped CI environment; Maven needs it too (~/.m2).
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
CACHE_DIR="${CRYPTOFLOW_CACHE_DIR:-$HOME/.cache/cryptoflow}"

say() { printf 'install: %s\n' "$*"; }
die() {
  printf 'install: error: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root is needed to run: $* (run this script as root or install sudo)"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your system's package manager"
  if ((!apt_updated)); then
    say "apt-get update"
    as_root apt-get update -qq -o DPkg::Lock::Timeout=300
    apt_updated=1
  fi
  say "apt-get install $*"
  # policy-rc.d = 101 keeps the packages' own services (a cluster on :5432, redis on :6379) from
  # starting: we run our own instances on those ports. Only added when the machine has none.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e $policy ]]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" || rc=$?
  if ((added_policy)); then as_root rm -f "$policy"; fi
  ((rc == 0)) || die "apt-get install $* failed (exit $rc)"
}

postgres_bin() {
  local dir
  for dir in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V -r); do
    if [[ -x $dir/postgres && -x $dir/initdb ]]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# --- system packages --------------------------------------------------------------------------------
if pg_dir=$(postgres_bin); then
  say "PostgreSQL: present ($("$pg_dir/postgres" --version))"
else
  apt_install postgresql
  pg_dir=$(postgres_bin) || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
  say "PostgreSQL: installed ($("$pg_dir/postgres" --version))"
fi

if command -v redis-server >/dev/null 2>&1; then
  say "Redis: present ($(redis-server --version | cut -d' ' -f1-3))"
else
  apt_install redis-server
  say "Redis: installed ($(redis-server --version | cut -d' ' -f1-3))"
fi

java_major() {  # prints 0 when there is no java
  local major=""
  if command -v java >/dev/null 2>&1; then
    major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "${major:-0}"
}
if (($(java_major) >= 17)); then
  say "Java: present ($(java -version 2>&1 | head -n 1))"
else
  # Kafka 4.x brokers need Java 17; Debian 12's default runtime is 17.
  apt_install default-jre-headless
  (($(java_major) >= 17)) || die "Java 17 or newer is needed; found: $(java -version 2>&1 | head -n 1)"
  say "Java: installed ($(java -version 2>&1 | head -n 1))"
fi

if command -v mvn >/dev/null 2>&1; then
  say "Maven: present ($(mvn -v 2>/dev/null | head -n 1 | sed 's/\x1b\[[0-9;]*m//g'))"
else
  apt_install maven
  say "Maven: installed"
fi

# --- Kafka jars ---------------------------------------------------------------------------------------
pom() {  # version, extra dependency xml
  cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>cryptoflow.localstack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$1</version>
    </dependency>
$2
  </dependencies>
</project>
EOF
}

dep() {  # group artifact version
  printf '    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n' \
    "$1" "$2" "$3"
}

mvn_run() {  # workdir, goal args...: quiet, with the log shown only on failure
  local work=$1
  shift
  if ! mvn -B -q -f "$work/pom.xml" "$@" >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    die "mvn $* failed (see above)"
  fi
}

install_kafka() {  # version
  local version=$1 root="$CACHE_DIR/kafka/$1"
  local libs="$root/libs" marker="$root/.complete"
  if [[ -f $marker && -d $libs ]]; then
    say "Kafka $version: present ($(find "$libs" -name '*.jar' | wc -l) jars in $libs)"
    return 0
  fi
  [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "not a Kafka version: '$version' (expected e.g. 3.9.1)"
  mkdir -p "$root"
  # Test sessions of several packages may install at the same moment: one at a time per version.
  if command -v flock >/dev/null 2>&1; then
    exec {lock}>"$root/.lock"
    flock "$lock"
    if [[ -f $marker && -d $libs ]]; then
      say "Kafka $version: installed meanwhile by another process"
      return 0
    fi
  fi
  say "Kafka $version: resolving org.apache.kafka:kafka_2.13:$version with Maven"
  local work
  work=$(mktemp -d "$root/.mvn.XXXXXX")

  # First pass: the broker's own dependency list tells which slf4j and log4j versions the binding must match.
  pom "$version" "" >"$work/pom.xml"
  mvn_run "$work" dependency:list -DoutputFile="$work/deps.txt" -DincludeScope=runtime
  local slf4j log4j
  slf4j=$(sed -n 's/.*org\.slf4j:slf4j-api:jar:\([^:]*\):.*/\1/p' "$work/deps.txt" | head -n 1)
  log4j=$(sed -n 's/.*org\.apache\.logging\.log4j:log4j-core:jar:\([^:]*\):.*/\1/p' "$work/deps.txt" | head -n 1)
  [[ -n $slf4j ]] || die "Kafka $version: no slf4j-api among its dependencies; cannot pick a logging binding"

  local binding
  if [[ $version == 3.* ]]; then
    # Kafka 3.x logs through slf4j 1.7 to log4j 1.x; reload4j is the maintained log4j 1.x.
    binding="$(dep org.slf4j slf4j-reload4j "$slf4j")$(dep ch.qos.reload4j reload4j "$RELOAD4J_VERSION")"
  else
    # Kafka 4.x logs to log4j 2.x; the slf4j bridge must match slf4j-api's major version.
    log4j=${log4j:-$DEFAULT_LOG4J_VERSION}
    local bridge=log4j-slf4j-impl
    [[ $slf4j == 1.* ]] || bridge="log4j-slf4j2-impl"
    binding="$(dep org.apache.logging.log4j "$bridge" "$log4j")"
    binding+="$(dep org.apache.logging.log4j log4j-core "$log4j")$(dep org.apache.logging.log4j log4j-api "$log4j")"
  fi

  pom "$version" "$binding" >"$work/pom.xml"
  rm -rf "$libs.tmp"
  mvn_run "$work" dependency:copy-dependencies -DoutputDirectory="$libs.tmp" -DincludeScope=runtime
  [[ -n $(find "$libs.tmp" -name "kafka_2.13-$version.jar") ]] || die "Kafka $version: kafka_2.13 jar missing after copy"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  rm -rf "$work"
  printf 'kafka=%s slf4j=%s log4j=%s\n' "$version" "$slf4j" "${log4j:-reload4j-$RELOAD4J_VERSION}" >"$marker"
  say "Kafka $version: installed $(find "$libs" -name '*.jar' | wc -l) jars into $libs"
}

for version in $KAFKA_VERSIONS; do
  install_kafka "$version"
done
say "done"
