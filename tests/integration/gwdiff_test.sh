#!/usr/bin/env bash
# Differential test of the gateway against real dnsmasq: for a handful of
# networks of libvirt's own test corpus (networkxml2confdata: the network XML
# and the dnsmasq config libvirt generates for it), ../shared/tools/gwdiff.py
# asks the same DHCP (dhclient for the static hosts and one unknown MAC) and
# DNS questions (every local name, address, TXT and SRV) of
#   ref   dnsmasq running that config in a namespace, and
#   vnet  a vnetd started here, serving the same XML through an afpacket port,
# and this script compares the answers. Every difference fails the test unless
# it is listed in EXPLAINED below with its reason; all of them are printed.
#
#   gwdiff_test.sh VNETD VNETCTL
#   VNET_SHARED_DIR  the shared directory (default: ../shared next to the tree)
#   GWDIFF_CASES     space-separated case names to run instead of CASES
#
# Exit 0: no unexplained difference; 1: differences; 77: skipped (no shared
# corpus, not root, or a tool missing).
set -u
VNETD=$1 VNETCTL=$2
SHARED=${VNET_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
CORPUS=$SHARED/libvirt-corpus/tests/networkxml2confdata
GWDIFF=$SHARED/tools/gwdiff.py

# Networks with DHCP hosts, DNS hosts, TXT, SRV, a domain, bootp, an MTU and
# lease times.
CASES=${GWDIFF_CASES:-"nat-network
nat-network-dns-hosts
nat-network-dns-txt-record
nat-network-dns-srv-record
nat-network-dns-srv-record-minimal
nat-network-name-with-quotes
ptr-domains-auto
dhcp6-nat-network
nat-network-mtu
netboot-network
leasetime-minutes
isolated-network"}

# case|key|reason: differences that are expected. A case of '*' matches every case.
EXPLAINED=''

skip() { echo "SKIP: $*"; exit 77; }
[ -d "$CORPUS" ] || skip "the libvirt corpus is absent ($CORPUS)"
[ -f "$GWDIFF" ] || skip "gwdiff.py is absent ($GWDIFF)"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
for t in ip ethtool dig dhclient dnsmasq python3 unshare; do command -v $t >/dev/null || skip "$t not installed"; done

TMP=$(mktemp -d /tmp/vnet-gwdiff.XXXXXX)
SOCK=$TMP/run/vnetd.sock
DAEMON=
cleanup() {
  if [ -n "$DAEMON" ]; then
    kill -TERM "$DAEMON" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON" 2>/dev/null
    wait "$DAEMON" 2>/dev/null
  fi
  rm -rf /var/run/dpdk/vnet-"$(basename "$TMP")"* 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/state" "$TMP/run"
# gwdiff.py runs dnsmasq with no-resolv (no upstream servers), so a name it
# does not own is REFUSED; vnetd gets the same view: an empty resolv.conf in
# its own mount namespace.
: >"$TMP/resolv.conf"
unshare -m --propagation private /bin/sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' vnet-gwdiff \
  "$TMP/resolv.conf" "$VNETD" --state-dir "$TMP/state" --run-dir "$TMP/run" --hugepages no --pmd-idle-sleep-us 100 \
  >>"$TMP/vnetd.log" 2>&1 &
DAEMON=$!
for _ in $(seq 100); do "$VNETCTL" --socket "$SOCK" net-list >/dev/null 2>&1 && break; sleep 0.1; done
"$VNETCTL" --socket "$SOCK" net-list >/dev/null 2>&1 || { echo "vnetd did not come up"; cat "$TMP/vnetd.log"; exit 1; }

# compare REF.json VNET.json CASE: prints every difference; exit 1 if one is unexplained.
compare() {
  EXPLAINED=$EXPLAINED python3 - "$@" <<'PY'
import json, os, sys
ref, vnet, case = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
explained = {}
for line in os.environ.get("EXPLAINED", "").splitlines():
    if line.strip():
        c, key, reason = line.split("|", 2)
        if c in ("*", case):
            explained[key] = reason
bad = 0
for k in sorted(set(ref) | set(vnet)):
    a, b = ref.get(k), vnet.get(k)
    if a == b:
        continue
    why = explained.get(k)
    print(f"  {'explained' if why else 'DIFF':9} {k}\n      dnsmasq: {json.dumps(a, sort_keys=True)}\n      vnet:    {json.dumps(b, sort_keys=True)}")
    if why:
        print(f"      reason:  {why}")
    else:
        bad += 1
print(f"  {len(set(ref) | set(vnet))} answers compared, {bad} unexplained differences")
sys.exit(1 if bad else 0)
PY
}

# dhclient processes gwdiff.py started and left behind (their namespace gone).
gwdiff_dhclients() { pgrep -f 'dhclient .*-lf /tmp/gwd-(ref|vnet)\.' | sort; }
BEFORE=$(gwdiff_dhclients)
reap_dhclients() {
  local p
  for p in $(comm -13 <(echo "$BEFORE") <(gwdiff_dhclients)); do kill "$p" 2>/dev/null; done
}

FAILED=0
RAN=0
for c in $CASES; do
  xml=$CORPUS/$c.xml conf=$CORPUS/$c.conf hosts=$CORPUS/$c.hostsfile
  [ -f "$hosts" ] || hosts=-
  if [ ! -f "$xml" ] || [ ! -f "$conf" ]; then
    echo "FAIL $c: not in the corpus"; FAILED=$((FAILED + 1)); continue
  fi
  echo "== $c"
  python3 "$GWDIFF" ref "$xml" "$conf" "$hosts" >"$TMP/$c.ref.json" 2>"$TMP/$c.ref.err"
  rm -f "$TMP/state/leases/"*  # every case starts without leases, as the reference dnsmasq does
  python3 "$GWDIFF" vnet "$xml" --vnetctl "$VNETCTL" --socket "$SOCK" >"$TMP/$c.vnet.json" 2>"$TMP/$c.vnet.err"
  reap_dhclients
  for side in ref vnet; do
    if ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/$c.$side.json" 2>/dev/null; then
      echo "FAIL $c: gwdiff.py $side gave no answers"; cat "$TMP/$c.$side.err"; FAILED=$((FAILED + 1)); continue 2
    fi
  done
  if grep -q '"skip"' "$TMP/$c.ref.json"; then
    echo "skip $c: $(cat "$TMP/$c.ref.json")"; continue
  fi
  if grep -q '"error"' "$TMP/$c.vnet.json"; then
    echo "FAIL $c: $(cat "$TMP/$c.vnet.json")"; FAILED=$((FAILED + 1)); continue
  fi
  RAN=$((RAN + 1))
  if compare "$TMP/$c.ref.json" "$TMP/$c.vnet.json" "$c"; then echo "ok   $c"; else echo "FAIL $c"; FAILED=$((FAILED + 1)); fi
done
echo "$RAN networks compared, $FAILED failed"
if [ "$FAILED" -ne 0 ]; then echo "---- vnetd log ----"; tail -50 "$TMP/vnetd.log"; fi
[ "$FAILED" -eq 0 ]
