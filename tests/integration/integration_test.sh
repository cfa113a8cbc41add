#!/usr/bin/env bash
# Integration tests: a real vnetd (DPDK, --hugepages no) with guests in other
# processes (vnet_peer on net_virtio_user) and, for tap_netns, a kernel
# network stack in a network namespace. Every check asserts what the guests
# saw AND what vnetctl counts.
#
#   integration_test.sh SCENARIO VNETD VNETCTL VNET_PEER
#
# Exit 0: all checks passed; 1: a check failed; 77: the host lacks something
# the scenario needs (the reason is printed).
set -u

scenario=$1
. "$(dirname "$0")/peer_lib.sh"
peer_lib_init it "$2" "$3" "$4"  # TAG: also the unique part of interface and namespace names
NETNS=
TAPIF=

peer_lib_cleanup_more() {
  [ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
  [ -n "$TAPIF" ] && ip link del "$TAPIF" 2>/dev/null
  return 0
}

# ctl_err NAME EXPECTED_STDERR ARGS...: vnetctl fails (exit 1) with exactly that message.
ctl_err() {
  local name=$1 msg=$2
  shift 2
  CHECKS=$((CHECKS + 1))
  "$VNETCTL" "$@" >"$TMP/ctl.out" 2>"$TMP/ctl.err"
  local rc=$?
  if [ "$rc" -ne 1 ]; then
    fail "$name: exit $rc, expected 1 (stdout: $(cat "$TMP/ctl.out"))"
  elif [ "$(cat "$TMP/ctl.err")" != "error: $msg" ]; then
    fail "$name: stderr '$(cat "$TMP/ctl.err")', expected 'error: $msg'"
  fi
}

# Port counters from vnetctl port-stats --json: stat NET PORT FIELD
stat_of() {
  ctl --json port-stats "$1" --port "$2" | jq -r ".ports[0].$3"
}
drops_of() {
  ctl --json port-stats "$1" --port "$2" | jq '[.ports[0].drops[]] | add'
}

stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID"
  local rc=$?
  check "vnetd exit code after SIGTERM" "$rc" -eq 0
  DAEMON_PID=
}

# define_net NAME [EXTRA XML]: define, start and autostart a network.
define_net() {
  printf "<network>\n  <name>%s</name>\n  %s\n</network>\n" "$1" "${2:-}" >"$TMP/$1.xml"
  ctl_ok "define $1" net-define "$TMP/$1.xml" &&
    ctl_ok "start $1" net-start "$1" &&
    ctl_ok "autostart $1" net-autostart "$1"
}

# peer NAME COMMAND...: run a command; stats and link print their answer line
# (without its tag), send its "sent N" line.
peer() {
  local name=$1 cmd=$2
  shift 2
  case $cmd in
    stats | link) ask "$name" "$cmd" "$@" ;;
    send) ask_untagged "$name" '^sent ' 60 send "$@" ;;
    *) echo "$cmd $*" >&"${PEER_FD[$name]}" ;;
  esac
}

