# The harness shared by the integration scripts whose clients live in network
# namespaces (gateway_test.sh, nat_test.sh): one vnetd in a private state and
# run dir, check/skip bookkeeping, namespaces and veths that are removed at
# exit, and an ISC dhclient whose script records what the server gave.
#
# Source it after setting VNETD and VNETCTL, then call `lib_init NAME`.
# Globals it owns: TMP (the scratch dir), SOCK (vnetd's control socket),
# DAEMON (vnetd's pid), CHECKS, FAILURES, CLIENT_NS (the namespace dhclient
# runs in). The script ends with `lib_finish`. Exit codes: 0 every check
# passed, 1 a check failed, 77 the host lacks a tool (skip).

lib_init() { # name
  TMP=$(mktemp -d "/tmp/vnet-$1.XXXXXX")
  SOCK=$TMP/run/vnetd.sock
  DAEMON=
  CHECKS=0
  FAILURES=0
  CLIENT_NS=
  LIB_NAMESPACES=()
  LIB_LINKS=()
  trap lib_cleanup EXIT
}

skip() { echo "SKIP: $*"; exit 77; }

need() { # tools... (and root): skips when one is missing
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
  local t
  for t in "$@"; do command -v "$t" >/dev/null || skip "$t not installed"; done
}

check() { # description, command...
  local what=$1; shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; FAILURES=$((FAILURES + 1)); fi
}

ctl() { "$VNETCTL" --socket "$SOCK" "$@"; }

start_daemon() { # extra vnetd options...
  mkdir -p "$TMP/state" "$TMP/run"
  "$VNETD" --state-dir "$TMP/state" --run-dir "$TMP/run" --hugepages no --pmd-idle-sleep-us 100 "$@" \
    >>"$TMP/vnetd.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 100); do ctl net-list >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "vnetd did not come up"; FAILURES=$((FAILURES + 1)); exit 1
}

stop_daemon() {
  [ -n "$DAEMON" ] || return 0
  kill -TERM "$DAEMON" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DAEMON" 2>/dev/null
  wait "$DAEMON" 2>/dev/null
  DAEMON=
}

add_netns() { # name: a namespace removed at exit (its processes killed first)
  ip netns add "$1" || skip "cannot create a network namespace"
  LIB_NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

add_veth() { # host-ifname namespace [mac]: eth0 in the namespace, the host end up without IPv6
  ip link add "$1" type veth peer name eth0 netns "$2" || skip "cannot create a veth pair"
  LIB_LINKS+=("$1")
  sysctl -qw net.ipv6.conf."$1".disable_ipv6=1
  ip link set "$1" up
  [ -n "${3:-}" ] && ip -n "$2" link set eth0 address "$3"
  ip -n "$2" link set eth0 up
  # veth leaves TCP/UDP checksums to offload; a switch port sees them unfinished.
  ip netns exec "$2" ethtool -K eth0 tx off >/dev/null 2>&1
  return 0
}

lib_cleanup() {
  local ns l f
  for ns in "${LIB_NAMESPACES[@]}"; do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null; done
  stop_daemon
  for ns in "${LIB_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for l in "${LIB_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
  rm -rf /var/run/dpdk/vnet-"$(basename "$TMP")"* 2>/dev/null
  if [ "$FAILURES" -ne 0 ]; then
    echo "---- vnetd log ----"; cat "$TMP/vnetd.log" 2>/dev/null
    for f in "$TMP"/*.out; do [ -s "$f" ] && { echo "---- $f"; cat "$f"; }; done
  fi
  rm -rf "$TMP"
}

lib_finish() {
  echo "$((CHECKS - FAILURES))/$CHECKS checks passed"
  [ "$FAILURES" -eq 0 ]
}

# dhclient in $CLIENT_NS on its eth0. The script sets the address (and the
# default route through the first router) and writes the options to
# $TMP/dh/bound; bound_field NAME reads one back (ip routers dns domain mtu lease).
write_dhclient_script() {
  mkdir -p "$TMP/dh"
  cat >"$TMP/dh/script" <<'S'
#!/bin/sh
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    for r in $new_routers; do ip route replace default via "$r" dev "$interface"; break; done
    echo "routers=$new_routers dns=$new_domain_name_servers domain=$new_domain_name mtu=$new_interface_mtu lease=$new_dhcp_lease_time ip=$new_ip_address" >"$(dirname "$0")/bound"
    ;;
esac
exit 0
S
  chmod +x "$TMP/dh/script"
}
dhclient_run() {
  timeout 40 ip netns exec "$CLIENT_NS" dhclient -1 -4 -sf "$TMP/dh/script" -lf "$TMP/dh/lease" \
    -pf "$TMP/dh/pid" -cf /dev/null eth0 >"$TMP/dhclient.out" 2>&1
}
dhclient_stop() { # ends a dhclient left running in the background, without a RELEASE
  [ -s "$TMP/dh/pid" ] && kill "$(cat "$TMP/dh/pid")" 2>/dev/null
  rm -f "$TMP/dh/pid" "$TMP/dh/bound"
  sleep 0.2
}
bound_field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$TMP/dh/bound" 2>/dev/null; }
