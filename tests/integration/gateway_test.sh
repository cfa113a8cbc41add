#!/usr/bin/env bash
# Gateway integration: a real vnetd whose network has a gateway (ARP, ICMP,
# DHCPv4, DNS), and real clients in a network namespace behind an afpacket
# port on a veth pair: ISC dhclient, busybox udhcpc, dig, ping.
#
#   gateway_test.sh SCENARIO VNETD VNETCTL
#     nat       dhclient gets a static host's address with router/DNS/domain,
#               pings the gateway, dig answers A/PTR/TXT/SRV and NXDOMAIN over
#               UDP and over TCP (several queries on one connection, an answer
#               larger than one segment), other TCP ports are refused,
#               net-dhcp-leases lists the lease, which survives a vnetd restart
#               (the network autostarts)
#     udhcpc    busybox udhcpc gets an address from the range
#     isolated  an isolated network's lease has no router option
#     dhcpcd    dhcpcd (RFC 5227 ARP probing before it binds) gets an address
#               from the range and the DNS server and domain, and sends no
#               DHCPDECLINE
#     update    net-update --live while a client is attached: an added
#               <dhcp><host> gives dhclient its new static address and name, an
#               added <dns><host> resolves; after deleting both, the name is
#               NXDOMAIN and dhclient is back in the range; vnetd, the port and
#               the network are never restarted
#     renew     busybox udhcpc renews its lease (SIGUSR1: unicast REQUEST in
#               RENEWING state) and releases it (SIGUSR2: RELEASE), which
#               ends the lease in net-dhcp-leases
#     forward   names the gateway does not own go to upstream resolvers
#               through the host's sockets: <forwarder addr> and
#               <forwarder domain addr> reach a stub dnsmasq in another
#               namespace, routed from the host
#     ipv6      the client's kernel configures itself from the gateway's
#               router advertisement (SLAAC address in the <ip>'s prefix,
#               default route through the gateway's link-local address), pings
#               the gateway's IPv6 <ip> and link-local address (Neighbor
#               Discovery answered, the gateway listed as a router), and its
#               duplicate address detection for the gateway's address fails
#     tftp      PXE: udhcpc is told the boot file and next server; curl and
#               busybox tftp fetch files from <tftp root> (default and larger
#               block sizes, a file of more than 65535 blocks), a missing
#               file, a file that is not world-readable and a path out of the
#               root are refused with the TFTP errors dnsmasq sends
#
# Exit 0: every check passed; 1: a check failed; 77: the host lacks a tool.
set -u
scenario=$1 VNETD=$2 VNETCTL=$3
. "$(dirname "$0")/lib.sh"
lib_init gw
TAG=$$
NS=vgw$TAG
HOSTIF=vgwh$TAG
UPNS=vgwu$TAG        # forward: the upstream resolvers' namespace
UPIF=vgwuh$TAG
CLIENT_NS=$NS
need ip ethtool dig dhclient busybox jq

