# shellcheck shell=bash
# The Redis side of scripts/stack.sh beyond one plain redis-server: a Redis Cluster, a Sentinel
# set, an ACL user, TLS. Sourced by stack.sh (uses its helpers: log, die, launch, await_ready,
# pick_ports, port_free, STARTED, STATE, LOG_DIR, ...); not run on its own.
#
# Options (read at the first `up` of a state dir, kept in ports.env for its restarts):
#   STACK_REDIS_SHAPE   standalone (default: one redis-server, component `redis`, as before) |
#                       cluster: six redis-servers redis-1..redis-6, cluster-enabled, three
#                         masters and three replicas (`redis-cli --cluster create
#                         --cluster-replicas 1`), cluster-node-timeout STACK_REDIS_NODE_TIMEOUT_MS;
#                         each node's bus port is picked free too (cluster-port) |
#                       sentinel: redis-1 (first primary), redis-2 and redis-3 (its replicas) and
#                         three sentinels sentinel-1..sentinel-3 watching master
#                         STACK_REDIS_SENTINEL_MASTER_NAME (default replygate), quorum 2,
#                         down-after-milliseconds STACK_REDIS_NODE_TIMEOUT_MS, failover-timeout 10 s
#   STACK_REDIS_NODE_TIMEOUT_MS  cluster-node-timeout / down-after-milliseconds (default 2000)
#   STACK_REDIS_ACL     1: the default user is off; user `admin` (+@all, the stack's own tools,
#                       replication, sentinels) and user `replygate` with only what the gateway
#                       needs (see redis_app_acl), each with a random password in
#                       <state>/secrets/redis-<user>.password (mode 600, never printed; users file
#                       <state>/redis-users.acl holds SHA-256 hashes only). A sentinel set's
#                       sentinels then require a password of their own (requirepass, also
#                       between sentinels), in <state>/secrets/redis-sentinel.password, printed
#                       as REDIS_SENTINEL_PASSWORD_FILE
#   STACK_REDIS_ACL_KEY_PREFIX  the gateway's REPLYGATE_KEY_PREFIX the ACL grants (default rg:)
#   STACK_REDIS_TLS     1: TLS only (tls-port, port 0), server certificate from a throwaway CA in
#                       <state>/redis-tls/, clients need the CA; mtls: the same and a client
#                       certificate is required (tls-auth-clients yes). Replication, the cluster
#                       bus and the sentinels speak TLS too.
#   STACK_REDIS_CLUSTER_TIMEOUT  seconds to wait for a cluster / sentinel set (default 60)
#
# Components: `redis` is every Redis process of the stack; `redis-<n>` one data node;
# `sentinel-<n>` one sentinel. `scripts/stack.sh redis-master-of [key]` prints the component that
# is master of the key's slot (cluster) or the current primary (sentinel):
#   redis-<n> 127.0.0.1:<port> <node id>
# `scripts/stack.sh redis-cli <component> [args...]` runs redis-cli against it with the stack's
# TLS / admin credentials (REDISCLI_AUTH, never on the command line), e.g.
#   scripts/stack.sh redis-cli redis-1 cluster nodes
#   scripts/stack.sh redis-cli redis-1 --cluster reshard 127.0.0.1:<port> --cluster-from <id> \
#     --cluster-to <id> --cluster-slots 100 --cluster-yes

REDIS_ADMIN_USER=admin
REDIS_APP_USER=replygate

# --- options -----------------------------------------------------------------

read_redis_options() {
  REDIS_SHAPE="${STACK_REDIS_SHAPE:-standalone}"
  case "$REDIS_SHAPE" in standalone | cluster | sentinel) ;;
    *) die "STACK_REDIS_SHAPE must be standalone, cluster or sentinel, got '$REDIS_SHAPE'" ;; esac
  case "${STACK_REDIS_ACL:-0}" in 1 | true | yes) REDIS_ACL=1 ;; 0 | false | no | "") REDIS_ACL=0 ;;
    *) die "STACK_REDIS_ACL must be 1 or 0, got '$STACK_REDIS_ACL'" ;; esac
  case "${STACK_REDIS_TLS:-0}" in 1 | true | yes | tls) REDIS_TLS=tls ;; mtls) REDIS_TLS=mtls ;;
    0 | false | no | "") REDIS_TLS=off ;;
    *) die "STACK_REDIS_TLS must be 1, mtls or 0, got '$STACK_REDIS_TLS'" ;; esac
  REDIS_NODE_TIMEOUT_MS="${STACK_REDIS_NODE_TIMEOUT_MS:-2000}"
  [[ "$REDIS_NODE_TIMEOUT_MS" =~ ^[1-9][0-9]*$ ]] ||
    die "STACK_REDIS_NODE_TIMEOUT_MS must be a positive number of milliseconds, got '$REDIS_NODE_TIMEOUT_MS'"
  REDIS_ACL_PREFIX="${STACK_REDIS_ACL_KEY_PREFIX:-rg:}"
  [[ "$REDIS_ACL_PREFIX" =~ ^[A-Za-z0-9:_.-]+$ ]] ||
    die "STACK_REDIS_ACL_KEY_PREFIX must be letters, digits or ':_.-', got '$REDIS_ACL_PREFIX'"
  REDIS_MASTER_NAME="${STACK_REDIS_SENTINEL_MASTER_NAME:-replygate}"
  [[ "$REDIS_MASTER_NAME" =~ ^[A-Za-z0-9_.-]+$ ]] ||
    die "STACK_REDIS_SENTINEL_MASTER_NAME must be letters, digits or '_.-', got '$REDIS_MASTER_NAME'"
  REDIS_NODES=1
  SENTINELS=0
  case "$REDIS_SHAPE" in cluster) REDIS_NODES=6 ;; sentinel) REDIS_NODES=3 SENTINELS=3 ;; esac
}

