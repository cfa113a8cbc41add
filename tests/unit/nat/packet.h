// Test helpers: IPv4/TCP/UDP/ICMP packets built field by field with full
// checksum computation, and a reference checker that recomputes every
// checksum from scratch (the straightforward RFC 1071 sum, independent of
// the incremental code under test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <string>
#include <vector>

#include "nat/nat_config.h"

namespace vnet::nat::test {

using Bytes = std::vector<std::byte>;

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

// The addresses every nat/ test speaks of: guests on 192.168.122.0/24, the
// network's outside (NAT) address, a peer on the Internet.
inline constexpr uint32_t kGuest = ip(192, 168, 122, 10);
inline constexpr uint32_t kGuest2 = ip(192, 168, 122, 11);
inline constexpr uint32_t kExt = ip(198, 51, 100, 2);
inline constexpr uint32_t kPeer = ip(203, 0, 113, 5);

// The NAT the tests translate with: inside 192.168.122.0/24 (libvirt's
// default network), outside address kExt, TCP/UDP ports [first, last].
inline NatConfig guest_nat(uint16_t first = kDefaultPortFirst, uint16_t last = kDefaultPortLast,
                           uint16_t workers = 1) {
  NatConfig c;
  c.inside.add(ip(192, 168, 122, 1), 24);
  c.addr_first = c.addr_last = kExt;
  c.port_first = first;
  c.port_last = last;
  c.workers = workers;
  return c;
}

inline uint8_t get8(const Bytes& b, size_t o) { return std::to_integer<uint8_t>(b[o]); }
inline uint16_t get16(const Bytes& b, size_t o) {
  return static_cast<uint16_t>(get8(b, o) << 8 | get8(b, o + 1));
}
inline uint32_t get32(const Bytes& b, size_t o) {
  return uint32_t{get16(b, o)} << 16 | get16(b, o + 2);
}
inline void put8(Bytes& b, size_t o, uint8_t v) { b[o] = std::byte{v}; }
inline void put16(Bytes& b, size_t o, uint16_t v) {
  put8(b, o, static_cast<uint8_t>(v >> 8));
  put8(b, o + 1, static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, size_t o, uint32_t v) {
  put16(b, o, static_cast<uint16_t>(v >> 16));
  put16(b, o + 2, static_cast<uint16_t>(v));
}

// Reference ones' complement sum of bytes[from, to), as if that range
// started at an even offset.
inline uint16_t ref_checksum(const Bytes& b, size_t from, size_t to, uint32_t sum = 0) {
  for (size_t i = from; i < to; i += 2) {
    uint32_t w = uint32_t{get8(b, i)} << 8;
    if (i + 1 < to) w |= get8(b, i + 1);
    sum += w;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto +
         static_cast<uint32_t>(len);
}

// Fills the IPv4 header checksum of the header at `at` (IHL from the header).
inline void fill_ip_checksum(Bytes& b, size_t at = 0) {
  const size_t ihl = (get8(b, at) & 0xf) * 4u;
  put16(b, at + 10, 0);
  put16(b, at + 10, ref_checksum(b, at, at + ihl));
}

// Fills the L4 checksum of the IPv4 packet at `at` whose L4 spans to `end`.
inline void fill_l4_checksum(Bytes& b, size_t at, size_t end) {
  const size_t ihl = (get8(b, at) & 0xf) * 4u;
  const uint8_t proto = get8(b, at + 9);
  const size_t l4 = at + ihl;
  const uint32_t src = get32(b, at + 12), dst = get32(b, at + 16);
  if (proto == 6) {
    put16(b, l4 + 16, 0);
    put16(b, l4 + 16, ref_checksum(b, l4, end, pseudo_sum(src, dst, 6, end - l4)));
  } else if (proto == 17) {
    put16(b, l4 + 6, 0);
    uint16_t c = ref_checksum(b, l4, end, pseudo_sum(src, dst, 17, end - l4));
    put16(b, l4 + 6, c == 0 ? 0xffff : c);
  } else if (proto == 1) {
    put16(b, l4 + 2, 0);
    put16(b, l4 + 2, ref_checksum(b, l4, end));
  }
}

inline Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_size, uint8_t ttl = 64,
                  size_t options = 0) {
  const size_t ihl = 20 + options;
  Bytes b(ihl + l4_size);
  put8(b, 0, static_cast<uint8_t>(0x40 | (ihl / 4)));
  put16(b, 2, static_cast<uint16_t>(b.size()));
  put16(b, 4, 0x1234);
  put16(b, 6, 0x4000);  // DF
  put8(b, 8, ttl);
  put8(b, 9, proto);
  put32(b, 12, src);
  put32(b, 16, dst);
  for (size_t i = 0; i < options; ++i) put8(b, 20 + i, 1);  // NOP options
  for (size_t i = ihl; i < b.size(); ++i) put8(b, i, static_cast<uint8_t>(i * 7 + 3));
  fill_ip_checksum(b);
  return b;
}

inline Bytes udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, size_t payload = 5,
                 bool checksum = true) {
  Bytes b = ipv4(src, dst, 17, 8 + payload);
  put16(b, 20, sport);
  put16(b, 22, dport);
  put16(b, 24, static_cast<uint16_t>(8 + payload));
  put16(b, 26, 0);
  if (checksum) fill_l4_checksum(b, 0, b.size());
  return b;
}

inline Bytes tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                 size_t payload = 0) {
  Bytes b = ipv4(src, dst, 6, 20 + payload);
  put16(b, 20, sport);
  put16(b, 22, dport);
  put32(b, 24, 1000);
  put32(b, 28, 2000);
  put8(b, 32, 0x50);
  put8(b, 33, flags);
  put16(b, 34, 65535);
  put16(b, 38, 0);
  fill_l4_checksum(b, 0, b.size());
  return b;
}