# Runs a command in the namespace with private overlays on /etc, /var/lib and
# /run, so what a DHCP client writes there (resolv.conf, lease files, pid
# files) stays in $TMP.
ns_private() {
  local d=$TMP/overlay
  mkdir -p "$d"/etc.u "$d"/etc.w "$d"/varlib.u "$d"/varlib.w "$d"/run.u "$d"/run.w
  ip netns exec "$NS" unshare -m -u --propagation private /bin/sh -c '
    d=$1; shift
    mount -t overlay vnet-gw-etc -o lowerdir=/etc,upperdir=$d/etc.u,workdir=$d/etc.w /etc &&
    mount -t overlay vnet-gw-varlib -o lowerdir=/var/lib,upperdir=$d/varlib.u,workdir=$d/varlib.w /var/lib &&
    mount -t overlay vnet-gw-run -o lowerdir=/run,upperdir=$d/run.u,workdir=$d/run.w /run || exit 99
    hostname vnet-gw-client
    exec "$@"' vnet-gw-ns "$d" "$@"
}
# busybox udhcpc in $NS until it binds once; its script writes the listed
# variables as "name=value ..." to $TMP/udhcpc.bound.
udhcpc_once() { # variable names...
  local fields="" v
  for v in "$@"; do fields+="$v=\$$v "; done
  cat >"$TMP/udhcpc.sh" <<S
#!/bin/sh
[ "\$1" = bound ] && echo "${fields% }" >"$TMP/udhcpc.bound"
exit 0
S
  chmod +x "$TMP/udhcpc.sh"
  timeout 40 ip netns exec "$NS" busybox udhcpc -i eth0 -n -q -t 5 -T 2 -s "$TMP/udhcpc.sh"
}
make_client() { # mac
  add_netns "$NS"
  add_veth "$HOSTIF" "$NS" "$1"
  write_dhclient_script
}

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
    <txt name='big' value='BIGTXT'/>
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
  big_value=$(for c in a b c d e f g h i j k l; do printf '%s,' "$(printf "%0200d" 0 | tr 0 $c)"; done)
  sed -i "s/BIGTXT/${big_value%,}/" "$NET_XML"
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
  check "A over TCP (dig +tcp)" [ "$(d +tcp web.example.test A)" = 10.77.0.50 ]
  check "PTR over TCP" [ "$(d +tcp -x 10.77.0.7)" = guest7.example.test. ]
  check "three queries on one TCP connection" \
    [ "$(d +tcp +keepopen web.example.test A guest7.example.test A info TXT | tr '\n' ' ')" = '10.77.0.50 10.77.0.7 "vnet gateway" ' ]
  ip netns exec "$NS" dig +tcp +time=2 +tries=2 @10.77.0.1 big TXT >"$TMP/dig-big-tcp.out" 2>&1
  big=$(sed -n 's/^big\.[[:space:]].*TXT[[:space:]]*//p' "$TMP/dig-big-tcp.out" | tr -d '" \n')
  check "a TXT answer larger than one segment over TCP (${#big} chars)" [ "${#big}" -eq 2400 ]
  ip netns exec "$NS" dig +notcp +ignore +time=2 +tries=2 @10.77.0.1 big TXT >"$TMP/dig-big-udp.out" 2>&1
  tcstatus=$(grep -c 'flags:.* tc' "$TMP/dig-big-udp.out")
  check "the same answer over UDP is truncated (TC)" [ "$tcstatus" -ge 1 ]
  check "TCP to another port of the gateway is refused (RST)" \
    bash -c "ip netns exec '$NS' timeout 5 bash -c 'exec 3<>/dev/tcp/10.77.0.1/80' 2>&1 | grep -q 'Connection refused'"
  check "net-dhcp-leases lists the lease" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwnat | grep -q '52:54:00:0a:0b:77.*10.77.0.7/24.*guest7'"
  check "the gateway MAC is a local FDB entry" bash -c "'$VNETCTL' --socket '$SOCK' fdb-show gwnat | grep -q 'gateway.*52:54:00:0a:0b:01'"
  ctl --json gateway-stats gwnat >"$TMP/gwstats.json" 2>&1
  check "gateway-stats counts the DHCP ACK" [ "$(jq '.dhcp.outcomes.ack' "$TMP/gwstats.json")" -ge 1 ]
  check "gateway-stats counts DNS TCP connections" [ "$(jq '.dns.tcp.established' "$TMP/gwstats.json")" -ge 3 ]
  check "gateway-stats counts the refused TCP port" [ "$(jq '.counters.tcp_port_closed' "$TMP/gwstats.json")" -ge 1 ]
  check "gateway-stats text" bash -c "'$VNETCTL' --socket '$SOCK' gateway-stats gwnat | grep -q 'dhcp.outcomes.ack: *[1-9]'"
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
  check "udhcpc gets a lease" udhcpc_once ip router dns
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
dhcpcd)
  command -v dhcpcd >/dev/null || skip "dhcpcd not installed"
  command -v tcpdump >/dev/null || skip "tcpdump not installed"
  cat >"$NET_XML" <<'X'
<network>
  <name>gwd</name>
  <forward mode='nat'/>
  <bridge name='vgwbr3'/>
  <domain name='dhcpcd.test'/>
  <ip address='10.80.0.1' prefix='24'>
    <dhcp><range start='10.80.0.10' end='10.80.0.20'/></dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwd
  make_client 52:54:00:10:11:01
  check "port-add afpacket" ctl port-add gwd --type afpacket --ifname "$HOSTIF" --name c0
  ip netns exec "$NS" tcpdump -i eth0 -n -l -v 'udp port 67 or udp port 68 or arp' >"$TMP/dhcp-capture.out" 2>&1 &
  capture=$!
  sleep 1
  # dhcpcd asks for DNS only when its configuration says so; -L: no IPv4LL.
  cat >"$TMP/dhcpcd.sh" <<S
