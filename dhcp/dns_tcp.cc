// vnet::dhcp — DNS over TCP framing. See dns_tcp.h.
#include "dhcp/dns_tcp.h"

#include <cstdint>

namespace vnet::dhcp {

std::vector<std::byte> frame_dns_tcp(std::span<const std::byte> message) {
  if (message.size() > 0xffff) return {};
  std::vector<std::byte> out;
  out.reserve(message.size() + 2);
  out.push_back(std::byte(message.size() >> 8));
  out.push_back(std::byte(message.size() & 0xff));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

bool DnsTcpReader::feed(std::span<const std::byte> bytes) {
  if (failed_) return false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (partial_.size() < 2) {
      partial_.push_back(bytes[pos++]);
      if (partial_.size() == 2) {
        const size_t len = (std::to_integer<size_t>(partial_[0]) << 8) | std::to_integer<size_t>(partial_[1]);
        if (len == 0) {
          failed_ = true;
          return false;
        }
        partial_.reserve(2 + len);
      }
      continue;
    }
    const size_t len = (std::to_integer<size_t>(partial_[0]) << 8) | std::to_integer<size_t>(partial_[1]);
    const size_t want = 2 + len - partial_.size();
    const size_t take = want < bytes.size() - pos ? want : bytes.size() - pos;
    partial_.insert(partial_.end(), bytes.begin() + static_cast<ptrdiff_t>(pos),
                    bytes.begin() + static_cast<ptrdiff_t>(pos + take));
    pos += take;
    if (partial_.size() == 2 + len) {
      ready_.emplace_back(partial_.begin() + 2, partial_.end());
      partial_.clear();
    }
  }
  return true;
}

std::optional<std::vector<std::byte>> DnsTcpReader::next() {
  if (ready_.empty()) return std::nullopt;
  std::vector<std::byte> m = std::move(ready_.front());
  ready_.pop_front();
  return m;
}

}  // namespace vnet::dhcp
