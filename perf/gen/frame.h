// frame.h — flow sets and test-frame layout for vnet-pktgen (no DPDK).
//
// Theory of operation
// -------------------
// Every generator port is a "station" with a block of MAC addresses:
//   station_mac(port, k) = mac_base + (port << 24) + k,   k < 2^24.
// A tx port sends Ethernet/IPv4/UDP frames whose fields step through ranges
// (a flow set). Each field (src MAC index, dst MAC index, src/dst IPv4,
// src/dst UDP port, destination port) has its own counter that advances by
// one per frame and wraps at its count, so field j of frame i is
// base_j + (i mod count_j) without any division on the fast path, and the
// number of distinct flows is the lcm of the counts. With FlowSpec::dst_mac
// set (--dst-mac, or --dst-mac-arp resolved at start) every frame carries that
// destination MAC instead of a station MAC: traffic to a router (vnet's NAT),
// still stamped with the port it should come out of. `--flows N` sets the
// counts of the chosen fields to N, so with the default (MACs) frame i goes
// from station_mac(tx, i mod N) to station_mac(dst, i mod N).
//
// The UDP payload starts with a Stamp (18 bytes, so a 64-byte frame — 60
// bytes without FCS — still holds it):
//   u16 magic | u64 tag | u64 tx_tsc          (all little-endian, unaligned)
//   tag = tx port index << 56 | expected rx port index << 48 | 48-bit sequence
// The receiver uses the tag to count frames per (tx, rx) pair, detect frames
// delivered to the wrong port (flooding), reordering, and the TSC for
// latency. Warm-up (learning) frames carry kWarmupTxIndex as tx index and are
// ignored by the statistics.
//
// Frame sizes follow RFC 2544 usage: `size_bytes` includes the 4-byte FCS, so
// the buffer written is size_bytes - 4 bytes long.
//
// Thread-safety
// -------------
// FlowSpec is immutable after parsing. A FlowCursor belongs to the one thread
// that builds frames for its tx port. All functions are pure over the given
// byte spans.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vnet::perf {

inline constexpr std::size_t kEthHeaderSize = 14;
inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kFcsSize = 4;
inline constexpr std::size_t kHeadersSize = kEthHeaderSize + kIpv4HeaderSize + kUdpHeaderSize;  // 42
inline constexpr std::size_t kStampOffset = kHeadersSize;
inline constexpr std::size_t kStampSize = 2 + 8 + 8;  // magic, tag, tsc
inline constexpr std::size_t kMinFrameSize = 64;      // incl. FCS
inline constexpr std::size_t kMaxFrameSize = 9018;    // incl. FCS (jumbo)
inline constexpr uint16_t kStampMagic = 0x7e57;
inline constexpr unsigned kWarmupTxIndex = 0xff;
inline constexpr uint64_t kSeqMask = (uint64_t{1} << 48) - 1;
inline constexpr uint32_t kMaxStationMacs = 1u << 24;

// Bytes written into the mbuf for a frame of `size_bytes` (incl. FCS).
constexpr std::size_t frame_data_size(std::size_t size_bytes) { return size_bytes - kFcsSize; }

// One stepping field: base + (i mod count).
struct FieldRange {
  uint64_t base = 0;   // first value (host order)
  uint32_t count = 1;  // number of distinct values, >= 1
};

// What one tx port sends. Immutable after option parsing.
struct FlowSpec {
  uint64_t mac_base = 0x020000000000;  // 48-bit, locally administered unicast
  uint32_t src_mac_count = 1;          // station MACs of the tx port used as source
  uint32_t dst_mac_count = 1;          // station MACs of each destination port used as target
  FieldRange src_ip{0x0a000001, 1};    // 10.0.0.1
  FieldRange dst_ip{0x0a010001, 1};    // 10.1.0.1
  FieldRange src_port{1024, 1};        // UDP
  FieldRange dst_port{1024, 1};        // UDP
  uint64_t dst_mac = 0;                // when not 0: every frame goes to this MAC (a router's, e.g. the
                                       // network's gateway), whatever its destination port
};