# Defaults for a ports.env written before these options (or by a default stack).
redis_defaults_after_load() {
  REDIS_SHAPE="${REDIS_SHAPE:-standalone}"
  REDIS_ACL="${REDIS_ACL:-0}"
  REDIS_TLS="${REDIS_TLS:-off}"
  REDIS_NODE_TIMEOUT_MS="${REDIS_NODE_TIMEOUT_MS:-2000}"
  REDIS_ACL_PREFIX="${REDIS_ACL_PREFIX:-rg:}"
  REDIS_MASTER_NAME="${REDIS_MASTER_NAME:-replygate}"
  REDIS_NODES="${REDIS_NODES:-1}"
  SENTINELS="${SENTINELS:-0}"
}

redis_is_default() { [ "$REDIS_SHAPE" = standalone ] && [ "$REDIS_ACL" = 0 ] && [ "$REDIS_TLS" = off ]; }
redis_multi() { [ "$REDIS_SHAPE" != standalone ]; }

# How many ports the Redis side needs: a port per node (+ a bus port per cluster node) + sentinels.
redis_port_count() {
  case "$REDIS_SHAPE" in cluster) echo 12 ;; sentinel) echo 6 ;; *) echo 1 ;; esac
}

# Assign the ports picked for Redis (array slice in "$@").
assign_redis_ports() {
  local n i=0 ports=("$@")
  REDIS_PORT="${ports[0]}"
  redis_multi || return 0
  for ((n = 1; n <= REDIS_NODES; n++)); do printf -v "REDIS_PORT_$n" '%s' "${ports[$((i++))]}"; done
  if [ "$REDIS_SHAPE" = cluster ]; then
    for ((n = 1; n <= REDIS_NODES; n++)); do printf -v "REDIS_BUS_PORT_$n" '%s' "${ports[$((i++))]}"; done
  fi
  for ((n = 1; n <= SENTINELS; n++)); do printf -v "SENTINEL_PORT_$n" '%s' "${ports[$((i++))]}"; done
  REDIS_PORT="$REDIS_PORT_1"
}

save_redis_options() {
  redis_is_default && return 0
  local n v name
  for v in REDIS_SHAPE REDIS_ACL REDIS_TLS REDIS_NODE_TIMEOUT_MS REDIS_ACL_PREFIX REDIS_MASTER_NAME REDIS_NODES SENTINELS; do
    printf '%s=%q\n' "$v" "${!v}"
  done
  for ((n = 1; n <= REDIS_NODES; n++)); do
    for v in REDIS_PORT REDIS_BUS_PORT; do
      name="${v}_$n"
      [ -n "${!name:-}" ] && printf '%s=%q\n' "$name" "${!name}"
    done
  done
  for ((n = 1; n <= SENTINELS; n++)); do
    name="SENTINEL_PORT_$n"
    printf '%s=%q\n' "$name" "${!name}"
  done
}

redis_describe() {
  printf 'redis: %s%s%s' "$REDIS_SHAPE" "$([ "$REDIS_ACL" = 1 ] && printf ', ACL users')" \
    "$([ "$REDIS_TLS" != off ] && printf ', %s' "$REDIS_TLS")"
}

# --- components ----------------------------------------------------------------

# Every Redis component of the stack, data nodes first.
redis_comps() {
  local n
  if ! redis_multi; then echo redis; return; fi
  for ((n = 1; n <= REDIS_NODES; n++)); do echo "redis-$n"; done
  for ((n = 1; n <= SENTINELS; n++)); do echo "sentinel-$n"; done
}

redis_node_port() { local v="REDIS_PORT_$1"; printf '%s' "${!v}"; }
sentinel_port() { local v="SENTINEL_PORT_$1"; printf '%s' "${!v}"; }
redis_comp_port() {
  case "$1" in
    redis) printf '%s' "$REDIS_PORT" ;;
    redis-*) redis_node_port "${1#redis-}" ;;
    sentinel-*) sentinel_port "${1#sentinel-}" ;;
  esac
}
redis_conf() { printf '%s/%s.conf' "$STATE" "$1"; }

