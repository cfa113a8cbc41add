// vnet::dhcp — the gateway's read-only TFTP server (RFC 1350 with the option
// extension, RFC 2347, and the blksize, tsize, timeout and windowsize
// options, RFC 2348, 2349, 7440), serving `<tftp root>` as dnsmasq's
// enable-tftp + tftp-root does for libvirt.
//
// Theory of operation
//   The gateway hands every UDP datagram to port 69 of one of its addresses
//   to on_request(), and every datagram to a port a transfer owns to
//   on_datagram(); it sends what the server gives its TftpOut as UDP frames.
//   The answers are those of current dnsmasq, message texts included
//   (tests/integration/tftpdiff_test.sh compares them with the installed
//   dnsmasq; Debian 12's 2.90 predates the timeout and windowsize options and
//   the texts for write requests and empty names):
//     * A write request -> ERROR 4 "unsupported write request from C". An
//       empty file name -> ERROR 4 "empty filename in request from C"; a
//       mode other than octet or netascii (any case) -> ERROR 4 "unsupported
//       request from C". Other opcodes, and datagrams under two bytes, are
//       counted and not answered.
//     * The path: backslashes become slashes; a name is taken under the root
//       (an absolute name that already starts with the root is taken as it
//       is, any other loses its first slash). A path holding "/../" ->
//       ERROR 2 "cannot access P: Permission denied"; a missing file ->
//       ERROR 1 "file P not found for C"; open() refused -> ERROR 2; any
//       other failure -> ERROR 0 "cannot read P: <strerror>". While vnetd
//       runs as root a file must be world-readable (ERROR 2 otherwise).
//     * Options (names in any case; parsing stops at an empty string):
//       blksize 1..MTU-32; tsize (octet only) is answered with the file
//       size; timeout up to 255 s; windowsize 1..32 (octet only); others
//       are ignored. Any accepted option is answered by an OACK (block 0)
//       that lists them in that order; otherwise DATA 1 follows the request
//       at once.
//     * Each transfer speaks from its own port (its TID), drawn at random
//       from [first_port, last_port]; at most max_transfers run at once (a
//       request beyond is counted and not answered, so the client retries).
//       An ACK for a block sent and not yet acknowledged moves the window
//       and sends the next blocks at once; a duplicate or early ACK is
//       ignored (no sorcerer's apprentice). Block numbers wrap past 65535.
//       Unacknowledged blocks are sent again `timeout` seconds after the
//       last send plus a back-off of 2^(n/2) s; after `transfer_timeout_ns`
//       without progress the transfer is dropped. An ERROR from the client
//       ends it; a datagram from another address or port gets ERROR 5
//       "ignoring packet from C (TID mismatch)" and changes nothing.
//     * The transfer ends when the block shorter than blksize (possibly
//       empty) is acknowledged. A read error mid-transfer sends ERROR 0 and
//       ends it. netascii sends each LF as CR LF (a CR at the end of a full
//       block puts its LF first in the next one).
//   Files are read with pread() on the service thread, one block at a time.
//
// Thread-safety
//   Owned by the gateway service thread, like the Gateway; no locking.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr uint16_t kTftpPort = 69;

struct TftpConfig {
  std::string root;                            // <tftp root>
  size_t max_transfers = 50;                   // dnsmasq's tftp-max
  uint16_t first_port = 32768;                 // transfer ports (TIDs), inclusive
  uint16_t last_port = 60999;
  int64_t transfer_timeout_ns = 120'000'000'000;  // dnsmasq's TFTP_TRANSFER_TIME, since the last ACK
  size_t mtu = 1500;                           // caps blksize at mtu - 32
};

// X(enumerator, counter name)
#define VNET_TFTP_COUNTERS(X)                                                         \
  X(kRequests, "requests")                      /* datagrams to port 69 */           \
  X(kTransfers, "transfers")                    /* read requests served */           \
  X(kCompleted, "completed")                    /* last block acknowledged */        \
  X(kUnacknowledged, "unacknowledged")          /* all sent, last ACK never came */  \
  X(kTimedOut, "timed_out")                     /* no progress for the timeout */    \
  X(kAbortedByClient, "aborted_by_client")      /* ERROR from the client */          \
  X(kReadFailed, "read_failed")                 /* read error mid-transfer */        \
  X(kFileNotFound, "file_not_found")                                                 \
  X(kAccessDenied, "access_denied")                                                  \
  X(kOpenFailed, "open_failed")                                                      \
  X(kWriteRefused, "write_refused")                                                  \
  X(kBadRequest, "bad_request")                 /* empty name, unknown mode */       \
  X(kIgnored, "ignored")                        /* not a request, too short */       \
  X(kTableFull, "table_full")                   /* max_transfers running */          \
  X(kNoPort, "no_port")                         /* no free transfer port */          \
  X(kOptionAcks, "option_acks")                 /* OACKs sent (first copies) */      \
  X(kBlocksSent, "blocks_sent")                 /* DATA, first copies */             \
  X(kBytesSent, "bytes_sent")                   /* DATA payload, first copies */     \
  X(kRetransmits, "retransmits")                /* OACK/DATA sent again */           \
  X(kAcks, "acks")                                                                   \
  X(kStaleAcks, "stale_acks")                   /* duplicate, or for unsent blocks */\
  X(kTidMismatch, "tid_mismatch")               /* answered with ERROR 5 */          \
  X(kMalformed, "malformed")                    /* to a transfer: no ACK/ERROR */

