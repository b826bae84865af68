#!/usr/bin/env bash
# Private local stack for development and integration tests, without a
# container engine: a real Apache Kafka (KRaft, combined broker+controller
# nodes) and a redis-server, all on free ports on 127.0.0.1. By default one
# unsecured Kafka 3.9 broker; opt-in by env: a secured listener (TLS, mTLS,
# SASL PLAIN/SCRAM, ACLs), three brokers, Kafka 4.
#
# Usage: scripts/stack.sh up | down | env | status
#        scripts/stack.sh start|stop|restart|kill kafka|kafka-<n>|redis|oauth
#
#   up       install deps if needed, start whatever is not running, wait until
#            ready, print the env lines below (already running: just print)
#   env      print the env lines of the stack in this state dir
#   down     stop everything (SIGTERM, 20 s, SIGKILL) and delete the state dir
#   status   print which components are running
#   stop/start/restart <kafka|kafka-<n>|redis>
#            one component only (fault tests); ports and Kafka data are kept.
#            `kafka` is every Kafka node; `kafka-<n>` (n = 1..3) one node of a
#            three-broker stack. stop = SIGTERM (controlled shutdown).
#   kill <kafka|kafka-<n>|redis|oauth>
#            SIGKILL (a crash); `start` brings it back. `oauth`: the token
#            endpoint of an OAUTHBEARER stack
#   redis-<n>, sentinel-<n>: one node of a Redis Cluster / Sentinel set
#            (STACK_REDIS_SHAPE, see scripts/stack-redis.sh); `redis` = all of them
#   redis-master-of [key]   which redis-<n> is master of the key's slot (cluster)
#            or the primary (sentinel): `redis-<n> 127.0.0.1:<port> <id>`
#   redis-cli <comp> [args] redis-cli on that node with the stack's TLS/admin user
#   elect-leaders  preferred leader election for every partition (what an upgrade
#            runbook runs once a restarted broker is back in the ISRs): compiles
#            scripts/kafka/tools/ElectPreferredLeaders.java once into <state>/tools
#            and runs it against the brokers' plaintext (or inter-broker) listener
#
# STDOUT of `up` / `env` starts with exactly:
#   export KAFKA_BROKERS=127.0.0.1:<port>[,127.0.0.1:<port>...]
#   export REDIS_URL=redis://127.0.0.1:<port>/0   (a Redis Cluster / Sentinel stack: see below)
# so `eval "$(scripts/stack.sh up)"` exports both to every process started
# afterwards (the gateway, npm run bench:memory). For the default stack these
# are the only lines. Any other stack adds `export` lines describing how to
# connect (named apart from the options below, so that eval'ing them never
# makes the next new stack of that shell a secured one):
#   REPLYGATE_STACK_DIR, STACK_KAFKA_SERVER_VERSION (exact, e.g. 3.9.1 / 4.4.0),
#   STACK_KAFKA_NODES, STACK_KAFKA_PROTOCOL (PLAINTEXT | SASL_PLAINTEXT | SSL |
#   SASL_SSL, Kafka's security.protocol), STACK_KAFKA_ACLS_ENFORCED, and when
#   secured STACK_KAFKA_SASL_ENABLED_MECHANISMS, STACK_KAFKA_CA_FILE (PEM),
#   STACK_KAFKA_CLIENT_CERT_FILE / _KEY_FILE (ssl = mTLS), STACK_KAFKA_USER
#   (replygate), STACK_KAFKA_ADMIN_USER (admin, the super user),
#   STACK_KAFKA_GUEST_USER (guest, never granted any ACL), each with its
#   _PASSWORD_FILE (SCRAM / PLAIN) or _CERT_FILE / _KEY_FILE (mTLS); with OAUTHBEARER
#   also STACK_KAFKA_OAUTH_TOKEN_URL and, per user, STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE,
#   STACK_KAFKA_ADMIN_OAUTH_CLIENT_SECRET_FILE, STACK_KAFKA_GUEST_OAUTH_CLIENT_SECRET_FILE
#   (client id = the user name).
# Passwords are random, in <state>/secrets/<user>.password (mode 600) and never
# printed, OAuth client secrets in <state>/secrets/<user>.oauth-secret; the CA,
# broker and client certificates are in <state>/tls/.
# Everything else goes to stderr. Parsers: examples/demo/stack-env.ts (also accepts
# lines without `export`). scripts/stack-smoke.mjs checks a stack with them.
#
# Env:
#   REPLYGATE_STACK_DIR   state dir (default <repo>/.stack/default); several
#                         state dirs can run at once, each on its own ports
#   REPLYGATE_KAFKA_LIBS  Kafka jar dir (default ~/.cache/replygate/kafka-3.9-libs,
#                         kafka-4.x-libs for Kafka 4)
#   STACK_REDIS_NOTIFY    notify-keyspace-events for redis (default 'K$';
#                         set to the empty string to leave notifications off);
#                         fixed at first `up`, kept for restarts
#   STACK_KAFKA_HEAP_OPTS JVM heap flags (default '-Xms256m -Xmx768m', per node)
#   STACK_KAFKA_JVM_OPTS  extra JVM flags for the Kafka nodes started (default: none)
#   STACK_KAFKA_NICE      start the Kafka JVMs at this nice level (default: none);
#                         the fault harness starts a returning broker at 10 so its
#                         boot does not starve the serving brokers of a 2-core
#                         machine (on a real cluster it boots on its own host)
#   STACK_KAFKA_LOG_LEVEL root log level of the broker (default INFO)
#   STACK_KAFKA_TIMEOUT   seconds to wait for Kafka (default 90)
#   STACK_REDIS_TIMEOUT   seconds to wait for Redis (default 10)
# Fixed at the first `up` of a state dir (ports.env), kept for its restarts:
#   STACK_KAFKA_VERSION   3.9 (default) or 4 (4.4.0: Java 17, log4j2; jars from
#                         scripts/kafka/pom-4.xml)
#   STACK_KAFKA_BROKERS   1 (default) or 3: three KRaft nodes, each broker and
#                         controller (a 3-voter quorum), default.replication.factor=3,
#                         min.insync.replicas=2, offsets/transaction topics RF 3
#   STACK_KAFKA_SECURITY  plaintext (default) | sasl_plaintext | ssl | sasl_ssl:
#                         the client listener. ssl = mTLS (client certificate
#                         required, principal = its CN). The controller and
#                         inter-broker listeners stay PLAINTEXT on 127.0.0.1
#                         (principal ANONYMOUS, a super user).
#   STACK_KAFKA_SASL_MECHANISMS  for sasl_*: any of SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,
#                         OAUTHBEARER (default the first three). SCRAM users are added
#                         at format time (StorageTool --add-scram), PLAIN users in the
#                         listener's JAAS config; users admin, replygate, guest.
#                         OAUTHBEARER: the stack also runs scripts/oauth-server.mjs
#                         (component `oauth`, a client-credentials token endpoint on
#                         127.0.0.1, clients = the users) and the broker validates its
#                         RS256 JWTs against its JWKS (OAuthBearerValidatorCallbackHandler,
#                         audience kafka, issuer = the server's URL); principal = `sub`.
#   STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC  lifetime of the tokens (default 300)
#   STACK_REDIS_SHAPE     standalone (default) | cluster (3 masters + 3 replicas) |
#                         sentinel (a primary, 2 replicas, 3 sentinels); with
#                         STACK_REDIS_ACL=1 (ACL users), STACK_REDIS_TLS=1|mtls and the rest
#                         of the Redis options documented in scripts/stack-redis.sh. A
#                         non-default Redis adds REPLYGATE_STACK_DIR, STACK_REDIS_TOPOLOGY
#                         and the gateway's own settings: REDIS_CLUSTER_NODES (cluster;
#                         no REDIS_URL: the gateway takes one shape), REDIS_SENTINELS +
#                         REDIS_SENTINEL_MASTER (sentinel, idem),
#                         REDIS_USERNAME + REDIS_PASSWORD_FILE, REDIS_TLS(=true) + REDIS_TLS_CA_FILE
#                         (+ REDIS_TLS_CERT_FILE / _KEY_FILE with mtls)
#   STACK_KAFKA_ACLS      true: StandardAuthorizer, allow.everyone.if.no.acl.found=false,
#                         super.users admin (+ ANONYMOUS, see above). Needs a
#                         secured listener. Grant ACLs as admin (kafkajs createAcls).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_IN="${REPLYGATE_STACK_DIR:-$REPO_ROOT/.stack/default}"
LIBS=""
KAFKA_TIMEOUT="${STACK_KAFKA_TIMEOUT:-90}"
REDIS_TIMEOUT="${STACK_REDIS_TIMEOUT:-10}"
STOP_TIMEOUT=20
STATE_MARKER=".replygate-stack"

