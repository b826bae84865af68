#!/usr/bin/env bash
# Idempotent installer for what scripts/stack.sh needs on a fresh machine:
#   - redis-server (Debian package, via apt-get) when not on PATH
#   - a Java runtime (openjdk-17-jre-headless) when `java` is missing
#   - Maven (Debian package) when `mvn` is missing and the jars must be fetched
#   - the Apache Kafka broker jars in a cache dir, fetched from Maven Central
#     only when not already there: 3.9 (scripts/kafka/pom.xml, the default)
#     and, when asked for, 4.x (scripts/kafka/pom-4.xml, needs Java 17).
#
# Usage: scripts/install-deps.sh [--kafka-versions "3.9 4"]
#
# Env:
#   STACK_KAFKA_VERSIONS  which Kafka jar sets to fetch, space or comma separated,
#                         from 3.9 and 4 (default 3.9; the option wins over it)
#   REPLYGATE_KAFKA_LIBS  jar cache dir, when one version is asked for (default
#                         ~/.cache/replygate/kafka-3.9-libs, kafka-4.x-libs for 4)
#
# Progress goes to stderr; stdout stays empty. Exits non-zero on failure.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARKER_NAME=".replygate-libs-complete"
VERSIONS="${STACK_KAFKA_VERSIONS:-3.9}"
while [ $# -gt 0 ]; do
  case "$1" in
    --kafka-versions) VERSIONS="${2:-}"; shift 2 ;;
    --kafka-versions=*) VERSIONS="${1#*=}"; shift ;;
    *) printf '[install-deps] ERROR: unknown argument %s\n' "$1" >&2; exit 2 ;;
  esac
done
VERSIONS="$(printf '%s' "$VERSIONS" | tr ',' ' ')"

log() { printf '[install-deps] %s\n' "$*" >&2; }
die() {
  printf '[install-deps] ERROR: %s\n' "$*" >&2
  exit 1
}

APT_UPDATED=0
apt_install() {
  local runner=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root or sudo to apt-get install $*"
    runner=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: $*"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    "${runner[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
      die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  "${runner[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" >&2 ||
    die "apt-get install $* failed"
}

# --- redis ------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  log "redis-server not found, installing"
  apt_install redis-server
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after install"
fi
if ! command -v redis-cli >/dev/null 2>&1; then
  # Normally pulled in by redis-server; stack.sh can do without it.
  log "note: redis-cli not on PATH (package redis-tools); stack.sh will fall back to /dev/tcp"
fi

# --- java -------------------------------------------------------------------
if ! command -v java >/dev/null 2>&1; then
  log "java not found, installing openjdk-17-jre-headless"
  apt_install openjdk-17-jre-headless
  command -v java >/dev/null 2>&1 || die "java still not on PATH after install"
fi
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)\(\.[0-9]*\)*.*/\1/p' | head -n1)"
if [ -n "$java_major" ] && [ "$java_major" = "1" ]; then java_major=8; fi
if [ -n "$java_major" ] && [ "$java_major" -lt 11 ]; then
  die "Kafka 3.9 needs Java 11+ (found Java $java_major on PATH)"
fi
case " $VERSIONS " in
  *" 4"*)
    if [ -n "$java_major" ] && [ "$java_major" -lt 17 ]; then
      die "Kafka 4 needs Java 17+ (found Java $java_major on PATH)"
    fi
    ;;
esac

# --- kafka jars -------------------------------------------------------------
# fetch_libs VERSION: the jar set of that Kafka line into its cache dir.
fetch_libs() {
  local version="$1" POM LIBS binding
  case "$version" in
    3.9 | 3.9.*) POM="$SCRIPT_DIR/kafka/pom.xml" LIBS="$HOME/.cache/replygate/kafka-3.9-libs" binding=slf4j-reload4j ;;
    4 | 4.*) POM="$SCRIPT_DIR/kafka/pom-4.xml" LIBS="$HOME/.cache/replygate/kafka-4.x-libs" binding=log4j-slf4j2-impl ;;
    *) die "unknown Kafka version '$version' (3.9 or 4)" ;;
  esac
  if [ -n "${REPLYGATE_KAFKA_LIBS:-}" ] && [ "$NVERSIONS" -eq 1 ]; then LIBS="$REPLYGATE_KAFKA_LIBS"; fi
  [ -f "$POM" ] || die "missing $POM"
  pom_sum="$(sha256sum "$POM" | cut -d' ' -f1)"
  want_marker="pom-sha256=$pom_sum"

  libs_ok() {
    [ -f "$LIBS/$MARKER_NAME" ] &&
      [ "$(cat "$LIBS/$MARKER_NAME")" = "$want_marker" ] &&
      compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null
  }

  if libs_ok; then
    return 0
  fi

  mkdir -p "$(dirname "$LIBS")"
  # Serialise concurrent fetches (parallel CI jobs, several stacks at once).
  exec 8>"$LIBS.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 600 8 || die "timed out waiting for lock $LIBS.lock"
  fi
  if libs_ok; then
    exec 8>&-
    return 0
  fi

  if ! command -v mvn >/dev/null 2>&1; then
    log "mvn not found, installing maven"
    apt_install maven
    command -v mvn >/dev/null 2>&1 || die "mvn still not on PATH after install"
  fi

  tmp="$LIBS.tmp.$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  log "fetching Kafka $version jars from Maven Central into $LIBS"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 |
    sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
    die "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "no kafka_2.13 jar was fetched"
  compgen -G "$tmp/$binding-*.jar" >/dev/null || die "no $binding jar was fetched"
  printf '%s\n' "$want_marker" >"$tmp/$MARKER_NAME"

  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  trap - EXIT
  exec 8>&-
  log "Kafka $version jars ready: $(basename "$(compgen -G "$LIBS/kafka_2.13-*.jar" | head -n1)") ($(find "$LIBS" -name '*.jar' | wc -l) jars)"
}

NVERSIONS=0
for v in $VERSIONS; do NVERSIONS=$((NVERSIONS + 1)); done
[ "$NVERSIONS" -gt 0 ] || die "no Kafka version asked for"
for v in $VERSIONS; do fetch_libs "$v"; done
