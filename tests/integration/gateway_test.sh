#!/usr/bin/env bash
# Gateway integration: a real vnetd whose network has a gateway (ARP, ICMP,
# DHCPv4, DNS), and real clients in a network namespace behind an afpacket
# port on a veth pair: ISC dhclient, busybox udhcpc, dig, ping.
#
#   gateway_test.sh SCENARIO VNETD VNETCTL
#     nat       dhclient gets a static host's address with router/DNS/domain,
#               pings the gateway, dig answers A/PTR/TXT/SRV and NXDOMAIN,
#               net-dhcp-leases lists the lease, which survives a vnetd restart
#               (the network autostarts)
#     udhcpc    busybox udhcpc gets an address from the range
#     isolated  an isolated network's lease has no router option
#
# Exit 0: every check passed; 1: a check failed; 77: the host lacks a tool.
set -u
scenario=$1 VNETD=$2 VNETCTL=$3
TAG=$$
NS=vgw$TAG
HOSTIF=vgwh$TAG
TMP=$(mktemp -d /tmp/vnet-gw.XXXXXX)
SOCK=$TMP/run/vnetd.sock
DAEMON=
FAILURES=0
CHECKS=0

skip() { echo "SKIP: $*"; rm -rf "$TMP"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for t in ip ethtool dig dhclient busybox; do command -v $t >/dev/null || skip "$t not installed"; done

stop_daemon() {
  [ -n "$DAEMON" ] || return 0
  kill -TERM "$DAEMON" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$DAEMON" 2>/dev/null
  wait "$DAEMON" 2>/dev/null
  DAEMON=
}
cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
  stop_daemon
  ip netns del "$NS" 2>/dev/null
  ip link del "$HOSTIF" 2>/dev/null
  rm -rf /var/run/dpdk/vnet-"$(basename "$TMP")"* 2>/dev/null
  if [ "$FAILURES" -ne 0 ]; then
    echo "---- vnetd log ----"; cat "$TMP/vnetd.log" 2>/dev/null
    for f in "$TMP"/*.out; do [ -s "$f" ] && { echo "---- $f"; cat "$f"; }; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

check() { # description, command...
  local what=$1; shift
  CHECKS=$((CHECKS + 1))
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; FAILURES=$((FAILURES + 1)); fi
}
ctl() { "$VNETCTL" --socket "$SOCK" "$@"; }
start_daemon() {
  mkdir -p "$TMP/state" "$TMP/run"
  "$VNETD" --state-dir "$TMP/state" --run-dir "$TMP/run" --hugepages no --pmd-idle-sleep-us 100 \
    >>"$TMP/vnetd.log" 2>&1 &
  DAEMON=$!
  for _ in $(seq 100); do ctl net-list >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "vnetd did not come up"; FAILURES=$((FAILURES + 1)); exit 1
}
make_client() { # mac
  ip netns add "$NS" || skip "cannot create a network namespace"
  ip link add "$HOSTIF" type veth peer name eth0 netns "$NS" || skip "cannot create a veth pair"
  ip link set "$HOSTIF" up
  ip -n "$NS" link set lo up
  ip -n "$NS" link set eth0 address "$1"
  ip -n "$NS" link set eth0 up
  # veth leaves TCP/UDP checksums to offload; a switch port sees them unfinished.
  ip netns exec "$NS" ethtool -K eth0 tx off >/dev/null 2>&1
  mkdir -p "$TMP/dh"
  cat >"$TMP/dh/script" <<'S'
#!/bin/sh
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    echo "routers=$new_routers dns=$new_domain_name_servers domain=$new_domain_name mtu=$new_interface_mtu lease=$new_dhcp_lease_time ip=$new_ip_address" >"$(dirname "$0")/bound"
    ;;
esac
exit 0
S
  chmod +x "$TMP/dh/script"
}
dhclient_run() {
  timeout 40 ip netns exec "$NS" dhclient -1 -4 -sf "$TMP/dh/script" -lf "$TMP/dh/lease" -pf "$TMP/dh/pid" \
    -cf /dev/null eth0 >"$TMP/dhclient.out" 2>&1
}
bound_field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$TMP/dh/bound" 2>/dev/null; }

NET_XML=$TMP/net.xml
case $scenario in
nat)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwnat</name>
  <forward mode='nat'/>
  <bridge name='vgwbr0'/>
  <mac address='52:54:00:0a:0b:01'/>
  <domain name='example.test'/>
  <dns>
    <txt name='info' value='vnet gateway'/>
    <srv service='http' protocol='tcp' domain='example.test' target='web.example.test' port='80' priority='10' weight='5'/>
    <host ip='10.77.0.50'><hostname>web</hostname></host>
  </dns>
  <ip address='10.77.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.77.0.100' end='10.77.0.150'/>
      <host mac='52:54:00:0a:0b:77' name='guest7' ip='10.77.0.7'/>
    </dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwnat
  make_client 52:54:00:0a:0b:77
  check "port-add afpacket" ctl port-add gwnat --type afpacket --ifname "$HOSTIF" --name c0
  check "dhclient gets a lease" dhclient_run
  check "static host address 10.77.0.7" [ "$(bound_field ip)" = 10.77.0.7 ]
  check "router option is the gateway" [ "$(bound_field routers)" = 10.77.0.1 ]
  check "DNS server is the gateway" [ "$(bound_field dns)" = 10.77.0.1 ]
  check "domain name" [ "$(bound_field domain)" = example.test ]
  check "ping the gateway" ip netns exec "$NS" ping -c 2 -W 2 10.77.0.1
  d() { ip netns exec "$NS" dig +short +time=2 +tries=2 @10.77.0.1 "$@"; }
  check "A of a <dns><host>" [ "$(d web.example.test A)" = 10.77.0.50 ]
  check "A of the DHCP client's name" [ "$(d guest7.example.test A)" = 10.77.0.7 ]
  check "PTR of the DHCP client" [ "$(d -x 10.77.0.7)" = guest7.example.test. ]
  check "TXT" [ "$(d info TXT)" = '"vnet gateway"' ]
  check "SRV" [ "$(d _http._tcp.example.test SRV)" = "10 5 80 web.example.test." ]
  status=$(ip netns exec "$NS" dig +time=2 +tries=2 @10.77.0.1 nosuch.example.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
  check "NXDOMAIN for an unknown local name" [ "$status" = NXDOMAIN ]
  check "net-dhcp-leases lists the lease" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwnat | grep -q '52:54:00:0a:0b:77.*10.77.0.7/24.*guest7'"
  check "the gateway MAC is a local FDB entry" bash -c "'$VNETCTL' --socket '$SOCK' fdb-show gwnat | grep -q 'gateway.*52:54:00:0a:0b:01'"
  check "net-autostart" ctl net-autostart gwnat
  stop_daemon
  start_daemon
  check "lease survives a vnetd restart" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwnat | grep -q '52:54:00:0a:0b:77.*10.77.0.7/24'"
  ;;
udhcpc)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwu</name>
  <forward mode='nat'/>
  <bridge name='vgwbr1'/>
  <ip address='10.78.0.1' prefix='24'>
    <dhcp><range start='10.78.0.10' end='10.78.0.20'/></dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwu
  make_client 52:54:00:0c:0d:01
  check "port-add afpacket" ctl port-add gwu --type afpacket --ifname "$HOSTIF" --name c0
  cat >"$TMP/udhcpc.sh" <<S
#!/bin/sh
[ "\$1" = bound ] && echo "ip=\$ip router=\$router dns=\$dns" >"$TMP/udhcpc.bound"
exit 0
S
  chmod +x "$TMP/udhcpc.sh"
  check "udhcpc gets a lease" timeout 40 ip netns exec "$NS" busybox udhcpc -i eth0 -n -q -t 5 -T 2 -s "$TMP/udhcpc.sh"
  ip=$(sed -n 's/.*ip=\([^ ]*\).*/\1/p' "$TMP/udhcpc.bound" 2>/dev/null)
  last=${ip##*.}
  check "address $ip in 10.78.0.10-20" bash -c "[ '${ip%.*}' = 10.78.0 ] && [ '$last' -ge 10 ] && [ '$last' -le 20 ]"
  check "router 10.78.0.1" grep -q 'router=10.78.0.1 ' "$TMP/udhcpc.bound"
  check "net-dhcp-leases lists it" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwu | grep -q '52:54:00:0c:0d:01.*$ip/24'"
  ;;
isolated)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwiso</name>
  <bridge name='vgwbr2'/>
  <ip address='10.79.0.1' prefix='24'>
    <dhcp><range start='10.79.0.10' end='10.79.0.20'/></dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwiso
  make_client 52:54:00:0e:0f:01
  check "port-add afpacket" ctl port-add gwiso --type afpacket --ifname "$HOSTIF" --name c0
  check "dhclient gets a lease" dhclient_run
  check "no router option on an isolated network" [ -z "$(bound_field routers)" ]
  check "lease in the range" bash -c "case '$(bound_field ip)' in 10.79.0.1[0-9]|10.79.0.20) true;; *) false;; esac"
  ;;
*) echo "unknown scenario $scenario"; exit 2 ;;
esac
echo "$CHECKS checks, $FAILURES failed"
[ "$FAILURES" -eq 0 ]
