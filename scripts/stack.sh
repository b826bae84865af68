#!/usr/bin/env bash
# Private local stack for development and integration tests, without a
# container engine: a real single-node Apache Kafka (KRaft, combined
# broker+controller) and a redis-server, both on free ports on 127.0.0.1.
#
# Usage: scripts/stack.sh up | down | env | status
#        scripts/stack.sh start|stop|restart kafka|redis
#
#   up       install deps if needed, start whatever is not running, wait until
#            ready, print the env lines below (already running: just print)
#   env      print the env lines of the stack in this state dir
#   down     stop both (SIGTERM, 20 s, SIGKILL) and delete the state dir
#   status   print which components are running
#   stop/start/restart <kafka|redis>
#            one component only (fault tests); ports and Kafka data are kept
#
# STDOUT of `up` / `env` is exactly:
#   export KAFKA_BROKERS=127.0.0.1:<port>
#   export REDIS_URL=redis://127.0.0.1:<port>/0
# so `eval "$(scripts/stack.sh up)"` exports both to every process started
# afterwards (the gateway, npm run bench:memory). Everything else goes to
# stderr. Parsers: examples/demo/stack-env.ts (also accepts lines without `export`).
#
# Env:
#   REPLYGATE_STACK_DIR   state dir (default <repo>/.stack/default); several
#                         state dirs can run at once, each on its own ports
#   REPLYGATE_KAFKA_LIBS  Kafka jar dir (default ~/.cache/replygate/kafka-3.9-libs)
#   STACK_REDIS_NOTIFY    notify-keyspace-events for redis (default 'K$';
#                         set to the empty string to leave notifications off);
#                         fixed at first `up`, kept for restarts
#   STACK_KAFKA_HEAP_OPTS JVM heap flags (default '-Xms256m -Xmx768m')
#   STACK_KAFKA_LOG_LEVEL root log level of the broker (default INFO)
#   STACK_KAFKA_TIMEOUT   seconds to wait for Kafka (default 90)
#   STACK_REDIS_TIMEOUT   seconds to wait for Redis (default 10)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
STATE_IN="${REPLYGATE_STACK_DIR:-$REPO_ROOT/.stack/default}"
LIBS="${REPLYGATE_KAFKA_LIBS:-$HOME/.cache/replygate/kafka-3.9-libs}"
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
}

save_ports() {
  {
    printf 'REDIS_PORT=%q\n' "$REDIS_PORT"
    printf 'KAFKA_PORT=%q\n' "$KAFKA_PORT"
    printf 'CONTROLLER_PORT=%q\n' "$CONTROLLER_PORT"
    printf 'REDIS_NOTIFY=%q\n' "$REDIS_NOTIFY"
  } >"$PORTS_FILE.tmp"
  mv "$PORTS_FILE.tmp" "$PORTS_FILE"
}

ensure_ports() {
  if load_ports; then return 0; fi
  local ports
  ports="$(pick_ports 3)" || die "could not find free ports"
  read -r REDIS_PORT KAFKA_PORT CONTROLLER_PORT <<<"$ports"
  REDIS_NOTIFY="${STACK_REDIS_NOTIFY-K\$}"
  save_ports
  log "ports: kafka=$KAFKA_PORT controller=$CONTROLLER_PORT redis=$REDIS_PORT"
}

print_env() {
  # `export`: a plain assignment under eval would reach this shell only, and the gateway or a
  # benchmark started from it would silently use its defaults (some other Redis on 6379).
  printf 'export KAFKA_BROKERS=127.0.0.1:%s\n' "$KAFKA_PORT"
  printf 'export REDIS_URL=redis://127.0.0.1:%s/0\n' "$REDIS_PORT"
}

# --- process bookkeeping ----------------------------------------------------

pid_file() { printf '%s/%s.pid' "$STATE" "$1"; }

# Does pid $1 look like component $2 of THIS stack (guards against pid reuse)?
pid_matches() {
  local pid="$1" comp="$2" cmd stat
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  stat="$(cut -d' ' -f3 <"/proc/$pid/stat" 2>/dev/null || true)"
  [ "$stat" != "Z" ] && [ "$stat" != "X" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  case "$comp" in
    kafka) [[ "$cmd" == *"kafka.Kafka $STATE/server.properties"* ]] ;;
    # redis-server rewrites its title to "redis-server 127.0.0.1:<port>"
    redis) [[ "$cmd" == *redis-server* && "$cmd" == *"127.0.0.1:${REDIS_PORT:-none}"* ]] ;;
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
  local comp="$1" d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
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
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
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
    if ! kill -0 "$pid" 2>/dev/null || [ "$(cut -d' ' -f3 <"/proc/$pid/stat" 2>/dev/null)" = "Z" ]; then
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
  launch redis "$logf" redis-server \
    --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save "" --appendonly no --daemonize no \
    --dir "$STATE/redis" \
    --notify-keyspace-events "$REDIS_NOTIFY"
  STARTED+=(redis)
  await_ready redis "$LAUNCHED_PID" "$logf" "$REDIS_TIMEOUT" 0.1 redis_ping
}

# --- kafka ------------------------------------------------------------------