// Number of distinct flows one tx port cycles through (lcm of the counts,
// saturated at UINT64_MAX).
uint64_t distinct_flows(const FlowSpec& spec, uint32_t dest_port_count);

// 48-bit MAC helpers.
uint64_t station_mac(uint64_t mac_base, unsigned port_index, uint32_t k);
void put_mac(std::span<uint8_t, 6> out, uint64_t mac48);
std::optional<uint64_t> parse_mac(std::string_view text);
std::string format_mac(uint64_t mac48);
std::optional<uint32_t> parse_ipv4(std::string_view text);  // host order
std::string format_ipv4(uint32_t addr);

// Ethernet + IPv4 + UDP headers (UDP checksum 0, RFC 768) at h for a frame of
// data_size bytes without FCS; DF set unless dont_fragment is false.
void write_udp_headers(uint8_t* h, uint64_t dst_mac, uint64_t src_mac, uint32_t src_ip, uint32_t dst_ip,
                       uint16_t src_port, uint16_t dst_port, std::size_t data_size, bool dont_fragment = true);

// RFC 1071 checksum of an IPv4 header (checksum field must be zero).
uint16_t ipv4_header_checksum(std::span<const uint8_t> header);

struct Stamp {
  unsigned tx_index = 0;  // generator tx port index (kWarmupTxIndex for learning frames)
  unsigned rx_index = 0;  // port index the frame should arrive on
  uint64_t seq = 0;       // 48-bit per-tx-port sequence number
  uint64_t tsc = 0;       // TSC when the frame was built
};

constexpr uint64_t make_tag(unsigned tx_index, unsigned rx_index, uint64_t seq) {
  return (uint64_t{tx_index & 0xff} << 56) | (uint64_t{rx_index & 0xff} << 48) | (seq & kSeqMask);
}

// Writes the stamp at kStampOffset. `frame` must be at least kStampOffset + kStampSize.
void write_stamp(std::span<uint8_t> frame, uint64_t tag, uint64_t tsc);
// Reads a stamp if the frame is IPv4/UDP with our magic; nullopt otherwise.
std::optional<Stamp> read_stamp(std::span<const uint8_t> frame);

// Per-tx-port frame builder: a 42-byte header template plus the field
// counters. Owned by the thread that builds this port's frames.
class FlowCursor {
 public:
  // dest_ports: generator port indexes this tx port sends to (>= 1 entry).
  FlowCursor(const FlowSpec& spec, unsigned tx_index, std::span<const unsigned> dest_ports,
             std::size_t size_bytes);

  // Writes headers + stamp of the next flow into `frame` (frame_data_size
  // bytes; the payload after the stamp is left as is) and advances the
  // counters. Returns the port index the frame is addressed to.
  unsigned build_next(std::span<uint8_t> frame, uint64_t seq, uint64_t tsc) noexcept;

  // Learning frame: broadcast from station_mac(port, k), UDP 9 -> 9.
  static void build_learning(std::span<uint8_t> frame, uint64_t mac_base, unsigned port_index,
                             uint32_t k, uint32_t src_ip) noexcept;

 private:
  struct Step {
    uint32_t index = 0;  // current position, < count
    uint32_t count = 1;
    bool advance() noexcept {  // returns true when it wrapped
      if (++index == count) {
        index = 0;
        return true;
      }
      return false;
    }
  };

  FlowSpec spec_;
  unsigned tx_index_;
  std::array<unsigned, 32> dests_{};  // destination port indexes
  Step dest_;
  Step src_mac_, dst_mac_, src_ip_, dst_ip_, src_port_, dst_port_;
  std::array<uint8_t, kHeadersSize> header_{};  // template
  std::size_t data_size_;
};

}  // namespace vnet::perf
