#!/usr/bin/env bash
# End-to-end: a QEMU guest (TCG) on a vhost-user port of vnetd gets its
# address by DHCP from vnet's gateway (a static <host> entry), pings the
# gateway and resolves a <dns><host> name through it. vnetd's lease list
# must show the guest.
#
# Usage: guest_dhcp_dns.sh VNETD VNETCTL KIT_SCRIPT
# Exit 77 (skip) when QEMU or the guest kernel is unavailable on this host (e2e-lib.sh).
set -uo pipefail
VNETD=${1:?} VNETCTL=${2:?} KIT=${3:?}
source "$(dirname "$0")/e2e-lib.sh"
start_vnetd

cat >"$tmp/net.xml" <<XML
<network>
  <name>e2edhcp</name>
  <forward mode='nat'/>
  <bridge name='vnete2e1'/>
  <domain name='e2e.test'/>
  <dns>
    <host ip='10.98.0.40'><hostname>files</hostname></host>
  </dns>
  <ip address='10.98.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.98.0.100' end='10.98.0.199'/>
      <host mac='52:54:00:e2:e1:01' name='guest1' ip='10.98.0.21'/>
    </dhcp>
  </ip>
</network>
XML
ctl net-define "$tmp/net.xml" >/dev/null || fail "net-define"
ctl net-start e2edhcp >/dev/null || fail "net-start"
ctl port-add e2edhcp --name vm1 >/dev/null || fail "port-add"

boot vm1 "$tmp/run/e2edhcp/vm1.sock" 52:54:00:e2:e1:01 \
  "vnet.dhcp=1 vnet.ping=10.98.0.1 vnet.resolve=files.e2e.test"

wait_guests vm1
grep 'VNET-E2E' "$tmp/vm1.log"
grep -q 'VNET-E2E dhcp=bound ip=10.98.0.21 .*router=10.98.0.1 dns=10.98.0.1 domain=e2e.test' "$tmp/vm1.log" ||
  fail "the guest did not get its static lease with router, DNS and domain"
grep -q 'VNET-E2E ping=ok' "$tmp/vm1.log" || fail "the guest could not ping the gateway"
grep -q 'VNET-E2E resolve=10.98.0.40' "$tmp/vm1.log" || fail "the guest could not resolve files.e2e.test"
leases=$(ctl net-dhcp-leases e2edhcp) || fail "net-dhcp-leases"
echo "$leases"
grep -q '52:54:00:e2:e1:01 .*10.98.0.21/24 .*guest1' <<<"$leases" || fail "the lease is not listed"
echo "the guest got its address by DHCP and resolved a <dns><host> name through vnetd"
