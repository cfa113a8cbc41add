#!/usr/bin/env bash
# NAT / routing integration: a real vnetd whose nat or route network has an
# uplink (afpacket on the host end of a veth) into an "outside" namespace
# running real servers (busybox httpd, a UDP echo, the ping target), and a
# guest namespace behind an afpacket port that gets its address by DHCP.
#
#   nat_test.sh SCENARIO VNETD VNETCTL
#     nat    curl, UDP, ping and iperf3 (TCP) from the guest reach the outside
#            through NAT;
#            tcpdump in the outside namespace sees only the uplink address
#            and source ports inside <nat><port start end>; nat-sessions
#            lists the flows; unsolicited inbound is refused and counted
#     afxdp  the same as nat with <vnet:uplink type='afxdp'>: the uplink veth
#            and the guest's veth are attached with AF_XDP instead of
#            AF_PACKET; datagrams larger than the MTU cross NAT in fragments
#            both ways (DPDK's af_packet ports let the kernel reassemble IPv4
#            fragments, so they are not used for that)
#     tap    the same as afxdp with the guest on a tap port of vnetd moved
#            into the guest's namespace
#     route  the same traffic leaves untranslated (the guest's own address),
#            and the outside reaches the guest through the route
#     none   a nat network without any uplink starts, says so in the log,
#            and its guest does not reach the outside
#
# Exit 0: every check passed; 1: a check failed; 77: the host lacks a tool.
set -u
scenario=$1 VNETD=$2 VNETCTL=$3
. "$(dirname "$0")/lib.sh"
lib_init nat
TAG=$$
G=vnatg$TAG          # guest namespace
O=vnato$TAG          # outside namespace
GH=vng$TAG           # host end of the guest veth (afpacket guest port)
UH=vnu$TAG           # host end of the uplink veth (afpacket uplink)
CLIENT_NS=$G
PY=/usr/bin/python3
need ip ethtool dhclient busybox curl tcpdump iperf3 $PY

# The guest: a namespace behind a veth whose host end becomes an afpacket port.
make_guest() {
  add_netns "$G"
  add_veth "$GH" "$G" 52:54:00:88:00:10
  write_dhclient_script
}
# Or a tap port of vnetd moved into the namespace as its eth0.
make_guest_tap() {
  add_netns "$G"
  write_dhclient_script
}
add_guest_port() { # afpacket | afxdp | tap
  if [ "$1" = tap ]; then
    ctl port-add $NET --type tap --ifname "$GH" --name g0 || return 1
    ip link set "$GH" netns "$G" || return 1
    ip -n "$G" link set "$GH" name eth0 || return 1
    ip -n "$G" link set eth0 address 52:54:00:88:00:10 || return 1
    ip -n "$G" link set eth0 up
  else
    ctl port-add $NET --type "$1" --ifname "$GH" --name g0
  fi
}
guest_ip() { bound_field ip; }

# The outside: 198.51.100.1/24 behind the uplink veth, with an HTTP server,
# a UDP echo server and a capture of everything that arrives from vnet.
make_outside() {
  add_netns "$O"
  # vnet owns the uplink: no address and no IPv6 on the host end.
  add_veth "$UH" "$O"
  ip -n "$O" addr add 198.51.100.1/24 dev eth0
  mkdir -p "$TMP/www"
  echo "hello from outside" >"$TMP/www/hello.txt"
  ip netns exec "$O" busybox httpd -f -p 198.51.100.1:8080 -h "$TMP/www" >"$TMP/httpd.out" 2>&1 &
  cat >"$TMP/udp_echo.py" <<'P'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data + (" from %s:%d" % peer).encode(), peer)
P
  ip netns exec "$O" $PY "$TMP/udp_echo.py" 198.51.100.1 7007 >"$TMP/udpecho.out" 2>&1 &
  ip netns exec "$O" tcpdump -i eth0 -nn -l -U -w "$TMP/outside.pcap" ip >"$TMP/tcpdump.out" 2>&1 &
  TCPDUMP=$!
  sleep 1
}
udp_ask() { # dst port -> prints the reply
  ip netns exec "$G" $PY - "$1" "$2" <<'P'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(2048)[0].decode()); break
    except socket.timeout:
        pass
