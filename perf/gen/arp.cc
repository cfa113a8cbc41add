// arp.cc — see arp.h.
#include "arp.h"

#include <algorithm>
#include <cstring>

#include "bytes.h"

namespace vnet::perf {
namespace {

constexpr std::size_t kEth = 14;
constexpr std::size_t kArpSize = 28;

}  // namespace

std::optional<ArpView> parse_arp(std::span<const uint8_t> frame) noexcept {
  if (frame.size() < kEth + kArpSize) return std::nullopt;
  const uint8_t* f = frame.data();
  if (be16(f + 12) != 0x0806) return std::nullopt;
  const uint8_t* a = f + kEth;
  if (be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) return std::nullopt;
  ArpView v;
  v.op = be16(a + 6);
  v.sender_mac = mac_of(a + 8);
  v.sender_ip = be32(a + 14);
  v.target_mac = mac_of(a + 18);
  v.target_ip = be32(a + 24);
  return v;
}

std::size_t build_arp_request(std::span<uint8_t> frame, uint64_t src_mac, uint32_t src_ip,
                              uint32_t target_ip) noexcept {
  if (frame.size() < kArpFrameSize) return 0;
  uint8_t* f = frame.data();
  std::memset(f, 0, kArpFrameSize);
  put_mac48(f, 0xffffffffffffULL);
  put_mac48(f + 6, src_mac);
  put16(f + 12, 0x0806);
  uint8_t* a = f + kEth;
  put16(a, 1);
  put16(a + 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, 1);
  put_mac48(a + 8, src_mac);
  put32(a + 14, src_ip);
  put_mac48(a + 18, 0);
  put32(a + 24, target_ip);
  return kArpFrameSize;
}

bool arp_reply_in_place(std::span<uint8_t> frame, uint32_t my_ip, uint64_t my_mac) noexcept {
  const auto v = parse_arp(frame);
  if (!v || v->op != 1 || v->target_ip != my_ip || my_ip == 0) return false;
  uint8_t* f = frame.data();
  put_mac48(f, v->sender_mac);
  put_mac48(f + 6, my_mac);
  uint8_t* a = f + kEth;
  put16(a + 6, 2);
  put_mac48(a + 8, my_mac);
  put32(a + 14, my_ip);
  put_mac48(a + 18, v->sender_mac);
  put32(a + 24, v->sender_ip);
  return true;
}

}  // namespace vnet::perf