#!/bin/sh
printf 'option domain_name_servers, domain_name, domain_search, interface_mtu\nnoipv6rs\n' >/etc/vnet-dhcpcd.conf
timeout 40 dhcpcd -4 -1 -B -L -t 20 -f /etc/vnet-dhcpcd.conf eth0 >"$TMP/dhcpcd.out" 2>&1
rc=\$?
cp /etc/resolv.conf "$TMP/dhcpcd.resolv" 2>/dev/null
exit \$rc
S
  chmod +x "$TMP/dhcpcd.sh"
  check "dhcpcd gets a lease" ns_private "$TMP/dhcpcd.sh"
  sleep 2  # a DECLINE would follow the ARP probes right away
  kill "$capture" 2>/dev/null; wait "$capture" 2>/dev/null
  ip=$(ip -n "$NS" -4 -o addr show dev eth0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/24.*/\1/p' | head -1)
  last=${ip##*.}
  check "address $ip in 10.80.0.10-20" bash -c "[ '${ip%.*}' = 10.80.0 ] && [ '${last:-0}' -ge 10 ] && [ '${last:-0}' -le 20 ]"
  check "DNS server from DHCP" grep -q '^nameserver 10.80.0.1' "$TMP/dhcpcd.resolv"
  check "domain from DHCP" grep -Eq '^(search|domain) dhcpcd.test' "$TMP/dhcpcd.resolv"
  check "the capture saw the ACK" grep -q 'DHCP-Message (53), length 1: ACK' "$TMP/dhcp-capture.out"
  check "dhcpcd probed its address by ARP" grep -q "Request who-has $ip tell 0.0.0.0" "$TMP/dhcp-capture.out"
  check "no DHCPDECLINE" bash -c "! grep -qi 'Decline' '$TMP/dhcp-capture.out' && ! grep -qi 'declin' '$TMP/dhcpcd.out'"
  check "net-dhcp-leases lists it" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwd | grep -q '52:54:00:10:11:01.*$ip/24'"
  ;;
update)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwup</name>
  <forward mode='nat'/>
  <bridge name='vgwbr4'/>
  <domain name='update.test'/>
  <ip address='10.81.0.1' prefix='24'>
    <dhcp><range start='10.81.0.100' end='10.81.0.150'/></dhcp>
  </ip>
</network>
X
  start_daemon
  daemon_pid=$DAEMON
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwup
  make_client 52:54:00:12:13:01
  check "port-add afpacket" ctl port-add gwup --type afpacket --ifname "$HOSTIF" --name c0
  check "dhclient gets a lease" dhclient_run
  first=$(bound_field ip)
  check "first address $first is in the range" bash -c "case '$first' in 10.81.0.1[0-4][0-9]|10.81.0.150) true;; *) false;; esac"
  d() { ip netns exec "$NS" dig +short +time=2 +tries=2 @10.81.0.1 "$@"; }
  dstatus() { ip netns exec "$NS" dig +time=2 +tries=2 @10.81.0.1 "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
  check "the name to be added is NXDOMAIN before" [ "$(dstatus added.update.test A)" = NXDOMAIN ]

  dhcp_host="<host mac='52:54:00:12:13:01' name='newhost' ip='10.81.0.42'/>"
  dns_host="<host ip='10.81.0.60'><hostname>added</hostname></host>"
  check "net-update add ip-dhcp-host --live" ctl net-update gwup add ip-dhcp-host "$dhcp_host" --live
  check "net-update add dns-host --live" ctl net-update gwup add dns-host "$dns_host" --live
  check "the added <dns><host> resolves" [ "$(d added.update.test A)" = 10.81.0.60 ]
  check "and its PTR" [ "$(d -x 10.81.0.60)" = added.update.test. ]
  dhclient_stop
  check "dhclient runs again" dhclient_run
  check "dhclient gets the new static address 10.81.0.42" [ "$(bound_field ip)" = 10.81.0.42 ]
  check "the static host's name resolves" [ "$(d newhost.update.test A)" = 10.81.0.42 ]
  check "net-dhcp-leases shows the static lease" \
    bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwup | grep -q '52:54:00:12:13:01.*10.81.0.42/24.*newhost'"

  check "net-update delete dns-host --live" ctl net-update gwup delete dns-host "$dns_host" --live
  check "the deleted name is NXDOMAIN" [ "$(dstatus added.update.test A)" = NXDOMAIN ]
  check "net-update delete ip-dhcp-host --live" ctl net-update gwup delete ip-dhcp-host "$dhcp_host" --live
  dhclient_stop
  check "dhclient runs after the delete" dhclient_run
  again=$(bound_field ip)
  check "the address $again is from the range again" bash -c "case '$again' in 10.81.0.1[0-4][0-9]|10.81.0.150) true;; *) false;; esac"
  check "vnetd was not restarted" [ "$DAEMON" = "$daemon_pid" ]
  check "vnetd is still running" kill -0 "$daemon_pid"
  check "the port was never re-added" bash -c "grep -c \"port 'c0' (afpacket) added\" '$TMP/vnetd.log' | grep -qx 1"
  check "the network was started once" bash -c "grep -c \"network 'gwup' started\" '$TMP/vnetd.log' | grep -qx 1"
  dhclient_stop
  ;;
renew)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwrn</name>
  <bridge name='vgwbr5'/>
  <ip address='10.82.0.1' prefix='24'>
    <dhcp><range start='10.82.0.10' end='10.82.0.20'><lease expiry='1' unit='hours'/></range></dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwrn
  make_client 52:54:00:0c:0e:01
  check "port-add afpacket" ctl port-add gwrn --type afpacket --ifname "$HOSTIF" --name c0
  cat >"$TMP/udhcpc.sh" <<S
#!/bin/sh
echo "\$1 ip=\$ip lease=\$lease" >>"$TMP/udhcpc.events"
case "\$1" in
  bound|renew) ip -4 addr replace "\$ip/\$mask" dev "\$interface" ;;
  deconfig) ip -4 addr flush dev "\$interface" ;;
