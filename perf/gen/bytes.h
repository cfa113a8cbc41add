// bytes.h — big-endian field access for the frames vnet-pktgen builds and
// parses (ARP, DHCP, DNS); MACs as the low 48 bits of a uint64_t.
#pragma once

#include <cstdint>

namespace vnet::perf {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t mac_of(const uint8_t* p) {
  uint64_t m = 0;
  for (int i = 0; i < 6; ++i) m = (m << 8) | p[i];
  return m;
}
inline void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
inline void put_mac48(uint8_t* p, uint64_t m) {
  for (int i = 5; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(m);
    m >>= 8;
  }
}

}  // namespace vnet::perf