P
}
udp_big() { # dst port -> "LENGTH SUFFIX" of the echo of a 3000-byte datagram (fragmented both ways)
  ip netns exec "$G" $PY - "$1" "$2" <<'P'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(b"x" * 3000, (sys.argv[1], int(sys.argv[2])))
    try:
        d = s.recvfrom(65535)[0]
        print(len(d), d[3000:].decode().strip()); break
    except socket.timeout:
        pass
P
}
capture() { # tcpdump -r filters... -> text
  kill -INT "$TCPDUMP" 2>/dev/null; wait "$TCPDUMP" 2>/dev/null
  tcpdump -nn -r "$TMP/outside.pcap" "$@" 2>/dev/null
}
counter() { # name -> the nat-stats counter (0 when absent)
  ctl --json nat-stats "$NET" | $PY -c "import json,sys; print(json.load(sys.stdin).get('counters',{}).get('$1',0))"
}

NET=natnet
NET_XML=$TMP/net.xml
write_xml() { # forward element
  cat >"$NET_XML" <<X
<network xmlns:vnet='urn:vnet:network:1'>
  <name>$NET</name>
  $1
  <mac address='52:54:00:88:00:01'/>
  <ip address='10.88.0.1' netmask='255.255.255.0'>
    <dhcp><range start='10.88.0.100' end='10.88.0.150'/></dhcp>
  </ip>
  $2
</network>
X
}
UPLINK_EL="<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>"

GUEST_PORT=afpacket
case $scenario in
tap | afxdp)
  UPLINK_EL="<vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1' type='afxdp'/>"
  GUEST_PORT=$scenario
  ;&
nat)
  make_outside
  if [ $GUEST_PORT = tap ]; then make_guest_tap; else make_guest; fi
  write_xml "<forward mode='nat' dev='$UH'><nat><port start='40000' end='40099'/></nat></forward>" "$UPLINK_EL"
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start $NET
  check "the log names the uplink" grep -q "nat through uplink '$UH' as 198.51.100.2/24 via 198.51.100.1" "$TMP/vnetd.log"
  check "port-add $GUEST_PORT" add_guest_port $GUEST_PORT
  check "dhclient gets a lease" dhclient_run
  check "the default route is the gateway" bash -c "ip -n $G route | grep -q 'default via 10.88.0.1'"
  check "ping through NAT" ip netns exec "$G" ping -c 3 -W 2 198.51.100.1
  check "curl through NAT" bash -c "ip netns exec $G curl -s -m 10 http://198.51.100.1:8080/hello.txt | grep -q 'hello from outside'"
  reply=$(udp_ask 198.51.100.1 7007)
  check "UDP echo through NAT ($reply)" bash -c "echo '$reply' | grep -q '^ping from 198.51.100.2:400[0-9][0-9]$'"
  if [ $GUEST_PORT != afpacket ]; then
    # Datagrams larger than the MTU: both kernels fragment, vnet translates
    # every fragment (the first by its ports, the others by its note).
    check "ping with 3000-byte payloads through NAT" ip netns exec "$G" ping -c 2 -s 3000 -W 2 198.51.100.1
    reply=$(udp_big 198.51.100.1 7007)
    check "3000-byte UDP echo through NAT ($reply)" bash -c "echo '$reply' | grep -Eq '^30[0-9]{2} from 198.51.100.2:400[0-9]{2}$'"
    check "later fragments translated (fragments=$(counter fragments))" [ "$(counter fragments)" -ge 6 ]
    check "no fragment dropped (fragment_no_first=$(counter fragment_no_first))" [ "$(counter fragment_no_first)" -eq 0 ]
  fi
  ip netns exec "$O" iperf3 -s -1 -B 198.51.100.1 -p 5201 >"$TMP/iperf3-server.out" 2>&1 &
  sleep 0.5
  ip netns exec "$G" timeout 30 iperf3 -c 198.51.100.1 -p 5201 -t 3 -J >"$TMP/iperf3.json" 2>"$TMP/iperf3.out"
  bps=$($PY -c "import json; print(int(json.load(open('$TMP/iperf3.json'))['end']['sum_received']['bits_per_second']))" 2>/dev/null)
  check "iperf3 TCP through NAT (${bps:-no result} bit/s)" [ "${bps:-0}" -gt 1000000 ]
  check "iperf3's server saw the uplink address and a port in range" \
    grep -Eq 'Accepted connection from 198\.51\.100\.2, port 400[0-9]{2}\b' "$TMP/iperf3-server.out"
  check "nat-stats: next hop resolved" bash -c "'$VNETCTL' --socket '$SOCK' nat-stats $NET | grep -q 'Next hop:.*198.51.100.1 ..:..:..:..:..:..'"
  ctl nat-sessions $NET >"$TMP/sessions.out" 2>&1
  check "nat-sessions lists tcp, udp and icmp" bash -c "grep -q '^ *tcp .*198.51.100.2:400' $TMP/sessions.out && grep -q '^ *udp .*198.51.100.2:400' $TMP/sessions.out && grep -q '^ *icmp' $TMP/sessions.out"
  check "in2out counted" [ "$(counter in2out)" -gt 0 ]
  # Unsolicited inbound: the outside routes the guest subnet to vnet and tries.
  ip -n "$O" route add 10.88.0.0/24 via 198.51.100.2
  before=$(( $(counter no_session) + $(counter not_our_address) + $(counter dst_not_in_network) ))
  check "unsolicited ping to the guest fails" bash -c "! ip netns exec $O ping -c 2 -W 1 $(guest_ip)"
  check "unsolicited TCP to the guest fails" bash -c "! ip netns exec $O curl -s -m 3 http://$(guest_ip):8080/"
  after=$(( $(counter no_session) + $(counter not_our_address) + $(counter dst_not_in_network) ))
  check "unsolicited inbound is counted ($before -> $after)" [ "$after" -gt "$before" ]
  ctl --json nat-stats $NET >"$TMP/natstats.out" 2>&1
  capture "src host 198.51.100.2 or src net 10.88.0.0/24" >"$TMP/capture.out"
  check "the capture saw the guest's traffic" [ "$(grep -c . "$TMP/capture.out")" -ge 6 ]
  check "no inside address leaked" bash -c "! grep -q ' 10\.88\.0\.[0-9]*[.>]' $TMP/capture.out"
  ports_ok=$(tcpdump -nn -r "$TMP/outside.pcap" "src host 198.51.100.2 and (tcp or udp)" 2>/dev/null |
    sed -n 's/.* 198\.51\.100\.2\.\([0-9]*\) >.*/\1/p' |
    awk 'BEGIN{n=0; bad=0} {n++; if ($1 < 40000 || $1 > 40099) bad++} END{print (n > 0 && bad == 0) ? "yes" : "no:" n ":" bad}')
  check "source ports inside 40000-40099 ($ports_ok)" [ "$ports_ok" = yes ]
  if [ "$scenario" != nat ]; then
    check "nat-stats: the uplink is attached with AF_XDP" \
      bash -c "'$VNETCTL' --socket '$SOCK' --json nat-stats $NET | grep -q '\"uplink_type\": *\"afxdp\"'"
  fi
  ;;