# The component a data node's port belongs to (redis-<n>), empty if none.
redis_comp_of_port() {
  local n
  for ((n = 1; n <= REDIS_NODES; n++)); do
    if [ "$(redis_node_port "$n")" = "$1" ]; then printf 'redis-%s' "$n"; return 0; fi
  done
  redis_multi || { [ "$1" = "$REDIS_PORT" ] && printf 'redis'; }
}

# Does the command line (already read by pid_matches) belong to Redis component $2? The nodes of a
# cluster / sentinel set show their config file in their title (proc-title-template).
redis_cmd_matches() {
  local cmd="$1" comp="$2"
  case "$comp" in
    redis) [[ "$cmd" == *redis-server* && "$cmd" == *"127.0.0.1:${REDIS_PORT:-none}"* ]] ;;
    redis-[0-9] | sentinel-[0-9]) [[ "$cmd" == *redis-server* && "$cmd" == *" $(redis_conf "$comp")"* ]] ;;
    *) return 1 ;;
  esac
}

redis_comp_valid() {
  case "$1" in
    redis-[0-9]) redis_multi && [ "${1#redis-}" -ge 1 ] && [ "${1#redis-}" -le "$REDIS_NODES" ] ;;
    sentinel-[0-9]) [ "${1#sentinel-}" -ge 1 ] && [ "${1#sentinel-}" -le "$SENTINELS" ] ;;
    *) return 1 ;;
  esac
}

# --- credentials ---------------------------------------------------------------

redis_tls_dir() { printf '%s/redis-tls' "$STATE"; }
redis_password_file() { printf '%s/secrets/redis-%s.password' "$STATE" "$1"; }

# What the gateway needs, and nothing else (checked by a gateway run on an ACL stack,
# test/integration/redis-shapes.test.ts):
# - keys: its prefix (replies, async records, idempotency, rate limits, streams, hooks, canaries)
#   and BullMQ's `<prefix without trailing colons>-bull:` (webhooks; `{...-bull}:` on a cluster);
# - channels: all (&*). The gateway PSUBSCRIBEs __keyspace@<db>__:<prefix>reply:<instanceId>.*, and
#   Redis 7 checks a PSUBSCRIBE pattern literally against the user's channel patterns (only an
#   identical pattern allows it: seen refused with NOPERM under &__keyspace@*), so no channel rule
#   short of one per instance id admits it. Keyspace channels carry key names and event types,
#   never values;
# - commands: reads, writes, keyspace, pub/sub, scripting (its Lua and BullMQ's), transactions,
#   connection; less the dangerous ones (FLUSHALL, KEYS, ...), plus INFO (run_id, BullMQ's
#   version check), CONFIG GET (the notify-keyspace-events check), CLIENT SETNAME / ID / INFO,
#   CLUSTER SLOTS / SHARDS / NODES / INFO / MYID / KEYSLOT (a cluster client's topology). Not
#   CONFIG SET: with this user, turn REPLYGATE_REDIS_CONFIGURE off and set the notifications as
#   the server's operator.
redis_app_acl() {
  # BullMQ's prefix: the key prefix without trailing colons + -bull (src/protocol/reply-keys.ts),
  # hash-tagged on a cluster ({rg-bull}: a queue's keys in one slot)
  local bull
  bull="$(printf '%s' "$REDIS_ACL_PREFIX" | sed 's/:*$//')"
  bull="${bull:-rg}-bull"
  printf '%s' "resetkeys ~${REDIS_ACL_PREFIX}* ~${bull}:* ~{${bull}}:* resetchannels &* -@all"
  printf '%s' " +@read +@write +@keyspace +@pubsub +@scripting +@transaction +@connection +@string +@hash +@list +@set +@sortedset +@stream"
  printf '%s' " -@dangerous +info +config|get +client|setname +client|getname +client|id +client|info"
  printf '%s' " +cluster|slots +cluster|shards +cluster|nodes +cluster|info +cluster|myid +cluster|keyslot +readonly +readwrite"
}

ensure_redis_credentials() {
  local u
  if [ "$REDIS_ACL" = 1 ]; then
    mkdir -p "$STATE/secrets"
    chmod 700 "$STATE/secrets"
    for u in "$REDIS_ADMIN_USER" "$REDIS_APP_USER" sentinel; do
      [ -s "$(redis_password_file "$u")" ] || (umask 077 && openssl rand -hex 16 >"$(redis_password_file "$u")")
    done
    if [ ! -f "$STATE/redis-users.acl" ]; then
      (
        umask 077
        {
          echo "user default off resetkeys resetchannels -@all"
          echo "user $REDIS_ADMIN_USER on #$(sha256_of_file "$(redis_password_file "$REDIS_ADMIN_USER")") ~* &* +@all"
          echo "user $REDIS_APP_USER on #$(sha256_of_file "$(redis_password_file "$REDIS_APP_USER")") $(redis_app_acl)"
        } >"$STATE/redis-users.acl.tmp"
      )
      mv "$STATE/redis-users.acl.tmp" "$STATE/redis-users.acl"
    fi
  fi
  [ "$REDIS_TLS" = off ] && return 0
  make_tls_dir "$(redis_tls_dir)" 'Redis ' redis_certificates
}

