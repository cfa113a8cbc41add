// vnet::dhcp — DNS message codec (RFC 1035, EDNS0 per RFC 6891).
//
// Theory of operation
//   parse_dns() reads a whole message: the 12-byte header (RFC 1035 §4.1.1),
//   the questions and the three record sections, keeping each record's RDATA
//   as raw bytes (upstream replies are relayed, never re-encoded). It finds
//   the EDNS0 OPT pseudo-record in the additional section (RFC 6891 §6.1.1;
//   more than one is an error). Every read is bounds-checked and every
//   failure has a named DnsParseError.
//
//   Names (RFC 1035 §3.1, §4.1.4) are returned in presentation form: labels
//   joined by '.', with '.', '\\' and bytes outside 0x21..0x7e escaped as
//   "\." "\\" and "\DDD" (RFC 4343 §2.1), so every wire name has exactly one
//   string and vice versa; the root is "". Compression pointers are followed
//   only strictly backwards (a pointer must point before the label that holds
//   it), which makes loops impossible; the number of jumps is also capped.
//   Labels are at most 63 bytes, names at most 255 wire bytes, and label
//   types 01/10 (RFC 6891 §5 retired them) are rejected.
//
//   DnsWriter builds a message into a size limit: 512 bytes for plain UDP,
//   the EDNS payload size the client advertised (capped by our own), or 65535
//   for TCP (RFC 1035 §4.2). It compresses owner names and PTR targets
//   (case-insensitively, so later names take the case of the first copy,
//   normally the question) but never SRV targets (RFC 2782). A record that
//   does not fit is rolled back and reported, so the responder can set TC
//   (RFC 2181 §9) or drop additional data.
//
// Thread-safety
//   Pure functions and single-owner builder objects.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dhcp/net_types.h"

namespace vnet::dhcp {

inline constexpr uint16_t kDnsPort = 53;
inline constexpr size_t kDnsHeaderSize = 12;
inline constexpr size_t kDnsUdpMaxSize = 512;      // RFC 1035 §4.2.1, without EDNS
inline constexpr size_t kDnsTcpMaxSize = 65535;    // RFC 1035 §4.2.2
inline constexpr size_t kDnsMaxNameSize = 255;     // wire octets, RFC 1035 §2.3.4
inline constexpr size_t kDnsMaxLabelSize = 63;
inline constexpr size_t kDnsOptRecordSize = 11;    // an OPT RR without options

namespace dns_type {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kSoa = 6;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kMx = 15;
inline constexpr uint16_t kTxt = 16;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kSrv = 33;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kAny = 255;
}  // namespace dns_type

namespace dns_class {
inline constexpr uint16_t kIn = 1;
inline constexpr uint16_t kAny = 255;
}  // namespace dns_class

enum class DnsOpcode : uint8_t { kQuery = 0, kIquery = 1, kStatus = 2, kNotify = 4, kUpdate = 5 };

enum class Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};
const char* to_string(Rcode r);

// X(enumerator, counter name)
#define VNET_DNS_PARSE_ERRORS(X)             \
  X(kTruncated, "truncated")                 \
  X(kBadLabelType, "bad_label_type")         \
  X(kNameTooLong, "name_too_long")           \
  X(kPointerForward, "pointer_forward")      \
  X(kPointerLoop, "pointer_loop")            \
  X(kMultipleOpt, "multiple_opt")            \
  X(kBadOpt, "bad_opt")

enum class DnsParseError : uint8_t {
  kOk = 0,
#define VNET_X(e, name) e,
  VNET_DNS_PARSE_ERRORS(VNET_X)
#undef VNET_X
  kCount,
};
const char* to_string(DnsParseError e);

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;  // QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4)
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;

  static constexpr uint16_t kQr = 0x8000;
  static constexpr uint16_t kAa = 0x0400;
  static constexpr uint16_t kTc = 0x0200;
  static constexpr uint16_t kRd = 0x0100;
  static constexpr uint16_t kRa = 0x0080;
  static constexpr uint16_t kAd = 0x0020;
  static constexpr uint16_t kCd = 0x0010;

  bool qr() const { return flags & kQr; }
  uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xf); }
  bool tc() const { return flags & kTc; }
  bool rd() const { return flags & kRd; }
  uint8_t rcode() const { return static_cast<uint8_t>(flags & 0xf); }
  void set_rcode(Rcode r) { flags = static_cast<uint16_t>((flags & ~0xf) | static_cast<uint16_t>(r)); }
  void set_opcode(uint8_t op) { flags = static_cast<uint16_t>((flags & ~0x7800) | ((op & 0xf) << 11)); }
};