esac
exit 0
S
  chmod +x "$TMP/udhcpc.sh"
  : >"$TMP/udhcpc.events"
  ip netns exec "$NS" busybox udhcpc -f -i eth0 -t 5 -T 2 -A 2 -s "$TMP/udhcpc.sh" >"$TMP/udhcpc.out" 2>&1 &
  UPID=$!
  for _ in $(seq 100); do grep -q '^bound' "$TMP/udhcpc.events" && break; sleep 0.2; done
  check "udhcpc bound" grep -q '^bound ip=10.82.0.' "$TMP/udhcpc.events"
  ip=$(sed -n 's/^bound ip=\([^ ]*\).*/\1/p' "$TMP/udhcpc.events" | head -1)
  acks=$(ctl --json gateway-stats gwrn | jq '.dhcp.outcomes.ack')
  expiry1=$(ctl --json net-dhcp-leases gwrn | jq '.leases[0].expiry_time')
  sleep 1.2
  kill -USR1 "$UPID"
  for _ in $(seq 50); do grep -q '^renew' "$TMP/udhcpc.events" && break; sleep 0.2; done
  check "udhcpc renewed (SIGUSR1)" grep -q "^renew ip=$ip " "$TMP/udhcpc.events"
  check "the renewal was ACKed by the gateway" [ "$(ctl --json gateway-stats gwrn | jq '.dhcp.outcomes.ack')" -gt "$acks" ]
  expiry2=$(ctl --json net-dhcp-leases gwrn | jq '.leases[0].expiry_time')
  check "the renewal extended the lease ($expiry1 -> $expiry2)" [ "$expiry2" -gt "$expiry1" ]
  kill -USR2 "$UPID"
  for _ in $(seq 50); do grep -q '^deconfig' "$TMP/udhcpc.events" && break; sleep 0.2; done
  released=
  for _ in $(seq 50); do
    [ "$(ctl --json gateway-stats gwrn | jq '.dhcp.outcomes.released')" -ge 1 ] && { released=y; break; }
    sleep 0.1
  done
  check "the RELEASE reached the gateway" [ -n "$released" ]
  check "net-dhcp-leases no longer lists the lease" \
    bash -c "! '$VNETCTL' --socket '$SOCK' net-dhcp-leases gwrn | grep -q '52:54:00:0c:0e:01'"
  kill "$UPID" 2>/dev/null; wait "$UPID" 2>/dev/null
  ;;
forward)
  command -v dnsmasq >/dev/null || skip "dnsmasq not installed"
  # The upstream: a namespace at 10.84.1.53, routed from the host, running a
  # stub dnsmasq that owns example.org and corp.test.
  add_netns "$UPNS"
  add_veth "$UPIF" "$UPNS"
  ip addr add 10.84.1.1/24 dev "$UPIF"
  ip -n "$UPNS" addr add 10.84.1.53/24 dev eth0
  ip -n "$UPNS" addr add 10.84.1.54/24 dev eth0
  for a in 53 54; do
    ip netns exec "$UPNS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
      --listen-address=10.84.1.$a --port=53 --pid-file="$TMP/dnsmasq$a.pid" \
      --address=/www.example.org/192.0.2.$a --address=/intranet.corp.test/198.18.0.$a \
      --log-queries --log-facility="$TMP/dnsmasq$a.out" &
  done
  cat >"$NET_XML" <<'X'