# (in the TLS dir) The Redis CA, the servers' certificate and the users' client certificates.
redis_certificates() {
  tls_new_ca redis-stack-ca
  tls_new_cert server localhost 'serverAuth,clientAuth' 'IP:127.0.0.1,DNS:localhost'
  tls_new_cert "$REDIS_APP_USER" "$REDIS_APP_USER" clientAuth
  tls_new_cert "$REDIS_ADMIN_USER" "$REDIS_ADMIN_USER" clientAuth
}

sha256_of_file() { tr -d '\n' <"$1" | openssl dgst -sha256 -r | cut -d' ' -f1; }

# --- configuration -------------------------------------------------------------

# Lines shared by every Redis process of the stack (listener, TLS, users).
redis_common_conf() {
  local port="$1"
  echo "bind 127.0.0.1"
  if [ "$REDIS_TLS" = off ]; then
    echo "port $port"
  else
    local dir
    dir="$(redis_tls_dir)"
    echo "port 0"
    echo "tls-port $port"
    echo "tls-cert-file $dir/server.crt"
    echo "tls-key-file $dir/server.key"
    echo "tls-ca-cert-file $dir/ca.crt"
    echo "tls-auth-clients $([ "$REDIS_TLS" = mtls ] && echo yes || echo no)"
    echo "tls-replication yes"
  fi
  if [ "$REDIS_ACL" = 1 ]; then
    echo "aclfile $STATE/redis-users.acl"
  fi
  echo "daemonize no"
  echo "save \"\""
  echo "appendonly no"
  echo 'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"'
}

# Write the config of data node n once (Sentinel rewrites the replicas' `replicaof` lines with
# CONFIG REWRITE at a failover: kept across restarts, so a restarted node follows the current primary).
write_redis_node_conf() {
  local n="$1" conf port
  conf="$(redis_conf "redis-$n")"
  [ -f "$conf" ] && return 0
  port="$(redis_node_port "$n")"
  mkdir -p "$STATE/redis-$n"
  (
    umask 077
    {
      echo "# generated by scripts/stack.sh - redis-$n ($REDIS_SHAPE)"
      redis_common_conf "$port"
      echo "dir $STATE/redis-$n"
      echo "notify-keyspace-events \"$REDIS_NOTIFY\""
      if [ "$REDIS_ACL" = 1 ]; then
        echo "masteruser $REDIS_ADMIN_USER"
        echo "masterauth $(cat "$(redis_password_file "$REDIS_ADMIN_USER")")"
      fi
      if [ "$REDIS_SHAPE" = cluster ]; then
        echo "cluster-enabled yes"
        echo "cluster-config-file nodes.conf"
        echo "cluster-port $(node_port REDIS_BUS_PORT "$n")"
        echo "cluster-node-timeout $REDIS_NODE_TIMEOUT_MS"
        # fail over however long the election takes (the default gives up after 10 x node timeout + 10 s)
        echo "cluster-replica-validity-factor 0"
        [ "$REDIS_TLS" = off ] || echo "tls-cluster yes"
      fi
      if [ "$REDIS_SHAPE" = sentinel ] && [ "$n" -gt 1 ]; then
        echo "replicaof 127.0.0.1 $(redis_node_port 1)"
      fi
    } >"$conf.tmp"
  )
  mv "$conf.tmp" "$conf"
}

# A standalone server with ACL users or TLS (the default one keeps its command-line flags).
write_redis_standalone_conf() {
  local conf
  conf="$(redis_conf redis)"
  (
    umask 077
    {
      echo "# generated by scripts/stack.sh - redis (standalone)"
      redis_common_conf "$REDIS_PORT"
      echo "dir $STATE/redis"
      echo "notify-keyspace-events \"$REDIS_NOTIFY\""
    } >"$conf.tmp"
  )
  mv "$conf.tmp" "$conf"
}

