#!/usr/bin/env bash
# End-to-end: a QEMU guest (TCG, SeaBIOS) with no kernel of its own boots
# from the network through vnet, as a libvirt guest on a network with
# <tftp root> and <bootp file> does: its NIC's iPXE ROM gets an address and
# the boot file by DHCP from vnet's gateway, fetches the iPXE script, the
# kernel and the initramfs over TFTP from the gateway, and boots them; the
# booted guest takes its lease again and pings the gateway. vnetd's gateway
# counters must show the three transfers.
#
# Usage: guest_pxe_boot.sh VNETD VNETCTL KIT_SCRIPT
# Exit 77 (skip) when QEMU, its iPXE ROM or the guest kernel is unavailable (e2e-lib.sh).
set -uo pipefail
VNETD=${1:?} VNETCTL=${2:?} KIT=${3:?}
source "$(dirname "$0")/e2e-lib.sh"
ls /usr/lib/ipxe/qemu/*virtio* >/dev/null 2>&1 || { echo "SKIP: no iPXE ROM for virtio-net (ipxe-qemu)"; exit 77; }
start_vnetd

root=$tmp/tftp
mkdir -p "$root"
cp "$kernel" "$root/vmlinuz"
cp "$initrd" "$root/initrd.img"
cat >"$root/boot.ipxe" <<'S'
#!ipxe
kernel vmlinuz console=ttyS0 loglevel=4 panic=-1 vnet.dhcp=1 vnet.ping=10.97.0.1
initrd initrd.img
boot
S
chmod 0644 "$root"/*

cat >"$tmp/net.xml" <<XML
<network>
  <name>e2epxe</name>
  <forward mode='nat'/>
  <bridge name='vnete2e2'/>
  <ip address='10.97.0.1' netmask='255.255.255.0'>
    <tftp root='$root'/>
    <dhcp>
      <range start='10.97.0.100' end='10.97.0.199'/>
      <host mac='52:54:00:e2:e2:01' name='pxeguest' ip='10.97.0.21'/>
      <bootp file='boot.ipxe'/>
    </dhcp>
  </ip>
</network>
XML
ctl net-define "$tmp/net.xml" >/dev/null || fail "net-define"
ctl net-start e2epxe >/dev/null || fail "net-start"
ctl port-add e2epxe --name vm1 >/dev/null || fail "port-add"

qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 256 -smp 1 \
  -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
  -boot n \
  -chardev socket,id=c0,path="$tmp/run/e2epxe/vm1.sock" -netdev vhost-user,id=n0,chardev=c0 \
  -device virtio-net-pci,netdev=n0,mac=52:54:00:e2:e2:01,vectors=0 \
  -display none -monitor none -serial file:"$tmp/vm1.log" -no-reboot &
pids+=($!)

wait_guests vm1
grep 'VNET-E2E' "$tmp/vm1.log"
grep -q 'VNET-E2E dhcp=bound ip=10.97.0.21 ' "$tmp/vm1.log" || fail "the booted guest did not get its static lease"
grep -q 'VNET-E2E ping=ok' "$tmp/vm1.log" || fail "the booted guest could not ping the gateway"
stats=$(ctl --json gateway-stats e2epxe) || fail "gateway-stats"
echo "$stats" | jq -c '.tftp'
[[ $(jq '.tftp.completed' <<<"$stats") -ge 3 ]] || fail "fewer than three TFTP transfers completed"
[[ $(jq '.tftp.bytes_sent' <<<"$stats") -ge $(($(stat -c %s "$root/vmlinuz") + $(stat -c %s "$root/initrd.img"))) ]] ||
  fail "the kernel and the initramfs were not sent whole"
echo "the guest booted from the network: DHCP and TFTP from vnetd's gateway"
