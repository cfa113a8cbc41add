// Builds Ethernet frames into mbufs (single segment or chained) for tests.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "dataplane/net/ether.h"

namespace vnet::dp::test {

struct FrameSpec {
  net::MacAddr dst;
  net::MacAddr src;
  std::optional<uint16_t> vid;  // add an 802.1Q tag (0 = priority tag)
  uint8_t pcp = 0;
  uint16_t ether_type = net::kEtherTypeIpv4;
  size_t payload_size = 46;  // bytes after the EtherType (the L3 payload)
  uint8_t fill = 0xab;
};

inline net::MacAddr mac(uint8_t last) { return {{0x52, 0x54, 0x00, 0x00, 0x00, last}}; }

inline std::vector<uint8_t> frame_bytes(const FrameSpec& s) {
  std::vector<uint8_t> f;
  f.insert(f.end(), s.dst.b.begin(), s.dst.b.end());
  f.insert(f.end(), s.src.b.begin(), s.src.b.end());
  if (s.vid) {
    const uint16_t tci = static_cast<uint16_t>((s.pcp << 13) | *s.vid);
    f.push_back(0x81);
    f.push_back(0x00);
    f.push_back(static_cast<uint8_t>(tci >> 8));
    f.push_back(static_cast<uint8_t>(tci));
  }
  f.push_back(static_cast<uint8_t>(s.ether_type >> 8));
  f.push_back(static_cast<uint8_t>(s.ether_type));
  for (size_t i = 0; i < s.payload_size; ++i) f.push_back(static_cast<uint8_t>(s.fill + i));
  return f;
}

// Copies bytes into a (possibly chained) mbuf from pool; nullptr when the pool is empty.
inline rte_mbuf* to_mbuf(rte_mempool* pool, const std::vector<uint8_t>& bytes) {
  rte_mbuf* head = rte_pktmbuf_alloc(pool);
  if (head == nullptr) return nullptr;
  rte_mbuf* seg = head;
  size_t off = 0;
  while (true) {
    const size_t room = rte_pktmbuf_tailroom(seg);
    const size_t n = std::min(room, bytes.size() - off);
    char* dst = rte_pktmbuf_append(seg, static_cast<uint16_t>(n));
    if (n > 0) std::memcpy(dst, bytes.data() + off, n);
    off += n;
    if (off == bytes.size()) break;
    rte_mbuf* next = rte_pktmbuf_alloc(pool);
    if (next == nullptr || rte_pktmbuf_chain(head, next) != 0) {
      rte_pktmbuf_free(head);
      if (next != nullptr) rte_pktmbuf_free(next);
      return nullptr;
    }
    seg = next;
  }
  // rte_pktmbuf_append on a non-head segment does not update the head's pkt_len.
  uint32_t total = 0;
  for (rte_mbuf* s = head; s != nullptr; s = s->next) total += s->data_len;
  head->pkt_len = total;
  return head;
}

inline rte_mbuf* build_frame(rte_mempool* pool, const FrameSpec& s) {
  return to_mbuf(pool, frame_bytes(s));
}

// The frame's bytes, all segments.
inline std::vector<uint8_t> mbuf_bytes(const rte_mbuf* m) {
  std::vector<uint8_t> out;
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* d = rte_pktmbuf_mtod(s, const uint8_t*);
    out.insert(out.end(), d, d + s->data_len);
  }
  return out;
}

}  // namespace vnet::dp::test