# Sentinel n's config, written once: the sentinel rewrites it (current primary, known replicas
# and sentinels) and needs those after a restart.
write_sentinel_conf() {
  local n="$1" conf
  conf="$(redis_conf "sentinel-$n")"
  [ -f "$conf" ] && return 0
  mkdir -p "$STATE/sentinel-$n"
  (
    umask 077
    {
      echo "# generated by scripts/stack.sh - sentinel-$n (rewritten by the sentinel)"
      redis_common_conf "$(sentinel_port "$n")" | grep -v -e '^save' -e '^appendonly' -e '^aclfile'
      echo "dir $STATE/sentinel-$n"
      echo "sentinel monitor $REDIS_MASTER_NAME 127.0.0.1 $(redis_node_port 1) 2"
      echo "sentinel down-after-milliseconds $REDIS_MASTER_NAME $REDIS_NODE_TIMEOUT_MS"
      echo "sentinel failover-timeout $REDIS_MASTER_NAME 10000"
      echo "sentinel parallel-syncs $REDIS_MASTER_NAME 1"
      if [ "$REDIS_ACL" = 1 ]; then
        echo "sentinel auth-user $REDIS_MASTER_NAME $REDIS_ADMIN_USER"
        echo "sentinel auth-pass $REDIS_MASTER_NAME $(cat "$(redis_password_file "$REDIS_ADMIN_USER")")"
        # The sentinels themselves ask for a password (clients and the other sentinels).
        echo "requirepass $(cat "$(redis_password_file sentinel)")"
        echo "sentinel sentinel-pass $(cat "$(redis_password_file sentinel)")"
      fi
    } >"$conf.tmp"
  )
  mv "$conf.tmp" "$conf"
}

# --- redis-cli with the stack's credentials --------------------------------------

# cli_conn_args PORT: into the caller's array `args`, redis-cli's arguments to reach 127.0.0.1:PORT
# (over TLS when the stack has it, with the admin's client certificate on mtls).
cli_conn_args() {
  args=(-h 127.0.0.1 -p "$1")
  if [ "$REDIS_TLS" != off ]; then
    local dir
    dir="$(redis_tls_dir)"
    args+=(--tls --cacert "$dir/ca.crt")
    [ "$REDIS_TLS" = mtls ] && args+=(--cert "$dir/$REDIS_ADMIN_USER.crt" --key "$dir/$REDIS_ADMIN_USER.key")
  fi
  return 0
}

# rcli PORT ARGS...: redis-cli as the admin user (ACL stacks), over TLS when the stack has it.
rcli() {
  local args
  cli_conn_args "$1"
  shift
  if [ "$REDIS_ACL" = 1 ]; then
    args+=(--user "$REDIS_ADMIN_USER")
    REDISCLI_AUTH="$(cat "$(redis_password_file "$REDIS_ADMIN_USER")")" redis-cli "${args[@]}" "$@"
  else
    redis-cli "${args[@]}" "$@"
  fi
}

# Sentinels have no ACL users; on an ACL stack they require the sentinel password.
scli() {
  local args
  cli_conn_args "$1"
  shift
  if [ "$REDIS_ACL" = 1 ]; then
    REDISCLI_AUTH="$(cat "$(redis_password_file sentinel)")" redis-cli "${args[@]}" "$@"
  else
    redis-cli "${args[@]}" "$@"
  fi
}

rping() { [ "$(rcli "$1" ping 2>/dev/null || true)" = PONG ]; }

# --- start -----------------------------------------------------------------------

# Start the given Redis components (default: all) that are not running, wait until each answers,
# then until the whole shape is ready (cluster formed / replicas in sync / sentinels agree).
start_redis_shape() {
  local comps=("$@") c port logf primary
  [ "${#comps[@]}" -gt 0 ] || mapfile -t comps < <(redis_comps)
  command -v redis-server >/dev/null 2>&1 || die "redis-server not on PATH (run scripts/install-deps.sh)"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli not on PATH (apt-get install redis-tools)"
  ensure_redis_credentials
  local launched=()
  # data nodes before sentinels: a sentinel asks its primary for the replicas at start
  for c in "${comps[@]}"; do
    port="$(redis_comp_port "$c")"
    if is_running "$c"; then
      log "$c already running on 127.0.0.1:$port"
      continue
    fi
    port_free "$port" || die "$c port $port is taken by another process; run '$0 down' and 'up' again"
    case "$c" in
      redis-*)
        write_redis_node_conf "${c#redis-}"
        if [ "$REDIS_SHAPE" = cluster ]; then
          port_free "$(node_port REDIS_BUS_PORT "${c#redis-}")" ||
            die "$c cluster bus port $(node_port REDIS_BUS_PORT "${c#redis-}") is taken by another process; run '$0 down' and 'up' again"
        fi
        ;;
      sentinel-*) write_sentinel_conf "${c#sentinel-}" ;;
    esac
    logf="$LOG_DIR/$c.log"
    printf '==== %s start %s on 127.0.0.1:%s\n' "$(date -Is)" "$c" "$port" >>"$logf"
    log "starting $c on 127.0.0.1:$port"
    if [[ "$c" == sentinel-* ]]; then
      launch "$c" "$logf" redis-server "$(redis_conf "$c")" --sentinel
    elif [ "$REDIS_SHAPE" = sentinel ] && primary="$(redis_primary_port)" && [ -n "$primary" ] && [ "$primary" != "$port" ]; then
      # a node coming back (say the old primary after a failover) starts as a replica of the
      # primary the sentinels name, not as a second master until they notice it (~15 s)
      log "$c rejoins as a replica of the primary 127.0.0.1:$primary"
      launch "$c" "$logf" redis-server "$(redis_conf "$c")" --replicaof 127.0.0.1 "$primary"
    else
      launch "$c" "$logf" redis-server "$(redis_conf "$c")"
    fi
    STARTED+=("$c")
    launched+=("$c:$LAUNCHED_PID")
  done
  local item pid
  for item in "${launched[@]}"; do
    c="${item%%:*}"
    pid="${item#*:}"
    READY_PORT="$(redis_comp_port "$c")"
    if [[ "$c" == sentinel-* ]]; then
      await_ready "$c" "$pid" "$LOG_DIR/$c.log" "$REDIS_TIMEOUT" 0.1 sentinel_ping_ready
    else
      await_ready "$c" "$pid" "$LOG_DIR/$c.log" "$REDIS_TIMEOUT" 0.1 node_ping_ready
    fi
  done
  case "$REDIS_SHAPE" in
    cluster)
      if [ ! -f "$STATE/redis-cluster.created" ]; then create_redis_cluster; fi
      await_cluster_ok
      ;;
    sentinel) await_sentinel_ready ;;
  esac
}