struct DnsQuestion {
  std::string name;  // presentation form, case as received
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  std::vector<std::byte> rdata;  // raw (names inside may be compressed)
  size_t rdata_offset = 0;       // where rdata starts in the message
};

// The OPT pseudo-record (RFC 6891 §6.1.2).
struct Edns {
  uint16_t udp_size = 0;     // requestor's payload size (CLASS field)
  uint8_t ext_rcode = 0;     // upper 8 bits of the 12-bit RCODE
  uint8_t version = 0;
  bool dnssec_ok = false;    // DO bit
  std::vector<std::byte> options;  // raw option TLVs
};

struct DnsMessage {
  DnsHeader header;
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authorities;
  std::vector<DnsRecord> additionals;  // without the OPT record
  std::optional<Edns> edns;
};

DnsParseError parse_dns(std::span<const std::byte> wire, DnsMessage& out);
// Header only (for error replies to unparsable messages).
bool parse_dns_header(std::span<const std::byte> wire, DnsHeader& out);

// Reads a (possibly compressed) name at `offset` in `wire`; on success
// `offset` moves past the name's in-place bytes.
DnsParseError read_dns_name(std::span<const std::byte> wire, size_t& offset, std::string& out);
// Presentation name -> wire labels (no compression); nullopt if malformed.
std::optional<std::vector<std::byte>> encode_dns_name(std::string_view name);

// Names for reverse lookups (RFC 1035 §3.5, RFC 3596 §2.5).
std::string reverse_name(const IpAddress& addr);  // "1.122.168.192.in-addr.arpa"
std::optional<IpAddress> parse_reverse_name(std::string_view name);  // full addresses only
// The reverse zone libvirt makes local for <ip localPtr='yes'>: IPv4 prefixes
// that are a multiple of 8 and < 32, IPv6 multiples of 4 and < 128; else nullopt.
std::optional<std::string> reverse_zone(const IpAddress& network, unsigned prefix_len);

class DnsWriter {
 public:
  enum class Section : uint8_t { kAnswer, kAuthority, kAdditional };

  // `limit_size` caps the whole message; `reserve_size` bytes are kept free
  // for a final OPT record (released by add_opt()).
  explicit DnsWriter(size_t limit_size, size_t reserve_size = 0);

  void set_header(const DnsHeader& h);  // counts are filled in by finish()
  DnsHeader& header() { return header_; }
  bool add_question(const DnsQuestion& q);

  bool add_a(Section s, std::string_view name, uint32_t ttl, Ipv4 addr);
  bool add_aaaa(Section s, std::string_view name, uint32_t ttl, const IpAddress& addr);
  bool add_ptr(Section s, std::string_view name, uint32_t ttl, std::string_view target);
  bool add_txt(Section s, std::string_view name, uint32_t ttl, const std::vector<std::string>& strings);
  bool add_srv(Section s, std::string_view name, uint32_t ttl, uint16_t priority, uint16_t weight,
               uint16_t port, std::string_view target);
  bool add_raw(Section s, std::string_view name, uint16_t type, uint16_t klass, uint32_t ttl,
               std::span<const std::byte> rdata);
  bool add_opt(uint16_t udp_size, uint8_t ext_rcode, uint8_t version, bool dnssec_ok);

  size_t size() const { return buf_.size(); }
  std::vector<std::byte> finish();

 private:
  bool begin_record(Section s, std::string_view name, uint16_t type, uint16_t klass, uint32_t ttl,
                    size_t& rdlen_at, size_t& start);
  bool end_record(Section s, size_t rdlen_at, size_t start);
  bool put_name(std::string_view name, bool compress);
  bool fits(size_t extra) const { return buf_.size() + extra <= limit_ - reserve_; }
  void rollback(size_t start);
  void put_u8(uint8_t v) { buf_.push_back(std::byte{v}); }
  void put_u16(uint16_t v);
  void put_u32(uint32_t v);

  DnsHeader header_;
  std::vector<std::byte> buf_;
  size_t limit_;
  size_t reserve_;
  std::array<uint16_t, 3> counts_{};
  uint16_t qdcount_ = 0;
  std::map<std::string, uint16_t> suffixes_;  // lower-case presentation suffix -> offset
  bool overflow_ = false;
};

// A reply carrying only the question (when parsable) and `rcode`; the header
// copies id, opcode, RD and CD. Empty if `query` has no complete header.
std::vector<std::byte> make_dns_error_reply(std::span<const std::byte> query, Rcode rcode);

}  // namespace vnet::dhcp
