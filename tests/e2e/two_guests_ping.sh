#!/usr/bin/env bash
# End-to-end: two QEMU guests (TCG, Debian cloud kernel, busybox) on one vnet
# network, each on a vhost-user port of vnetd, ping each other. Then the
# switch's own view is checked: both guests' MACs learned on their ports and
# packets counted on both ports.
#
# Usage: two_guests_ping.sh VNETD VNETCTL KIT_SCRIPT
# Exit 77 (skip) when QEMU or the guest kernel is unavailable on this host (e2e-lib.sh).
set -uo pipefail
VNETD=${1:?} VNETCTL=${2:?} KIT=${3:?}
source "$(dirname "$0")/e2e-lib.sh"
start_vnetd

cat >"$tmp/e2e.xml" <<XML
<network>
  <name>e2e</name>
  <bridge name='vnete2e0'/>
</network>
XML
ctl net-define "$tmp/e2e.xml" >/dev/null || fail "net-define"
ctl net-start e2e >/dev/null || fail "net-start"
ctl port-add e2e --name vm1 >"$tmp/port1.out" || fail "port-add vm1"
ctl port-add e2e --name vm2 >"$tmp/port2.out" || fail "port-add vm2"
s1="$tmp/run/e2e/vm1.sock"
s2="$tmp/run/e2e/vm2.sock"
grep -q "$s1" "$tmp/port1.out" || fail "port-add did not print the socket path $s1"

boot vm1 "$s1" 52:54:00:e2:e0:01 "vnet.ip=10.99.0.11/24 vnet.ping=10.99.0.12 vnet.linger=25"
boot vm2 "$s2" 52:54:00:e2:e0:02 "vnet.ip=10.99.0.12/24 vnet.ping=10.99.0.11 vnet.linger=25"

wait_guests vm1 vm2
grep -q 'VNET-E2E ping=ok' "$tmp/vm1.log" || fail "vm1 could not ping vm2"
grep -q 'VNET-E2E ping=ok' "$tmp/vm2.log" || fail "vm2 could not ping vm1"

fdb=$(ctl fdb-show e2e) || fail "fdb-show"
echo "$fdb"
grep -Eq 'vm1 +52:54:00:e2:e0:01|52:54:00:e2:e0:01.*vm1|vm1.*52:54:00:e2:e0:01' <<<"$fdb" || fail "vm1's MAC not learned on vm1"
grep -Eq 'vm2.*52:54:00:e2:e0:02|52:54:00:e2:e0:02.*vm2' <<<"$fdb" || fail "vm2's MAC not learned on vm2"
stats=$(ctl --json port-stats e2e) || fail "port-stats"
python3 - "$stats" <<'PY' || fail "port counters"
import json, sys
ports = {p["name"]: p for p in json.loads(sys.argv[1])["ports"]}
for n in ("vm1", "vm2"):
    p = ports[n]
    assert p["rx_packets"] >= 6 and p["tx_packets"] >= 6, (n, p)
print("counters ok:", {n: (p["rx_packets"], p["tx_packets"]) for n, p in ports.items()})
PY
echo "two guests pinged each other through vnetd"
