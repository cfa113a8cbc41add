// libFuzzer target: sequences of IPv4 packets, both ways, into one
// nat::NatWorker (masquerade to 198.51.100.2, 192.168.122.0/24 inside, a port
// range of 8 ports so that exhaustion is reachable, a table of 64 sessions),
// with the clock moving between packets by steps from 1 ms to days.
//
// Input: records of [op][length][length bytes of packet]. op bit 0: the
// direction (in2out/out2in); bit 1: aim the addresses (in2out: the source
// inside, the destination outside; out2in: the destination the outside
// address), from the packet's own bytes, so that the fuzzer reaches sessions;
// bit 2: fill the checksums from scratch (an ICMP error's quoted header
// first); bits 3-5: the clock step; bit 6 (out2in): instead of the packet,
// an ICMP error from the outside quoting the last packet translated in2out
// (its type, code and quoted length from the packet's first bytes); bit 7
// (out2in): address the packet as a reply to that last packet (addresses,
// protocol and ports), so TCP's states are reached.
//
// What must hold, besides no sanitizer report:
// - a packet that is not forwarded (dropped, refused, left untranslated) is
//   left byte for byte as it was: the refusal's ICMP error quotes it;
// - a translated packet whose checksums were all right before (the reference
//   sum of tests/unit/nat/packet.h) has them all right after (the L4 sum only
//   when it covers the whole datagram: not for a fragment);
// - a translated unfragmented UDP datagram's reply, out2in, comes back to
//   the original source address and port;
// - an ICMP error quoting a translated packet, when translated, quotes the
//   original source address and port (or echo identifier) again;
// - the session table never holds more than its capacity.
#include <cstdlib>
#include <cstring>

#include "nat/nat.h"
#include "nat/parse.h"
#include "tests/unit/nat/packet.h"

using namespace vnet::nat;
using test::Bytes;

namespace {

constexpr uint32_t kCapacity = 64;
constexpr uint64_t kSteps[8] = {0,
                                1'000'000,                // 1 ms
                                1'000'000'000,            // 1 s
                                31'000'000'000,           // past the UDP timeout
                                121'000'000'000,          // past the ICMP/UDP stream ones
                                600'000'000'000,
                                3'600'000'000'000,
                                5 * 86'400'000'000'000};  // past TCP established

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "nat_fuzz: %s\n", what);
  std::abort();
}

// Whether the packet's IPv4 header is sane enough for the reference checker
// (which trusts the header's lengths), and whether it is a fragment.
bool checkable(const Bytes& b, bool* fragment) {
  if (b.size() < 20 || (test::get8(b, 0) >> 4) != 4) return false;
  const size_t ihl = (test::get8(b, 0) & 0xf) * 4u;
  const size_t total = test::get16(b, 2);
  if (ihl < 20 || total < ihl + 8 || total > b.size()) return false;
  *fragment = (test::get16(b, 6) & 0x3fff) != 0;
  const uint8_t proto = test::get8(b, 9);
  if (proto == 6 && total < ihl + 20) return false;
  return true;
}

// Only the IPv4 header checksum (the L4 one of a fragment covers bytes
// elsewhere).
bool ip_checksum_ok(const Bytes& b) {
  const size_t ihl = (test::get8(b, 0) & 0xf) * 4u;
  return test::ref_checksum(b, 0, ihl) == 0;
}