log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# Absolute state dir path (it may not exist yet).
case "$STATE_IN" in
  /*) STATE="$STATE_IN" ;;
  *) STATE="$PWD/$STATE_IN" ;;
esac
STATE="${STATE%/}"
if [ -z "$STATE" ] || [ "$STATE" = "/" ]; then die "refusing to use / as state dir"; fi

PORTS_FILE="$STATE/ports.env"
LOG_DIR="$STATE/logs"

# Redis Cluster / Sentinel / ACL / TLS options and components
# shellcheck source=scripts/stack-redis.sh
. "$SCRIPT_DIR/stack-redis.sh"

# ---------------------------------------------------------------------------
# helpers

# Lock the state dir so concurrent calls on the same dir serialise. fd 9 is
# closed for every process we launch so they never hold the lock.
lock_state() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 120 9 || die "timed out waiting for lock $STATE/.lock"
  fi
}

# Is there anything but our lock file in the state dir?
state_dir_nonempty() {
  [ -d "$STATE" ] &&
    [ -n "$(find "$STATE" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit 2>/dev/null)" ]
}

check_state_dir() {
  if state_dir_nonempty && [ ! -f "$STATE/$STATE_MARKER" ]; then
    die "$STATE exists and is not a replygate stack dir; pick another REPLYGATE_STACK_DIR"
  fi
}

ensure_state_dir() {
  check_state_dir
  mkdir -p "$STATE" "$LOG_DIR" "$STATE/redis" "$STATE/kafka-data"
  touch "$STATE/$STATE_MARKER"
}

# Pick n distinct ports that can be bound on 127.0.0.1. Random ports below
# the kernel's ephemeral range, so outgoing client sockets never take them.
pick_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const lo = 20000, hi = 32700;
    const got = new Set();
    const tryPort = (p) => new Promise((res) => {
      const s = net.createServer();
      s.once("error", () => res(false));
      s.listen({ port: p, host: "127.0.0.1", exclusive: true }, () => s.close(() => res(true)));
    });
    (async () => {
      for (let i = 0; i < 500 && got.size < n; i++) {
        const p = lo + Math.floor(Math.random() * (hi - lo));
        if (!got.has(p) && (await tryPort(p))) got.add(p);
      }
      if (got.size < n) { console.error("no free ports found"); process.exit(1); }
      console.log([...got].join(" "));
    })();
  ' "$1"
}

port_free() {
  node -e '
    const s = require("net").createServer();
    s.once("error", () => process.exit(1));
    s.listen({ port: Number(process.argv[1]), host: "127.0.0.1", exclusive: true }, () => s.close(() => process.exit(0)));
  ' "$1"
}

tcp_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cluster_id() {
  # 16 random bytes as unpadded base64url (22 chars), like Kafka's Uuid;
  # avoid a leading '-' so the id is never taken for a CLI flag.
  node -e '
    const c = require("crypto");
    let id;
    do { id = c.randomBytes(16).toString("base64url"); } while (id.startsWith("-"));
    console.log(id);
  '
}

load_ports() {
  [ -f "$PORTS_FILE" ] || return 1
  # shellcheck disable=SC1090
  . "$PORTS_FILE"
  # Stack dirs written before the secured / multi-broker options have only the four lines
  # of a plain single broker: read them as that.
  KAFKA_NODES="${KAFKA_NODES:-1}"
  KAFKA_VERSION="${KAFKA_VERSION:-3.9}"
  KAFKA_SECURITY="${KAFKA_SECURITY:-plaintext}"
  KAFKA_SASL_MECHS="${KAFKA_SASL_MECHS:-}"
  KAFKA_ACLS="${KAFKA_ACLS:-false}"
  OAUTH_PORT="${OAUTH_PORT:-}"
  OAUTH_LIFETIME="${OAUTH_LIFETIME:-300}"
  KAFKA_PORT_1="${KAFKA_PORT_1:-$KAFKA_PORT}"
  CONTROLLER_PORT_1="${CONTROLLER_PORT_1:-$CONTROLLER_PORT}"
  redis_defaults_after_load
  set_libs
}

save_ports() {
  local n v
  {
    printf 'REDIS_PORT=%q\n' "$REDIS_PORT"
    printf 'KAFKA_PORT=%q\n' "$KAFKA_PORT"
    printf 'CONTROLLER_PORT=%q\n' "$CONTROLLER_PORT"
    printf 'REDIS_NOTIFY=%q\n' "$REDIS_NOTIFY"
    if ! kafka_is_default; then
      printf 'KAFKA_NODES=%q\n' "$KAFKA_NODES"
      printf 'KAFKA_VERSION=%q\n' "$KAFKA_VERSION"
      printf 'KAFKA_SECURITY=%q\n' "$KAFKA_SECURITY"
      printf 'KAFKA_SASL_MECHS=%q\n' "$KAFKA_SASL_MECHS"
      printf 'KAFKA_ACLS=%q\n' "$KAFKA_ACLS"
      if kafka_oauth; then
        printf 'OAUTH_PORT=%q\n' "$OAUTH_PORT"
        printf 'OAUTH_LIFETIME=%q\n' "$OAUTH_LIFETIME"
      fi
      for ((n = 1; n <= KAFKA_NODES; n++)); do
        for v in KAFKA_PORT CONTROLLER_PORT INTERNAL_PORT; do
          local name="${v}_$n"
          [ -n "${!name:-}" ] && printf '%s=%q\n' "$name" "${!name}"
        done
      done
    fi
    save_redis_options
  } >"$PORTS_FILE.tmp"
  mv "$PORTS_FILE.tmp" "$PORTS_FILE"
}

# The plain single 3.9 broker of old: its ports.env and env output stay exactly as they were.
kafka_is_default() {
  [ "$KAFKA_NODES" = 1 ] && [ "$KAFKA_VERSION" = 3.9 ] && [ "$KAFKA_SECURITY" = plaintext ] &&
    [ "$KAFKA_ACLS" = false ]
}
kafka_secured() { [ "$KAFKA_SECURITY" != plaintext ]; }
kafka_sasl() { [[ "$KAFKA_SECURITY" == sasl_* ]]; }
kafka_tls() { [[ "$KAFKA_SECURITY" == *ssl ]]; }
# OAUTHBEARER among the mechanisms: the stack runs the token endpoint (component oauth).
kafka_oauth() { [[ ",${KAFKA_SASL_MECHS:-}," == *,OAUTHBEARER,* ]]; }
# SCRAM or PLAIN among the mechanisms: the users have passwords.
kafka_passwords() { [[ "${KAFKA_SASL_MECHS:-}" == *SCRAM* || ",${KAFKA_SASL_MECHS:-}," == *,PLAIN,* ]]; }

set_libs() {
  case "$KAFKA_VERSION" in
    3.9) LIBS="${REPLYGATE_KAFKA_LIBS:-$HOME/.cache/replygate/kafka-3.9-libs}" ;;
    4) LIBS="${REPLYGATE_KAFKA_LIBS:-$HOME/.cache/replygate/kafka-4.x-libs}" ;;
    *) die "unknown Kafka version '$KAFKA_VERSION' (STACK_KAFKA_VERSION=3.9|4)" ;;
  esac
}

# The Kafka options of a new stack, from the environment (validated). An existing stack keeps
# those it was made with (ports.env); asking for others then only warns.
read_kafka_options() {
  KAFKA_NODES="${STACK_KAFKA_BROKERS:-1}"
  case "$KAFKA_NODES" in 1 | 3) ;; *) die "STACK_KAFKA_BROKERS must be 1 or 3, got '$KAFKA_NODES'" ;; esac
  KAFKA_VERSION="${STACK_KAFKA_VERSION:-3.9}"
  case "$KAFKA_VERSION" in 3.9 | 3.9.*) KAFKA_VERSION=3.9 ;; 4 | 4.*) KAFKA_VERSION=4 ;;
    *) die "STACK_KAFKA_VERSION must be 3.9 or 4, got '$KAFKA_VERSION'" ;; esac
  KAFKA_SECURITY="$(printf '%s' "${STACK_KAFKA_SECURITY:-plaintext}" | tr '[:upper:]' '[:lower:]')"
  case "$KAFKA_SECURITY" in plaintext | sasl_plaintext | ssl | sasl_ssl) ;;
    *) die "STACK_KAFKA_SECURITY must be plaintext, sasl_plaintext, ssl or sasl_ssl, got '$KAFKA_SECURITY'" ;; esac
  KAFKA_SASL_MECHS=""
  if kafka_sasl; then
    KAFKA_SASL_MECHS="$(printf '%s' "${STACK_KAFKA_SASL_MECHANISMS:-SCRAM-SHA-512,SCRAM-SHA-256,PLAIN}" | tr '[:lower:]' '[:upper:]' | tr -d ' ')"
    local m
    IFS=, read -r -a _mechs <<<"$KAFKA_SASL_MECHS"
    [ "${#_mechs[@]}" -gt 0 ] || die "STACK_KAFKA_SASL_MECHANISMS is empty"
    for m in "${_mechs[@]}"; do
      case "$m" in SCRAM-SHA-512 | SCRAM-SHA-256 | PLAIN | OAUTHBEARER) ;;
        *) die "unsupported SASL mechanism '$m' (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN, OAUTHBEARER)" ;; esac
    done
  fi
  OAUTH_PORT=""
  OAUTH_LIFETIME="${STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC:-300}"
  [[ "$OAUTH_LIFETIME" =~ ^[1-9][0-9]*$ ]] ||
    die "STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC must be a positive number of seconds, got '$OAUTH_LIFETIME'"
  case "${STACK_KAFKA_ACLS:-false}" in true | 1 | yes) KAFKA_ACLS=true ;; false | 0 | no | "") KAFKA_ACLS=false ;;
    *) die "STACK_KAFKA_ACLS must be true or false" ;; esac
  if [ "$KAFKA_ACLS" = true ] && ! kafka_secured; then
    die "STACK_KAFKA_ACLS=true needs authenticated clients: set STACK_KAFKA_SECURITY to sasl_plaintext, ssl or sasl_ssl"
  fi
  set_libs
}

warn_if_options_differ() {
  local want_nodes="${STACK_KAFKA_BROKERS:-}" want_sec="${STACK_KAFKA_SECURITY:-}" want_ver="${STACK_KAFKA_VERSION:-}"
  if { [ -n "$want_nodes" ] && [ "$want_nodes" != "$KAFKA_NODES" ]; } ||
    { [ -n "$want_sec" ] && [ "$(printf '%s' "$want_sec" | tr '[:upper:]' '[:lower:]')" != "$KAFKA_SECURITY" ]; } ||
    { [ -n "$want_ver" ] && [ "${want_ver%%.*}" != "${KAFKA_VERSION%%.*}" ]; }; then
    log "warning: $STATE was made with brokers=$KAFKA_NODES version=$KAFKA_VERSION security=$KAFKA_SECURITY acls=$KAFKA_ACLS; the STACK_KAFKA_* env now asks otherwise and is ignored (run 'down' first)"
  fi
  if [ -n "${STACK_REDIS_SHAPE:-}" ] && [ "$STACK_REDIS_SHAPE" != "$REDIS_SHAPE" ]; then
    log "warning: $STATE was made with $(redis_describe); STACK_REDIS_SHAPE=$STACK_REDIS_SHAPE is ignored (run 'down' first)"
  fi
}

ensure_ports() {
  if load_ports; then
    warn_if_options_differ
    return 0
  fi
  read_kafka_options
  read_redis_options
  # redis, then per node: client port, controller port (and an internal inter-broker port
  # when the client listener is secured).
  local per=2 n ports extra=0 rp
  kafka_secured && per=3
  kafka_oauth && extra=1
  rp="$(redis_port_count)"
  ports="$(pick_ports $((rp + per * KAFKA_NODES + extra)))" || die "could not find free ports"
  read -r -a ports <<<"$ports"
  # (the Redis ports come first, so a default stack's ports.env reads as before)
  assign_redis_ports "${ports[@]:0:$rp}"
  ports=("${ports[0]}" "${ports[@]:$rp}")
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    printf -v "KAFKA_PORT_$n" '%s' "${ports[$((1 + per * (n - 1)))]}"
    printf -v "CONTROLLER_PORT_$n" '%s' "${ports[$((2 + per * (n - 1)))]}"
    if kafka_secured; then printf -v "INTERNAL_PORT_$n" '%s' "${ports[$((3 + per * (n - 1)))]}"; fi
  done
  KAFKA_PORT="$KAFKA_PORT_1"
  CONTROLLER_PORT="$CONTROLLER_PORT_1"
  if kafka_oauth; then OAUTH_PORT="${ports[$((1 + per * KAFKA_NODES))]}"; fi
  REDIS_NOTIFY="${STACK_REDIS_NOTIFY-K\$}"
  save_ports
  log "ports: kafka=$(kafka_brokers_list) controller=$(controller_ports_list) redis=$REDIS_PORT${OAUTH_PORT:+ oauth=$OAUTH_PORT}"
  log "kafka: version $KAFKA_VERSION, $KAFKA_NODES broker(s), security $KAFKA_SECURITY${KAFKA_SASL_MECHS:+ ($KAFKA_SASL_MECHS)}, acls $KAFKA_ACLS"
  log "$(redis_describe)$(redis_multi && printf ' (%s)' "$(for c in $(redis_comps); do printf '%s=%s ' "$c" "$(redis_comp_port "$c")"; done)")"
}

# port_list VAR_PREFIX [HOST_PREFIX]: the comma-separated ports ${VAR_PREFIX}1..N of every node.
port_list() {
  local n out="" p
  for ((n = 1; n <= KAFKA_NODES; n++)); do
    p="$1$n"
    out="${out:+$out,}${2:-}${!p}"
  done
  printf '%s' "$out"
}

kafka_brokers_list() { port_list KAFKA_PORT_ 127.0.0.1:; }
controller_ports_list() { port_list CONTROLLER_PORT_; }

print_env() {
  # `export`: a plain assignment under eval would reach this shell only, and the gateway or a
  # benchmark started from it would silently use its defaults (some other Redis on 6379).
  # The first two lines never change; the secured / multi-broker / Kafka 4 stacks add more.
  printf 'export KAFKA_BROKERS=%s\n' "$(kafka_brokers_list)"
  print_redis_url
  kafka_is_default && redis_is_default && return 0
  # which stack dir: `stack.sh stop|start|kill kafka-<n>` from the same shell reaches this stack
  printf 'export REPLYGATE_STACK_DIR=%s\n' "$STATE"
  print_redis_env
  kafka_is_default && return 0
  # (Names that differ from the STACK_KAFKA_* options read at `up`: once eval'ed they must not
  # turn the next new stack of this shell, a test's private one say, into a secured one.)
  printf 'export STACK_KAFKA_SERVER_VERSION=%s\n' "$(kafka_version_full)"
  printf 'export STACK_KAFKA_NODES=%s\n' "$KAFKA_NODES"
  printf 'export STACK_KAFKA_PROTOCOL=%s\n' "$(printf '%s' "$KAFKA_SECURITY" | tr '[:lower:]' '[:upper:]')"
  printf 'export STACK_KAFKA_ACLS_ENFORCED=%s\n' "$KAFKA_ACLS"
  kafka_secured || return 0
  if kafka_sasl; then
    printf 'export STACK_KAFKA_SASL_ENABLED_MECHANISMS=%s\n' "$KAFKA_SASL_MECHS"
  fi
  if kafka_oauth; then
    # client-credentials grant; client id = the user name, secret in its _OAUTH_CLIENT_SECRET_FILE
    printf 'export STACK_KAFKA_OAUTH_TOKEN_URL=%s/token\n' "$(oauth_url)"
  fi
  if kafka_tls; then
    printf 'export STACK_KAFKA_CA_FILE=%s\n' "$TLS_DIR/ca.crt"
  fi
  if [ "$KAFKA_SECURITY" = ssl ]; then
    # mTLS: the principal is the certificate's CN (User:<cn>)
    printf 'export STACK_KAFKA_CLIENT_CERT_FILE=%s\n' "$TLS_DIR/$APP_USER.crt"
    printf 'export STACK_KAFKA_CLIENT_KEY_FILE=%s\n' "$TLS_DIR/$APP_USER.key"
  fi
  printf 'export STACK_KAFKA_USER=%s\n' "$APP_USER"
  kafka_passwords && printf 'export STACK_KAFKA_PASSWORD_FILE=%s\n' "$SECRETS_DIR/$APP_USER.password"
  kafka_oauth && printf 'export STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE=%s\n' "$SECRETS_DIR/$APP_USER.oauth-secret"
  printf 'export STACK_KAFKA_ADMIN_USER=%s\n' "$ADMIN_USER"
  kafka_passwords && printf 'export STACK_KAFKA_ADMIN_PASSWORD_FILE=%s\n' "$SECRETS_DIR/$ADMIN_USER.password"
  kafka_oauth && printf 'export STACK_KAFKA_ADMIN_OAUTH_CLIENT_SECRET_FILE=%s\n' "$SECRETS_DIR/$ADMIN_USER.oauth-secret"
  if [ "$KAFKA_SECURITY" = ssl ]; then
    printf 'export STACK_KAFKA_ADMIN_CERT_FILE=%s\n' "$TLS_DIR/$ADMIN_USER.crt"
    printf 'export STACK_KAFKA_ADMIN_KEY_FILE=%s\n' "$TLS_DIR/$ADMIN_USER.key"
  fi
  printf 'export STACK_KAFKA_GUEST_USER=%s\n' "$GUEST_USER"
  kafka_passwords && printf 'export STACK_KAFKA_GUEST_PASSWORD_FILE=%s\n' "$SECRETS_DIR/$GUEST_USER.password"
  kafka_oauth && printf 'export STACK_KAFKA_GUEST_OAUTH_CLIENT_SECRET_FILE=%s\n' "$SECRETS_DIR/$GUEST_USER.oauth-secret"
  if [ "$KAFKA_SECURITY" = ssl ]; then
    printf 'export STACK_KAFKA_GUEST_CERT_FILE=%s\n' "$TLS_DIR/$GUEST_USER.crt"
    printf 'export STACK_KAFKA_GUEST_KEY_FILE=%s\n' "$TLS_DIR/$GUEST_USER.key"
  fi
  return 0
}

kafka_version_full() {
  local j
  j="$(compgen -G "$LIBS/kafka_2.13-*.jar" | head -n1 || true)"
  if [ -n "$j" ]; then j="${j##*/kafka_2.13-}"; printf '%s' "${j%.jar}"; else printf '%s' "$KAFKA_VERSION"; fi
}

