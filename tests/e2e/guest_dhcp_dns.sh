#!/usr/bin/env bash
# End-to-end: a QEMU guest (TCG) on a vhost-user port of vnetd gets its
# address by DHCP from vnet's gateway (a static <host> entry), pings the
# gateway and resolves a <dns><host> name through it. vnetd's lease list
# must show the guest.
#
# Usage: guest_dhcp_dns.sh VNETD VNETCTL KIT_SCRIPT
# Exit 77 (skip) when QEMU or the guest kernel is unavailable on this host.
set -uo pipefail
vnetd=${1:?} vnetctl=${2:?} kit=${3:?}
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
kitdir=${VNET_E2E_DIR:-/var/tmp/vnet-e2e-kit}
read -r kernel initrd < <("$kit" "$kitdir") || true
[[ -f "${kernel:-}" && -f "${initrd:-}" ]] || { echo "SKIP: no guest kernel (apt-get download failed?)"; exit 77; }

tmp=$(mktemp -d /tmp/vnet-e2e.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -40 "$f"; done; exit 1; }

sock="$tmp/run/vnetd.sock"
mkdir -p "$tmp/state" "$tmp/run"
"$vnetd" --state-dir "$tmp/state" --run-dir "$tmp/run" >"$tmp/vnetd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
[[ -S $sock ]] || fail "vnetd did not create its socket"
ctl() { "$vnetctl" --socket "$sock" "$@"; }

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

qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 256 -smp 1 \
  -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 loglevel=4 panic=-1 vnet.dhcp=1 vnet.ping=10.98.0.1 vnet.resolve=files.e2e.test" \
  -chardev socket,id=c0,path="$tmp/run/e2edhcp/vm1.sock" -netdev vhost-user,id=n0,chardev=c0 \
  -device virtio-net-pci,netdev=n0,mac=52:54:00:e2:e1:01,vectors=0 \
  -display none -monitor none -serial file:"$tmp/vm1.log" -no-reboot &
pids+=($!)

deadline=$((SECONDS + 240))
until grep -q 'VNET-E2E-EXIT=' "$tmp/vm1.log" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "the guest did not finish in time"
  sleep 1
done
grep 'VNET-E2E' "$tmp/vm1.log"
grep -q 'VNET-E2E dhcp=bound ip=10.98.0.21 .*router=10.98.0.1 dns=10.98.0.1 domain=e2e.test' "$tmp/vm1.log" ||
  fail "the guest did not get its static lease with router, DNS and domain"
grep -q 'VNET-E2E ping=ok' "$tmp/vm1.log" || fail "the guest could not ping the gateway"
grep -q 'VNET-E2E resolve=10.98.0.40' "$tmp/vm1.log" || fail "the guest could not resolve files.e2e.test"
leases=$(ctl net-dhcp-leases e2edhcp) || fail "net-dhcp-leases"
echo "$leases"
grep -q '52:54:00:e2:e1:01 .*10.98.0.21/24 .*guest1' <<<"$leases" || fail "the lease is not listed"
echo "the guest got its address by DHCP and resolved a <dns><host> name through vnetd"
