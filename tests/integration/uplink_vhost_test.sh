#!/usr/bin/env bash
# Integration tests of a vhost-user uplink (<vnet:uplink type='vhostuser'>):
# a real vnetd (DPDK, --hugepages no) routes a nat/route network through a
# vhost-user socket instead of a kernel interface. Two vnet_peer processes
# (net_virtio_user, --no-huge) play the guest (on a guest port) and the
# outside (on the uplink socket; its --ip is the uplink gateway, so it answers
# vnetd's ARP for the next hop and stands for the router beyond it).
#
#   uplink_vhost_test.sh SCENARIO VNETD VNETCTL VNET_PEER
#
#   nat    masquerade to the uplink address, <nat><port start end>; vnetd is the
#          socket's server at the default path <run_dir>/NET/uplink.sock
#   snat   <nat><address start end> and a port range
#   route  no translation both ways; the outside is the server (mode='client')
#          on a path given in the XML
#
# Exit 0: all checks passed; 1: a check failed; 77: the host lacks something
# the scenario needs (the reason is printed).
set -u

scenario=$1
. "$(dirname "$0")/peer_lib.sh"
peer_lib_init uplink "$2" "$3" "$4"

NET=up$TAG
GUEST_IP=192.168.150.10
GATEWAY_IP=192.168.150.1
UPLINK_IP=198.51.100.2
UPLINK_GW=198.51.100.1
REMOTE_IP=203.0.113.5
M_GUEST=02:00:00:00:01:0a
M_OUT=02:00:00:00:01:0b

# udp NAME NEXTHOP SRC:PORT DST:PORT [COUNT]: send datagrams; prints the
# answer, "udp sent N" (or the peer's "error ..." line).
udp() {
  local name=$1
  shift
  ask_untagged "$name" '^udp sent \|^error' 30 udp "$@"
}

