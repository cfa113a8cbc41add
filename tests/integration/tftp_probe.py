#!/usr/bin/env python3
"""Asks a TFTP server a fixed list of questions and prints what it answered, as JSON.

  tftp_probe.py SERVER_IP ROOT   (ROOT: the server's tftp root, for absolute names)

Run from a client namespace; tftpdiff_test.sh runs it against dnsmasq and
against vnet and compares the two transcripts. Each case records the answers
in a form that does not depend on timing or on the server's port numbers:
opcodes, error codes and texts, OACK options, the block sizes and a digest of
the data, whether an answer came from port 69 or a transfer port, and what
happens after the transfer (nothing, a reply, or ICMP port unreachable).
"""
import hashlib
import json
import socket
import struct
import sys
import time

SERVER = sys.argv[1]
ROOT = sys.argv[2].encode()
RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6


def request(op, *strings):
    return struct.pack("!H", op) + b"".join(s + b"\0" for s in strings)


def ack(n):
    return struct.pack("!HH", ACK, n & 0xFFFF)


def describe(pkt):
    if len(pkt) < 2:
        return {"op": "short"}
    op = struct.unpack("!H", pkt[:2])[0]
    if op == ERROR:
        code = struct.unpack("!H", pkt[2:4])[0]
        return {"op": "ERROR", "code": code, "message": pkt[4:].rstrip(b"\0").decode("latin-1")}
    if op == OACK:
        parts = pkt[2:].split(b"\0")[:-1]
        return {"op": "OACK", "options": [p.decode("latin-1") for p in parts]}
    if op == DATA:
        return {"op": "DATA", "block": struct.unpack("!H", pkt[2:4])[0], "size": len(pkt) - 4}
    return {"op": op}


