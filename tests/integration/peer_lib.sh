# The harness shared by the integration scripts whose guests are vnet_peer
# processes (integration_test.sh, uplink_vhost_test.sh): one vnetd in a private
# state and run dir, checks on test(1) expressions, and vnet_peer guests driven
# through a FIFO each, whose answers are read back from their output files.
#
# Source it, then call `peer_lib_init NAME VNETD VNETCTL VNET_PEER` (the three
# binaries): NAME names the scratch dir (/tmp/vnet-NAME.XXXXXX) and the peers'
# DPDK file prefixes (vnet-NAME-<pid>-<peer>), all removed at exit. Globals it
# owns: VNETD, VNETCTL, PEER, TMP (the scratch dir), STATE and RUN (vnetd's
# dirs), SOCK (vnetd's control socket, exported as VNET_SOCKET), LOG (vnetd's
# stderr), TAG (the shell's pid, for unique names), DAEMON_PID, PEER_PID and
# PEER_FD (by peer name), CHECKS, FAILURES. A script that leaves more behind
# (namespaces, interfaces) defines peer_lib_cleanup_more, which runs at exit
# once the peers and vnetd are gone. Exit codes: 0 every check passed, 1 a
# check failed, 77 the host lacks something (skip).

peer_lib_init() { # name vnetd vnetctl vnet_peer
  PEER_LIB_NAME=$1
  VNETD=$2
  VNETCTL=$3
  PEER=$4
  TMP=$(mktemp -d "/tmp/vnet-$1.XXXXXX")
  STATE=$TMP/state
  RUN=$TMP/run
  SOCK=$RUN/vnetd.sock
  LOG=$TMP/vnetd.log
  export VNET_SOCKET=$SOCK
  TAG=$$
  DAEMON_PID=
  declare -gA PEER_PID=() PEER_FD=()
  FAILURES=0
  CHECKS=0
  trap peer_lib_cleanup EXIT
}