# counter NAME FIELD: the peer's current counter.
counter() {
  peer "$1" stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

link_up() {
  local r
  r=$(peer "$1" link 20)
  check "peer $1 link up" "$(echo "$r" | awk '{print $2}')" = up
}

# Let frames in flight arrive.
settle() { sleep 0.5; }

# port_link NET PORT: up, down or inactive, from vnetctl port-list.
port_link() {
  ctl --json port-list "$1" | jq -r ".ports[] | select(.name==\"$2\") | .link"
}
# wait_port_link NET PORT STATE SECS: until the port's link is STATE (or the time is up).
wait_port_link() {
  for _ in $(seq $(($4 * 10))); do
    [ "$(port_link "$1" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

M_A=02:00:00:00:00:0a
M_B=02:00:00:00:00:0b
M_C=02:00:00:00:00:0c
BCAST=ff:ff:ff:ff:ff:ff

# Three guests p1..p3 (peers A, B, C) on network $1.
three_guests() {
  local net=$1
  for p in p1 p2 p3; do ctl_ok "port-add $p" port-add "$net" --name "$p"; done
  start_peer A "$RUN/$net/p1.sock" $M_A || return 1
  start_peer B "$RUN/$net/p2.sock" $M_B || return 1
  start_peer C "$RUN/$net/p3.sock" $M_C || return 1
  link_up A
  link_up B
  link_up C
}

# ----------------------------------------------------------------------------
scenario_switching() {
  start_daemon || return
  define_net sw || return
  three_guests sw || return
  check "port-list shows link up" "$(ctl --json port-list sw | jq -r '[.ports[].link] | join(",")')" = "up,up,up"

  # Broadcast reaches every other port, never the sender.
  peer A send $BCAST 10 >/dev/null
  settle
  check "broadcast at B" "$(counter B bcast)" -eq 10
  check "broadcast at C" "$(counter C bcast)" -eq 10
  check "no echo to A" "$(counter A test)" -eq 0
  check "vnetctl rx p1" "$(stat_of sw p1 rx_packets)" -eq 10
  check "vnetctl tx p2" "$(stat_of sw p2 tx_packets)" -eq 10
  check "vnetctl tx p3" "$(stat_of sw p3 tx_packets)" -eq 10
  check "vnetctl tx bytes p2" "$(stat_of sw p2 tx_bytes)" -eq 640
  check "fdb learned A on p1" "$(ctl --json fdb-show sw | jq -r ".entries[] | select(.mac==\"$M_A\") | .port")" = p1

  # After B and C spoke, unicast to B reaches only B.
  peer B send $BCAST 1 >/dev/null
  peer C send $BCAST 1 >/dev/null
  settle
  peer A reset >/dev/null; peer B reset >/dev/null; peer C reset >/dev/null
  local tx3
  tx3=$(stat_of sw p3 tx_packets)
  peer A send $M_B 20 >/dev/null
  settle
  check "unicast at B" "$(counter B ucast_me)" -eq 20
  check "unicast not at C" "$(counter C test)" -eq 0
  check "vnetctl tx p2 after unicast" "$(stat_of sw p2 tx_packets)" -eq 31
  check "vnetctl tx p3 unchanged" "$(stat_of sw p3 tx_packets)" -eq "$tx3"
  check "port-list MACs seen p2" "$(ctl --json port-list sw | jq -r '.ports[] | select(.name=="p2") | .macs')" -eq 1
  check "fdb-stats entries" "$(ctl --json fdb-stats sw | jq .entries)" -eq 3
  check "fdb-stats learned" "$(ctl --json fdb-stats sw | jq .learned)" -eq 3
  check "fdb-stats text" "$(ctl fdb-stats sw | grep -c 'Current/maximum MAC entries in the table: 3/8192')" -eq 1
  # The same conversation again: switched from the PMD's flow cache, same result.
  peer A send $M_B 20 >/dev/null
  settle
  check "unicast again at B" "$(counter B ucast_me)" -eq 40
  check "still nothing at C" "$(counter C test)" -eq 0
  check "port-stats: the repeat hit the flow cache" "$(stat_of sw p1 flow_cache_hits)" -ge 20
  # pmd-stats: the PMD took at least the frames the guests sent, in busy iterations.
  check "pmd-stats frames" "$(ctl --json pmd-stats | jq '[.pmds[].frames] | add')" -ge 40
  check "pmd-stats busy cycles" "$(ctl --json pmd-stats | jq '[.pmds[].busy_cycles] | add')" -gt 0
  check "pmd-stats text" "$(ctl pmd-stats | grep -c 'busy cycles per frame')" -eq 1
  check "pmd-stats flow cache hits" "$(ctl --json pmd-stats | jq '[.pmds[].flow_cache.hits] | add')" -ge 20
  check "pmd-stats flow cache lookups" "$(ctl --json pmd-stats | jq '[.pmds[].flow_cache.lookups] | add')" -ge 40
  check "pmd-stats flow cache text" "$(ctl pmd-stats | grep -c 'flow cache hits')" -eq 1

  # Unknown unicast is flooded.
  peer A send 02:00:00:00:00:99 5 >/dev/null
  settle
  check "unknown unicast at B" "$(counter B ucast_other)" -eq 5
  check "unknown unicast at C" "$(counter C ucast_other)" -eq 5

  # fdb-show text, flush, ageing.
  ctl fdb-show sw >"$TMP/fdb.txt"
  CHECKS=$((CHECKS + 1))
  grep -q "^ p2 *$M_B *- *no " "$TMP/fdb.txt" || fail "fdb-show text: $(cat "$TMP/fdb.txt")"
  ctl_ok "fdb-flush port" fdb-flush sw --port p2
  check "flushed p2 only" "$(ctl --json fdb-show sw | jq '[.entries[] | select(.port=="p2")] | length')" -eq 0
  check "p1 entries kept" "$(ctl --json fdb-show sw | jq '[.entries[] | select(.port=="p1")] | length')" -eq 1
  ctl_ok "fdb-flush" fdb-flush sw
  check "fdb empty" "$(ctl --json fdb-show sw | jq '.entries | length')" -eq 0
  ctl_ok "fdb-setageing" fdb-setageing sw 1
  check "ageing persisted" "$(jq .ageing_s "$STATE/ports/sw.json")" -eq 1
  peer A send $BCAST 1 >/dev/null
  settle
  check "learned again" "$(ctl --json fdb-show sw | jq '.entries | length')" -eq 1
  sleep 3
  check "aged out after 1 s" "$(ctl --json fdb-show sw | jq '.entries | length')" -eq 0
  check "fdb-stats: aged counted" "$(ctl --json fdb-stats sw | jq .aged)" -ge 1
  check "fdb-stats: none left" "$(ctl --json fdb-stats sw | jq .entries)" -eq 0
  check "fdb-stats: learned again counted" "$(ctl --json fdb-stats sw | jq .learned)" -eq 4
  check "net-info port count" "$(ctl net-info sw | sed -n 's/^Ports: *//p')" = 3
  # The counters are the network's since it started.
  ctl_ok "net-destroy" net-destroy sw
  ctl_ok "net-start" net-start sw
  check "fdb-stats after a restart" "$(ctl --json fdb-stats sw | jq '.learned + .aged + .moved + .limit_hits + .entries')" -eq 0
}

# ----------------------------------------------------------------------------
scenario_isolation() {
  start_daemon || return
  define_net iso "<port isolated='yes'/>" || return
  three_guests iso || return
  peer B send $BCAST 1 >/dev/null
  settle
  peer A send $BCAST 10 >/dev/null
  peer A send $M_B 10 >/dev/null
  settle
  check "isolated: nothing at B" "$(counter B test)" -eq 0
  check "isolated: nothing at C" "$(counter C test)" -eq 0
  check "isolated: A got nothing from B" "$(counter A test)" -eq 0
  check "vnetctl rx p1" "$(stat_of iso p1 rx_packets)" -eq 20
  check "vnetctl tx p2" "$(stat_of iso p2 tx_packets)" -eq 0
  check "vnetctl tx p3" "$(stat_of iso p3 tx_packets)" -eq 0
  check "every frame of p1 dropped by a named reason" "$(drops_of iso p1)" -eq 20
  check "unicast counted as isolated" "$(stat_of iso p1 'drops.isolated')" -eq 10
  ctl port-stats iso --port p1 >"$TMP/stats.txt"
  CHECKS=$((CHECKS + 1))
  grep -q "isolated=10" "$TMP/stats.txt" || fail "port-stats text lacks isolated=10: $(cat "$TMP/stats.txt")"
}

# ----------------------------------------------------------------------------
# libvirt <portgroup>s with VLANs, a port's own --vlan and --isolated: ports
# meet only inside their VLAN; the port setting overrides the network's.
scenario_portgroups() {
  start_daemon || return
  define_net pg "<forward mode='bridge'/><bridge name='vnetpg$TAG'/><port isolated='yes'/>
  <portgroup name='eng' default='yes'><vlan><tag id='10'/></vlan></portgroup>
  <portgroup name='ops'><vlan><tag id='20'/></vlan></portgroup>" || return
  ctl_ok "port-add p1 (default portgroup)" port-add pg --name p1 --isolated no
  ctl_ok "port-add p2 --portgroup eng" port-add pg --name p2 --portgroup eng --isolated no
  ctl_ok "port-add p3 --portgroup ops" port-add pg --name p3 --portgroup ops --isolated no
  ctl_ok "port-add p4 --vlan 20" port-add pg --name p4 --vlan 20 --isolated no
  ctl_ok "port-add p5 --vlan 20 (isolated by the network)" port-add pg --name p5 --vlan 20
  ctl_err "port-add with an unknown portgroup" "network 'pg' has no portgroup 'dev'" port-add pg --portgroup dev
  start_peer A "$RUN/pg/p1.sock" $M_A || return
  start_peer B "$RUN/pg/p2.sock" $M_B || return
  start_peer C "$RUN/pg/p3.sock" $M_C || return
  start_peer D "$RUN/pg/p4.sock" 02:00:00:00:00:0d || return
  start_peer E "$RUN/pg/p5.sock" 02:00:00:00:00:0e || return
  for p in A B C D E; do link_up $p; done
  peer A send $BCAST 5 >/dev/null
  peer C send $BCAST 3 >/dev/null
  settle
  check "VLAN 10: A's broadcast at B" "$(counter B test)" -eq 5
  check "VLAN 10: not at C" "$(counter C bcast)" -eq 0
  check "VLAN 20: C's broadcast at D" "$(counter D test)" -eq 3
  check "VLAN 20: C's broadcast at E (C is not isolated)" "$(counter E test)" -eq 3
  check "VLAN 20: not at A" "$(counter A test)" -eq 0
  peer E send $BCAST 2 >/dev/null
  settle
  check "isolated E reaches non-isolated D" "$(counter D test)" -eq 5
  check "nothing crossed into VLAN 10" "$(counter B test)" -eq 5
  ctl --json port-list pg >"$TMP/pl.json"
  check "port-list shows p3's portgroup" "$(jq -r '.ports[] | select(.name=="p3") | .portgroup' "$TMP/pl.json")" = ops
  check "port-list shows p4's VLAN" "$(jq -r '.ports[] | select(.name=="p4") | .vlan' "$TMP/pl.json")" = 20
}

# ----------------------------------------------------------------------------
# Multiqueue vhost-user: guests spread their frames over every queue pair;
# vnetd polls them all, so nothing stays behind in a queue.
scenario_multiqueue() {
  start_daemon || return
  define_net mq || return
  ctl_ok "port-add p1 --queues 2" port-add mq --name p1 --queues 2
  ctl_ok "port-add p2 --queues 4" port-add mq --name p2 --queues 4
  ctl_ok "port-add p3" port-add mq --name p3
  PEER_QUEUES=2 start_peer A "$RUN/mq/p1.sock" $M_A || return
  PEER_QUEUES=4 start_peer B "$RUN/mq/p2.sock" $M_B || return
  start_peer C "$RUN/mq/p3.sock" $M_C || return
  link_up A; link_up B; link_up C
  peer B send $BCAST 1 >/dev/null
  peer C send $BCAST 1 >/dev/null
  settle
  peer A reset >/dev/null; peer B reset >/dev/null; peer C reset >/dev/null
  peer A send $M_B 100 >/dev/null
  settle
  check "all 100 frames of A's 2 queues at B" "$(counter B ucast_me)" -eq 100
  peer B send $M_A 64 >/dev/null
  settle
  check "all 64 frames of B's 4 queues at A" "$(counter A ucast_me)" -eq 64
  peer B send $BCAST 40 >/dev/null
  settle
  check "B's broadcasts over 4 queues at C" "$(counter C bcast)" -eq 40
  check "vnetctl rx p2" "$(stat_of mq p2 rx_packets)" -eq 105
  check "port-list queues p2" "$(ctl --json port-list mq | jq -r '.ports[] | select(.name=="p2") | .queues')" -eq 4
}

# ----------------------------------------------------------------------------
scenario_networks() {
  start_daemon || return
  define_net n1 || return
  define_net n2 || return
  ctl_ok "port-add n1 a" port-add n1 --name a
  ctl_ok "port-add n1 b" port-add n1 --name b
  ctl_ok "port-add n2 c" port-add n2 --name c
  start_peer A "$RUN/n1/a.sock" $M_A || return
  start_peer B "$RUN/n1/b.sock" $M_B || return
  start_peer C "$RUN/n2/c.sock" $M_C || return
  link_up A; link_up B; link_up C
  peer A send $BCAST 7 >/dev/null
  settle
  check "n1 broadcast at B" "$(counter B bcast)" -eq 7
  check "n1 broadcast not at C" "$(counter C test)" -eq 0
  peer C send $BCAST 4 >/dev/null
  # C claims B's MAC in n2: n1's FDB must not move.
  peer C send $BCAST 3 $M_B >/dev/null
  settle
  check "n2 broadcast not at A" "$(counter A test)" -eq 0
  check "n2 broadcast not at B" "$(counter B test)" -eq 7
  peer B send $BCAST 1 >/dev/null
  settle
  peer A send $M_B 9 >/dev/null
  settle
  check "unicast in n1 at B" "$(counter B ucast_me)" -eq 9
  check "nothing leaked to C" "$(counter C test)" -eq 0
  check "B's MAC in n1 on b" "$(ctl --json fdb-show n1 | jq -r ".entries[] | select(.mac==\"$M_B\") | .port")" = b
  check "B's MAC in n2 on c" "$(ctl --json fdb-show n2 | jq -r ".entries[] | select(.mac==\"$M_B\") | .port")" = c
  check "vnetctl tx c" "$(stat_of n2 c tx_packets)" -eq 0
}

# ----------------------------------------------------------------------------
scenario_removal() {
  start_daemon || return
  define_net rm || return
  three_guests rm || return
  peer B send $BCAST 1 >/dev/null
  peer C send $BCAST 1 >/dev/null
  settle
  # A floods while p2 goes away.
  echo "send $BCAST 200000" >&"${PEER_FD[A]}"
  sleep 0.3
  ctl_ok "port-remove mid-traffic" port-remove rm p2
  wait_line A "sent " 120 || fail "A's send did not finish"
  check "vnetd alive" -n "$(kill -0 "$DAEMON_PID" 2>/dev/null && echo y)"
  check "p2 gone from port-list" "$(ctl --json port-list rm | jq -r '[.ports[].name] | join(",")')" = "p1,p3"
  check "p2 gone from the FDB" "$(ctl --json fdb-show rm | jq '[.entries[] | select(.port=="p2")] | length')" -eq 0
  check "p2 socket removed" ! -e "$RUN/rm/p2.sock"
  check "C received the flood" "$(counter C bcast)" -gt 0
  check "vnetctl tx p3 = C's count" "$(stat_of rm p3 tx_packets)" -ge "$(counter C bcast)"
  # The network still switches, and the name can be reused.
  peer C reset >/dev/null
  peer A send $M_C 10 >/dev/null
  settle
  check "unicast after removal" "$(counter C ucast_me)" -eq 10
  stop_peer B
  ctl_ok "port-add reuses the name" port-add rm --name p2
  start_peer B2 "$RUN/rm/p2.sock" 02:00:00:00:00:b2 || return
  link_up B2
  peer A send $BCAST 3 >/dev/null
  settle
  check "new p2 receives" "$(counter B2 bcast)" -eq 3
  check "new p2 counters start at zero" "$(stat_of rm p2 tx_packets)" -eq 3
}

# ----------------------------------------------------------------------------
scenario_reconnect() {
  start_daemon || return
  define_net rc || return
  # S is the vhost-user server (QEMU with server=on); vnetd connects to it.
  start_peer S "$TMP/s.sock" 02:00:00:00:00:5e "" --server || return
  for _ in $(seq 100); do [ -S "$TMP/s.sock" ] && break; sleep 0.1; done
  ctl_ok "port-add client" port-add rc --name s --mode client --path "$TMP/s.sock"
  wait_ready S || return
  ctl_ok "port-add server" port-add rc --name a
  start_peer A "$RUN/rc/a.sock" $M_A || return
  link_up S; link_up A
  peer S send $BCAST 5 >/dev/null
  settle
  check "client-mode port forwards" "$(counter A bcast)" -eq 5

  stop_daemon
  stop_peer A
  start_daemon || return
  start_peer A "$RUN/rc/a.sock" $M_A || return
  link_up A
  # vnetd reconnects to S by itself (S only watches its link).
  link_up S
  wait_port_link rc s up 20
  check "client port reconnected after restart" "$(port_link rc s)" = up
  peer S send $BCAST 6 >/dev/null
  settle
  check "traffic after reconnect" "$(counter A bcast)" -eq 6
  check "vnetctl rx s" "$(stat_of rc s rx_packets)" -eq 6
  check "vnetctl tx a" "$(stat_of rc a tx_packets)" -eq 6

  # The guest side restarts (QEMU is the server): vnetd, still running,
  # connects to the new socket by itself.
  stop_peer S
  wait_port_link rc s down 10
  check "client port down while the guest is gone" "$(port_link rc s)" = down
  rm -f "$TMP/s.sock"
  start_peer S "$TMP/s.sock" 02:00:00:00:00:5e "" --server || return
  wait_ready S || return
  link_up S
  wait_port_link rc s up 20
  check "client port reconnected after the guest restarted" "$(port_link rc s)" = up
  peer S send $BCAST 4 >/dev/null
  settle
  check "traffic after the guest restarted" "$(counter A bcast)" -eq 10
}

# ----------------------------------------------------------------------------
scenario_tap_netns() {
  [ "$(id -u)" -eq 0 ] || skip "needs root for TAP interfaces and network namespaces"
  [ -c /dev/net/tun ] || skip "no /dev/net/tun"
  command -v ip >/dev/null || skip "no ip(8) (iproute2)"
  command -v ping >/dev/null || skip "no ping(8) (iputils-ping)"
  NETNS=vnet-it-$TAG
  ip netns add "$NETNS" 2>/dev/null || { NETNS=; skip "cannot create a network namespace"; }
  start_daemon || return
  define_net tp || return
  TAPIF=vnt$TAG
  TAPIF=${TAPIF:0:15}
  ctl_ok "port-add tap" port-add tp --type tap --ifname "$TAPIF" || return
  ctl_ok "port-add guest" port-add tp --name g
  start_peer G "$RUN/tp/g.sock" 02:00:00:00:00:77 10.199.77.2 || return
  link_up G
  ip link set "$TAPIF" netns "$NETNS" || { fail "cannot move $TAPIF into $NETNS"; return; }
  ip -n "$NETNS" addr add 10.199.77.1/24 dev "$TAPIF"
  ip -n "$NETNS" link set "$TAPIF" up
  CHECKS=$((CHECKS + 1))
  if ! ip netns exec "$NETNS" ping -c 3 -i 0.2 -W 2 10.199.77.2 >"$TMP/ping.out" 2>&1; then
    fail "ping from the namespace failed: $(cat "$TMP/ping.out")"
  fi
  check "guest answered ARP" "$(counter G arp_req)" -ge 1
  check "guest answered echo" "$(counter G icmp_req)" -ge 3
  check "vnetctl rx tap" "$(stat_of tp "$TAPIF" rx_packets)" -ge 4
  check "vnetctl tx tap" "$(stat_of tp "$TAPIF" tx_packets)" -ge 4
  check "port-list tap row" "$(ctl --json port-list tp | jq -r ".ports[] | select(.name==\"$TAPIF\") | .type")" = tap
}

# ----------------------------------------------------------------------------
scenario_persistence() {
  [ "$(id -u)" -eq 0 ] || skip "needs root to give sockets to another owner (--owner nobody)"
  start_daemon || return
  define_net ps || return
  ctl_ok "port-add default name" port-add ps
  ctl_ok "port-add owner" port-add ps --name owned --owner nobody --group nogroup --queues 2
  ctl_ok "port-add client" port-add ps --name cl --mode client --path "$TMP/qemu.sock"
  ctl --json port-add ps --name j >"$TMP/add.json"
  check "port-add --json socket" "$(jq -r .port.path "$TMP/add.json")" = "$RUN/ps/j.sock"
  check "port-add --json qemu chardev" "$(jq -r '.qemu[1]' "$TMP/add.json")" = "socket,id=chr-j,path=$RUN/ps/j.sock"
  check "port-add --json libvirt" -n "$(jq -r .libvirt "$TMP/add.json" | grep "<source type='unix' path='$RUN/ps/j.sock' mode='client'/>")"
  ctl port-add ps --name txt >"$TMP/add.txt"
  CHECKS=$((CHECKS + 1))
  grep -qF -- "-netdev vhost-user,id=net-txt,chardev=chr-txt" "$TMP/add.txt" || fail "port-add text: $(cat "$TMP/add.txt")"
  check "server socket mode 0660" "$(stat -c %a "$RUN/ps/vhost0.sock")" = 660
  check "socket owner" "$(stat -c %U:%G "$RUN/ps/owned.sock")" = nobody:nogroup
  ctl --json port-list ps | jq -c '[.ports[] | {name, type, mode, path, queues, mac}]' >"$TMP/before.json"
  ctl_ok "fdb-setageing" fdb-setageing ps 77

  stop_daemon
  start_daemon || return
  ctl --json port-list ps | jq -c '[.ports[] | {name, type, mode, path, queues, mac}]' >"$TMP/after.json"
  CHECKS=$((CHECKS + 1))
  cmp -s "$TMP/before.json" "$TMP/after.json" || fail "ports differ after restart: $(cat "$TMP/before.json") vs $(cat "$TMP/after.json")"
  check "running after restart" "$(ctl --json port-list ps | jq '[.ports[] | select(.running)] | length')" -eq 5
  check "socket back" -S "$RUN/ps/vhost0.sock"
  check "owner back" "$(stat -c %U:%G "$RUN/ps/owned.sock")" = nobody:nogroup
  check "net-info ports" "$(ctl net-info ps | sed -n 's/^Ports: *//p')" = 5

  # Destroy keeps the ports (inactive), start brings them back.
  ctl_ok "destroy" net-destroy ps
  check "inactive ports listed" "$(ctl --json port-list ps | jq -r '[.ports[].link] | unique | join(",")')" = inactive
  check "socket gone while inactive" ! -e "$RUN/ps/vhost0.sock"
  ctl_ok "port-remove while inactive" port-remove ps txt
  ctl_ok "start" net-start ps
  check "ports after start" "$(ctl --json port-list ps | jq '[.ports[] | select(.running)] | length')" -eq 4
  check "ageing kept" "$(jq .ageing_s "$STATE/ports/ps.json")" -eq 77

  # A transient network's ports go with it; an undefined network's too.
  ctl_ok "destroy again" net-destroy ps
  ctl_ok "undefine" net-undefine ps
  check "ports file removed" ! -e "$STATE/ports/ps.json"
  printf "<network><name>tr</name></network>\n" >"$TMP/tr.xml"
  ctl_ok "create transient" net-create "$TMP/tr.xml"
  ctl_ok "port on transient" port-add tr
  check "transient ports file" -e "$STATE/ports/tr.json"
  ctl_ok "destroy transient" net-destroy tr
  check "transient ports file removed" ! -e "$STATE/ports/tr.json"
}

# ----------------------------------------------------------------------------
scenario_port_errors() {
  start_daemon || return
  define_net e1 || return
  define_net e2 || return
  printf "<network><name>off</name></network>\n" >"$TMP/off.xml"
  ctl_ok "define inactive" net-define "$TMP/off.xml"
  ctl_ok "good port" port-add e1 --name ok
    local before
  before=$(md5sum "$STATE/ports/e1.json")

  ctl_err "unknown network" "Network not found: no network with matching name 'nope'" port-add nope
  ctl_err "inactive network" "network 'off' is not active" port-add off
  ctl_err "bad type" "invalid port type 'vxlan' (vhostuser, tap, afpacket, afxdp)" port-add e1 --type vxlan
  ctl_err "bad mode" "invalid vhost-user mode 'both' (server, client)" port-add e1 --mode both
  ctl_err "queues 0" "--queues must be in 1..16" port-add e1 --queues 0
  ctl_err "queues 17" "--queues must be in 1..16" port-add e1 --queues 17
  ctl_err "ifname on vhost" "--ifname applies to tap, afpacket and afxdp ports only" port-add e1 --ifname x0
  ctl_err "mode on tap" "--mode applies to vhostuser ports only, not tap" port-add e1 --type tap --ifname t0 --mode server
  ctl_err "path on tap" "--path applies to vhostuser ports only, not tap" port-add e1 --type tap --ifname t0 --path /tmp/x
  ctl_err "queues on afpacket" "--queues applies to vhostuser ports only, not afpacket" port-add e1 --type afpacket --ifname lo --queues 2
  ctl_err "owner on tap" "--owner/--group apply to vhostuser server ports only, not tap" port-add e1 --type tap --ifname t0 --owner nobody
  ctl_err "tap without ifname" "a tap port needs --ifname" port-add e1 --type tap
  ctl_err "bad ifname" "invalid interface name 'much-too-long-ifname'" port-add e1 --type tap --ifname much-too-long-ifname
  ctl_err "bad name" "invalid port name 'a/b' (1..64 of A-Z a-z 0-9 _ - .)" port-add e1 --name a/b
  ctl_err "duplicate name" "port 'ok' already exists in network 'e1'" port-add e1 --name ok
  ctl_err "duplicate socket" "socket '$RUN/e1/ok.sock' is already used by port 'ok' of network 'e1'" port-add e2 --path "$RUN/e1/ok.sock"
  ctl_err "relative path" "socket path 'rel.sock' is not absolute" port-add e1 --path rel.sock
  ctl_err "comma in path" "socket path '/tmp/a,b.sock' contains ','" port-add e1 --path /tmp/a,b.sock
  ctl_err "client without path" "a client-mode vhostuser port needs --path (the socket QEMU listens on)" port-add e1 --mode client
  ctl_err "owner in client mode" "--owner/--group apply to server mode only: in client mode QEMU creates the socket" port-add e1 --mode client --path /tmp/q.sock --owner nobody
  ctl_err "unknown owner" "unknown user 'no-such-user-$TAG'" port-add e1 --name u --owner "no-such-user-$TAG"
  ctl_err "unknown group" "unknown group 'no-such-group-$TAG'" port-add e1 --name g --group "no-such-group-$TAG"
  CHECKS=$((CHECKS + 1))
  if "$VNETCTL" port-add e1 --name ap --type afpacket --ifname "nx$TAG" >"$TMP/ctl.out" 2>"$TMP/ctl.err"; then
    fail "afpacket on a missing interface succeeded"
  fi
  check "failed port-adds left no socket" ! -e "$RUN/e1/u.sock"
  check "failed port-adds stored nothing" "$(md5sum "$STATE/ports/e1.json")" = "$before"
  check "failed port-adds run nothing" "$(ctl --json port-list e1 | jq -r '[.ports[].name] | join(",")')" = ok
  check "no ports file for e2" ! -e "$STATE/ports/e2.json"

  ctl_err "remove unknown port" "network 'e1' has no port 'zz'" port-remove e1 zz
  ctl_err "remove on unknown network" "Network not found: no network with matching name 'nope'" port-remove nope ok
  ctl_err "remove without port" "command 'port-remove' requires <port> option" port-remove e1
  ctl_err "list unknown network" "Network not found: no network with matching name 'nope'" port-list nope
  ctl_err "stats unknown port" "network 'e1' has no port 'zz'" port-stats e1 --port zz
  ctl_err "stats inactive" "network 'off' is not active" port-stats off
  ctl_err "fdb-show inactive" "network 'off' is not active" fdb-show off
  ctl_err "fdb-show unknown" "Network not found: no network with matching name 'nope'" fdb-show nope
  ctl_err "fdb-flush unknown port" "network 'e1' has no port 'zz'" fdb-flush e1 --port zz
  ctl_err "fdb-flush inactive" "network 'off' is not active" fdb-flush off
  ctl_err "setageing not a number" "invalid ageing time 'abc' (seconds, 0..1000000)" fdb-setageing e1 abc
  ctl_err "setageing negative" "invalid ageing time '-5' (seconds, 0..1000000)" fdb-setageing e1 -- -5
  ctl_err "setageing too big" "ageing time must be in 0..1000000 seconds (0: never)" fdb-setageing e1 2000000
  ctl_err "setageing inactive" "network 'off' is not active" fdb-setageing off 10
  check "still unchanged" "$(md5sum "$STATE/ports/e1.json")" = "$before"
  ctl_ok "port-remove ok" port-remove e1 ok
  check "last port removed: file gone" ! -e "$STATE/ports/e1.json"
}

command -v jq >/dev/null || skip "no jq (Debian package jq): needed to read vnetctl --json"

case "$scenario" in
  switching | isolation | networks | removal | reconnect | tap_netns | persistence | port_errors | portgroups | multiqueue) "scenario_$scenario" ;;
  *)
    echo "unknown scenario '$scenario'"
    exit 2
    ;;
esac
echo "$scenario: $CHECKS checks, $FAILURES failures"
[ "$FAILURES" -eq 0 ]