enum class TftpCounter : uint8_t {
#define VNET_X(e, name) e,
  VNET_TFTP_COUNTERS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(TftpCounter c);

struct TftpCounters {
  std::array<uint64_t, static_cast<size_t>(TftpCounter::kCount)> value{};
  uint64_t of(TftpCounter c) const { return value[static_cast<size_t>(c)]; }
};

// The client side of a datagram: where answers go.
struct TftpPeer {
  Mac mac;
  Ipv4 ip;
  uint16_t port = 0;
  uint16_t vlan = 0;
  friend bool operator==(const TftpPeer&, const TftpPeer&) = default;
};

// Where the server's datagrams go (the gateway wraps them in UDP frames).
class TftpOut {
 public:
  virtual ~TftpOut() = default;
  virtual void send(Ipv4 local_ip, uint16_t local_port, const TftpPeer& to, std::span<const uint8_t> payload) = 0;
};

class TftpServer {
 public:
  TftpServer(TftpConfig config, const Clock& clock, Rng& rng);
  ~TftpServer();
  TftpServer(const TftpServer&) = delete;
  TftpServer& operator=(const TftpServer&) = delete;

  // A datagram to port 69 of `local_ip`.
  void on_request(Ipv4 local_ip, const TftpPeer& from, std::span<const uint8_t> payload, TftpOut& out);
  // Whether a transfer owns `local_port` (then its datagrams go to on_datagram()).
  bool owns(uint16_t local_port) const { return transfers_.count(local_port) != 0; }
  // A datagram to a transfer's port.
  void on_datagram(uint16_t local_port, const TftpPeer& from, std::span<const uint8_t> payload, TftpOut& out);
  // Retransmissions and timeouts; about every 10 ms.
  void on_tick(TftpOut& out);

  size_t transfers() const { return transfers_.size(); }
  const TftpCounters& counters() const { return counters_; }

 private:
  struct Transfer {
    Ipv4 local_ip;
    uint16_t local_port = 0;
    TftpPeer peer;
    std::string path;
    int fd = -1;
    uint64_t size = 0;
    bool netascii = false;
    bool opt_blksize = false, opt_tsize = false, opt_timeout = false, opt_windowsize = false;
    uint32_t blksize = 512;
    uint32_t timeout_s = 2;
    uint32_t window = 1;
    uint32_t acked = 0;       // the next block the client waits for (0: the OACK)
    uint32_t sent_end = 0;    // one past the highest block sent
    uint32_t last_block = 0;  // the short block that ends the file; 0: not known yet (netascii)
    uint32_t backoff = 1;
    int64_t progress_ns = 0;  // creation or last ACK
    int64_t retransmit_ns = 0;
    // netascii: where block `acked` starts in the file, and whether it starts
    // with the LF of a CR LF split over two blocks.
    uint64_t ascii_offset = 0;
    bool ascii_carry_lf = false;
    // netascii: the same after block `acked` (known once it was built).
    uint64_t ascii_next_offset = 0;
    bool ascii_next_carry_lf = false;
  };
  enum class Block : uint8_t { kSent, kPastEnd, kReadError };

  void count(TftpCounter c, uint64_t n = 1) { counters_.value[static_cast<size_t>(c)] += n; }
  void send_error(Ipv4 local_ip, uint16_t local_port, const TftpPeer& to, uint16_t code, const std::string& message,
                  TftpOut& out);
  // Sends block n (0: the OACK); `first`: not a retransmission.
  Block send_block(Transfer& t, uint32_t n, bool first, TftpOut& out);
  // Sends the window from t.acked (blocks from t.sent_end on are first
  // copies, the others retransmissions); false when the transfer is over
  // (finished or failed; counted).
  bool send_window(Transfer& t, TftpOut& out);
  void finish(std::map<uint16_t, Transfer>::iterator it);
  bool allocate_port(uint16_t* port);

  TftpConfig config_;
  const Clock& clock_;
  Rng& rng_;
  std::map<uint16_t, Transfer> transfers_;  // by local port
  std::vector<uint8_t> buf_;                // one datagram
  TftpCounters counters_;
};

}  // namespace vnet::dhcp