inline Bytes icmp_echo(uint32_t src, uint32_t dst, uint8_t type, uint16_t id, size_t payload = 7) {
  Bytes b = ipv4(src, dst, 1, 8 + payload);
  put8(b, 20, type);
  put8(b, 21, 0);
  put16(b, 24, id);
  put16(b, 26, 1);
  fill_l4_checksum(b, 0, b.size());
  return b;
}

// An ICMP error from src to dst quoting the first quote_size bytes of `quoted`.
inline Bytes icmp_error(uint32_t src, uint32_t dst, uint8_t type, uint8_t code, const Bytes& quoted,
                        size_t quote_size) {
  if (quote_size > quoted.size()) quote_size = quoted.size();
  Bytes b = ipv4(src, dst, 1, 8 + quote_size);
  put8(b, 20, type);
  put8(b, 21, code);
  put32(b, 24, 0);
  for (size_t i = 0; i < quote_size; ++i) b[28 + i] = quoted[i];
  fill_l4_checksum(b, 0, b.size());
  return b;
}

// Every checksum of the packet recomputed from scratch: IPv4 header, L4
// (TCP/UDP over the pseudo header, ICMP over the message), and for ICMP
// errors the quoted IPv4 header. Returns "" or what is wrong.
inline std::string check_checksums(const Bytes& b) {
  const size_t ihl = (get8(b, 0) & 0xf) * 4u;
  const size_t total = get16(b, 2);
  if (ref_checksum(b, 0, ihl) != 0) return "ip header checksum";
  const uint8_t proto = get8(b, 9);
  const uint32_t src = get32(b, 12), dst = get32(b, 16);
  if (proto == 6 && ref_checksum(b, ihl, total, pseudo_sum(src, dst, 6, total - ihl)) != 0)
    return "tcp checksum";
  if (proto == 17 && get16(b, ihl + 6) != 0 &&
      ref_checksum(b, ihl, total, pseudo_sum(src, dst, 17, total - ihl)) != 0)
    return "udp checksum";
  if (proto == 1) {
    if (ref_checksum(b, ihl, total) != 0) return "icmp checksum";
    const uint8_t type = get8(b, ihl);
    if ((type == 3 || type == 11 || type == 12) && total >= ihl + 28) {
      const size_t q = ihl + 8;
      const size_t qihl = (get8(b, q) & 0xf) * 4u;
      if (q + qihl <= total && ref_checksum(b, q, q + qihl) != 0) return "quoted ip checksum";
    }
  }
  return {};
}

// Splits the IPv4 datagram `d` (20-byte header) into fragments of at most
// `piece` payload bytes (a multiple of 8), as a sender's IP layer does.
inline std::vector<Bytes> fragment(const Bytes& d, size_t piece) {
  std::vector<Bytes> out;
  const size_t total = get16(d, 2);
  for (size_t off = 20; off < total; off += piece) {
    const size_t n = std::min(piece, total - off);
    Bytes f(d.begin(), d.begin() + 20);
    f.insert(f.end(), d.begin() + static_cast<long>(off), d.begin() + static_cast<long>(off + n));
    put16(f, 2, static_cast<uint16_t>(20 + n));
    const bool more = off + n < total;
    put16(f, 6, static_cast<uint16_t>((more ? 0x2000 : 0) | (off - 20) / 8));
    fill_ip_checksum(f);
    out.push_back(f);
  }
  return out;
}

// Puts fragments (any order; 20-byte headers) back together as the
// receiver's IP layer does; the header is the first fragment's.
inline Bytes reassemble(const std::vector<Bytes>& frags) {
  size_t total = 20;
  for (const Bytes& f : frags) total = std::max<size_t>(total, 20 + (get16(f, 6) & 0x1fff) * 8u + get16(f, 2) - 20);
  Bytes d(total);
  for (const Bytes& f : frags) {
    const size_t off = (get16(f, 6) & 0x1fff) * 8u;
    if (off == 0) std::copy(f.begin(), f.begin() + 20, d.begin());
    std::copy(f.begin() + 20, f.begin() + get16(f, 2), d.begin() + 20 + static_cast<long>(off));
  }
  put16(d, 2, static_cast<uint16_t>(total));
  put16(d, 6, 0);
  fill_ip_checksum(d);
  return d;
}

}  // namespace vnet::nat::test
