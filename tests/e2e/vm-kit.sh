#!/usr/bin/env bash
# Builds (once, cached) what a test guest boots: Debian's cloud kernel, unpacked
# from its package (never installed), and a busybox initramfs whose /init loads
# virtio-net, configures eth0 from the kernel command line, runs the test named
# there and powers off.
#
# Usage: vm-kit.sh DIR        prints "KERNEL INITRD" (paths under DIR)
#
# Kernel command line understood by /init:
#   vnet.ip=A.B.C.D/P         static address of eth0 (else vnet.dhcp=1: udhcpc)
#   vnet.ping=A.B.C.D         ping it until 3 replies (deadline vnet.deadline, default 90 s)
#   vnet.resolve=NAME         look NAME up (busybox nslookup) with the DHCP-given resolver
#   vnet.linger=S             stay up S seconds after the test (answering pings)
# The console shows "VNET-E2E key=value ..." lines and ends with "VNET-E2E-EXIT=<rc>".
set -euo pipefail
dir=${1:?usage: vm-kit.sh DIR}
mkdir -p "$dir/pkgs"

kdir="$dir/pkgs/cloud"
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
  img=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
  [[ -n "$img" ]] || { echo "vm-kit: no linux-image-cloud-amd64 in apt" >&2; exit 3; }
  (cd "$dir/pkgs" && apt-get download "$img" >/dev/null 2>&1) || { echo "vm-kit: apt-get download $img failed" >&2; exit 3; }
  mkdir -p "$kdir"
  dpkg -x "$dir/pkgs/${img}"_*.deb "$kdir"
fi
kernel=$(ls "$kdir"/boot/vmlinuz-* | head -1)
moddir=$(ls -d "$kdir"/lib/modules/* | head -1)

bb=$(command -v busybox || true)
[[ -n "$bb" ]] && file -L "$bb" | grep -q 'statically linked' || { echo "vm-kit: needs busybox-static" >&2; exit 3; }

initrd="$dir/initramfs-$(basename "$kernel").cpio.gz"
self_sum=$(sha1sum "$0" | cut -c1-12)
if [[ -f "$initrd" && -f "$initrd.sum" && "$(cat "$initrd.sum")" == "$self_sum" ]]; then
  echo "$kernel $initrd"
  exit 0
fi

stage=$(mktemp -d "$dir/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules,usr/share/udhcpc}
cp "$bb" "$stage/bin/busybox"
for a in $("$bb" --list); do [[ $a == busybox ]] || ln -sf /bin/busybox "$stage/bin/$a"; done
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  f=$(find "$moddir" -name "$m.ko*" | head -1)
  [[ -n "$f" ]] || continue
  case $f in
    *.xz) xz -dc "$f" >"$stage/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" >"$stage/lib/modules/$m.ko" ;;
    *) cp "$f" "$stage/lib/modules/$m.ko" ;;
  esac
  echo "$m" >>"$stage/lib/modules/order"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"

cat >"$stage/usr/share/udhcpc/default.script" <<'EOS'
#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip -4 route add default via "$r" dev "$interface"; break; done
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    echo "VNET-E2E dhcp=$1 ip=$ip mask=$mask router=$router dns=$dns domain=$domain lease=$lease" ;;
esac
exit 0
EOS
chmod +x "$stage/usr/share/udhcpc/default.script"

cat >"$stage/init" <<'EOS'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
for kv in $(cat /proc/cmdline); do
  case $kv in vnet.*=*) k=${kv#vnet.}; k=${k%%=*}; eval "V_$k=\"${kv#*=}\"" ;; esac
done
rc=0
ip link set lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
if [ -n "$V_ip" ]; then
  ip addr add "$V_ip" dev eth0
elif [ "$V_dhcp" = 1 ]; then
  udhcpc -i eth0 -n -q -t 10 -T 3 -s /usr/share/udhcpc/default.script || rc=1
fi
echo "VNET-E2E addr=$(ip -4 -o addr show dev eth0 | awk '{print $4}')"
if [ -n "$V_ping" ]; then
  if ping -c 3 -W 2 -w "${V_deadline:-90}" "$V_ping" >/tmp/ping.out 2>&1; then
    echo "VNET-E2E ping=ok"
  else
    rc=1; echo "VNET-E2E ping=fail"; cat /tmp/ping.out
  fi
fi
if [ -n "$V_resolve" ]; then
  ns=$(awk '/^nameserver/{print $2; exit}' /etc/resolv.conf 2>/dev/null)
  if [ -n "$ns" ] && nslookup "$V_resolve" "$ns" >/tmp/ns.out 2>&1; then
    echo "VNET-E2E resolve=$(awk '/^Address/ && !/#53/ {a=$NF} END {print a}' /tmp/ns.out)"
  else
    rc=1; echo "VNET-E2E resolve=fail"; cat /tmp/ns.out
  fi
fi
[ -n "$V_linger" ] && sleep "$V_linger"
echo "VNET-E2E-EXIT=$rc"
poweroff -f
EOS
chmod +x "$stage/init"
(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd.tmp"
mv "$initrd.tmp" "$initrd"
echo "$self_sum" >"$initrd.sum"
echo "$kernel $initrd"
