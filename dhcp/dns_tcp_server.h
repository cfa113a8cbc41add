// vnet::dhcp — DNS over TCP on the gateway's port 53 (RFC 7766): a small TCP
// endpoint that takes segments in and gives frames out.
//
// Theory of operation
//   The gateway hands every valid TCP segment for port 53 of one of its
//   addresses to on_segment() (parse_frame() has already checked the TCP
//   checksum and the options). Connections live in a fixed table of
//   `max_connections` slots, looked up by (client address, client port, our
//   address); a slot is reused under a new generation, so a TcpConnRef kept
//   by a pending forwarded query cannot reach a later connection.
//
//   Opening (RFC 9293 §3.5): a SYN for no connection takes a free slot and is
//   answered with SYN-ACK, whose initial sequence number comes from the
//   injected Rng and which carries our MSS (MTU - 40). With the table full
//   the SYN is refused with RST and counted. A repeated SYN (same ISN) gets
//   the SYN-ACK again; the ACK of our SYN establishes the connection.
//
//   Receiving: a segment must fall inside the receive window (RFC 9293
//   §3.10.7.4); otherwise it is counted and answered with an ACK (never a
//   RST to a RST). A RST is accepted only at exactly rcv_nxt; a RST or SYN
//   elsewhere in the window gets a challenge ACK (RFC 5961 §3, §4). A segment
//   without ACK, or acknowledging what we never sent, is counted and
//   dropped. Data is taken strictly in order: the part already received is
//   trimmed, a segment that starts beyond rcv_nxt is counted out of order,
//   dropped, and answered with a duplicate ACK so the client resends. The
//   in-order bytes go through a DnsTcpReader; every complete message is
//   handed to DnsTcpQueries::on_query() with the connection's ref, and the
//   owner answers at once (answer()) or later (defer() now, answer() when the
//   forwarder replies). Answers may go out in any order (RFC 7766 §7).
//
//   Sending: answers are length-prefixed (RFC 1035 §4.2.2) into the
//   connection's send buffer, which holds everything from snd_una on, and
//   leave as segments of at most min(client MSS, our MSS) bytes (536 when
//   the client sent no MSS, RFC 9293 §3.7.1) within the client's window.
//   Every data segment carries ACK; a segment that brought data or FIN and
//   leads to no answer is acknowledged on its own. Unacknowledged data (or
//   SYN, or FIN) is resent from snd_una after a retransmission timeout that
//   starts at initial_rto_ns and doubles (RFC 6298 §5); after
//   max_retransmits the connection is aborted with RST. A zero window is
//   probed with one byte on the same timer. A send buffer over
//   max_send_buffer_size (a client that asks but does not read) aborts the
//   connection.
//
//   Closing: the client's FIN is acknowledged; our FIN follows once every
//   answer it asked for has been sent, and the connection is freed when the
//   FIN is acknowledged. A connection idle for idle_timeout_ns is closed by
//   us with FIN (RFC 7766 §6.2.3), or aborted with RST when it still has
//   answers pending; one that stays idle after our FIN is freed. There is
//   no TIME-WAIT: a late retransmission from the client is answered with
//   RST, as for any unknown connection.
//
//   reset() answers a segment to a TCP port nobody listens on the way a
//   host's kernel does (RFC 9293 §3.10.7.1): RST, nothing for a RST.
//
// Thread-safety
//   Owned by the gateway service thread, like the Gateway; no locking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dhcp/dns_tcp.h"
#include "dhcp/frame.h"
#include "dhcp/net_types.h"

namespace vnet::dhcp {

struct DnsTcpConfig {
  size_t max_connections = 64;                     // connection table slots
  int64_t idle_timeout_ns = 10'000'000'000;        // RFC 7766 §6.2.3: "a few seconds" or more
  int64_t initial_rto_ns = 1'000'000'000;          // RFC 6298 §2.1
  unsigned max_retransmits = 5;                    // then the connection is aborted
  size_t max_send_buffer_size = 256 * 1024;        // bytes queued per connection
  uint16_t receive_window = 65535;                 // advertised; no window scaling
};

// X(enumerator, counter name)
#define VNET_DNS_TCP_COUNTERS(X)                                                      \
  X(kSegmentsIn, "segments_in")                                                      \
  X(kSegmentsOut, "segments_out")                                                    \
  X(kOpened, "opened")                          /* SYN accepted */                   \
  X(kEstablished, "established")                                                     \
  X(kRefusedFull, "refused_full")               /* table full: SYN answered RST */   \
  X(kClosed, "closed")                          /* orderly close completed */        \
  X(kResetByPeer, "reset_by_peer")                                                   \
  X(kIdleClosed, "idle_closed")                 /* idle timeout: we sent FIN */      \
  X(kIdleAborted, "idle_aborted")               /* idle with answers pending */      \
  X(kRetransmitAborted, "retransmit_aborted")   /* max_retransmits reached */        \
  X(kSendBufferAborted, "send_buffer_aborted")  /* client does not read */           \
  X(kFramingAborted, "framing_aborted")         /* zero-length DNS message */        \
  X(kRetransmits, "retransmits")                                                     \
  X(kWindowProbes, "window_probes")                                                  \
  X(kDuplicateSyn, "duplicate_syn")                                                  \
  X(kOutOfWindow, "out_of_window")                                                   \
  X(kOutOfOrder, "out_of_order")                                                     \
  X(kOldData, "old_data")                       /* wholly a retransmission */        \
  X(kBadAck, "bad_ack")                         /* acknowledges unsent data */       \
  X(kNoAck, "no_ack")                           /* no ACK flag after SYN */          \
  X(kChallengeAcks, "challenge_acks")           /* RFC 5961 */                       \
  X(kDataAfterClose, "data_after_close")        /* data after FIN, discarded */      \
  X(kNoConnection, "no_connection")             /* answered with RST */              \
  X(kRstIgnored, "rst_ignored")                 /* RST for no connection */          \
  X(kRstSent, "rst_sent")                                                            \
  X(kQueries, "queries")                        /* complete DNS messages received */ \
  X(kAnswers, "answers")                        /* DNS messages queued to send */    \
  X(kAnswersLost, "answers_lost")               /* connection gone before answer */

enum class DnsTcpCounter : uint8_t {
#define VNET_X(e, name) e,
  VNET_DNS_TCP_COUNTERS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(DnsTcpCounter c);

struct DnsTcpCounters {
  std::array<uint64_t, static_cast<size_t>(DnsTcpCounter::kCount)> value{};
  uint64_t of(DnsTcpCounter c) const { return value[static_cast<size_t>(c)]; }
};

// Names one connection; stale once that connection is gone.
struct TcpConnRef {
  uint32_t slot = 0;
  uint32_t generation = 0;
};

// Receives the DNS messages of TCP clients.
class DnsTcpQueries {
 public:
  virtual ~DnsTcpQueries() = default;
  // One complete message (without its length prefix) from connection `conn`.
  virtual void on_query(TcpConnRef conn, std::span<const std::byte> query) = 0;
};

class DnsTcpServer {
 public:
  DnsTcpServer(const DnsTcpConfig& config, const Clock& clock, Rng& rng);