# udp_field NAME FIELD: udp_rx, last_src, last_dst or icmp_unreach of the peer.
udp_field() {
  ask "$1" udpstats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# wait_udp NAME COUNT SECS: until the peer has received COUNT datagrams.
wait_udp() {
  for _ in $(seq $(($3 * 10))); do
    [ "$(udp_field "$1" udp_rx)" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

nat_counter() {
  ctl --json nat-stats "$NET" | jq -r ".counters.$1 // 0"
}

# define_net FORWARD UPLINK_ATTRS: define and start $NET with a vhost-user uplink.
define_net() {
  cat >"$TMP/net.xml" <<EOF
<network xmlns:vnet='urn:vnet:network:1'>
  <name>$NET</name>
  $1
  <ip address='$GATEWAY_IP' prefix='24'/>
  <vnet:uplink address='$UPLINK_IP' prefix='24' gateway='$UPLINK_GW' type='vhostuser' $2/>
</network>
EOF
  ctl_ok "define" net-define "$TMP/net.xml" || return 1
  ctl_ok "dumpxml round trip" net-dumpxml "$NET" || return 1
  CHECKS=$((CHECKS + 1))
  grep -q "<vnet:uplink address='$UPLINK_IP' prefix='24' gateway='$UPLINK_GW' type='vhostuser'" "$TMP/ctl.out" ||
    fail "net-dumpxml: $(cat "$TMP/ctl.out")"
}

# The guest: a vnet_peer on a guest port that resolves the gateway.
start_guest() {
  ctl_ok "port-add g" port-add "$NET" --name g || return 1
  start_peer G "$RUN/$NET/g.sock" $M_GUEST $GUEST_IP || return 1
  check "guest link up" "$(ask G link 20 | awk '{print $2}')" = up
  check "guest resolves the gateway" "$(ask G resolve $GATEWAY_IP 10 | awk '{print $2}')" = is-at
}

# The outside resolves vnet's uplink address (vnet answers ARP for it).
outside_resolves_uplink() {
  check "outside link up" "$(ask O link 20 | awk '{print $2}')" = up
  check "outside resolves $1" "$(ask O resolve "$1" 10 | awk '{print $2}')" = is-at
}

# ip_of ENDPOINT, port_of ENDPOINT: "A.B.C.D:P" -> A.B.C.D / P
ip_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }
ip_num() { local IFS=.; read -r a b c d <<<"$1"; echo $(( (a << 24) | (b << 16) | (c << 8) | d )); }

# nat_scenario ADDR_FIRST ADDR_LAST PORT_FIRST PORT_LAST NAT_XML
nat_scenario() {
  local first=$1 last=$2 pfirst=$3 plast=$4 natxml=$5
  start_daemon || return
  define_net "<forward mode='nat'>$natxml</forward>" "" || return
  ctl_ok "start" net-start "$NET" || return
  local usock=$RUN/$NET/uplink.sock
  check "uplink socket at the default path" -S "$usock"
  start_guest || return
  start_peer O "$usock" $M_OUT $UPLINK_GW || return
  outside_resolves_uplink $UPLINK_IP

  check "nat-stats uplink_type" "$(ctl --json nat-stats "$NET" | jq -r .uplink_type)" = vhostuser
  check "nat-stats uplink_socket" "$(ctl --json nat-stats "$NET" | jq -r .uplink_socket)" = "$usock"
  check "nat-stats uplink_mode" "$(ctl --json nat-stats "$NET" | jq -r .uplink_mode)" = server
  CHECKS=$((CHECKS + 1))
  ctl nat-stats "$NET" | grep -q "Uplink: *$usock (vhostuser server)" || fail "nat-stats text: $(ctl nat-stats "$NET")"

  # Outbound: guest -> remote; the outside sees the NAT address and a port in range.
  check "guest sends" "$(udp G $GATEWAY_IP $GUEST_IP:5555 $REMOTE_IP:7000 1)" = "udp sent 1"
  # The first datagram may wait for the next hop's ARP: resend until one arrives.
  local n
  for n in 1 2 3 4 5; do
    wait_udp O 1 2 && break
    udp G $GATEWAY_IP $GUEST_IP:5555 $REMOTE_IP:7000 1 >/dev/null
  done
  check "the outside received the datagram" "$(udp_field O udp_rx)" -ge 1
  local src dst sip sport
  src=$(udp_field O last_src)
  dst=$(udp_field O last_dst)
  sip=$(ip_of "$src")
  sport=$(port_of "$src")
  check "destination untouched" "$dst" = "$REMOTE_IP:7000"
  check "source address $sip in $first..$last" "$(ip_num "$sip")" -ge "$(ip_num "$first")"
  check "source address $sip in $first..$last (end)" "$(ip_num "$sip")" -le "$(ip_num "$last")"
  check "source port $sport in $pfirst..$plast" "$sport" -ge "$pfirst"
  check "source port $sport in $pfirst..$plast (end)" "$sport" -le "$plast"
  check "nat-stats counts the session" "$(ctl --json nat-stats "$NET" | jq -r .sessions)" -ge 1
  CHECKS=$((CHECKS + 1))
  ctl nat-sessions "$NET" | grep -q "$GUEST_IP:5555" || fail "nat-sessions: $(ctl nat-sessions "$NET")"

  # The reply comes back to the guest, translated back.
  local before
  before=$(udp_field G udp_rx)
  # vnetd answers ARP for every NAT address (here the next hop of the reply).
  check "outside resolves the NAT address $sip" "$(ask O resolve "$sip" 10 | awk '{print $2}')" = is-at
  check "outside replies" "$(udp O "$sip" $REMOTE_IP:7000 "$src" 3)" = "udp sent 3"
  wait_udp G $((before + 3)) 5
  check "the guest received the replies" "$(udp_field G udp_rx)" -eq $((before + 3))
  check "reply source at the guest" "$(udp_field G last_src)" = "$REMOTE_IP:7000"
  check "reply destination at the guest" "$(udp_field G last_dst)" = "$GUEST_IP:5555"

  # Unsolicited inbound: refused (ICMP port unreachable to the sender) and counted.
  local refused unreach guest_rx
  refused=$(nat_counter no_session)
  unreach=$(udp_field O icmp_unreach)
  guest_rx=$(udp_field G udp_rx)
  check "unsolicited sent" "$(udp O "$sip" $REMOTE_IP:7001 "$sip:$sport" 1)" = "udp sent 1"
  check "unsolicited to the guest sent" "$(udp O $UPLINK_IP $REMOTE_IP:7001 $GUEST_IP:5555 1)" = "udp sent 1"
  sleep 0.5
  check "no_session counted" "$(nat_counter no_session)" -ge $((refused + 1))
  check "refused inbound never reaches the guest" "$(udp_field G udp_rx)" -eq "$guest_rx"
  check "the sender got ICMP port unreachable" "$(udp_field O icmp_unreach)" -ge $((unreach + 1))
  check "uplink rx counted" "$(ctl --json nat-stats "$NET" | jq -r .uplink_stats.rx_packets)" -ge 5

  # Destroy and start again: the socket goes away with the network and a new
  # one (a stale file would make bind() fail) takes its place.
  stop_peer O
  ctl_ok "destroy" net-destroy "$NET" || return
  ctl_ok "start again" net-start "$NET" || return
  check "uplink socket back" -S "$usock"
  start_peer O "$usock" $M_OUT $UPLINK_GW || return
  check "outside link up again" "$(ask O link 20 | awk '{print $2}')" = up
  check "nat-stats after restart" "$(ctl --json nat-stats "$NET" | jq -r .uplink_socket)" = "$usock"
}

scenario_nat() {
  nat_scenario $UPLINK_IP $UPLINK_IP 20000 20099 "<nat><port start='20000' end='20099'/></nat>"
}

scenario_snat() {
  nat_scenario 198.51.100.10 198.51.100.12 1024 65535 "<nat><address start='198.51.100.10' end='198.51.100.12'/></nat>"
}

scenario_route() {
  # The outside is the vhost-user server; vnetd connects (mode='client').
  local usock=$TMP/outside.sock
  start_peer O "$usock" $M_OUT $UPLINK_GW --server
  start_daemon || return
  define_net "<forward mode='route'/>" "path='$usock' mode='client'" || return
  ctl_ok "start" net-start "$NET" || return
  wait_ready O || return
  start_guest || return
  outside_resolves_uplink $UPLINK_IP
  check "nat-stats uplink_mode" "$(ctl --json nat-stats "$NET" | jq -r .uplink_mode)" = client
  check "nat-stats uplink_socket" "$(ctl --json nat-stats "$NET" | jq -r .uplink_socket)" = "$usock"

  # Outbound, untranslated.
  local n
  for n in 1 2 3 4 5; do
    udp G $GATEWAY_IP $GUEST_IP:5555 $REMOTE_IP:7000 1 >/dev/null
    wait_udp O 1 2 && break
  done
  check "outside got the guest's datagram" "$(udp_field O udp_rx)" -ge 1
  check "route: source untranslated" "$(udp_field O last_src)" = "$GUEST_IP:5555"
  check "route: destination untouched" "$(udp_field O last_dst)" = "$REMOTE_IP:7000"

  # Inbound from outside to the guest, without any earlier flow: routed as is.
  local before
  before=$(udp_field G udp_rx)
  check "outside sends inbound" "$(udp O $UPLINK_IP $REMOTE_IP:9000 $GUEST_IP:6000 2)" = "udp sent 2"
  wait_udp G $((before + 2)) 5
  check "route: the guest received the inbound datagrams" "$(udp_field G udp_rx)" -eq $((before + 2))
  check "route: inbound source untranslated" "$(udp_field G last_src)" = "$REMOTE_IP:9000"
  check "route: inbound destination untranslated" "$(udp_field G last_dst)" = "$GUEST_IP:6000"
  check "route has no sessions" "$(ctl --json nat-stats "$NET" | jq -r .sessions)" -eq 0
}

command -v jq >/dev/null || skip "no jq (Debian package jq): needed to read vnetctl --json"

case $scenario in
  nat) scenario_nat ;;
  snat) scenario_snat ;;
  route) scenario_route ;;
  *) echo "unknown scenario '$scenario'"; exit 2 ;;
esac

echo "$scenario: $CHECKS checks, $FAILURES failed"
[ "$FAILURES" -eq 0 ]