peer_lib_cleanup() {
  local name prefix f
  for name in "${!PEER_PID[@]}"; do stop_peer "$name"; done
  if [ -n "$DAEMON_PID" ]; then
    kill -TERM "$DAEMON_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  declare -F peer_lib_cleanup_more >/dev/null && peer_lib_cleanup_more
  # DPDK runtime directories of the processes started here.
  for prefix in $(sed -n 's/.*--file-prefix=\([^ ]*\).*/\1/p' "$LOG" 2>/dev/null | sort -u); do
    case $prefix in vnet-*) rm -rf "/var/run/dpdk/$prefix" ;; esac
  done
  rm -rf /var/run/dpdk/vnet-"$PEER_LIB_NAME"-"$TAG"-*
  if [ "$FAILURES" -ne 0 ]; then
    echo "---- vnetd log ----"
    cat "$LOG" 2>/dev/null
    for f in "$TMP"/*.out "$TMP"/*.err; do
      [ -s "$f" ] && { echo "---- $f ----"; cat "$f"; }
    done
  fi
  rm -rf "$TMP"
}

skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

# check NAME CONDITION...: CONDITION (a test(1) expression) holds.
check() {
  local name=$1
  shift
  CHECKS=$((CHECKS + 1))
  if ! test "$@"; then fail "$name: [ $* ]"; fi
}

ctl() { "$VNETCTL" "$@"; }

# ctl_ok NAME ARGS...: the vnetctl command succeeds (its output in $TMP/ctl.out).
ctl_ok() {
  local name=$1
  shift
  CHECKS=$((CHECKS + 1))
  if ! "$VNETCTL" -q "$@" >"$TMP/ctl.out" 2>"$TMP/ctl.err"; then
    fail "$name: vnetctl $* failed: $(cat "$TMP/ctl.err")"
    return 1
  fi
}

start_daemon() {
  "$VNETD" --state-dir "$STATE" --run-dir "$RUN" --log-level debug --hugepages no \
    --pmd-idle-sleep-us 20 2>>"$LOG" &
  DAEMON_PID=$!
  for _ in $(seq 200); do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      fail "vnetd exited during start-up"
      DAEMON_PID=
      return 1
    fi
    if ctl -q net-list >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  fail "vnetd did not answer within 10 s"
  return 1
}

# start_peer NAME SOCKET MAC [IP] [--server]: start a guest, wait until it is
# ready. A server (--server) blocks in its start-up until vnetd connects, so
# it is only launched: call wait_ready once vnetd has the client port.
# PEER_QUEUES=N: the guest negotiates N queue pairs.
start_peer() {
  local name=$1 path=$2 mac=$3 ip=${4:-} server=${5:-}
  local args=(--prefix "vnet-$PEER_LIB_NAME-$TAG-$name" --path "$path" --mac "$mac")
  [ -n "$ip" ] && args+=(--ip "$ip")
  [ -n "$server" ] && args+=(--server)
  [ -n "${PEER_QUEUES:-}" ] && args+=(--queues "$PEER_QUEUES")
  mkfifo "$TMP/$name.in"
  : >"$TMP/$name.out"
  "$PEER" "${args[@]}" <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PEER_PID[$name]=$!
  local fd
  exec {fd}>"$TMP/$name.in"
  PEER_FD[$name]=$fd
  [ -n "$server" ] && return 0
  wait_ready "$name"
}

wait_ready() {
  wait_line "$1" "ready" 20 || { fail "peer $1 did not start"; return 1; }
}

stop_peer() {
  local name=$1
  [ -n "${PEER_PID[$name]:-}" ] || return 0
  echo quit >&"${PEER_FD[$name]}" 2>/dev/null
  exec {PEER_FD[$name]}>&-
  for _ in $(seq 50); do kill -0 "${PEER_PID[$name]}" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "${PEER_PID[$name]}" 2>/dev/null
  wait "${PEER_PID[$name]}" 2>/dev/null
  unset "PEER_PID[$name]" "PEER_FD[$name]"
  rm -f "$TMP/$name.in"
}

# wait_line NAME PREFIX SECS: a line starting with PREFIX appears in the peer's output.
wait_line() {
  local name=$1 prefix=$2 secs=$3
  for _ in $(seq $((secs * 20))); do
    grep -q "^$prefix" "$TMP/$name.out" && return 0
    sleep 0.05
  done
  return 1
}

# ask NAME COMMAND ARGS...: a tagged command (link, stats, resolve, udpstats);
# prints the answer line without its tag. Tags are sequence numbers kept in a
# file, so that calls from command substitutions (subshells) never reuse one.
ask() {
  local name=$1 cmd=$2
  shift 2
  local SEQ
  SEQ=$(( $(cat "$TMP/seq" 2>/dev/null || echo 0) + 1 ))
  echo "$SEQ" >"$TMP/seq"
  echo "$cmd q$SEQ $*" >&"${PEER_FD[$name]}"
  wait_line "$name" "q$SEQ " 60 || { fail "peer $name did not answer '$cmd'"; return 1; }
  grep "^q$SEQ " "$TMP/$name.out" | cut -d' ' -f2-
}

# ask_untagged NAME PATTERN SECS COMMAND ARGS...: a command whose answer has no
# tag (send, udp): waits up to SECS for one more line matching PATTERN (grep)
# in the peer's output and prints the last such line.
ask_untagged() {
  local name=$1 pattern=$2 secs=$3
  shift 3
  local want
  want=$(( $(grep -c "$pattern" "$TMP/$name.out") + 1 ))
  echo "$*" >&"${PEER_FD[$name]}"
  for _ in $(seq $((secs * 20))); do
    [ "$(grep -c "$pattern" "$TMP/$name.out")" -ge "$want" ] && break
    sleep 0.05
  done
  grep "$pattern" "$TMP/$name.out" | tail -1
}