  // Our MAC and the network MTU (bytes; MSS = mtu - 40).
  void set_local(const Mac& mac, size_t mtu);

  // A segment to port 53 of one of our addresses.
  void on_segment(const ParsedFrame& f, uint16_t vlan, DnsTcpQueries& queries, FrameSink& out);
  // RST for a segment to a port without a listener.
  void reset(const ParsedFrame& f, uint16_t vlan, FrameSink& out);

  // The answer will come later through answer(): the connection stays open for it.
  void defer(TcpConnRef conn);
  // Queues one DNS message (without length prefix) and sends what the window
  // allows. Answers a defer()red query when `deferred`. False when the
  // connection is gone.
  bool answer(TcpConnRef conn, std::span<const std::byte> message, bool deferred, FrameSink& out);

  // Timers: retransmission, window probes, idle timeout. About every 10 ms.
  void on_tick(FrameSink& out);
  // Aborts every connection with RST (DNS disabled by a configuration change).
  void abort_all(FrameSink& out);

  size_t connections() const { return open_; }
  const DnsTcpCounters& counters() const { return counters_; }

 private:
  enum class State : uint8_t { kFree, kSynReceived, kEstablished, kCloseWait, kLastAck, kFinWait1, kFinWait2 };
  struct Conn {
    State state = State::kFree;
    uint32_t generation = 0;
    UdpEndpoints peer;            // the client's side: src = client, dst = us
    uint16_t vlan = 0;
    uint32_t iss = 0;             // our initial sequence number
    uint32_t snd_una = 0;         // oldest unacknowledged sequence number
    uint32_t snd_nxt = 0;         // next sequence number to send
    uint32_t snd_wnd = 0;         // client's window, bytes
    uint16_t peer_mss = 536;      // client's MSS option, bytes
    uint32_t irs = 0;             // client's initial sequence number
    uint32_t rcv_nxt = 0;         // next sequence number expected
    bool fin_wanted = false;      // send FIN once the buffer has drained
    bool fin_sent = false;        // FIN is in flight (occupies snd_nxt - 1)
    unsigned deferred = 0;        // answers still to come from the forwarder
    std::vector<std::byte> send_buffer;  // bytes from snd_una on (sent and unsent)
    DnsTcpReader reader;
    int64_t last_activity_ns = 0; // last segment received or answer queued
    int64_t rto_deadline_ns = 0;  // 0 = timer off
    int64_t rto_ns = 0;
    unsigned retransmits = 0;     // consecutive, since the last ACK of new data
    bool ack_pending = false;     // received data/FIN not yet acknowledged
  };

  void bump(DnsTcpCounter c) { ++counters_.value[static_cast<size_t>(c)]; }
  Conn* find(const ParsedFrame& f, uint16_t vlan);
  Conn* lookup(TcpConnRef ref);
  void open(const ParsedFrame& f, uint16_t vlan, FrameSink& out);
  void free_conn(Conn& c);
  void abort(Conn& c, FrameSink& out);
  void send_segment(Conn& c, uint32_t seq, uint8_t flags, std::span<const std::byte> payload, FrameSink& out,
                    uint16_t mss_option = 0);
  void send_ack(Conn& c, FrameSink& out) { send_segment(c, c.snd_nxt, kTcpAck, {}, out); }
  void send_syn_ack(Conn& c, FrameSink& out);
  // Sends new data (and FIN) as the window allows; `probe` allows one byte into a zero window.
  // Returns the number of segments sent.
  size_t transmit(Conn& c, FrameSink& out, bool probe = false);
  void retransmit(Conn& c, FrameSink& out);
  void arm_timer(Conn& c);
  size_t send_mss(const Conn& c) const;

  DnsTcpConfig config_;
  const Clock& clock_;
  Rng& rng_;
  Mac mac_;
  size_t our_mss_ = 1460;
  std::vector<Conn> conns_;   // max_connections slots
  size_t open_ = 0;           // slots in use
  uint16_t next_ip_id_ = 1;
  DnsTcpCounters counters_;
};

}  // namespace vnet::dhcp