def client(timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(timeout)
    return s


def receive(s):
    try:
        return s.recvfrom(70000)
    except socket.timeout:
        return None, None
    except ConnectionRefusedError:
        return b"refused", None


def after(s, tid, send=None, wait=0.6):
    """What follows: `send` (bytes) to the transfer port first, if given."""
    s.settimeout(wait)
    if send is not None:
        s.connect(tid)  # a connected socket reports ICMP port unreachable
        s.send(send)
    pkt, _ = receive(s)
    if pkt is None:
        return "nothing"
    if pkt == b"refused":
        return "port unreachable"
    return describe(pkt)


def transfer(strings, op=RRQ, ack_window=None, stop_after=None):
    """One request and, if it starts a transfer, the whole transfer."""
    s = client()
    s.sendto(request(op, *strings), (SERVER, 69))
    pkt, tid = receive(s)
    if pkt is None:
        return {"first": "nothing"}
    r = {"first": describe(pkt), "from_port_69": tid[1] == 69}
    first = r["first"]
    if first["op"] not in ("DATA", "OACK"):
        r["then"] = after(s, tid)
        return r
    blksize, window = 512, 1
    if first["op"] == "OACK":
        opts = dict(zip(first["options"][0::2], first["options"][1::2]))
        blksize = int(opts.get("blksize", 512))
        window = int(opts.get("windowsize", 1))
        s.sendto(ack(0), tid)
        pkt, _ = receive(s)
        if pkt is None:
            r["after_oack"] = "nothing"
            return r
    data, sizes, expected, in_window = bytearray(), [], 1, 0
    while True:
        d = describe(pkt)
        if d["op"] != "DATA":
            r["unexpected"] = d
            break
        if d["block"] != expected & 0xFFFF:
            r["out_of_order"] = d
            break
        data += pkt[4:]
        sizes.append(d["size"])
        in_window += 1
        last = d["size"] < blksize
        if stop_after is not None and expected == stop_after:
            r["stopped_at"] = expected
            r["sizes"] = sizes
            r["sha256"] = hashlib.sha256(data).hexdigest()
            r["tid"] = tid
            r["socket"] = s
            return r
        if last or in_window == (ack_window or window):
            s.sendto(ack(expected), tid)
            in_window = 0
        if last:
            break
        expected += 1
        pkt, _ = receive(s)
        if pkt is None:
            r["stalled_at"] = expected
            break
    r["blocks"] = len(sizes)
    r["sizes"] = sizes if len(sizes) <= 8 else sizes[:3] + ["..."] + sizes[-3:]
    r["max_size"] = max(sizes) if sizes else 0
    r["bytes"] = len(data)
    r["sha256"] = hashlib.sha256(data).hexdigest()
    r["then"] = after(s, tid)
    return r


def plain(r):
    return {k: v for k, v in r.items() if k not in ("tid", "socket")}


cases = {}
o, n = b"octet", b"netascii"
cases["small file"] = transfer([b"small.bin", o])
cases["whole blocks"] = transfer([b"whole.bin", o])
cases["empty file"] = transfer([b"empty.bin", o])
cases["mode in upper case"] = transfer([b"small.bin", b"OCTET"])
cases["file in a directory"] = transfer([b"sub/file.txt", o])
cases["absolute path under the root"] = transfer([ROOT + b"/small.bin", o])
cases["absolute path outside the root"] = transfer([b"/small.bin", o])
cases["backslashes"] = transfer([b"sub\\file.txt", o])
cases["blksize 1000 and tsize"] = transfer([b"big.bin", o, b"blksize", b"1000", b"tsize", b"0"])
cases["options capped"] = transfer([b"big.bin", o, b"windowsize", b"100", b"blksize", b"9000", b"timeout", b"300"])
cases["windowsize 4"] = transfer([b"big.bin", o, b"windowsize", b"4"])
cases["blksize 0"] = transfer([b"tiny.bin", o, b"blksize", b"0"])
cases["option names in any case"] = transfer([b"small.bin", o, b"BlkSize", b"700", b"TSIZE", b"0"])
cases["unknown option"] = transfer([b"small.bin", o, b"colour", b"red"])
cases["an empty option value ends the options"] = transfer([b"small.bin", o, b"blksize", b"", b"tsize", b"0"])
cases["timeout option"] = transfer([b"small.bin", o, b"timeout", b"5"])
cases["netascii"] = transfer([b"lines.txt", n])
cases["netascii, CR LF split over blocks"] = transfer([b"split.txt", n, b"blksize", b"8"])
cases["netascii ignores tsize and windowsize"] = transfer([b"lines.txt", n, b"tsize", b"0", b"windowsize", b"4"])
cases["netascii, LFs expanding a short last block"] = transfer([b"newlines.txt", n, b"blksize", b"8"])
cases["missing file"] = transfer([b"nosuch", o])
cases["dot-dot out of the root"] = transfer([b"../etc/passwd", o])
cases["dot-dot inside a path"] = transfer([b"sub/../../etc/passwd", o])
cases["not world-readable"] = transfer([b"private.bin", o])
cases["a directory"] = transfer([b"sub", o])
cases["a file as a directory"] = transfer([b"small.bin/x", o])
cases["write request"] = transfer([b"upload", o], op=WRQ)
cases["empty file name"] = transfer([b"", o])
cases["mode mail"] = transfer([b"small.bin", b"mail"])
cases["no mode"] = transfer([b"small.bin"])
cases["ACK to port 69"] = transfer([], op=ACK)

# A stranger's packet to a transfer port; the transfer goes on.
r = transfer([b"big.bin", o], stop_after=1)
other = client(2.0)
other.sendto(ack(1), r["tid"])
pkt, tid2 = receive(other)
r["stranger_got"] = describe(pkt) if pkt not in (None, b"refused") else str(pkt)
s = r["socket"]
s.sendto(ack(1), r["tid"])
pkt, _ = receive(s)
r["then_block"] = describe(pkt) if pkt not in (None, b"refused") else str(pkt)
# A duplicate ACK of block 1 brings nothing (no sorcerer's apprentice).
r["after_duplicate_ack"] = after(s, r["tid"], send=ack(1), wait=0.6)
cases["TID mismatch and duplicate ACK"] = plain(r)

# The client gives up with ERROR: the transfer port is gone.
r = transfer([b"big.bin", o], stop_after=1)
s = r["socket"]
s.sendto(struct.pack("!HH", ERROR, 0) + b"stop\0", r["tid"])
time.sleep(0.3)
r["after_error"] = after(s, r["tid"], send=ack(1), wait=1.0)
cases["client ERROR ends the transfer"] = plain(r)

# No ACK: the block comes again.
s = client(4.0)
s.sendto(request(RRQ, b"small.bin", o, b"timeout", b"1"), (SERVER, 69))
pkt, tid = receive(s)
copies = 0
deadline = time.time() + 3.5
while time.time() < deadline:
    s.settimeout(max(0.05, deadline - time.time()))
    p2, _ = receive(s)
    if p2 is None:
        break
    if p2 == pkt:
        copies += 1
cases["an unacknowledged OACK is sent again"] = {"first": describe(pkt), "copies_within_3.5s": copies >= 1}

json.dump(cases, sys.stdout, indent=1, sort_keys=True)
print()