<network>
  <name>gwfw</name>
  <bridge name='vgwbr6'/>
  <domain name='local.test' localOnly='yes'/>
  <dns>
    <forwarder addr='10.84.1.53'/>
    <forwarder domain='corp.test' addr='10.84.1.54'/>
    <host ip='10.83.0.9'><hostname>own</hostname></host>
  </dns>
  <ip address='10.83.0.1' prefix='24'>
    <dhcp><range start='10.83.0.10' end='10.83.0.20'/></dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwfw
  make_client 52:54:00:0c:0f:01
  check "port-add afpacket" ctl port-add gwfw --type afpacket --ifname "$HOSTIF" --name c0
  ip -n "$NS" addr add 10.83.0.5/24 dev eth0
  sleep 1
  d() { ip netns exec "$NS" dig +short +time=3 +tries=2 @10.83.0.1 "$@"; }
  check "a local name is answered by the gateway" [ "$(d own.local.test A)" = 10.83.0.9 ]
  check "<forwarder addr>: www.example.org from the first upstream" [ "$(d www.example.org A)" = 192.0.2.53 ]
  check "<forwarder domain addr>: corp.test from the second upstream" [ "$(d intranet.corp.test A)" = 198.18.0.54 ]
  check "the same over TCP" [ "$(d +tcp www.example.org A)" = 192.0.2.53 ]
  status=$(ip netns exec "$NS" dig +time=3 +tries=1 @10.83.0.1 nosuch.local.test A | sed -n 's/.*status: \([A-Z]*\).*/\1/p')
  check "localOnly: the local domain is never forwarded (NXDOMAIN)" [ "$status" = NXDOMAIN ]
  check "the upstream saw the forwarded query" grep -q 'query\[A\] www.example.org' "$TMP/dnsmasq53.out"
  check "the domain upstream saw only its domain" bash -c "grep -q 'intranet.corp.test' '$TMP/dnsmasq54.out' && ! grep -q 'www.example.org' '$TMP/dnsmasq54.out'"
  check "no upstream saw the local domain" bash -c "! grep -q 'local.test' '$TMP/dnsmasq53.out' '$TMP/dnsmasq54.out'"
  check "gateway-stats counts forwarded answers" [ "$(ctl --json gateway-stats gwfw | jq '.counters.dns_forward_replied')" -ge 3 ]
  ;;
tftp)
  root=$TMP/tftproot
  mkdir -p "$root/pxelinux.cfg"
  head -c 300000 /dev/urandom >"$root/pxelinux.0"
  printf 'DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n' >"$root/pxelinux.cfg/default"
  head -c $((512 * 65536 + 1000)) /dev/urandom >"$root/initrd.img"  # 65538 blocks of 512 bytes
  printf 'secret' >"$root/private"
  chmod 0644 "$root"/pxelinux.0 "$root"/pxelinux.cfg/default "$root"/initrd.img
  chmod 0600 "$root/private"
  cat >"$NET_XML" <<X
