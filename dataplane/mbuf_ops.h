// vnet::dp — mbuf adapters: packet views and 802.1Q push/pop on mbufs.
//
// Theory of operation
//   view_of() exposes the first segment of an mbuf as a PacketView; all
//   headers the switch reads (Ethernet, 802.1Q, IPv4...) are in it because
//   every mbuf of our pool has a 2 KB data room. A jumbo frame is a chain;
//   its length is pkt_len, its headers are in the first segment.
//   vlan_pop()/vlan_push() move the two MAC addresses by 4 bytes inside the
//   first segment and adjust data_off (rte_pktmbuf_adj/prepend); they
//   require a direct mbuf with refcnt 1 (we never share mbufs: flooding
//   makes deep copies), and push needs 4 bytes of headroom.
//
// Thread-safety
//   Operate on mbufs owned by the calling thread.
#pragma once

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/net/ether.h"
#include "dataplane/net/packet_view.h"

namespace vnet::dp {

inline net::PacketView view_of(rte_mbuf* m) noexcept {
  return {rte_pktmbuf_mtod(m, std::byte*), m->data_len};
}

// Removes the 802.1Q tag after the source MAC. The caller checked it is there.
inline bool vlan_pop(rte_mbuf* m) noexcept {
  if (m->data_len < net::kEtherHdrSize + net::kVlanTagSize) return false;
  auto* d = rte_pktmbuf_mtod(m, uint8_t*);
  std::memmove(d + net::kVlanTagSize, d, 12);
  return rte_pktmbuf_adj(m, net::kVlanTagSize) != nullptr;
}

// Inserts an 802.1Q tag (TPID 0x8100, PCP pcp, VID vid) after the source MAC.
inline bool vlan_push(rte_mbuf* m, uint16_t vid, uint8_t pcp) noexcept {
  if (m->data_len < 12 || rte_pktmbuf_headroom(m) < net::kVlanTagSize) return false;
  auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, net::kVlanTagSize));
  if (d == nullptr) return false;
  std::memmove(d, d + net::kVlanTagSize, 12);
  const uint16_t tci = static_cast<uint16_t>((pcp & 0x7u) << 13) | (vid & 0x0fffu);
  d[12] = 0x81;
  d[13] = 0x00;
  d[14] = static_cast<uint8_t>(tci >> 8);
  d[15] = static_cast<uint8_t>(tci);
  return true;
}

}  // namespace vnet::dp