# --- process bookkeeping ----------------------------------------------------

pid_file() { printf '%s/%s.pid' "$STATE" "$1"; }

# Does pid $1 look like component $2 of THIS stack (guards against pid reuse)?
pid_matches() {
  local pid="$1" comp="$2" cmd stat
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # bash builtins only (no fork per call: this runs in polling loops on busy machines)
  local _a _b parts=()
  { read -r _a _b stat _ <"/proc/$pid/stat"; } 2>/dev/null || return 1
  [ "$stat" != "Z" ] && [ "$stat" != "X" ] || return 1
  { mapfile -d '' parts <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
  cmd="${parts[*]}"
  case "$comp" in
    kafka) [[ "$cmd" == *"kafka.Kafka $STATE/server.properties"* ]] ;;
    kafka-[0-9]) [[ "$cmd" == *"kafka.Kafka $STATE/server-${comp#kafka-}.properties"* ]] ;;
    # redis-server rewrites its title to "redis-server 127.0.0.1:<port>"
    redis | redis-[0-9] | sentinel-[0-9]) redis_cmd_matches "$cmd" "$comp" ;;
    oauth) [[ "$cmd" == *oauth-server.mjs* && "$cmd" == *"--clients $STATE/oauth/clients.json"* ]] ;;
    *) return 1 ;;
  esac
}