<network>
  <name>gwtftp</name>
  <bridge name='vgwbr7'/>
  <ip address='10.79.0.1' prefix='24'>
    <tftp root='$root'/>
    <dhcp>
      <range start='10.79.0.10' end='10.79.0.20'/>
      <bootp file='pxelinux.0'/>
    </dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwtftp
  make_client 52:54:00:0c:10:01
  check "port-add afpacket" ctl port-add gwtftp --type afpacket --ifname "$HOSTIF" --name c0
  check "udhcpc gets a lease" udhcpc_once ip boot_file siaddr
  check "the boot file is pxelinux.0" grep -q 'boot_file=pxelinux.0 ' "$TMP/udhcpc.bound"
  check "the next server is the gateway" grep -q 'siaddr=10.79.0.1$' "$TMP/udhcpc.bound"
  ip=$(sed -n 's/.*ip=\([^ ]*\).*/\1/p' "$TMP/udhcpc.bound" 2>/dev/null)
  ip -n "$NS" addr add "${ip:-10.79.0.5}/24" dev eth0
  t() { ip netns exec "$NS" timeout 120 "$@"; }
  check "curl fetches pxelinux.0 (300000 bytes)" \
    bash -c "ip netns exec '$NS' curl -sS --max-time 60 -o '$TMP/c1' tftp://10.79.0.1/pxelinux.0 && cmp '$TMP/c1' '$root/pxelinux.0'"
  check "curl, blksize 1400, a file in a directory" \
    bash -c "ip netns exec '$NS' curl -sS --max-time 60 --tftp-blksize 1400 -o '$TMP/c2' tftp://10.79.0.1/pxelinux.cfg/default && cmp '$TMP/c2' '$root/pxelinux.cfg/default'"
  check "busybox tftp fetches pxelinux.0" \
    bash -c "cd '$TMP' && ip netns exec '$NS' timeout 60 busybox tftp -g -r pxelinux.0 -l '$TMP/b1' 10.79.0.1 && cmp '$TMP/b1' '$root/pxelinux.0'"
  check "busybox tftp, blksize 1468" \
    bash -c "cd '$TMP' && ip netns exec '$NS' timeout 60 busybox tftp -b 1468 -g -r pxelinux.0 -l '$TMP/b2' 10.79.0.1 && cmp '$TMP/b2' '$root/pxelinux.0'"
  start=$(date +%s)
  check "curl fetches initrd.img: 65538 blocks of 512 bytes, block numbers wrap" \
    bash -c "ip netns exec '$NS' curl -sS --max-time 300 --tftp-blksize 512 -o '$TMP/c3' tftp://10.79.0.1/initrd.img && cmp '$TMP/c3' '$root/initrd.img'"
  echo "initrd.img: $(( $(date +%s) - start )) s"
  rc=0; t curl -sS --max-time 20 -o /dev/null tftp://10.79.0.1/nosuch 2>"$TMP/c4.err" || rc=$?
  check "a missing file: TFTP file not found (curl exit 68)" [ "$rc" = 68 ]
  rc=0; t curl -sS --max-time 20 -o /dev/null tftp://10.79.0.1/private 2>"$TMP/c5.err" || rc=$?
  check "a file that is not world-readable: access violation (curl exit 69)" [ "$rc" = 69 ]
  rc=0; t curl -sS --path-as-is --max-time 20 -o /dev/null tftp://10.79.0.1/../etc/passwd 2>"$TMP/c6.err" || rc=$?
  check "a path out of the root: access violation (curl exit 69)" [ "$rc" = 69 ]
  ctl --json gateway-stats gwtftp >"$TMP/gwstats.json" 2>&1
  check "gateway-stats: five transfers completed" [ "$(jq '.tftp.completed' "$TMP/gwstats.json")" -ge 5 ]
  check "gateway-stats: the missing file" [ "$(jq '.tftp.file_not_found' "$TMP/gwstats.json")" -eq 1 ]
  check "gateway-stats: two refusals" [ "$(jq '.tftp.access_denied' "$TMP/gwstats.json")" -eq 2 ]
  check "gateway-stats: bytes sent" [ "$(jq '.tftp.bytes_sent' "$TMP/gwstats.json")" -ge $((300000 * 3 + 512 * 65536)) ]
  check "no transfer left running" [ "$(jq '.tftp.transfers - .tftp.completed - .tftp.unacknowledged' "$TMP/gwstats.json")" -eq 0 ]
  ;;
