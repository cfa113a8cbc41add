#include "nat/nat.h"

#include "nat/checksum.h"
#include "nat/rewrite.h"

namespace vnet::nat {

NatWorker::NatWorker(const NatConfig& config, unsigned worker, uint32_t capacity, uint64_t seed,
                     const Timeouts& timeouts)
    : config_(config),
      plan_(config),
      timeouts_(timeouts),
      worker_(worker),
      seed_(fmix64(seed + 0x51ed270b27b3a0f5ull)),
      table_(capacity, seed),
      fragments_(kFragmentNotesPerWorker, fmix64(seed ^ 0x6a09e667f3bcc909ull)) {}

size_t NatWorker::expire(uint64_t now_ns, size_t budget) noexcept {
  const size_t n = table_.expire(now_ns, budget);
  if (n) counters_.count(NatEvent::kSessionsExpired, n);
  return n;
}

size_t NatWorker::housekeeping(uint64_t now_ns) noexcept {
  if (now_ns < next_sweep_ns_) return 0;
  next_sweep_ns_ = now_ns + kSweepIntervalNs;
  const size_t share = static_cast<size_t>(uint64_t{table_.high_water()} * kSweepIntervalNs / kSweepPeriodNs) + 1;
  return expire(now_ns, share > kSweepMinSlots ? share : kSweepMinSlots);
}

Result NatWorker::open_session(const FlowKey& in, uint64_t now_ns, Session** created) noexcept {
  if (table_.size() >= table_.capacity()) {
    expire(now_ns, kFullTableSweep);
    if (table_.size() >= table_.capacity()) return fail(NatReason::kTableFull);
  }
  const uint32_t ext_addr = plan_.address_for(in.local_addr);
  uint16_t ext_port = 0;
  bool preserved = false;
  const bool has_ports = in.proto == kProtoTcp || in.proto == kProtoUdp || in.proto == kProtoIcmp;
  FlowKey out{ext_addr, in.remote_addr, 0, in.remote_port, in.proto};
  if (!has_ports) {
    if (lookup_out(out, now_ns) != nullptr) return fail(NatReason::kAddressClash);
  } else {
    const PortSlice slice = plan_.slice(worker_, in.proto);
    out.local_port = in.local_port;
    if (slice.contains(in.local_port) && lookup_out(out, now_ns) == nullptr) {
      ext_port = in.local_port;
      preserved = true;
    } else {
      const uint32_t count = slice.count();
      const uint64_t h = fmix64(seed_ ^ (uint64_t{in.local_addr} << 32 | in.remote_addr) ^
                               (uint64_t{in.local_port} << 16 | in.remote_port) * 0x9e3779b97f4a7c15ull);
      const uint32_t start = static_cast<uint32_t>(h % count);
      const uint32_t probes = count < kMaxPortProbes ? count : kMaxPortProbes;
      bool found = false;
      for (uint32_t i = 0; i < probes; ++i) {
        out.local_port = static_cast<uint16_t>(slice.first + (start + i) % count);
        if (lookup_out(out, now_ns) == nullptr) {
          found = true;
          break;
        }
      }
      if (!found) return fail(NatReason::kPortsExhausted);
      ext_port = out.local_port;
    }
  }
  Session s{};
  s.in_addr = in.local_addr;
  s.in_port = in.local_port;
  s.remote_addr = in.remote_addr;
  s.remote_port = in.remote_port;
  s.ext_addr = ext_addr;
  s.ext_port = ext_port;
  s.proto = in.proto;
  s.created_ns = now_ns;
  s.expires_ns = now_ns;
  s.ip_delta = csum_delta32(0, s.in_addr, s.ext_addr);
  s.l4_delta = csum_delta16(s.ip_delta, s.in_port, s.ext_port);
  Session* d = table_.insert(s);
  if (d == nullptr) return fail(NatReason::kTableFull);
  counters_.count(NatEvent::kSessionsCreated);
  if (preserved) counters_.count(NatEvent::kPortPreserved);
  *created = d;
  return Result{};
}

void NatWorker::prefetch(std::span<const std::byte> packet, Dir dir, int stage) const noexcept {
  if (table_.size() < kPrefetchMinSessions) return;  // the table is in the caches anyway
  if (packet.size() < ip4::kMinHeaderSize + 4) return;
  const size_t hs = (load8(packet, ip4::kVersionIhl) & 0x0f) * 4u;
  if (hs < ip4::kMinHeaderSize || packet.size() < hs + 4) return;
  const uint8_t proto = load8(packet, ip4::kProto);
  if (proto != kProtoTcp && proto != kProtoUdp) return;
  const bool out = dir == Dir::kOut2In;
  const uint32_t src = load32(packet, ip4::kSrc);
  const uint32_t dst = load32(packet, ip4::kDst);
  const uint16_t sport = load16(packet, hs + l4::kSrcPort);
  const uint16_t dport = load16(packet, hs + l4::kDstPort);
  const FlowKey key = out ? FlowKey{dst, src, dport, sport, proto} : FlowKey{src, dst, sport, dport, proto};
  if (stage == 1) {
    table_.prefetch_index(key, out);
  } else {
    table_.prefetch_session(key, out);
  }
}

Result NatWorker::in2out(std::span<std::byte> packet, uint64_t now_ns) noexcept {
  Ipv4Info ip;
  if (const NatReason r = parse_ipv4(packet, &ip); r != NatReason::kNone) return fail(r);
  return in2out(packet, ip, true, now_ns, kNoKeyHash);
}

Result NatWorker::translate(std::span<std::byte> packet, const Ipv4Info& ip, Dir dir, uint64_t now_ns,
                            uint64_t key_hash) noexcept {
  if (ip.fragment && !ip.first_fragment) return later_fragment(packet, ip, dir, now_ns);
  const Result r = dir == Dir::kIn2Out ? translate_in2out(packet, ip, now_ns, key_hash)
                                       : translate_out2in(packet, ip, now_ns, key_hash);
  if (ip.fragment && r.verdict == Verdict::kForward) note_first_fragment(packet, ip, dir, now_ns);
  return r;
}

// The session of an in2out packet that has none (its first packet or the
// first after the old one expired), refreshed as the packet's: out of line,
// so that the established case stays one straight path.
Result NatWorker::create_in2out(const FlowKey& key, uint8_t tcp_flags, uint64_t now_ns, Session** created) noexcept {
  Session* s = nullptr;
  if (key.proto == kProtoTcp) {
    const TcpState st = tcp_open(tcp_flags);
    if (st == TcpState::kNone) return fail(NatReason::kTcpInvalid);
    if (const Result r = open_session(key, now_ns, &s); r.verdict != Verdict::kForward) return r;
    s->tcp_state = st;
    if (st == TcpState::kSynSent) {
      s->expires_ns = now_ns + timeouts_.tcp(st);
      ++s->pkts_in2out;
    } else {
      refresh(s, Dir::kIn2Out, tcp_flags, now_ns);
    }
  } else {
    if (const Result r = open_session(key, now_ns, &s); r.verdict != Verdict::kForward) return r;
    refresh(s, Dir::kIn2Out, tcp_flags, now_ns);
  }
  *created = s;
  return Result{};
}

Result NatWorker::out2in(std::span<std::byte> packet, uint64_t now_ns) noexcept {
  Ipv4Info ip;
  if (const NatReason r = parse_ipv4(packet, &ip); r != NatReason::kNone) return fail(r);
  return out2in(packet, ip, true, now_ns, kNoKeyHash);
}

namespace {

FragmentKey fragment_key(const Ipv4Info& ip, Dir dir) noexcept {
  return FragmentKey{ip.src, ip.dst, ip.id, ip.proto, dir};
}

}  // namespace

void NatWorker::note_first_fragment(std::span<const std::byte> packet, const Ipv4Info& ip, Dir dir,
                                    uint64_t now_ns) noexcept {
  bool evicted = false;
  FragmentNote* n = fragments_.add(fragment_key(ip, dir), now_ns, &evicted);
  if (evicted) counters_.count(NatEvent::kFragmentNotesEvicted);
  if (n == nullptr) return;
  n->addr = load32(packet, dir == Dir::kIn2Out ? ip4::kSrc : ip4::kDst);
  fragments_.account(n, 0, ip.total_length - ip.header_size, ip.more_fragments);
}

Result NatWorker::later_fragment(std::span<std::byte> packet, const Ipv4Info& ip, Dir dir,
                                 uint64_t now_ns) noexcept {
  FragmentNote* n = fragments_.find(fragment_key(ip, dir), now_ns);
  if (n == nullptr) return fail(NatReason::kFragmentNoFirst);
  if (n->worker >= 0) return fail(NatReason::kWrongWorker);  // a steering note: not translated here
  set_ipv4_addr(packet, dir == Dir::kIn2Out ? ip4::kSrc : ip4::kDst, n->addr);
  fragments_.account(n, ip.frag_offset, ip.total_length - ip.header_size, ip.more_fragments);
  counters_.count(NatEvent::kFragments);
  return Result{};
}

int NatWorker::out2in_worker(std::span<const std::byte> packet, uint64_t now_ns) noexcept {
  if (packet.size() < ip4::kMinHeaderSize ||
      (load16(packet, ip4::kFlagsFrag) & (ip4::kMoreFragments | ip4::kOffsetMask)) == 0)
    return plan_.out2in_worker(packet);
  Ipv4Info ip;
  if (parse_ipv4(packet, &ip) != NatReason::kNone) return kAnyWorker;
  const FragmentKey key = fragment_key(ip, Dir::kOut2In);
  const uint32_t payload = ip.total_length - ip.header_size;
  if (ip.first_fragment) {
    const int w = plan_.out2in_worker(packet);
    if (w >= 0 && w != static_cast<int>(worker_)) {
      bool evicted = false;
      FragmentNote* n = fragments_.add(key, now_ns, &evicted);
      if (evicted) counters_.count(NatEvent::kFragmentNotesEvicted);
      if (n != nullptr) {
        n->worker = static_cast<int16_t>(w);
        fragments_.account(n, 0, payload, ip.more_fragments);
      }
    }
    return w;
  }
  FragmentNote* n = fragments_.find(key, now_ns);
  if (n == nullptr || n->worker < 0) return kAnyWorker;
  const int w = n->worker;
  fragments_.account(n, ip.frag_offset, payload, ip.more_fragments);
  return w;
}

}  // namespace vnet::nat