route)
  make_outside
  make_guest
  write_xml "<forward mode='route' dev='$UH'/>" "$UPLINK_EL"
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start $NET
  check "port-add afpacket" ctl port-add $NET --type afpacket --ifname "$GH" --name g0
  check "dhclient gets a lease" dhclient_run
  ip -n "$O" route add 10.88.0.0/24 via 198.51.100.2
  check "ping routed" ip netns exec "$G" ping -c 3 -W 2 198.51.100.1
  check "curl routed" bash -c "ip netns exec $G curl -s -m 10 http://198.51.100.1:8080/hello.txt | grep -q 'hello from outside'"
  reply=$(udp_ask 198.51.100.1 7007)
  check "UDP echo sees the guest's own address ($reply)" bash -c "echo '$reply' | grep -q '^ping from $(guest_ip):'"
  check "the outside reaches the guest" ip netns exec "$O" ping -c 2 -W 2 "$(guest_ip)"
  capture "src net 10.88.0.0/24" >"$TMP/capture.out"
  check "the capture shows the guest's address untranslated" [ "$(grep -c . "$TMP/capture.out")" -ge 4 ]
  check "nat-sessions refuses a route network" bash -c "! '$VNETCTL' --socket '$SOCK' nat-sessions $NET"
  ;;
none)
  make_outside
  make_guest
  write_xml "<forward mode='nat'/>" ""
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start without an uplink" ctl net-start $NET
  check "the log says there is no uplink" grep -q "without an uplink" "$TMP/vnetd.log"
  check "port-add afpacket" ctl port-add $NET --type afpacket --ifname "$GH" --name g0
  check "dhclient gets a lease" dhclient_run
  check "ping the gateway" ip netns exec "$G" ping -c 2 -W 2 10.88.0.1
  check "the outside is not reached" bash -c "! ip netns exec $G ping -c 2 -W 1 198.51.100.1"
  capture "src net 10.88.0.0/24" >"$TMP/capture.out"
  check "nothing arrived outside" [ ! -s "$TMP/capture.out" ]
  check "nat-stats says there is no uplink" bash -c "'$VNETCTL' --socket '$SOCK' nat-stats $NET 2>&1 | grep -q 'without an uplink'"
  ;;
*)
  echo "unknown scenario $scenario"; exit 2 ;;
esac

lib_finish