write_kafka_config() {
  cat >"$STATE/server.properties.tmp" <<EOF
# generated by scripts/stack.sh - single-node KRaft (broker+controller)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/kafka-data
num.partitions=4
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
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
  mv "$STATE/server.properties.tmp" "$STATE/server.properties"

  local level="${STACK_KAFKA_LOG_LEVEL:-INFO}"
  cat >"$STATE/log4j.properties" <<EOF
# generated by scripts/stack.sh - broker logs go to stdout (logs/kafka.log)
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

check_libs() {
  compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null ||
    die "Kafka jars not found in $LIBS (run scripts/install-deps.sh)"
  command -v java >/dev/null 2>&1 || die "java not on PATH (run scripts/install-deps.sh)"
}

format_kafka() {
  if [ -f "$STATE/kafka-data/meta.properties" ]; then
    return 0
  fi
  local id
  id="$(cluster_id)"
  log "formatting Kafka storage (cluster id $id)"
  if ! (cd "$STATE" && java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$STATE/tools-log4j.properties" \
    -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$id" -c "$STATE/server.properties" --ignore-formatted \
    </dev/null >>"$LOG_DIR/kafka-format.log" 2>&1 9>&- 8>&-); then
    log_tail "$LOG_DIR/kafka-format.log"
    die "kafka storage format failed"
  fi
}

start_kafka() {
  if is_running kafka; then
    log "kafka already running on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  check_libs
  port_free "$KAFKA_PORT" || die "kafka port $KAFKA_PORT is taken by another process; run '$0 down' and 'up' again"
  port_free "$CONTROLLER_PORT" || die "kafka controller port $CONTROLLER_PORT is taken by another process; run '$0 down' and 'up' again"
  write_kafka_config
  format_kafka

  local logf="$LOG_DIR/kafka.log" offset
  touch "$logf"
  printf '==== %s start kafka on 127.0.0.1:%s\n' "$(date -Is)" "$KAFKA_PORT" >>"$logf"
  offset="$(stat -c %s "$logf")"
  local heap
  # shellcheck disable=SC2206
  heap=(${STACK_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m})
  log "starting kafka on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$CONTROLLER_PORT)"
  launch kafka "$logf" java "${heap[@]}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:ErrorFile="$LOG_DIR/hs_err_%p.log" \
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j.configuration="file:$STATE/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties"
  STARTED+=(kafka)
  # Ready once this start's log says so and the port answers. `offset` and `started` are read by
  # kafka_ready through bash's dynamic scoping.
  local started=0
  await_ready kafka "$LAUNCHED_PID" "$logf" "$KAFKA_TIMEOUT" 0.25 kafka_ready
}

kafka_ready() {
  if [ "$started" -eq 0 ] && tail -c +"$((offset + 1))" "$logf" | grep 'Kafka Server started' >/dev/null; then
    # (no grep -q: with pipefail an early exit would SIGPIPE tail)
    started=1
  fi
  [ "$started" -eq 1 ] && tcp_open "$KAFKA_PORT"
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
}

comp_arg() {
  case "${1:-}" in
    kafka | redis) ;;
    *) die "expected 'kafka' or 'redis', got '${1:-}'" ;;
  esac
}

# ---------------------------------------------------------------------------
# commands

cmd_up() {
  if [ -f "$STATE/$STATE_MARKER" ] && load_ports && is_running redis && is_running kafka; then
    print_env
    return 0
  fi
  check_state_dir
  bash "$SCRIPT_DIR/install-deps.sh" >&2 || die "install-deps.sh failed"
  lock_state
  ensure_state_dir
  ensure_ports
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  local t0=$SECONDS
  start_redis
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
  load_ports || true
  stop_comp kafka
  stop_comp redis
  rm -rf "$STATE"
  log "stack down, removed $STATE"
}

cmd_env() {
  need_stack
  is_running kafka || log "warning: kafka is not running"
  is_running redis || log "warning: redis is not running"
  print_env
}

cmd_status() {
  if ! { [ -f "$STATE/$STATE_MARKER" ] && load_ports; }; then
    echo "no stack in $STATE"
    return 0
  fi
  local pid
  if pid="$(comp_pid kafka)"; then
    echo "kafka: running (pid $pid) 127.0.0.1:$KAFKA_PORT"
  else
    echo "kafka: stopped (port 127.0.0.1:$KAFKA_PORT)"
  fi
  if pid="$(comp_pid redis)"; then
    echo "redis: running (pid $pid) 127.0.0.1:$REDIS_PORT"
  else
    echo "redis: stopped (port 127.0.0.1:$REDIS_PORT)"
  fi
}

cmd_stop() {
  comp_arg "${1:-}"
  need_stack
  lock_state
  stop_comp "$1"
}

cmd_start() {
  comp_arg "${1:-}"
  need_stack
  lock_state
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  case "$1" in
    kafka) start_kafka ;;
    redis) start_redis ;;
  esac
  trap - EXIT
}

cmd_restart() {
  comp_arg "${1:-}"
  need_stack
  lock_state
  stop_comp "$1"
  trap cleanup_on_failure EXIT
  trap 'exit 130' INT TERM
  case "$1" in
    kafka) start_kafka ;;
    redis) start_redis ;;
  esac
  trap - EXIT
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
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