ipv6)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwv6</name>
  <forward mode='nat'/>
  <bridge name='vgwbr8'/>
  <mac address='52:54:00:0a:0b:08'/>
  <mtu size='1400'/>
  <domain name='v6.test'/>
  <dns>
    <host ip='fd00:80::9'><hostname>six</hostname></host>
  </dns>
  <ip address='10.80.0.1' prefix='24'/>
  <ip family='ipv6' address='fd00:80::1' prefix='64'/>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwv6
  make_client 52:54:00:0c:11:01
  check "port-add afpacket" ctl port-add gwv6 --type afpacket --ifname "$HOSTIF" --name c0
  # The link comes up again: the kernel solicits, the gateway advertises.
  ip -n "$NS" link set eth0 down
  ip -n "$NS" link set eth0 up
  slaac=fd00:80::5054:ff:fe0c:1101
  for _ in $(seq 100); do ip -n "$NS" -6 addr show dev eth0 | grep -q "$slaac/64 .*dynamic" && break; sleep 0.1; done
  check "SLAAC address $slaac from the router advertisement" \
    bash -c "ip -n '$NS' -6 addr show dev eth0 | grep -q '$slaac/64 .*dynamic'"
  check "default route through the gateway's link-local address" \
    bash -c "ip -n '$NS' -6 route show default | grep -q 'via fe80::5054:ff:fe0a:b08 dev eth0'"
  check "the advertised MTU (<mtu size='1400'>)" [ "$(ip netns exec "$NS" cat /proc/sys/net/ipv6/conf/eth0/mtu)" = 1400 ]
  check "ping -6 the gateway's <ip>" ip netns exec "$NS" ping -6 -c 2 -W 2 fd00:80::1
  check "ping -6 the gateway's link-local address" ip netns exec "$NS" ping -6 -c 2 -W 2 fe80::5054:ff:fe0a:b08%eth0
  d6() { ip netns exec "$NS" dig +short +time=2 +tries=2 "$@"; }
  check "DNS over IPv6: AAAA of a <dns><host>" [ "$(d6 @fd00:80::1 six.v6.test AAAA)" = fd00:80::9 ]
  check "DNS over IPv6 to the advertised RDNSS (link-local)" \
    [ "$(d6 @fe80::5054:ff:fe0a:b08%eth0 -x fd00:80::9)" = six.v6.test. ]
  check "TCP to the gateway over IPv6 is refused (RST)" \
    bash -c "ip netns exec '$NS' timeout 5 bash -c 'exec 3<>/dev/tcp/fd00:80::1/53' 2>&1 | grep -q 'Connection refused'"
  check "UDP to another port of the gateway: ICMPv6 port unreachable" \
    bash -c "ip netns exec '$NS' dig +time=2 +tries=1 -p 54 @fd00:80::1 six.v6.test 2>&1 | grep -q 'connection refused\|unreachable'"
  check "the neighbour entry names the gateway MAC, as a router" \
    bash -c "ip -n '$NS' -6 neigh show fd00:80::1 dev eth0 | grep -q 'lladdr 52:54:00:0a:0b:08 router'"
  # The client's duplicate address detection for the gateway's own address.
  ip -n "$NS" addr add fd00:80::1/64 dev eth0
  sleep 3
  check "a guest claiming the gateway's address fails DAD" \
    bash -c "ip -n '$NS' -6 addr show dev eth0 | grep 'fd00:80::1/64' | grep -q dadfailed"
  ctl --json gateway-stats gwv6 >"$TMP/gwstats.json" 2>&1
  check "gateway-stats: neighbour advertisements" [ "$(jq '.ipv6.neighbor_advertised' "$TMP/gwstats.json")" -ge 1 ]
  check "gateway-stats: echo replies" [ "$(jq '.ipv6.echo_replied' "$TMP/gwstats.json")" -ge 4 ]
  check "gateway-stats: DAD defended" [ "$(jq '.ipv6.dad_defended' "$TMP/gwstats.json")" -ge 1 ]
  check "gateway-stats: the solicitation answered" [ "$(jq '.ipv6.rs_answered' "$TMP/gwstats.json")" -ge 1 ]
  check "gateway-stats: the closed port" [ "$(jq '.ipv6.port_unreachable' "$TMP/gwstats.json")" -ge 1 ]
  ;;
dhcp6)
  cat >"$NET_XML" <<'X'
<network>
  <name>gwd6</name>
  <forward mode='nat'/>
  <bridge name='vgwbr9'/>
  <mac address='52:54:00:0a:0b:09'/>
  <domain name='d6.test'/>
  <ip address='10.81.0.1' prefix='24'/>
  <ip family='ipv6' address='fd00:81::1' prefix='64'>
    <dhcp>
      <range start='fd00:81::100' end='fd00:81::1ff'>
        <lease expiry='2' unit='hours'/>
      </range>
      <host name='named6' ip='fd00:81::50'/>
    </dhcp>
  </ip>
</network>
X
  start_daemon
  check "net-define" ctl net-define "$NET_XML"
  check "net-start" ctl net-start gwd6
  make_client 52:54:00:0c:12:01
  check "port-add afpacket" ctl port-add gwd6 --type afpacket --ifname "$HOSTIF" --name c0
  ip -n "$NS" link set eth0 down
  ip -n "$NS" link set eth0 up
  for _ in $(seq 100); do ip -n "$NS" -6 route show default | grep -q via && break; sleep 0.1; done
  check "default route through the gateway's link-local address (the RA)" \
    bash -c "ip -n '$NS' -6 route show default | grep -q 'via fe80::5054:ff:fe0a:b09 dev eth0'"
  check "no SLAAC address: the RA's prefix is not autonomous (managed network)" \
    bash -c "! ip -n '$NS' -6 addr show dev eth0 scope global | grep -q inet6"
  for _ in $(seq 50); do ip -n "$NS" -6 addr show dev eth0 | grep -q tentative || break; sleep 0.1; done
  # ISC dhclient -6 (stateful), naming itself with the Client FQDN option.
  cat >"$TMP/dh/script6" <<'S'
#!/bin/sh
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6)
    ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface"
    echo "ip=$new_ip6_address prefix=$new_ip6_prefixlen dns=$new_dhcp6_name_servers fqdn=$new_fqdn_fqdn life=$new_max_life" >"$(dirname "$0")/bound6"
    cat "$(dirname "$0")/bound6" >>"$(dirname "$0")/../bound6.out" ;;
  RELEASE6|STOP6|EXPIRE6) ip -6 addr del "$old_ip6_address/$old_ip6_prefixlen" dev "$interface" 2>/dev/null ;;
