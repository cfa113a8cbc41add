// libFuzzer target: sequences of DHCPv6 client messages into a
// dhcp::Dhcp6Server with a range, hosts by DUID and by name, and a clock
// stepping between messages. Each message is either raw fuzz bytes or a
// well-formed message whose type, DUID, IAID, addresses and name come from
// the input, so the state machine is reached past the parser. Checks: every
// reply parses as a whole (no option overruns its parent), is an Advertise or
// a Reply with the request's transaction id, echoes the client id, carries
// our server id; every IAADDR granted lies in the subnet with preferred <=
// valid; every lease held is in a range or is a host's address, and no two
// leases share an address; the lease file round-trips.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "dhcp/dhcpv6_server.h"

using namespace vnet::dhcp;

namespace {

class StepClock final : public Clock {
 public:
  int64_t now_ns() const override { return now_s_ * 1'000'000'000; }
  int64_t now_s() const override { return now_s_; }
  int64_t now_s_ = 1'700'000'000;
};

Ipv6Bytes addr(uint16_t low) {
  Ipv6Bytes a{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  a[14] = static_cast<uint8_t>(low >> 8);
  a[15] = static_cast<uint8_t>(low);
  return a;
}

Dhcp6Config config() {
  Dhcp6Config c;
  c.server_ip = addr(1);
  c.prefix_len = 64;
  c.ranges.push_back(Dhcp6Range{addr(0x10), addr(0x30), 600});
  c.ranges.push_back(Dhcp6Range{addr(0x28), addr(0x40), std::nullopt});
  c.hosts.push_back(Dhcp6Host{{std::byte{0}, std::byte{3}, std::byte{0}, std::byte{1}, std::byte{1}}, "", addr(0x20),
                              std::nullopt});
  c.hosts.push_back(Dhcp6Host{{}, "paul", addr(0x500), 7200});
  c.domain = "mynet";
  c.server_mac = Mac{{0x52, 0x54, 0, 0, 0, 1}};
  return c;
}

struct Input {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

void put16(std::vector<std::byte>& v, uint16_t x) {
  v.push_back(std::byte(x >> 8));
  v.push_back(std::byte(x & 0xff));
}
void put32(std::vector<std::byte>& v, uint32_t x) {
  put16(v, static_cast<uint16_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}
void option(std::vector<std::byte>& v, uint16_t code, const std::vector<std::byte>& data) {
  put16(v, code);
  put16(v, static_cast<uint16_t>(data.size()));
  v.insert(v.end(), data.begin(), data.end());
}

std::vector<std::byte> built_message(Input& in, const std::vector<std::byte>& server_duid) {
  static constexpr uint8_t kTypes[] = {1, 3, 4, 5, 6, 8, 9, 11};
  std::vector<std::byte> m;
  const uint8_t type = kTypes[in.u8() % sizeof kTypes];
  m.push_back(std::byte{type});
  for (int i = 0; i < 3; ++i) m.push_back(std::byte{in.u8()});
  const uint8_t flags = in.u8();
  if (!(flags & 1)) {  // client id: one of a few DUIDs
    const uint8_t which = in.u8() % 4;
    std::vector<std::byte> duid{std::byte{0}, std::byte{3}, std::byte{0}, std::byte{1}, std::byte{which}};
    option(m, opt6::kClientId, duid);
  }
  if (flags & 2) option(m, opt6::kServerId, (flags & 4) ? server_duid : std::vector<std::byte>{std::byte{1}});
  if (flags & 8) option(m, opt6::kRapidCommit, {});
  if (flags & 16) {
    static const char* kNames[] = {"paul", "peter", "x", "bad_name!", ""};
    const char* name = kNames[in.u8() % 5];
    std::vector<std::byte> f{std::byte{in.u8()}};
    if (*name) {
      f.push_back(std::byte(std::strlen(name)));
      for (const char* c = name; *c; ++c) f.push_back(std::byte(*c));
    }
    f.push_back(std::byte{0});
    option(m, opt6::kFqdn, f);
  }
  const unsigned ias = in.u8() % 3;
  for (unsigned i = 0; i < ias; ++i) {
    const bool ta = in.u8() & 1;
    std::vector<std::byte> ia;
    put32(ia, in.u8() % 3);
    if (!ta) {
      put32(ia, in.u8());
      put32(ia, in.u8());
    }
    const unsigned addrs = in.u8() % 3;
    for (unsigned j = 0; j < addrs; ++j) {
      std::vector<std::byte> a;
      Ipv6Bytes ip = addr(in.u8());
      if (in.u8() & 1) ip[0] = 0x20;  // off-link
      for (uint8_t b : ip) a.push_back(std::byte{b});
      put32(a, in.u8() * 100u);
      put32(a, in.u8() * 100u);
      option(ia, opt6::kIaAddr, a);
    }
    option(m, ta ? opt6::kIaTa : opt6::kIaNa, ia);
  }
  return m;
}

bool in_subnet(const Ipv6Bytes& a) { return a[0] == 0xfd && std::memcmp(a.data() + 1, addr(0).data() + 1, 7) == 0; }

void check_options(std::span<const std::byte> bytes) {
  const Dhcp6Options o = parse_dhcpv6_options(bytes);
  if (o.truncated) __builtin_trap();
  for (const Dhcp6Option& x : o.list) {
    if (x.code == opt6::kIaNa || x.code == opt6::kIaTa) {
      const size_t fixed = x.code == opt6::kIaNa ? kIaNaFixed : kIaTaFixed;
      if (x.data.size() < fixed) __builtin_trap();
      check_options(x.data.subspan(fixed));
    } else if (x.code == opt6::kIaAddr) {
      if (x.data.size() < kIaAddrFixed) __builtin_trap();
      Ipv6Bytes a;
      std::memcpy(a.data(), x.data.data(), 16);
      const uint32_t preferred = dhcp6_uint(x.data, 16, 4), valid = dhcp6_uint(x.data, 20, 4);
      if (valid != 0 && !in_subnet(a)) __builtin_trap();
      if (preferred > valid) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StepClock clock;
  SeededRng rng(7);
  const Dhcp6Config cfg = config();
  Dhcp6Server server(cfg, clock, rng);
  Input in{data, size};
  for (int step = 0; step < 64 && in.n > 0; ++step) {
    std::vector<std::byte> msg;
    const uint8_t kind = in.u8();
    if (kind & 0x80) {
      const size_t len = std::min<size_t>(in.u8(), in.n);
      msg.assign(reinterpret_cast<const std::byte*>(in.p), reinterpret_cast<const std::byte*>(in.p) + len);
      in.p += len;
      in.n -= len;
    } else {
      msg = built_message(in, server.duid());
    }
    clock.now_s_ += in.u8() % 4 == 0 ? in.u8() * 10 : 0;
    const Dhcp6Result r = server.handle(msg, Mac{{0x52, 0x54, 0, 0, 0, 2}}, (kind & 0x40) == 0);
    if (!r.reply.empty()) {
      const auto reply = parse_dhcpv6(r.reply);
      if (!reply || msg.size() < 4) __builtin_trap();
      if (reply->type != static_cast<uint8_t>(Dhcp6Type::kAdvertise) &&
          reply->type != static_cast<uint8_t>(Dhcp6Type::kReply))
        __builtin_trap();
      if (std::memcmp(r.reply.data() + 1, msg.data() + 1, 3) != 0) __builtin_trap();
      const Dhcp6Option* sid = reply->options.find(opt6::kServerId);
      if (!sid || !std::equal(sid->data.begin(), sid->data.end(), server.duid().begin(), server.duid().end()))
        __builtin_trap();
      const Dhcp6Options req = parse_dhcpv6_options(std::span(msg).subspan(4));
      const Dhcp6Option* cid = req.find(opt6::kClientId, 1);
      const Dhcp6Option* rcid = reply->options.find(opt6::kClientId);
      if (cid && (!rcid || !std::equal(cid->data.begin(), cid->data.end(), rcid->data.begin(), rcid->data.end())))
        __builtin_trap();
      check_options(std::span(r.reply).subspan(4));
    }
    server.expire();
  }
  std::set<Ipv6Bytes> seen;
  for (const Lease6& l : server.active_leases()) {
    if (!seen.insert(l.ip).second) __builtin_trap();
    const bool in_range = std::any_of(cfg.ranges.begin(), cfg.ranges.end(), [&](const Dhcp6Range& rg) {
      return l.ip >= rg.start && l.ip <= rg.end;
    });
    const bool host = std::any_of(cfg.hosts.begin(), cfg.hosts.end(), [&](const Dhcp6Host& h) { return h.ip == l.ip; });
    // Rebind re-creates a lease on any on-link address when authoritative;
    // this configuration is not, so every lease is in a range or a host's.
    if (!in_range && !host) __builtin_trap();
  }
  const std::string text = server.serialize();
  Dhcp6Server again(cfg, clock, rng);
  size_t corrupt = 0;
  again.load(text, corrupt);
  if (corrupt != 0 || again.serialize() != text) __builtin_trap();
  return 0;
}