node_ping_ready() { rping "$READY_PORT"; }
sentinel_ping_ready() { [ "$(scli "$READY_PORT" ping 2>/dev/null || true)" = PONG ]; }

create_redis_cluster() {
  local n addrs=()
  for ((n = 1; n <= REDIS_NODES; n++)); do addrs+=("127.0.0.1:$(redis_node_port "$n")"); done
  log "creating the cluster: ${addrs[*]} (3 masters, 1 replica each)"
  local clog="$LOG_DIR/redis-cluster-create.log"
  if ! rcli "$(redis_node_port 1)" --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    >>"$clog" 2>&1; then
    log_tail "$clog"
    die "redis-cli --cluster create failed (log: $clog)"
  fi
  touch "$STATE/redis-cluster.created"
}

# poll_ready CHECK COMP COUNT: run CHECK (it adds what is not ready yet to $bad, which starts
# empty) every 0.25 s until $bad stays empty (returns 0, the seconds it took in $WAITED) or
# STACK_REDIS_CLUSTER_TIMEOUT (60) s have passed (prints the tails of the logs of COMP-1..COUNT,
# returns 1; the limit in $POLL_TIMEOUT). The caller declares `bad`.
poll_ready() {
  local check="$1" comp="$2" count="$3" n t0=$SECONDS
  POLL_TIMEOUT="${STACK_REDIS_CLUSTER_TIMEOUT:-60}"
  local deadline=$((SECONDS + POLL_TIMEOUT))
  while :; do
    bad=""
    "$check"
    if [ -z "$bad" ]; then
      WAITED=$((SECONDS - t0))
      return 0
    fi
    if ((SECONDS >= deadline)); then
      for ((n = 1; n <= count; n++)); do log_tail "$LOG_DIR/$comp-$n.log"; done
      return 1
    fi
    sleep 0.25
  done
}

# Until every running node says cluster_state:ok and knows all nodes, and every slot has a master
# that answers; dies naming the nodes that are not there.
await_cluster_ok() {
  local bad
  if poll_ready cluster_not_ok redis "$REDIS_NODES"; then
    log "redis cluster ok after ${WAITED}s"
    return 0
  fi
  die "redis cluster not ok within ${POLL_TIMEOUT}s; not ready:$bad"
}

# (poll_ready CHECK of await_cluster_ok) The nodes not yet in an ok cluster, added to $bad.
cluster_not_ok() {
  local n info
  for ((n = 1; n <= REDIS_NODES; n++)); do
    is_running "redis-$n" || continue
    info="$(rcli "$(redis_node_port "$n")" cluster info 2>/dev/null | tr -d '\r' || true)"
    if [[ "$info" != *cluster_state:ok* || "$info" != *"cluster_known_nodes:$REDIS_NODES"* ||
      "$info" != *cluster_slots_ok:16384* ]]; then
      bad="$bad redis-$n($(printf '%s' "$info" | grep -E '^cluster_(state|known_nodes|slots_ok):' | tr '\n' ' '))"
      continue
    fi
    # a replica that has not synced yet could not take over its master
    info="$(rcli "$(redis_node_port "$n")" info replication 2>/dev/null | tr -d '\r' || true)"
    if [[ "$info" == *role:slave* && "$info" != *master_link_status:up* ]]; then bad="$bad redis-$n(replica link down)"; fi
  done
}

# Until each running sentinel knows the primary, two replicas and the other sentinels, and the
# quorum can authorise a failover (SENTINEL CKQUORUM); and the replicas' links are up.
await_sentinel_ready() {
  local bad
  if poll_ready sentinel_not_ready sentinel "$SENTINELS"; then
    log "sentinel set ready after ${WAITED}s (primary $(redis_primary_line))"
    return 0
  fi
  die "sentinel set not ready within ${POLL_TIMEOUT}s:$bad"
}

