// frame.cc — see frame.h.
#include "frame.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>

#include "bytes.h"

namespace vnet::perf {
namespace {

constexpr std::size_t kIpOffset = kEthHeaderSize;
constexpr std::size_t kUdpOffset = kEthHeaderSize + kIpv4HeaderSize;

uint64_t saturating_lcm(uint64_t a, uint64_t b) {
  const uint64_t g = std::gcd(a, b);
  const uint64_t a_div = a / g;
  if (a_div != 0 && b > std::numeric_limits<uint64_t>::max() / a_div) {
    return std::numeric_limits<uint64_t>::max();
  }
  return a_div * b;
}


}  // namespace

void write_udp_headers(uint8_t* h, uint64_t dst_mac, uint64_t src_mac, uint32_t src_ip, uint32_t dst_ip,
                       uint16_t src_port, uint16_t dst_port, std::size_t data_size, bool dont_fragment) {
  put_mac48(h, dst_mac);
  put_mac48(h + 6, src_mac);
  put16(h + 12, 0x0800);
  uint8_t* ip = h + kIpOffset;
  ip[0] = 0x45;  // version 4, IHL 5 (RFC 791)
  ip[1] = 0;
  put16(ip + 2, static_cast<uint16_t>(data_size - kEthHeaderSize));
  put16(ip + 4, 0);       // id
  put16(ip + 6, dont_fragment ? 0x4000 : 0);  // DF
  ip[8] = 64;                // TTL
  ip[9] = 17;                // UDP
  put16(ip + 10, 0);
  put32(ip + 12, src_ip);
  put32(ip + 16, dst_ip);
  put16(ip + 10, ipv4_header_checksum({ip, kIpv4HeaderSize}));
  uint8_t* udp = h + kUdpOffset;
  put16(udp, src_port);
  put16(udp + 2, dst_port);
  put16(udp + 4, static_cast<uint16_t>(data_size - kUdpOffset));
  put16(udp + 6, 0);  // no UDP checksum (allowed for IPv4, RFC 768)
}

uint64_t distinct_flows(const FlowSpec& spec, uint32_t dest_port_count) {
  uint64_t n = std::max<uint32_t>(dest_port_count, 1);
  for (uint64_t c : {uint64_t{spec.src_mac_count}, uint64_t{spec.dst_mac_count},
                     uint64_t{spec.src_ip.count}, uint64_t{spec.dst_ip.count},
                     uint64_t{spec.src_port.count}, uint64_t{spec.dst_port.count}}) {
    n = saturating_lcm(n, std::max<uint64_t>(c, 1));
  }
  return n;
}

uint64_t station_mac(uint64_t mac_base, unsigned port_index, uint32_t k) {
  return (mac_base + (uint64_t{port_index} << 24) + (k & (kMaxStationMacs - 1))) &
         0xffffffffffffULL;
}

void put_mac(std::span<uint8_t, 6> out, uint64_t mac48) { put_mac48(out.data(), mac48); }

std::optional<uint64_t> parse_mac(std::string_view text) {
  uint64_t mac = 0;
  std::size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != ':') return std::nullopt;
      ++pos;
    }
    unsigned byte = 0;
    const auto* first = text.data() + pos;
    const auto end = std::min<std::size_t>(pos + 2, text.size());
    auto [ptr, ec] = std::from_chars(first, text.data() + end, byte, 16);
    if (ec != std::errc{} || ptr == first) return std::nullopt;
    pos = static_cast<std::size_t>(ptr - text.data());
    mac = (mac << 8) | byte;
  }
  if (pos != text.size()) return std::nullopt;
  return mac;
}

std::string format_mac(uint64_t mac48) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x",
                static_cast<unsigned>((mac48 >> 40) & 0xff), static_cast<unsigned>((mac48 >> 32) & 0xff),
                static_cast<unsigned>((mac48 >> 24) & 0xff), static_cast<unsigned>((mac48 >> 16) & 0xff),
                static_cast<unsigned>((mac48 >> 8) & 0xff), static_cast<unsigned>(mac48 & 0xff));
  return buf;
}

std::optional<uint32_t> parse_ipv4(std::string_view text) {
  uint32_t addr = 0;
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    unsigned octet = 0;
    const auto* first = text.data() + pos;
    auto [ptr, ec] = std::from_chars(first, text.data() + text.size(), octet);
    if (ec != std::errc{} || ptr == first || octet > 255) return std::nullopt;
    pos = static_cast<std::size_t>(ptr - text.data());
    addr = (addr << 8) | octet;
  }
  if (pos != text.size()) return std::nullopt;
  return addr;
}

std::string format_ipv4(uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xff) + "." +
         std::to_string((addr >> 8) & 0xff) + "." + std::to_string(addr & 0xff);
}