void fill_checksums(Bytes& b) {
  bool frag = false;
  if (!checkable(b, &frag)) return;
  const size_t ihl = (test::get8(b, 0) & 0xf) * 4u;
  const size_t total = test::get16(b, 2);
  const uint8_t proto = test::get8(b, 9);
  if (proto == 1 && total >= ihl + 28) {
    const uint8_t type = test::get8(b, ihl);
    const size_t q = ihl + 8;
    const size_t qihl = (test::get8(b, q) & 0xf) * 4u;
    if ((type == 3 || type == 11 || type == 12) && qihl >= 20 && q + qihl <= total) test::fill_ip_checksum(b, q);
  }
  test::fill_l4_checksum(b, 0, total);
  test::fill_ip_checksum(b);
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool more() const { return p_ < end_; }
  uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  Bytes bytes(size_t n) {
    n = std::min<size_t>(n, static_cast<size_t>(end_ - p_));
    Bytes b(n);
    if (n != 0) std::memcpy(b.data(), p_, n);
    p_ += n;
    return b;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool trace = std::getenv("NAT_FUZZ_TRACE") != nullptr;  // each packet, to stderr
  NatWorker nat(test::guest_nat(40000, 40007), 0, kCapacity, 7);
  uint64_t now = 1'000'000'000;
  Reader in(data, size);
  Bytes last, last_before;  // the last unfragmented packet translated in2out, after and before
  uint64_t last_now = 0;    // when
  while (in.more()) {
    const uint8_t op = in.byte();
    const bool out2in = (op & 1) != 0;
    now += kSteps[(op >> 3) & 7];
    Bytes b = in.bytes(in.byte());
    const bool quoting = out2in && (op & 0x40) != 0 && !last.empty() && b.size() >= 3;
    if (quoting) {
      static constexpr uint8_t kTypes[3] = {3, 11, 12};
      const size_t ihl = (test::get8(last, 0) & 0xf) * 4u;
      const size_t quoted = std::min(last.size(), ihl + 8 + test::get8(b, 2) % 32);
      b = test::icmp_error(test::get32(last, 16), test::kExt, kTypes[test::get8(b, 0) % 3], test::get8(b, 1), last,
                           quoted);
    } else if (out2in && (op & 0x80) != 0 && !last.empty() && b.size() >= 24) {
      const size_t ihl = (test::get8(last, 0) & 0xf) * 4u;
      const size_t bihl = std::max<size_t>(20, (test::get8(b, 0) & 0xf) * 4u);
      test::put32(b, 12, test::get32(last, 16));
      test::put32(b, 16, test::get32(last, 12));
      test::put8(b, 9, test::get8(last, 9));
      if (b.size() >= bihl + 4 && last.size() >= ihl + 4) {
        test::put16(b, bihl, test::get16(last, ihl + 2));
        test::put16(b, bihl + 2, test::get16(last, ihl));
      }
    } else if ((op & 2) != 0 && b.size() >= 20) {
      if (!out2in) {
        test::put32(b, 12, test::ip(192, 168, 122, test::get8(b, 12) % 4 + 10));
        test::put32(b, 16, test::ip(203, 0, 113, test::get8(b, 16) % 4 + 5));
      } else {
        test::put32(b, 16, test::kExt);
      }
    }
    if ((op & 4) != 0 && !quoting) fill_checksums(b);
    bool fragment = false;
    const bool sane = checkable(b, &fragment);
    const bool sums_ok = sane && (fragment ? ip_checksum_ok(b) : test::check_checksums(b).empty());
    const Bytes before = b;
    // An exactly sized buffer: any read or write past the packet is a report.
    const Result r = out2in ? nat.out2in(std::span<std::byte>(b), now) : nat.in2out(std::span<std::byte>(b), now);
    if (trace) {
      std::fprintf(stderr, "op %02x %s now %llu: %zu bytes, verdict %d reason %d;", op, out2in ? "out2in" : "in2out",
                   static_cast<unsigned long long>(now), b.size(), static_cast<int>(r.verdict),
                   static_cast<int>(r.reason));
      for (size_t i = 0; i < std::min<size_t>(b.size(), 56); ++i)
        std::fprintf(stderr, "%s%02x", i % 4 == 0 ? " " : "", test::get8(before, i));
      std::fprintf(stderr, "\n  ->");
      for (size_t i = 0; i < std::min<size_t>(b.size(), 56); ++i)
        std::fprintf(stderr, "%s%02x", i % 4 == 0 ? " " : "", test::get8(b, i));
      std::fprintf(stderr, "\n");
    }
    if (r.verdict != Verdict::kForward) {
      if (b != before) fail("a packet not forwarded was changed");
      continue;
    }
    if (sums_ok && (fragment ? !ip_checksum_ok(b) : !test::check_checksums(b).empty()))
      fail("a translation broke a checksum");
    if (nat.table().size() > kCapacity) fail("more sessions than the table holds");
    // Within 10 s (the shortest timeout) of `last`, its session is still the
    // one its outside port belongs to; later the port may be another's.
    if (quoting && now - last_now < 10'000'000'000) {
      // The quoted packet is at 28 (outer header, ICMP header): its source
      // is the original one again, and so is its port or identifier.
      const size_t ihl = (test::get8(last_before, 0) & 0xf) * 4u;
      const size_t q = 28, qihl = (test::get8(b, q) & 0xf) * 4u;
      if (test::get32(b, q + 12) != test::get32(last_before, 12)) fail("an ICMP error quotes the outside address");
      if (b.size() >= q + qihl + 2 && test::get8(last_before, 9) != 1 &&
          test::get16(b, q + qihl) != test::get16(last_before, ihl))
        fail("an ICMP error quotes the outside port");
      if (b.size() >= q + qihl + 6 && test::get8(last_before, 9) == 1 &&
          test::get16(b, q + qihl + 4) != test::get16(last_before, ihl + 4))
        fail("an ICMP error quotes the outside identifier");
      if (test::get32(b, 16) != test::get32(last_before, 12)) fail("an ICMP error goes elsewhere");
    }
    if (quoting && !test::check_checksums(b).empty()) fail("an ICMP error's checksums");
    if (!out2in && sane && !fragment && test::get32(b, 12) != test::get32(before, 12)) {
      last = b;
      last_before = before;
      last_now = now;
    }
    // The reply of a translated unfragmented UDP datagram comes back.
    if (!out2in && sane && !fragment && test::get8(b, 9) == 17 && b.size() >= 28) {
      const size_t ihl = (test::get8(b, 0) & 0xf) * 4u;
      const uint32_t src = test::get32(before, 12), dst = test::get32(before, 16);
      const uint16_t sport = test::get16(before, ihl), dport = test::get16(before, ihl + 2);
      const uint32_t ext = test::get32(b, 12);
      const uint16_t ext_port = test::get16(b, ihl);
      if (ext == src) continue;  // forwarded as it was
      Bytes reply = test::udp(dst, dport, ext, ext_port, 4);
      if (nat.out2in(std::span<std::byte>(reply), now).verdict != Verdict::kForward) fail("a reply was refused");
      if (test::get32(reply, 16) != src || test::get16(reply, 22) != sport) fail("a reply came back elsewhere");
      if (!test::check_checksums(reply).empty()) fail("a reply's checksum");
    }
  }
  return 0;
}