# (poll_ready CHECK of await_sentinel_ready) The sentinels and data nodes not ready yet, added to $bad.
sentinel_not_ready() {
  local n out want_replicas=$((REDIS_NODES - 1))
  for ((n = 1; n <= SENTINELS; n++)); do
    is_running "sentinel-$n" || continue
    out="$(scli "$(sentinel_port "$n")" sentinel ckquorum "$REDIS_MASTER_NAME" 2>&1 | tr -d '\r' || true)"
    [[ "$out" == OK* ]] || bad="$bad sentinel-$n(ckquorum: $out)"
    out="$(scli "$(sentinel_port "$n")" sentinel master "$REDIS_MASTER_NAME" 2>/dev/null | tr -d '\r' | paste -sd' ' || true)"
    [[ " $out " == *" num-slaves $want_replicas "* ]] || bad="$bad sentinel-$n(replicas known: $(sed -E 's/.*num-slaves ([0-9]+).*/\1/' <<<"$out"))"
  done
  # every other running data node a replica of the sentinels' primary, its link up (a restarted
  # old primary comes back as a master until the sentinels convert it)
  local primary
  primary="$(redis_primary_port)"
  [ -n "$primary" ] || bad="$bad (no sentinel names a primary)"
  for ((n = 1; n <= REDIS_NODES; n++)); do
    is_running "redis-$n" || continue
    [ "$(redis_node_port "$n")" = "$primary" ] && continue
    out="$(rcli "$(redis_node_port "$n")" info replication 2>/dev/null | tr -d '\r' || true)"
    if [[ "$out" != *role:slave* || "$out" != *"master_port:$primary"* || "$out" != *master_link_status:up* ]]; then
      bad="$bad redis-$n(not yet a replica of 127.0.0.1:$primary in sync)"
    fi
  done
}

# --- queries -----------------------------------------------------------------------

# The first running data node's port (for cluster-wide questions).
any_node_port() {
  local n
  for ((n = 1; n <= REDIS_NODES; n++)); do
    if is_running "redis-$n"; then redis_node_port "$n"; return 0; fi
  done
  return 1
}

# The port of the primary the first answering sentinel names (empty if none answers).
redis_primary_port() {
  local n out
  for ((n = 1; n <= SENTINELS; n++)); do
    is_running "sentinel-$n" || continue
    out="$(scli "$(sentinel_port "$n")" sentinel get-master-addr-by-name "$REDIS_MASTER_NAME" 2>/dev/null | tr -d '\r' || true)"
    out="$(sed -n 2p <<<"$out")"
    if [ -n "$out" ]; then printf '%s' "$out"; return 0; fi
  done
}

# "redis-<n> 127.0.0.1:<port> <node id>" of the current Sentinel primary (asks each sentinel).
redis_primary_line() {
  local port comp
  port="$(redis_primary_port)"
  [ -n "$port" ] || die "no sentinel answered get-master-addr-by-name $REDIS_MASTER_NAME"
  comp="$(redis_comp_of_port "$port")"
  printf '%s 127.0.0.1:%s %s\n' "${comp:-unknown}" "$port" "$(rcli "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^run_id://p')"
}

cmd_redis_master_of() {
  need_stack
  case "$REDIS_SHAPE" in
    standalone) printf 'redis 127.0.0.1:%s -\n' "$REDIS_PORT" ;;
    sentinel) redis_primary_line ;;
    cluster)
      [ -n "${1:-}" ] || die "usage: $0 redis-master-of <key>"
      local port slot line
      port="$(any_node_port)" || die "no redis node is running"
      slot="$(rcli "$port" cluster keyslot "$1" | tr -d '\r')"
      [[ "$slot" =~ ^[0-9]+$ ]] || die "CLUSTER KEYSLOT failed: $slot"
      # CLUSTER NODES: <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges...>
      while read -r line; do
        read -r -a f <<<"$line"
        [[ "${f[2]}" == *master* && "${f[2]}" != *fail* ]] || continue
        local r
        for r in "${f[@]:8}"; do
          [[ "$r" == \[* ]] && continue
          local lo="${r%-*}" hi="${r#*-}"
          if ((slot >= lo && slot <= hi)); then
            local p="${f[1]#*:}"
            p="${p%@*}"
            printf '%s 127.0.0.1:%s %s\n' "$(redis_comp_of_port "$p")" "$p" "${f[0]}"
            return 0
          fi
        done
      done < <(rcli "$port" cluster nodes | tr -d '\r')
      die "no master serves slot $slot (of key '$1')"
      ;;
  esac
}