uint16_t ipv4_header_checksum(std::span<const uint8_t> header) {
  uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < header.size(); i += 2) sum += be16(header.data() + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void write_stamp(std::span<uint8_t> frame, uint64_t tag, uint64_t tsc) {
  uint8_t* p = frame.data() + kStampOffset;
  const uint16_t magic = kStampMagic;
  // Little-endian on the wire; the generator and receiver are the same host.
  std::memcpy(p, &magic, 2);
  std::memcpy(p + 2, &tag, 8);
  std::memcpy(p + 10, &tsc, 8);
}

std::optional<Stamp> read_stamp(std::span<const uint8_t> frame) {
  if (frame.size() < kStampOffset + kStampSize) return std::nullopt;
  const uint8_t* h = frame.data();
  if (be16(h + 12) != 0x0800 || h[kIpOffset] != 0x45 || h[kIpOffset + 9] != 17) {
    return std::nullopt;
  }
  uint16_t magic = 0;
  uint64_t tag = 0;
  Stamp s;
  std::memcpy(&magic, h + kStampOffset, 2);
  if (magic != kStampMagic) return std::nullopt;
  std::memcpy(&tag, h + kStampOffset + 2, 8);
  std::memcpy(&s.tsc, h + kStampOffset + 10, 8);
  s.tx_index = static_cast<unsigned>(tag >> 56);
  s.rx_index = static_cast<unsigned>((tag >> 48) & 0xff);
  s.seq = tag & kSeqMask;
  return s;
}

FlowCursor::FlowCursor(const FlowSpec& spec, unsigned tx_index,
                       std::span<const unsigned> dest_ports, std::size_t size_bytes)
    : spec_(spec), tx_index_(tx_index), data_size_(frame_data_size(size_bytes)) {
  const std::size_t n = std::clamp<std::size_t>(dest_ports.size(), 1, dests_.size());
  for (std::size_t i = 0; i < n; ++i) dests_[i] = dest_ports.empty() ? tx_index : dest_ports[i];
  dest_.count = static_cast<uint32_t>(n);
  src_mac_.count = std::max<uint32_t>(spec.src_mac_count, 1);
  dst_mac_.count = std::max<uint32_t>(spec.dst_mac_count, 1);
  src_ip_.count = std::max<uint32_t>(spec.src_ip.count, 1);
  dst_ip_.count = std::max<uint32_t>(spec.dst_ip.count, 1);
  src_port_.count = std::max<uint32_t>(spec.src_port.count, 1);
  dst_port_.count = std::max<uint32_t>(spec.dst_port.count, 1);
  write_udp_headers(header_.data(), spec.dst_mac != 0 ? spec.dst_mac : station_mac(spec.mac_base, dests_[0], 0),
                station_mac(spec.mac_base, tx_index, 0), static_cast<uint32_t>(spec.src_ip.base),
                static_cast<uint32_t>(spec.dst_ip.base), static_cast<uint16_t>(spec.src_port.base),
                static_cast<uint16_t>(spec.dst_port.base), data_size_);
}

unsigned FlowCursor::build_next(std::span<uint8_t> frame, uint64_t seq, uint64_t tsc) noexcept {
  uint8_t* h = frame.data();
  std::memcpy(h, header_.data(), kHeadersSize);
  const unsigned dest = dests_[dest_.index];
  if (spec_.dst_mac == 0 && (dest_.count > 1 || dst_mac_.count > 1)) {
    put_mac48(h, station_mac(spec_.mac_base, dest, dst_mac_.index));
  }
  if (src_mac_.count > 1) put_mac48(h + 6, station_mac(spec_.mac_base, tx_index_, src_mac_.index));
  if (src_ip_.count > 1 || dst_ip_.count > 1) {
    uint8_t* ip = h + kIpOffset;
    put32(ip + 12, static_cast<uint32_t>(spec_.src_ip.base + src_ip_.index));
    put32(ip + 16, static_cast<uint32_t>(spec_.dst_ip.base + dst_ip_.index));
    put16(ip + 10, 0);
    put16(ip + 10, ipv4_header_checksum({ip, kIpv4HeaderSize}));
  }
  if (src_port_.count > 1) {
    put16(h + kUdpOffset, static_cast<uint16_t>(spec_.src_port.base + src_port_.index));
  }
  if (dst_port_.count > 1) {
    put16(h + kUdpOffset + 2, static_cast<uint16_t>(spec_.dst_port.base + dst_port_.index));
  }
  write_stamp(frame, make_tag(tx_index_, dest, seq), tsc);
  dest_.advance();
  src_mac_.advance();
  dst_mac_.advance();
  src_ip_.advance();
  dst_ip_.advance();
  src_port_.advance();
  dst_port_.advance();
  return dest;
}

void FlowCursor::build_learning(std::span<uint8_t> frame, uint64_t mac_base, unsigned port_index,
                                uint32_t k, uint32_t src_ip) noexcept {
  write_udp_headers(frame.data(), 0xffffffffffffULL, station_mac(mac_base, port_index, k), src_ip,
                    0xffffffffu, 9, 9, frame.size());
  write_stamp(frame, make_tag(kWarmupTxIndex, 0xff, k), 0);
}

}  // namespace vnet::perf
