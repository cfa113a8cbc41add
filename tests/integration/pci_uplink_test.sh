#!/usr/bin/env bash
# PCI (vfio-pci) uplinks through a real vnetd, on a fake sysfs tree
# (vnetd --sysfs-root): the machines the tests run on have no NIC to give
# away. What is checked is vnetd's part — when it binds, what it writes, that
# a failed start gives the device back, the refusals — not a NIC's traffic.
#
#   pci_uplink_test.sh VNETD VNETCTL
#
#   1. vnetd without --pci refuses a PCI uplink at net-start, saying how to
#      enable it, and writes nothing to sysfs.
#   2. vnetd --pci: the NIC 0000:03:00.0 on ixgbe is unbound and offered to
#      vfio-pci (driver_override, drivers_probe); the fake kernel does not move
#      it, so binding fails, vnetd clears the override again, and net-start
#      fails with the binder's reason.
#   3. vnetd --pci with the NIC already on vfio-pci: nothing is written, DPDK
#      starts with the PCI bus but probes no device at start (a match-nothing
#      allow-list), and hot-plugging 0000:03:00.0 fails (there is no such
#      device in the real PCI bus): net-start fails naming rte_dev_probe.
#
# Exit 0: every check passed; 1: a check failed; 77: not root.
set -u
VNETD=$1 VNETCTL=$2
. "$(dirname "$0")/lib.sh"
lib_init pci
need jq
NIC=0000:03:00.0
FAKE=$TMP/sys

# The fake kernel: the NIC on ixgbe in IOMMU group 7, vfio-pci loaded.
make_sysfs() { # driver of the NIC
  rm -rf "$FAKE"
  local real=$FAKE/devices/pci0000:00/$NIC
  mkdir -p "$real" "$FAKE/bus/pci/devices" "$FAKE/kernel/iommu_groups/7/devices"
  for d in ixgbe vfio-pci; do
    mkdir -p "$FAKE/bus/pci/drivers/$d"
    : >"$FAKE/bus/pci/drivers/$d/bind"
    : >"$FAKE/bus/pci/drivers/$d/unbind"
  done
  : >"$FAKE/bus/pci/drivers_probe"
  echo "(null)" >"$real/driver_override"
  echo 0x8086 >"$real/vendor"
  ln -s "$real" "$FAKE/bus/pci/devices/$NIC"
  ln -s "$FAKE/bus/pci/drivers/$1" "$real/driver"
  ln -s "$FAKE/kernel/iommu_groups/7" "$real/iommu_group"
  ln -s "$real" "$FAKE/kernel/iommu_groups/7/devices/$NIC"
}
sysfs_file() { tr -d '\n' <"$FAKE/$1" 2>/dev/null; }

NET_XML=$TMP/net.xml
cat >"$NET_XML" <<X
<network xmlns:vnet='urn:vnet:network:1'>
  <name>pcinet</name>
  <forward mode='nat' dev='$NIC'/>
  <ip address='10.89.0.1' prefix='24'/>
  <vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>
</network>
X
start_err() { ctl net-start pcinet >"$TMP/start.out" 2>&1 && return 1; cat "$TMP/start.out"; }

# 1. Without --pci.
make_sysfs ixgbe
start_daemon --sysfs-root "$FAKE"
check "net-define a network with a PCI uplink" ctl net-define "$NET_XML"
msg=$(start_err)
check "without --pci, net-start says to start vnetd with --pci ($msg)" \
  grep -q 'PCI device and vnetd runs DPDK without the PCI bus: start vnetd with --pci' "$TMP/start.out"
check "and wrote nothing" [ -z "$(sysfs_file bus/pci/drivers/ixgbe/unbind)$(sysfs_file bus/pci/drivers_probe)" ]
check "EAL ran with --no-pci" grep -q -- "--no-pci" "$TMP/vnetd.log"
stop_daemon

# 2. --pci, the fake kernel never moves the device: vnetd undoes its writes.
make_sysfs ixgbe
: >"$TMP/vnetd.log"
start_daemon --pci --sysfs-root "$FAKE"
check "EAL with the PCI bus and an allow-list that matches nothing" grep -q -- "-a ffff:ff:1f.7" "$TMP/vnetd.log"
msg=$(start_err)
check "net-start fails with the binder's reason ($msg)" grep -q "cannot bind $NIC to vfio-pci" "$TMP/start.out"
check "the NIC was unbound from ixgbe" [ "$(sysfs_file bus/pci/drivers/ixgbe/unbind)" = "$NIC" ]
check "vfio-pci was asked for it" bash -c "[ \"\$(cat '$FAKE/bus/pci/drivers_probe' '$FAKE/bus/pci/drivers/vfio-pci/bind' | tr -d '\n')\" != '' ]"
override=$(sysfs_file devices/pci0000:00/$NIC/driver_override)
check "driver_override is cleared again ('$override')" bash -c "[ -z '$override' ] || [ '$override' = '(null)' ]"
check "the network is not running" bash -c "'$VNETCTL' --socket '$SOCK' --json net-list --active | jq -e 'map(select(.name==\"pcinet\")) | length == 0' >/dev/null"
stop_daemon

# 3. --pci, the NIC already on vfio-pci: no sysfs writes, the hot-plug is tried.
make_sysfs vfio-pci
: >"$TMP/vnetd.log"
start_daemon --pci --sysfs-root "$FAKE"
msg=$(start_err)
check "net-start fails at the hot-plug ($msg)" grep -q "rte_dev_probe($NIC)" "$TMP/start.out"
check "nothing was written to sysfs" \
  [ -z "$(sysfs_file bus/pci/drivers/vfio-pci/unbind)$(sysfs_file bus/pci/drivers_probe)$(sysfs_file bus/pci/drivers/ixgbe/bind)" ]
check "the log says the device was already on vfio-pci" grep -q "is PCI device $NIC, already on vfio-pci" "$TMP/vnetd.log"
check "vnetd is still serving" ctl net-list
stop_daemon
lib_finish
