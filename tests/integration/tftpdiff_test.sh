#!/usr/bin/env bash
# Differential test of the gateway's TFTP server against real dnsmasq: the
# same tftp root served by
#   ref   dnsmasq --enable-tftp --tftp-root (as libvirt runs it for
#         <tftp root>, as root) in a namespace, at 10.90.0.1, and
#   vnet  vnetd's gateway for a network with that <tftp root>, at 10.90.0.1,
#         its client behind an afpacket port,
# asked the same questions by tftp_probe.py from a client at 10.90.0.5 (whole
# transfers with and without options, netascii, refusals, a stranger's
# packet, a duplicate ACK, a client's ERROR, a lost ACK). Every answer must be
# the same: opcodes, error codes and texts, OACK options, block sizes, data.
#
#   tftpdiff_test.sh VNETD VNETCTL
#
# vnet answers as current dnsmasq does. Debian 12's dnsmasq (2.90) is older:
# it takes neither the timeout nor the windowsize option, answers ERROR 4
# "unsupported request" to a write request, an empty file name and any
# opcode other than a read request on port 69 (current dnsmasq: "unsupported
# write request", "empty filename in request", and no answer to other
# opcodes). With a reference of version 2.90 or older those differences are
# printed as explained; any other difference fails.
#
# Exit 0: the same answers; 1: a difference; 77: skipped (not root, a tool missing).
set -u
VNETD=$1 VNETCTL=$2
. "$(dirname "$0")/lib.sh"
lib_init tftpdiff
need ip ethtool dnsmasq python3 jq
TAG=$$
REF_NS=vtdr$TAG      # dnsmasq
REF_CLIENT=vtdrc$TAG
NS=vtdv$TAG          # vnet's client
HOSTIF=vtdh$TAG
PROBE=$(dirname "$0")/tftp_probe.py

ROOT=$TMP/tftp
mkdir -p "$ROOT/sub"
head -c 600 /dev/urandom >"$ROOT/small.bin"
head -c 1024 /dev/urandom >"$ROOT/whole.bin"
: >"$ROOT/empty.bin"
head -c 20000 /dev/urandom >"$ROOT/big.bin"
head -c 10 /dev/urandom >"$ROOT/tiny.bin"
printf 'in a directory\n' >"$ROOT/sub/file.txt"
printf 'one\ntwo\n\nend' >"$ROOT/lines.txt"
printf '1234567\nabcdefg\n' >"$ROOT/split.txt"
printf '\n\n\n\n\n' >"$ROOT/newlines.txt"
printf 'secret' >"$ROOT/private.bin"
chmod 0644 "$ROOT"/*.bin "$ROOT"/*.txt "$ROOT/sub/file.txt"
chmod 0600 "$ROOT/private.bin"

# ref: dnsmasq and its client on a veth pair between two namespaces.
add_netns "$REF_NS"
add_netns "$REF_CLIENT"
ip link add "r$HOSTIF" netns "$REF_NS" type veth peer name eth0 netns "$REF_CLIENT" || skip "cannot create a veth pair"
ip -n "$REF_NS" link set "r$HOSTIF" name eth0
ip -n "$REF_NS" addr add 10.90.0.1/24 dev eth0
ip -n "$REF_CLIENT" addr add 10.90.0.5/24 dev eth0
ip -n "$REF_NS" link set eth0 up
ip -n "$REF_CLIENT" link set eth0 up
ip netns exec "$REF_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
  --enable-tftp --tftp-root="$ROOT" --interface=eth0 --bind-dynamic --except-interface=lo \
  --user=root --group=root --pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/dnsmasq.out" &
for _ in $(seq 50); do ip netns exec "$REF_NS" ss -uln | grep -q ':69 ' && break; sleep 0.1; done

# vnet: an isolated network with the same root.
cat >"$TMP/net.xml" <<X
<network>
  <name>tftpdiff</name>
  <bridge name='vtdbr0'/>
  <ip address='10.90.0.1' prefix='24'>
    <tftp root='$ROOT'/>
  </ip>
</network>
X
start_daemon
check "net-define" ctl net-define "$TMP/net.xml"
check "net-start" ctl net-start tftpdiff
add_netns "$NS"
add_veth "$HOSTIF" "$NS" 52:54:00:0d:0e:05
check "port-add afpacket" ctl port-add tftpdiff --type afpacket --ifname "$HOSTIF" --name c0
ip -n "$NS" addr add 10.90.0.5/24 dev eth0
sleep 1

ip netns exec "$REF_CLIENT" python3 "$PROBE" 10.90.0.1 "$ROOT" >"$TMP/ref.json" 2>"$TMP/probe-ref.out"
check "the probe ran against dnsmasq" [ -s "$TMP/ref.json" ]
ip netns exec "$NS" python3 "$PROBE" 10.90.0.1 "$ROOT" >"$TMP/vnet.json" 2>"$TMP/probe-vnet.out"
check "the probe ran against vnet" [ -s "$TMP/vnet.json" ]
check "dnsmasq answered transfers (its own log)" grep -q 'sent .*small.bin to 10.90.0.5' "$TMP/dnsmasq.out"

version=$(dnsmasq --version | sed -n '1s/.*version \([0-9]*\.[0-9]*\).*/\1/p')
OLD_REF=no
python3 -c "import sys; sys.exit(0 if tuple(map(int, '$version'.split('.'))) <= (2, 90) else 1)" && OLD_REF=yes
echo "reference: dnsmasq $version (older than current dnsmasq's TFTP: $OLD_REF)"
while IFS=$'\t' read -r verdict name detail; do
  case $verdict in
    same) check "same answer: $name" true ;;
    explained) echo "     dnsmasq: $detail"; check "explained difference: $name" true ;;
    *) echo "     dnsmasq: $detail"; check "same answer: $name" false ;;
  esac
