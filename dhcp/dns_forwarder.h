// vnet::dhcp — forwards guests' DNS queries to upstream servers over the
// host's sockets and matches the replies back to the asking client.
//
// Theory of operation
//   The gateway service calls submit() for every DnsAnswer::kForward with an
//   opaque `cookie` that identifies the client (address, port, transport: the
//   forwarder never looks inside it). Each query gets a fresh random ID that
//   is unique among the outstanding ones, is sent from its own connected UDP
//   socket (so the kernel picks a random source port and drops datagrams from
//   anyone but that server), and is tried on the upstreams in the given order
//   (libvirt's strict-order), one attempt_timeout_ns each:
//     * a reply must come from the server, carry our ID with QR set, and
//       repeat the question (case-insensitively); anything else is ignored
//       and counted (anti-spoofing, RFC 5452 §4);
//     * REFUSED moves on to the next server when there is one (dnsmasq treats
//       REFUSED as "try another"); a timeout, ICMP unreachable or socket error
//       also moves on;
//     * a truncated (TC) UDP reply is repeated over TCP to the same server
//       when the client itself came over TCP; a UDP client gets the TC reply
//       and retries over TCP by itself (RFC 7766 §5);
//     * when every server has failed, the client gets SERVFAIL.
//   The reply goes back with the client's original ID. At most max_pending
//   queries are outstanding (dnsmasq dns-forward-max = 150); beyond that
//   submit() refuses and the caller answers SERVFAIL or drops.
//
//   Nothing blocks: the owner adds collect_pollfds() to its poll set, waits at
//   most timeout_ms(), then calls process(), which performs every ready
//   socket operation and deadline, and appends finished exchanges to `out`.
//   run_once() does the poll itself for a thread that only forwards.
//
// Thread-safety
//   Owned by one thread (the gateway service thread); no locking. Not on the
//   packet fast path: it allocates and makes system calls.
#pragma once

#include <poll.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dhcp/dns_codec.h"
#include "dhcp/dns_config.h"
#include "dhcp/dns_responder.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

struct ForwarderConfig {
  int64_t attempt_timeout_ns = 2'000'000'000;  // per upstream and transport
  size_t max_pending = 150;                    // dnsmasq dns-forward-max
};

// X(enumerator, counter name)
#define VNET_DNS_FORWARD_COUNTERS(X)                                        \
  X(kSubmitted, "submitted")                                                \
  X(kRejectedFull, "rejected_full")             /* max_pending reached */   \
  X(kRejectedBadQuery, "rejected_bad_query")    /* no parsable question */  \
  X(kReplied, "replied")                        /* upstream reply relayed */ \
  X(kServFail, "servfail")                      /* every upstream failed */ \
  X(kTimeouts, "timeouts")                                                  \
  X(kSocketErrors, "socket_errors")                                         \
  X(kMismatched, "mismatched")                  /* datagram not our reply */ \
  X(kTcpFallbacks, "tcp_fallbacks")                                         \
  X(kRefusedRetries, "refused_retries")

enum class ForwardCounter : uint8_t {
#define VNET_X(e, name) e,
  VNET_DNS_FORWARD_COUNTERS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(ForwardCounter c);

struct ForwarderCounters {
  std::array<uint64_t, static_cast<size_t>(ForwardCounter::kCount)> value{};
  uint64_t of(ForwardCounter c) const { return value[static_cast<size_t>(c)]; }
};

struct ForwardResult {
  uint64_t cookie = 0;            // as given to submit()
  std::vector<std::byte> reply;   // DNS message with the client's ID
  bool synthesized = false;       // SERVFAIL made by us
};

class DnsForwarder {
 public:
  enum class SubmitResult : uint8_t { kQueued, kFull, kBadQuery, kNoUpstream };

  DnsForwarder(const ForwarderConfig& config, const Clock& clock, Rng& rng);
  ~DnsForwarder();
  DnsForwarder(const DnsForwarder&) = delete;
  DnsForwarder& operator=(const DnsForwarder&) = delete;

  SubmitResult submit(uint64_t cookie, std::span<const std::byte> query, std::vector<Upstream> upstreams,
                      DnsTransport client_transport);

  void collect_pollfds(std::vector<pollfd>& fds) const;
  int timeout_ms() const;  // until the nearest deadline; -1 when idle
  void process(std::vector<ForwardResult>& out);
  void run_once(int max_wait_ms, std::vector<ForwardResult>& out);

  size_t pending() const { return pending_.size() + ready_.size(); }
  const ForwarderCounters& counters() const { return counters_; }

 private:
  struct Pending;

  void bump(ForwardCounter c) { ++counters_.value[static_cast<size_t>(c)]; }
  bool start_udp(Pending& p);
  bool start_tcp(Pending& p);
  // Moves to the next upstream; false (and a SERVFAIL in `out`) when none is left.
  bool advance(Pending& p, std::vector<ForwardResult>& out);
  bool matches(const Pending& p, std::span<const std::byte> reply) const;
  // Handles one reply; true when the exchange is finished.
  bool on_reply(Pending& p, std::span<const std::byte> reply, bool via_tcp, std::vector<ForwardResult>& out);
  void step(Pending& p, short revents, std::vector<ForwardResult>& out, bool& done);
  uint16_t fresh_id() const;

  ForwarderConfig config_;
  const Clock& clock_;
  Rng& rng_;
  std::vector<std::unique_ptr<Pending>> pending_;
  std::vector<ForwardResult> ready_;  // finished outside process(), delivered by it
  ForwarderCounters counters_;
  std::vector<std::byte> buf_;  // receive buffer
};

}  // namespace vnet::dhcp