comp_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  pid_matches "$pid" "$1" || return 1
  printf '%s' "$pid"
}

is_running() { comp_pid "$1" >/dev/null; }

# Processes of component $1 of this stack found by command line, for orphan
# sweeping when a pid file is lost or stale.
find_strays() {
  local comp="$1" f pid needle
  # One grep over every command line first (forking per process is slow on a busy machine).
  case "$comp" in
    redis | redis-* | sentinel-*) needle=redis-server ;;
    oauth) needle=oauth-server.mjs ;;
    *) needle="kafka.Kafka" ;;
  esac
  for f in $(grep -lsaF "$needle" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    [ "$pid" = "$$" ] && continue
    if pid_matches "$pid" "$comp"; then printf '%s\n' "$pid"; fi
  done
}

# Launch "$@" detached in its own session, all output appended to $2 log.
# Sets LAUNCHED_PID.
launch() {
  local comp="$1" logf="$2"
  shift 2
  (
    cd "$STATE"
    exec setsid "$@" </dev/null >>"$logf" 2>&1 9>&- 8>&-
  ) &
  LAUNCHED_PID=$!
  printf '%s\n' "$LAUNCHED_PID" >"$(pid_file "$comp")"
}

stop_pid() {
  local pid="$1" comp="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while ((SECONDS < deadline)); do
    pid_matches "$pid" "$comp" || return 0
    sleep 0.1
  done
  log "$comp (pid $pid) did not stop in ${STOP_TIMEOUT}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_matches "$pid" "$comp" || return 0
    sleep 0.1
  done
  log "warning: $comp (pid $pid) still present after SIGKILL"
}

