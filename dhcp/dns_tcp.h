// vnet::dhcp — DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8).
//
// Theory of operation
//   Over TCP every DNS message is preceded by its length as a 16-bit
//   big-endian number. frame_dns_tcp() adds the prefix. DnsTcpReader is fed
//   the bytes of one connection as they arrive (in any chunking) and hands
//   out complete messages in order; it keeps at most one partial message
//   plus whatever complete ones have not been taken. A zero-length frame is
//   a protocol error: feed() returns false and the connection should be
//   closed. The adapter uses it for TCP clients of the gateway's port 53,
//   the forwarder for its upstream TCP exchanges.
//
// Thread-safety
//   Single-owner objects.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace vnet::dhcp {

// The message with its two-byte length prefix; empty if it is over 65535 bytes.
std::vector<std::byte> frame_dns_tcp(std::span<const std::byte> message);

class DnsTcpReader {
 public:
  // Append received bytes. False on a protocol error (zero-length frame).
  bool feed(std::span<const std::byte> bytes);
  // The next complete message, if any.
  std::optional<std::vector<std::byte>> next();
  // Bytes received but not yet handed out as complete messages.
  size_t buffered_size() const { return partial_.size(); }
  bool mid_message() const { return !partial_.empty(); }

 private:
  std::vector<std::byte> partial_;             // prefix and body of the current message
  std::deque<std::vector<std::byte>> ready_;   // complete messages
  bool failed_ = false;
};

}  // namespace vnet::dhcp