cmd_redis_cli() {
  need_stack
  local comp="${1:-}"
  [ -n "$comp" ] || die "usage: $0 redis-cli <redis|redis-<n>|sentinel-<n>> [args...]"
  shift
  [ "$comp" = redis ] || redis_comp_valid "$comp" || die "no '$comp' in this stack ($(redis_comps | tr '\n' ' '))"
  if [[ "$comp" == sentinel-* ]]; then scli "$(redis_comp_port "$comp")" "$@"; else rcli "$(redis_comp_port "$comp")" "$@"; fi
}

# Role of a data node for `status`: master / replica of <comp>.
redis_role() {
  local out
  out="$(rcli "$1" info replication 2>/dev/null | tr -d '\r' || true)"
  case "$out" in
    *role:master*) printf 'master' ;;
    *role:slave*) printf 'replica of %s' "$(redis_comp_of_port "$(sed -n 's/^master_port://p' <<<"$out")")" ;;
    *) printf '?' ;;
  esac
}

# --- env lines ---------------------------------------------------------------------

redis_scheme() { if [ "$REDIS_TLS" = off ]; then printf 'redis'; else printf 'rediss'; fi; }

# The second line of the env output. Standalone: REDIS_URL, as before (rediss:// with TLS). A
# cluster: REDIS_CLUSTER_NODES (every node; any one is a seed), a sentinel set: REDIS_SENTINELS
# (REDIS_SENTINEL_MASTER follows). The gateway refuses REDIS_URL beside those (one deployment
# shape), so these stacks print no REDIS_URL and an `unset REDIS_URL` line that clears one a
# previous eval left in the shell (parseStackEnv skips it).
print_redis_url() {
  local n list=""
  case "$REDIS_SHAPE" in
    cluster)
      for ((n = 1; n <= REDIS_NODES; n++)); do list="${list:+$list,}127.0.0.1:$(redis_node_port "$n")"; done
      printf 'export REDIS_CLUSTER_NODES=%s\n' "$list"
      ;;
    sentinel)
      for ((n = 1; n <= SENTINELS; n++)); do list="${list:+$list,}127.0.0.1:$(sentinel_port "$n")"; done
      printf 'export REDIS_SENTINELS=%s\n' "$list"
      printf 'export REDIS_SENTINEL_MASTER=%s\n' "$REDIS_MASTER_NAME"
      ;;
    *) printf 'export REDIS_URL=%s://127.0.0.1:%s/0\n' "$(redis_scheme)" "$REDIS_PORT" ;;
  esac
}

print_redis_env() {
  redis_is_default && return 0
  printf 'export STACK_REDIS_TOPOLOGY=%s\n' "$REDIS_SHAPE"
  case "$REDIS_SHAPE" in
    cluster | sentinel)
      echo 'unset REDIS_URL'
      [ "$REDIS_TLS" = off ] || printf 'export REDIS_TLS=true\n'
      ;;
    *) echo 'unset REDIS_CLUSTER_NODES REDIS_SENTINELS REDIS_SENTINEL_MASTER' ;;
  esac
  if [ "$REDIS_ACL" = 1 ]; then
    printf 'export REDIS_USERNAME=%s\n' "$REDIS_APP_USER"
    printf 'export REDIS_PASSWORD_FILE=%s\n' "$(redis_password_file "$REDIS_APP_USER")"
    printf 'export STACK_REDIS_USER_KEY_PREFIX=%s\n' "$REDIS_ACL_PREFIX"
    printf 'export STACK_REDIS_ADMIN_USER=%s\n' "$REDIS_ADMIN_USER"
    printf 'export STACK_REDIS_ADMIN_PASSWORD_FILE=%s\n' "$(redis_password_file "$REDIS_ADMIN_USER")"
    if [ "$REDIS_SHAPE" = sentinel ]; then
      printf 'export REDIS_SENTINEL_PASSWORD_FILE=%s\n' "$(redis_password_file sentinel)"
    fi
  fi
  if [ "$REDIS_TLS" != off ]; then
    printf 'export REDIS_TLS_CA_FILE=%s\n' "$(redis_tls_dir)/ca.crt"
    if [ "$REDIS_TLS" = mtls ]; then
      printf 'export REDIS_TLS_CERT_FILE=%s\n' "$(redis_tls_dir)/$REDIS_APP_USER.crt"
      printf 'export REDIS_TLS_KEY_FILE=%s\n' "$(redis_tls_dir)/$REDIS_APP_USER.key"
    fi
  fi
}

# --- status ------------------------------------------------------------------------

redis_status() {
  local c pid port extra
  for c in $(redis_comps); do
    port="$(redis_comp_port "$c")"
    if pid="$(comp_pid "$c")"; then
      extra=""
      [[ "$c" == redis-* ]] && extra=" $(redis_role "$port")"
      echo "$c: running (pid $pid) 127.0.0.1:$port$extra"
    else
      echo "$c: stopped (port 127.0.0.1:$port)"
    fi
  done
}