# Stop several components at once: SIGTERM to all, then wait for all (STOP_TIMEOUT s), SIGKILL
# for what is left. For the nodes of a 3-voter quorum: stopped one after the other, the last ones
# lose the quorum and hang in controlled shutdown until the SIGKILL.
stop_comps() {
  if [ "$#" -le 1 ]; then
    [ "$#" -eq 0 ] || stop_comp "$1"
    return 0
  fi
  load_ports || true
  local comp pid i j left pids=() comps=()
  for comp in "$@"; do
    local mine=()
    if pid="$(comp_pid "$comp")"; then mine+=("$pid"); fi
    for pid in $(find_strays "$comp"); do
      [[ " ${mine[*]} " == *" $pid "* ]] || mine+=("$pid")
    done
    if [ "${#mine[@]}" -eq 0 ]; then log "$comp was not running"; fi
    for pid in "${mine[@]}"; do
      log "stopping $comp (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
      comps+=("$comp")
    done
  done
  local deadline=$((SECONDS + ${STOP_WAIT:-$STOP_TIMEOUT}))
  while ((SECONDS < deadline)); do
    left=0
    for ((j = 0; j < ${#pids[@]}; j++)); do
      if pid_matches "${pids[$j]}" "${comps[$j]}"; then left=1; fi
    done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for ((j = 0; j < ${#pids[@]}; j++)); do
    if pid_matches "${pids[$j]}" "${comps[$j]}"; then
      log "${comps[$j]} (pid ${pids[$j]}) did not stop in ${STOP_WAIT:-$STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "${pids[$j]}" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 50; i++)); do
    left=0
    for ((j = 0; j < ${#pids[@]}; j++)); do
      if pid_matches "${pids[$j]}" "${comps[$j]}"; then left=1; fi
    done
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  for comp in "$@"; do rm -f "$(pid_file "$comp")"; done
}

stop_comp() {
  local comp="$1" pid any=0
  load_ports || true
  if pid="$(comp_pid "$comp")"; then
    log "stopping $comp (pid $pid)"
    stop_pid "$pid" "$comp"
    any=1
  fi
  for pid in $(find_strays "$comp"); do
    log "stopping stray $comp (pid $pid)"
    stop_pid "$pid" "$comp"
    any=1
  done
  rm -f "$(pid_file "$comp")"
  [ "$any" -eq 1 ] || log "$comp was not running"
}

# await_ready NAME PID LOGFILE TIMEOUT_S INTERVAL_S CHECK: poll CHECK (a function) until it
# succeeds; die with the log's tail if the process exits (or is a zombie) or TIMEOUT_S passes.
await_ready() {
  local name=$1 pid=$2 logf=$3 timeout=$4 interval=$5 check=$6
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if "$check"; then
      log "$name ready (pid $pid) after $((SECONDS - deadline + timeout))s"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null || [ "$(cut -d' ' -f3 2>/dev/null <"/proc/$pid/stat")" = "Z" ]; then
      log_tail "$logf"
      die "$name exited during startup"
    fi
    sleep "$interval"
  done
  log_tail "$logf"
  die "$name not ready within ${timeout}s"
}

log_tail() {
  local f="$1"
  if [ -f "$f" ]; then
    printf '[stack] ---- last lines of %s ----\n' "$f" >&2
    tail -n 60 "$f" >&2 || true
    printf '[stack] ---- end of %s ----\n' "$f" >&2
  fi
}

# --- redis ------------------------------------------------------------------

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = "PONG" ]
  else
    local reply
    reply="$( (
      exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" || exit 1
      printf 'PING\r\n' >&3
      IFS= read -r -t 2 line <&3 || exit 1
      printf '%s' "$line"
    ) 2>/dev/null || true)"
    [ "${reply%$'\r'}" = "+PONG" ]
  fi
}

start_redis() {
  if is_running redis; then
    log "redis already running on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server not on PATH (run scripts/install-deps.sh)"
  port_free "$REDIS_PORT" || die "redis port $REDIS_PORT is taken by another process; run '$0 down' and 'up' again"
  local logf="$LOG_DIR/redis.log"
  printf '==== %s start redis on 127.0.0.1:%s\n' "$(date -Is)" "$REDIS_PORT" >>"$logf"
  log "starting redis on 127.0.0.1:$REDIS_PORT (notify-keyspace-events='$REDIS_NOTIFY')"
  if redis_is_default; then
    launch redis "$logf" redis-server \
      --port "$REDIS_PORT" --bind 127.0.0.1 \
      --save "" --appendonly no --daemonize no \
      --dir "$STATE/redis" \
      --notify-keyspace-events "$REDIS_NOTIFY"
    STARTED+=(redis)
    await_ready redis "$LAUNCHED_PID" "$logf" "$REDIS_TIMEOUT" 0.1 redis_ping
    return 0
  fi
  # ACL users / TLS: from a config file (the users file and the passwords stay out of `ps`)
  ensure_redis_credentials
  write_redis_standalone_conf
  launch redis "$logf" redis-server "$(redis_conf redis)"
  STARTED+=(redis)
  READY_PORT="$REDIS_PORT"
  await_ready redis "$LAUNCHED_PID" "$logf" "$REDIS_TIMEOUT" 0.1 node_ping_ready
}

# Every Redis component of the stack: the one server, or a cluster / sentinel set.
start_redis_all() {
  if redis_multi; then start_redis_shape "$@"; else start_redis; fi
}

# --- kafka ------------------------------------------------------------------
#
# Nodes: with one broker the component is `kafka` (server.properties, kafka-data/, logs/kafka.log,
# as before); with three, `kafka-1` .. `kafka-3` (server-<n>.properties, kafka-data-<n>/,
# logs/kafka-<n>.log). `kafka` as an argument means every node.

kafka_comps() {
  local n
  if [ "$KAFKA_NODES" = 1 ]; then echo kafka; return; fi
  for ((n = 1; n <= KAFKA_NODES; n++)); do echo "kafka-$n"; done
}
comp_node() { if [ "$1" = kafka ]; then echo 1; else echo "${1#kafka-}"; fi; }
node_props() { if [ "$KAFKA_NODES" = 1 ]; then echo "$STATE/server.properties"; else echo "$STATE/server-$1.properties"; fi; }
node_data() { if [ "$KAFKA_NODES" = 1 ]; then echo "$STATE/kafka-data"; else echo "$STATE/kafka-data-$1"; fi; }
node_log() { if [ "$KAFKA_NODES" = 1 ]; then echo "$LOG_DIR/kafka.log"; else echo "$LOG_DIR/kafka-$1.log"; fi; }
node_port() { local v="$1_$2"; printf '%s' "${!v}"; }

TLS_DIR_NAME=tls
SECRETS_DIR_NAME=secrets
ADMIN_USER='admin'
APP_USER=replygate
GUEST_USER=guest
set_secret_dirs() {
  TLS_DIR="$STATE/$TLS_DIR_NAME"
  SECRETS_DIR="$STATE/$SECRETS_DIR_NAME"
}

password_of() { cat "$SECRETS_DIR/$1.password"; }

# Throwaway CA, broker certificate (SAN 127.0.0.1 + localhost; PKCS12 keystore for the broker,
# PEM for clients), a client certificate per user (CN=<user>, for mTLS), and a random password
# per user in secrets/<user>.password (mode 600). Made once per state dir, kept for restarts.
ensure_credentials() {
  kafka_secured || return 0
  set_secret_dirs
  local u
  if [ ! -f "$SECRETS_DIR/.complete" ]; then
    mkdir -p "$SECRETS_DIR"
    chmod 700 "$SECRETS_DIR"
    for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER" keystore; do
      (umask 077 && openssl rand -hex 16 >"$SECRETS_DIR/$u.password")
    done
    touch "$SECRETS_DIR/.complete"
  fi
  kafka_oauth && ensure_oauth_clients
  kafka_tls || return 0
  make_tls_dir "$TLS_DIR" '' kafka_certificates
}

# (in the TLS dir) The Kafka CA, the broker's certificate and keystore, the users' client certificates.
kafka_certificates() {
  local u
  tls_new_ca replygate-stack-ca
  tls_new_cert broker localhost 'serverAuth,clientAuth' 'IP:127.0.0.1,DNS:localhost'
  openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt -name broker \
    -passout "file:$SECRETS_DIR/keystore.password" -out broker.p12
  for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER"; do tls_new_cert "$u" "$u" clientAuth; done
}

# make_tls_dir DIR WHAT MAKE: unless DIR holds a complete set already, make DIR afresh (mode 700)
# and run MAKE in it (umask 077) to write a throwaway CA (ca.crt, made readable) and the
# certificates, then mark the set complete. WHAT ('' or 'Redis ') names them in the log and in the
# error; openssl's output goes to openssl.log.
make_tls_dir() {
  local dir="$1" what="$2" make="$3"
  [ -f "$dir/.complete" ] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not on PATH (apt-get install openssl)"
  log "generating a throwaway CA and ${what}certificates in $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  chmod 700 "$dir"
  local osl="$LOG_DIR/openssl.log"
  (
    set -e
    cd "$dir"
    umask 077
    "$make"
    chmod 644 ca.crt
    touch .complete
  ) >>"$osl" 2>&1 || {
    log_tail "$osl"
    die "${what}certificate generation failed"
  }
}

# In the current dir: a throwaway CA (ca.crt, ca.key; CN $1), 30 days, EC P-256.
tls_new_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 30 \
    -keyout ca.key -out ca.crt -subj "/CN=$1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# tls_new_cert NAME CN EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]: NAME.key + NAME.crt signed by the
# CA in the current dir.
tls_new_cert() {
  local name="$1" cn="$2" eku="$3" san="${4:-}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
  printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    "extendedKeyUsage=$eku" >"$name.ext"
  [ -z "$san" ] || printf 'subjectAltName=%s\n' "$san" >>"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -sha256 \
    -extfile "$name.ext" -out "$name.crt"
  rm -f "$name.csr" "$name.ext"
}

# OAUTHBEARER: a random client secret per user in secrets/<user>.oauth-secret (mode 600) and
# oauth/clients.json, the token endpoint's client list (it names the secret files, holds no
# secret). The endpoint's RS256 signing key is oauth/signing-key.pem, made by the endpoint at its
# first start and kept for restarts (tokens issued before a restart stay valid).
ensure_oauth_clients() {
  local u dir="$STATE/oauth" sep=""
  mkdir -p "$dir"
  chmod 700 "$dir"
  for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER"; do
    [ -s "$SECRETS_DIR/$u.oauth-secret" ] || (umask 077 && openssl rand -hex 24 >"$SECRETS_DIR/$u.oauth-secret")
  done
  [ -f "$dir/clients.json" ] && return 0
  (
    umask 077
    {
      printf '{"clients": {'
      for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER"; do
        printf '%s\n  "%s": {"secretFile": "%s"}' "$sep" "$u" "$SECRETS_DIR/$u.oauth-secret"
        sep=,
      done
      printf '\n}}\n'
    } >"$dir/clients.json.tmp"
  )
  mv "$dir/clients.json.tmp" "$dir/clients.json"
}

oauth_url() { printf 'http://127.0.0.1:%s' "$OAUTH_PORT"; }

# Lines of server.properties for the client listener's security (none for plaintext).
security_config() {
  kafka_secured || return 0
  set_secret_dirs
  if kafka_tls; then
    cat <<EOT
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$(password_of keystore)
ssl.key.password=$(password_of keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
ssl.endpoint.identification.algorithm=https
EOT
    if [ "$KAFKA_SECURITY" = ssl ]; then
      # mTLS: a client certificate is required and its CN is the principal (User:<cn>)
      # shellcheck disable=SC2016 # (a literal $1: the mapping rule's group)
      printf '%s\n' 'listener.name.client.ssl.client.auth=required' \
        'ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT'
    fi
  fi
  if kafka_sasl; then
    printf 'sasl.enabled.mechanisms=%s\n' "$KAFKA_SASL_MECHS"
    local m lm
    IFS=, read -r -a _mechs <<<"$KAFKA_SASL_MECHS"
    for m in "${_mechs[@]}"; do
      lm="$(printf '%s' "$m" | tr '[:upper:]' '[:lower:]')"
      case "$m" in
        SCRAM-*) printf 'listener.name.client.%s.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n' "$lm" ;;
        PLAIN)
          printf 'listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required'
          local u
          for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER"; do printf ' user_%s="%s"' "$u" "$(password_of "$u")"; done
          printf ';\n'
          ;;
        OAUTHBEARER)
          # The broker validates the client's JWT itself: signature against the endpoint's JWKS
          # (fetched at start-up, refreshed hourly and on an unknown kid), exp, aud, iss; the
          # principal is its `sub` (User:<client id>). Kafka requires a JAAS login module for
          # the mechanism; it holds no credential (inter-broker and controller are PLAINTEXT).
          # The session ends at the token's exp (KIP-368, even with connections.max.reauth.ms
          # unset): a client must re-authenticate with a fresh token before, else the broker
          # closes the connection at its next request.
          cat <<EOT
listener.name.client.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
listener.name.client.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
sasl.oauthbearer.jwks.endpoint.url=$(oauth_url)/jwks
sasl.oauthbearer.expected.audience=kafka
sasl.oauthbearer.expected.issuer=$(oauth_url)
EOT
          ;;
      esac
    done
  fi
  if [ "$KAFKA_ACLS" = true ]; then
    # The controller and inter-broker listeners are PLAINTEXT on loopback, so their principal
    # is ANONYMOUS: it must be a super user for the nodes to talk to each other.
    cat <<EOT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$ADMIN_USER;User:ANONYMOUS
EOT
  fi
}

write_kafka_config() {
  local n="$1" props voters="" i rf=1 isr=1 listeners advertised protomap ibl
  props="$(node_props "$n")"
  for ((i = 1; i <= KAFKA_NODES; i++)); do
    voters="${voters:+$voters,}$i@127.0.0.1:$(node_port CONTROLLER_PORT "$i")"
  done
  if [ "$KAFKA_NODES" -gt 1 ]; then rf=3 isr=2; fi
  local kp cp
  kp="$(node_port KAFKA_PORT "$n")"
  cp="$(node_port CONTROLLER_PORT "$n")"
  if kafka_secured; then
    local ip
    ip="$(node_port INTERNAL_PORT "$n")"
    listeners="CLIENT://127.0.0.1:$kp,INTERNAL://127.0.0.1:$ip,CONTROLLER://127.0.0.1:$cp"
    advertised="CLIENT://127.0.0.1:$kp,INTERNAL://127.0.0.1:$ip"
    protomap="CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,CLIENT:$(printf '%s' "$KAFKA_SECURITY" | tr '[:lower:]' '[:upper:]')"
    ibl=INTERNAL
  else
    listeners="PLAINTEXT://127.0.0.1:$kp,CONTROLLER://127.0.0.1:$cp"
    advertised="PLAINTEXT://127.0.0.1:$kp"
    protomap="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    ibl=PLAINTEXT
  fi
  (
    umask 077
    cat >"$props.tmp" <<EOF
# generated by scripts/stack.sh - KRaft node $n of $KAFKA_NODES (broker+controller), Kafka $KAFKA_VERSION
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=$ibl
listener.security.protocol.map=$protomap
log.dirs=$(node_data "$n")
num.partitions=4
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
min.insync.replicas=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=1
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
# After a SIGKILL the restarted node is refused (DUPLICATE_BROKER_REGISTRATION)
# until the old broker session expires (default 9 s): keep that short so
# crash tests recover fast.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=5000
EOF
    security_config >>"$props.tmp"
  )
  mv "$props.tmp" "$props"
  write_log_config
}

write_log_config() {
  local level="${STACK_KAFKA_LOG_LEVEL:-INFO}"
  if [ "$KAFKA_VERSION" = 4 ]; then
    # Kafka 4 logs with log4j2
    cat >"$STATE/log4j2.properties" <<EOF
# generated by scripts/stack.sh - broker logs go to stdout (logs/kafka*.log)
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $level
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = $level
logger.apache.name = org.apache.kafka
logger.apache.level = $level
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.channel.name = kafka.network.RequestChannel\$
logger.channel.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
    cat >"$STATE/tools-log4j2.properties" <<'EOF'
# generated by scripts/stack.sh - for kafka.tools.StorageTool
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
    return 0
  fi
  cat >"$STATE/log4j.properties" <<EOF
# generated by scripts/stack.sh - broker logs go to stdout (logs/kafka*.log)
log4j.rootLogger=$level, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=$level
log4j.logger.org.apache.kafka=$level
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.zookeeper=WARN
EOF
  cat >"$STATE/tools-log4j.properties" <<'EOF'
# generated by scripts/stack.sh - for kafka.tools.StorageTool
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
}

log_opts() {
  if [ "$KAFKA_VERSION" = 4 ]; then
    printf '%s\n' "-Dlog4j2.configurationFile=$STATE/${1}log4j2.properties"
  else
    printf '%s\n' "-Dlog4j.configuration=file:$STATE/${1}log4j.properties"
  fi
}

check_libs() {
  compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null ||
    die "Kafka $KAFKA_VERSION jars not found in $LIBS (run STACK_KAFKA_VERSIONS=$KAFKA_VERSION scripts/install-deps.sh)"
  command -v java >/dev/null 2>&1 || die "java not on PATH (run scripts/install-deps.sh)"
}

cluster_id_of_stack() {
  if [ ! -s "$STATE/cluster.id" ]; then cluster_id >"$STATE/cluster.id"; fi
  cat "$STATE/cluster.id"
}

format_kafka() {
  local n="$1" data
  data="$(node_data "$n")"
  if [ -f "$data/meta.properties" ]; then
    return 0
  fi
  mkdir -p "$data"
  local id args=()
  id="$(cluster_id_of_stack)"
  if kafka_sasl && [[ "$KAFKA_SASL_MECHS" == *SCRAM* ]]; then
    # SCRAM users go into the bootstrap metadata (the argument is seen in `ps` for the second
    # the format takes; never in the logs).
    local m u
    IFS=, read -r -a _mechs <<<"$KAFKA_SASL_MECHS"
    for m in "${_mechs[@]}"; do
      [[ "$m" == SCRAM-* ]] || continue
      for u in "$ADMIN_USER" "$APP_USER" "$GUEST_USER"; do
        args+=(--add-scram "$m=[name=$u,password=$(password_of "$u")]")
      done
    done
  fi
  log "formatting Kafka storage of node $n (cluster id $id)"
  local flog="$LOG_DIR/kafka-format.log"
  # shellcheck disable=SC2046
  if ! (cd "$STATE" && java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    $(log_opts tools-) \
    -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$id" -c "$(node_props "$n")" --ignore-formatted "${args[@]}" \
    </dev/null 2>&1 9>&- 8>&- | { grep -v '^Bootstrap metadata:' || true; } >>"$flog"); then
    # (Kafka 4 prints the bootstrap records, SCRAM credentials' salts and keys among them: left out)
    log_tail "$flog"
    die "kafka storage format failed"
  fi
}

node_comp() { if [ "$KAFKA_NODES" = 1 ]; then echo kafka; else echo "kafka-$1"; fi; }

# The broker fetches only the OAuth URLs this JVM property allows. Kafka 4.x allows none by
# default (it refuses to start: "The URL cannot be accessed due to restrictions"); 3.9.1 allows
# every URL by default and honours the property as well (a URL not in it stops the broker).
# Set for both: the one URL the broker fetches, as on a production broker.
oauth_jvm_opts() {
  kafka_oauth || return 0
  printf '%s\n' "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$(oauth_url)/jwks"
}

# --- oauth: the token endpoint of an OAUTHBEARER stack ---------------------

oauth_ping() { tcp_open "$OAUTH_PORT"; }

start_oauth() {
  kafka_oauth || return 0
  if is_running oauth; then
    log "oauth already running on $(oauth_url)"
    return 0
  fi
  port_free "$OAUTH_PORT" || die "oauth port $OAUTH_PORT is taken by another process; run '$0 down' and 'up' again"
  set_secret_dirs
  ensure_credentials
  local logf="$LOG_DIR/oauth.log"
  printf '==== %s start oauth on %s\n' "$(date -Is)" "$(oauth_url)" >>"$logf"
  log "starting the OAuth token endpoint on $(oauth_url) (token lifetime ${OAUTH_LIFETIME}s)"
  launch oauth "$logf" node "$SCRIPT_DIR/oauth-server.mjs" --clients "$STATE/oauth/clients.json" \
    --key "$STATE/oauth/signing-key.pem" --host 127.0.0.1 --port "$OAUTH_PORT" \
    --audience kafka --lifetime "$OAUTH_LIFETIME"
  STARTED+=(oauth)
  await_ready oauth "$LAUNCHED_PID" "$logf" 15 0.1 oauth_ping
}

declare -A WAIT_OFFSET=() WAIT_PID=()

# Launch node n (config written, storage formatted). Records the pid and log offset for
# start_kafka's wait and adds the node to STARTED.
launch_kafka_node() {
  local n="$1" comp kp cp logf heap
  comp="$(node_comp "$n")"
  kp="$(node_port KAFKA_PORT "$n")"
  cp="$(node_port CONTROLLER_PORT "$n")"
  port_free "$kp" || die "kafka port $kp is taken by another process; run '$0 down' and 'up' again"
  port_free "$cp" || die "kafka controller port $cp is taken by another process; run '$0 down' and 'up' again"
  if kafka_secured; then
    port_free "$(node_port INTERNAL_PORT "$n")" || die "kafka internal port is taken by another process; run '$0 down' and 'up' again"
  fi
  write_kafka_config "$n"
  format_kafka "$n"
  logf="$(node_log "$n")"
  touch "$logf"
  printf '==== %s start %s on 127.0.0.1:%s\n' "$(date -Is)" "$comp" "$kp" >>"$logf"
  WAIT_OFFSET[$n]="$(stat -c %s "$logf")"
  # shellcheck disable=SC2206
  heap=(${STACK_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m})
  log "starting $comp (Kafka $KAFKA_VERSION) on 127.0.0.1:$kp (controller 127.0.0.1:$cp)"
  # shellcheck disable=SC2046
  local niced=() extra=()
  [ -z "${STACK_KAFKA_NICE:-}" ] || niced=(nice -n "$STACK_KAFKA_NICE")
  # shellcheck disable=SC2206
  [ -z "${STACK_KAFKA_JVM_OPTS:-}" ] || extra=(${STACK_KAFKA_JVM_OPTS})
  launch "$comp" "$logf" "${niced[@]}" java "${heap[@]}" "${extra[@]}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:ErrorFile="$LOG_DIR/hs_err_%p.log" \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    $(log_opts "") $(oauth_jvm_opts) \
    -cp "$LIBS/*" kafka.Kafka "$(node_props "$n")"
  WAIT_PID[$n]="$LAUNCHED_PID"
  STARTED+=("$comp")
}

# Start the given kafka components (default: every node) that are not running: launch them all
# first (a 3-voter quorum needs two voters up before any broker registers), then wait for each.
start_kafka() {
  local comps=("$@") comp n waiting=()
  [ "${#comps[@]}" -gt 0 ] || mapfile -t comps < <(kafka_comps)
  check_libs
  ensure_credentials
  for comp in "${comps[@]}"; do
    n="$(comp_node "$comp")"
    if is_running "$comp"; then
      log "$comp already running on 127.0.0.1:$(node_port KAFKA_PORT "$n")"
      continue
    fi
    waiting+=("$n")
  done
  [ "${#waiting[@]}" -gt 0 ] || return 0
  if kafka_oauth && ! is_running oauth; then
    # The broker fetches the JWKS while it starts and exits if it cannot ("The OAuth validator
    # configuration encountered an error when initializing the VerificationKeyResolver").
    log "oauth is not running and the broker needs its JWKS to start: starting it first"
    start_oauth
  fi
  # Format the new nodes' storage side by side (a JVM start each), then launch them.
  if [ "${#waiting[@]}" -gt 1 ]; then
    local fpids=() fn
    cluster_id_of_stack >/dev/null
    for n in "${waiting[@]}"; do
      write_kafka_config "$n"
      format_kafka "$n" &
      fpids+=("$!")
    done
    for fn in "${fpids[@]}"; do wait "$fn" || die "kafka storage format failed"; done
  fi
  for n in "${waiting[@]}"; do launch_kafka_node "$n"; done
  local deadline=$((SECONDS + KAFKA_TIMEOUT)) t0=$SECONDS pid logf all
  local -A ready=()
  while ((SECONDS < deadline)); do
    all=1
    for n in "${waiting[@]}"; do
      [ -n "${ready[$n]:-}" ] && continue
      logf="$(node_log "$n")"
      pid="${WAIT_PID[$n]}"
      # (no grep -q: with pipefail an early exit would SIGPIPE tail)
      if tail -c +"$((WAIT_OFFSET[$n] + 1))" "$logf" | grep 'Kafka Server started' >/dev/null &&
        tcp_open "$(node_port KAFKA_PORT "$n")"; then
        ready[$n]=1
        log "$(node_comp "$n") ready (pid $pid) after $((SECONDS - t0))s"
        continue
      fi
      all=0
      if ! kill -0 "$pid" 2>/dev/null || [ "$(cut -d' ' -f3 2>/dev/null <"/proc/$pid/stat")" = "Z" ]; then
        log_tail "$logf"
        die "$(node_comp "$n") exited during start-up (log: $logf)"
      fi
    done
    [ "$all" -eq 1 ] && return 0
    sleep 0.25
  done
  for n in "${waiting[@]}"; do [ -n "${ready[$n]:-}" ] || log_tail "$(node_log "$n")"; done
  die "kafka not ready after ${KAFKA_TIMEOUT}s"
}

kill_comp() {
  local comp="$1" pid i
  if pid="$(comp_pid "$comp")"; then
    log "killing $comp (pid $pid) with SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pid_matches "$pid" "$comp" || break
      sleep 0.1
    done
  else
    log "$comp was not running"
  fi
  rm -f "$(pid_file "$comp")"
}

# If `up`/`start` fails (or is interrupted) stop what this call started, so a
# failed start leaves no orphans behind; logs stay in the state dir.
STARTED=()
cleanup_on_failure() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "${#STARTED[@]}" -gt 0 ]; then
    local c
    for c in "${STARTED[@]}"; do
      log "startup failed: stopping $c"
      stop_comp "$c" || true
    done
    log "logs kept in $LOG_DIR"
  fi
}

need_stack() {
  if [ ! -f "$STATE/$STATE_MARKER" ] || ! load_ports; then
    die "no stack in $STATE (run '$0 up' first)"
  fi
  set_secret_dirs
}

# comp_list ARG: the components ARG names (kafka = every kafka node).
comp_list() {
  case "${1:-}" in
    redis) redis_comps ;;
    redis-[0-9] | sentinel-[0-9])
      redis_comp_valid "$1" || die "no '$1' in this stack ($(redis_comps | tr '\n' ' '))"
      echo "$1"
      ;;
    oauth)
      kafka_oauth || die "no 'oauth' in this stack (STACK_KAFKA_SASL_MECHANISMS without OAUTHBEARER)"
      echo oauth
      ;;
    kafka) kafka_comps ;;
    kafka-[0-9])
      if [ "$KAFKA_NODES" -eq 1 ] || [ "${1#kafka-}" -lt 1 ] || [ "${1#kafka-}" -gt "$KAFKA_NODES" ]; then
        die "no '$1' in this stack ($KAFKA_NODES broker(s): $(kafka_comps | tr '\n' ' '))"
      fi
      echo "$1"
      ;;
    *) die "expected 'kafka', 'kafka-<n>', 'redis', 'redis-<n>', 'sentinel-<n>' or 'oauth', got '${1:-}'" ;;
  esac
}

start_comps() {
  local c kafka=() redis=()
  for c in "$@"; do
    case "$c" in
      redis | redis-* | sentinel-*) redis+=("$c") ;;
      oauth) start_oauth ;;
      *) kafka+=("$c") ;;
    esac
  done
  if [ "${#redis[@]}" -gt 0 ]; then
    if redis_multi; then start_redis_shape "${redis[@]}"; else start_redis; fi
  fi
  if [ "${#kafka[@]}" -gt 0 ]; then start_kafka "${kafka[@]}"; fi
}

all_running() {
  local c
  for c in $(redis_comps); do is_running "$c" || return 1; done
  if kafka_oauth; then is_running oauth || return 1; fi
  for c in $(kafka_comps); do is_running "$c" || return 1; done
}

# ---------------------------------------------------------------------------
# commands

cmd_up() {
  if [ -f "$STATE/$STATE_MARKER" ] && load_ports && all_running; then
    warn_if_options_differ
    set_secret_dirs
    print_env
    return 0
  fi
  check_state_dir
  # The Kafka line to fetch: the one this stack dir was made with, else the one asked for.
  if [ -f "$STATE/$STATE_MARKER" ] && load_ports; then :; else
    read_kafka_options
    read_redis_options
  fi
  STACK_KAFKA_VERSIONS="$KAFKA_VERSION" bash "$SCRIPT_DIR/install-deps.sh" >&2 || die "install-deps.sh failed"
  lock_state
  ensure_state_dir
  ensure_ports
  set_secret_dirs
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  local t0=$SECONDS
  start_redis_all
  start_oauth
  start_kafka
  trap - EXIT
  log "stack up in $((SECONDS - t0))s (state: $STATE)"
  print_env
}

cmd_down() {
  if [ ! -d "$STATE" ]; then
    log "nothing to do: $STATE does not exist"
    return 0
  fi
  if [ ! -f "$STATE/$STATE_MARKER" ]; then
    if state_dir_nonempty; then
      die "$STATE is not a replygate stack dir; not touching it"
    fi
    rm -rf "$STATE"
    return 0
  fi
  lock_state
  local c
  if load_ports; then
    # The data is deleted anyway, and the last nodes of a quorum hang in controlled shutdown
    # once the others are gone: give three nodes 5 s before the SIGKILL.
    local STOP_WAIT=$STOP_TIMEOUT
    [ "$KAFKA_NODES" -gt 1 ] && STOP_WAIT=5
    # shellcheck disable=SC2046
    stop_comps $(kafka_comps)
    unset STOP_WAIT
  else
    KAFKA_NODES=1
    stop_comp kafka
  fi
  # nodes of a 3-broker stack whose ports.env is gone
  for c in kafka-1 kafka-2 kafka-3; do
    if [ -n "$(find_strays "$c")" ]; then stop_comp "$c"; fi
  done
  if load_ports 2>/dev/null && redis_multi; then
    # shellcheck disable=SC2046
    STOP_WAIT=5 stop_comps $(redis_comps)
  else
    stop_comp redis
  fi
  # nodes of a cluster / sentinel set whose ports.env is gone
  for c in redis-1 redis-2 redis-3 redis-4 redis-5 redis-6 sentinel-1 sentinel-2 sentinel-3; do
    if [ -n "$(find_strays "$c")" ]; then stop_comp "$c"; fi
  done
  if kafka_oauth || [ -n "$(find_strays oauth)" ]; then stop_comp oauth; fi
  rm -rf "$STATE"
  log "stack down, removed $STATE"
}

cmd_env() {
  need_stack
  local c
  for c in $(kafka_comps); do is_running "$c" || log "warning: $c is not running"; done
  for c in $(redis_comps); do is_running "$c" || log "warning: $c is not running"; done
  if kafka_oauth; then is_running oauth || log "warning: oauth is not running"; fi
  print_env
}

cmd_status() {
  if ! { [ -f "$STATE/$STATE_MARKER" ] && load_ports; }; then
    echo "no stack in $STATE"
    return 0
  fi
  local pid c n
  for c in $(kafka_comps); do
    n="$(comp_node "$c")"
    if pid="$(comp_pid "$c")"; then
      echo "$c: running (pid $pid) 127.0.0.1:$(node_port KAFKA_PORT "$n")"
    else
      echo "$c: stopped (port 127.0.0.1:$(node_port KAFKA_PORT "$n"))"
    fi
  done
  redis_status
  if kafka_oauth; then
    if pid="$(comp_pid oauth)"; then
      echo "oauth: running (pid $pid) $(oauth_url)"
    else
      echo "oauth: stopped (port 127.0.0.1:$OAUTH_PORT)"
    fi
  fi
}

cmd_stop() {
  need_stack
  local comps c
  comps="$(comp_list "${1:-}")"
  lock_state
  # shellcheck disable=SC2086
  stop_comps $comps
}

cmd_kill() {
  need_stack
  local comps c
  comps="$(comp_list "${1:-}")"
  lock_state
  for c in $comps; do kill_comp "$c"; done
}

cmd_start() {
  need_stack
  local comps
  comps="$(comp_list "${1:-}")"
  lock_state
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  # shellcheck disable=SC2086
  start_comps $comps
  trap - EXIT
}

cmd_restart() {
  need_stack
  local comps c
  comps="$(comp_list "${1:-}")"
  lock_state
  # shellcheck disable=SC2086
  stop_comps $comps
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  # shellcheck disable=SC2086
  start_comps $comps
  trap - EXIT
}

cmd_elect_leaders() {
  need_stack
  check_libs
  local src="$REPO_ROOT/scripts/kafka/tools/ElectPreferredLeaders.java" out="$STATE/tools" bootstrap i
  if [ ! -f "$out/ElectPreferredLeaders.class" ] || [ "$src" -nt "$out/ElectPreferredLeaders.class" ]; then
    command -v javac >/dev/null 2>&1 || die "javac not on PATH (elect-leaders compiles a small Admin client tool)"
    mkdir -p "$out"
    javac -nowarn -cp "$LIBS/*" -d "$out" "$src" >&2 || die "could not compile $src"
  fi
  if kafka_secured; then
    # a secured stack's inter-broker listener is plaintext, on 127.0.0.1 only
    bootstrap=""
    for ((i = 1; i <= KAFKA_NODES; i++)); do bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$(node_port INTERNAL_PORT "$i")"; done
  else
    bootstrap="$(kafka_brokers_list)"
  fi
  # shellcheck disable=SC2046
  java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC $(log_opts tools-) \
    -cp "$out:$LIBS/*" ElectPreferredLeaders "$bootstrap"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) cmd_status ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    kill) cmd_kill "$@" ;;
    redis-master-of) cmd_redis_master_of "$@" ;;
    redis-cli) cmd_redis_cli "$@" ;;
    elect-leaders) cmd_elect_leaders ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