done < <(OLD_REF=$OLD_REF python3 - "$TMP/ref.json" "$TMP/vnet.json" <<'PY'
import json, os, sys
ref, vnet = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
old = os.environ["OLD_REF"] == "yes"
def older_dnsmasq(name, a, b):
    """True when a (dnsmasq <= 2.90) and b (vnet) differ only as the header says."""
    if name in ("write request", "empty file name"):
        return a.get("first", {}).get("message", "").startswith("unsupported request from") and \
            b.get("first", {}).get("code") == 4
    if name == "ACK to port 69":
        return a.get("first", {}).get("code") == 4 and b.get("first") == "nothing"
    if name in ("timeout option", "windowsize 4", "options capped", "an unacknowledged OACK is sent again"):
        # The same data; the OACK lists options 2.90 does not take (or there is none).
        strip = lambda r: {k: v for k, v in r.items() if k != "first"}
        return strip(a) == strip(b) and b.get("first", {}).get("op") == "OACK"
    return False
for name in sorted(set(ref) | set(vnet)):
    a, b = ref.get(name), vnet.get(name)
    if a == b:
        print(f"same\t{name}\t")
    elif old and a and b and older_dnsmasq(name, a, b):
        print(f"explained\t{name}\t{json.dumps(a)}  vnet: {json.dumps(b)}")
    else:
        print(f"differ\t{name}\t{json.dumps(a)}  vnet: {json.dumps(b)}")
PY
)
check "a transfer answered with data in both" [ "$(jq -r '."small file".bytes' "$TMP/vnet.json")" = 600 ]
ctl --json gateway-stats tftpdiff >"$TMP/gwstats.json" 2>&1
check "gateway-stats counts the TID mismatch" [ "$(jq '.tftp.tid_mismatch' "$TMP/gwstats.json")" -eq 1 ]
check "gateway-stats counts the client's ERROR" [ "$(jq '.tftp.aborted_by_client' "$TMP/gwstats.json")" -eq 1 ]
lib_finish