esac
exit 0
S
  chmod +x "$TMP/dh/script6"
  b6() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$TMP/dh/bound6" 2>/dev/null; }
  dh6() { # extra options... (a config with FQDN when $DH6_CONF is set)
    timeout 40 ip netns exec "$NS" dhclient -6 -1 -sf "$TMP/dh/script6" -lf "$TMP/dh/lease6" \
      -pf "$TMP/dh/pid6" -cf "${DH6_CONF:-/dev/null}" "$@" eth0 >>"$TMP/dhclient6.out" 2>&1
  }
  check "dhclient -6 gets a lease" dh6
  a=$(b6 ip)
  check "an address from the range ($a)" bash -c "[[ '$a' == fd00:81::1[0-9a-f][0-9a-f] ]]"
  check "the address is on eth0" bash -c "ip -n '$NS' -6 addr show dev eth0 | grep -q '$a/'"
  check "DNS server: the gateway's <ip>" [ "$(b6 dns)" = fd00:81::1 ]
  check "lifetime: the range's lease (2 hours)" [ "$(b6 life)" = 7200 ]
  for _ in $(seq 50); do ip -n "$NS" -6 addr show dev eth0 | grep -q tentative || break; sleep 0.1; done
  check "ping -6 the gateway from the leased address" ip netns exec "$NS" ping -6 -c 2 -W 2 -I "$a" fd00:81::1
  ctl --json net-dhcp-leases gwd6 >"$TMP/leases6.json"
  check "net-dhcp-leases: an ipv6 row for $a/64" \
    bash -c "jq -e '.leases[] | select(.protocol == \"ipv6\" and .ipaddr == \"$a/64\")' '$TMP/leases6.json' >/dev/null"
  check "net-dhcp-leases: the MAC and the client's DUID" \
    bash -c "jq -e '.leases[] | select(.mac == \"52:54:00:0c:12:01\" and (.clientid | length) > 10)' '$TMP/leases6.json' >/dev/null"
  check "the text table lists it" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwd6 | grep -q 'ipv6 *$a/64'"
  check "dhclient -6 starts again with its lease (Confirm: still on link)" dh6
  check "it keeps the same address" [ "$(b6 ip)" = "$a" ]
  check "dhclient -6 releases" dh6 -r
  check "the released lease is gone" bash -c "! '$VNETCTL' --socket '$SOCK' net-dhcp-leases gwd6 | grep -q '$a/'"
  # A client naming itself 'named6' gets that <host>'s address, and its name resolves.
  rm -f "$TMP/dh/lease6"
  printf 'send fqdn.fqdn "named6";\nsend fqdn.server-update on;\n' >"$TMP/dh/named6.conf"
  DH6_CONF=$TMP/dh/named6.conf
  check "dhclient -6 naming itself named6" dh6
  check "the <host name='named6'> address" [ "$(b6 ip)" = fd00:81::50 ]
  check "the server qualifies the name (FQDN option)" [ "$(b6 fqdn)" = named6.d6.test ]
  d6() { ip netns exec "$NS" dig +short +time=2 +tries=2 @fd00:81::1 "$@"; }
  check "AAAA of the DHCPv6 client's name" [ "$(d6 named6.d6.test AAAA)" = fd00:81::50 ]
  check "PTR of the DHCPv6 client's address" [ "$(d6 -x fd00:81::50)" = named6.d6.test. ]
  ctl --json gateway-stats gwd6 >"$TMP/gwstats.json" 2>&1
  cp "$TMP/gwstats.json" "$TMP/gwstats.out"
  check "gateway-stats: DHCPv6 messages answered" [ "$(jq '.counters.dhcp6_replied' "$TMP/gwstats.json")" -ge 6 ]
  check "gateway-stats: the release" [ "$(jq '.dhcp6.released' "$TMP/gwstats.json")" -eq 1 ]
  check "gateway-stats: leases granted" [ "$(jq '.dhcp6.replied' "$TMP/gwstats.json")" -eq 2 ]
  check "gateway-stats: the confirmation" [ "$(jq '.dhcp6.confirmed' "$TMP/gwstats.json")" -eq 1 ]
  # The lease survives a vnetd restart.
  stop_daemon
  start_daemon
  ctl net-start gwd6 >/dev/null 2>&1
  check "net-dhcp-leases after a restart" bash -c "'$VNETCTL' --socket '$SOCK' net-dhcp-leases gwd6 | grep -q 'fd00:81::50/64'"
  check "AAAA after a restart" [ "$(d6 named6.d6.test AAAA)" = fd00:81::50 ]
  ;;
*) echo "unknown scenario $scenario"; exit 2 ;;
esac
lib_finish
