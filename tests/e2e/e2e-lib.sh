# Shared by the e2e scripts (sourced): the guest kit, a private vnetd, QEMU
# guests on its vhost-user sockets, cleanup. Expects VNETD, VNETCTL and KIT set.
# Exits 77 (skip) when QEMU or the guest kernel is unavailable on this host.
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
kitdir=${VNET_E2E_DIR:-/var/tmp/vnet-e2e-kit}
read -r kernel initrd < <("$KIT" "$kitdir") || true
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
ctl() { "$VNETCTL" --socket "$sock" "$@"; }
start_vnetd() {
  mkdir -p "$tmp/state" "$tmp/run"
  "$VNETD" --state-dir "$tmp/state" --run-dir "$tmp/run" >"$tmp/vnetd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
  [[ -S $sock ]] || fail "vnetd did not create its socket"
}

boot() { # name vhost-user-socket mac kernel-cmdline
  qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 256 -smp 1 \
    -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
    -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 loglevel=4 panic=-1 $4" \
    -chardev socket,id=c0,path="$2" -netdev vhost-user,id=n0,chardev=c0 \
    -device virtio-net-pci,netdev=n0,mac="$3",vectors=0 \
    -display none -monitor none -serial file:"$tmp/$1.log" -no-reboot &
  pids+=($!)
}

wait_guests() { # name... : until each has printed its exit line (240 s in all)
  local deadline=$((SECONDS + 240)) vm
  for vm in "$@"; do
    until grep -q 'VNET-E2E-EXIT=' "$tmp/$vm.log" 2>/dev/null; do
      ((SECONDS < deadline)) || fail "$vm did not finish in time"
      sleep 1
    done
  done
}
