// vnet::dhcp — DNS codec. See dns_codec.h.
#include "dhcp/dns_codec.h"

#include <algorithm>
#include <cstdio>

#include "dhcp/byte_io.h"
#include "dhcp/host_names.h"

namespace vnet::dhcp {

namespace {

constexpr int kMaxPointerJumps = 64;

uint8_t u8_at(std::span<const std::byte> s, size_t i) { return std::to_integer<uint8_t>(s[i]); }

void append_label(std::string& out, std::span<const std::byte> label) {
  if (!out.empty()) out.push_back('.');
  for (std::byte b : label) {
    const auto c = std::to_integer<uint8_t>(b);
    if (c == '.' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x21 || c > 0x7e) {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\%03u", c);
      out += esc;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

// Splits a presentation name into raw labels; nullopt if malformed.
std::optional<std::vector<std::string>> split_labels(std::string_view name) {
  std::vector<std::string> labels;
  if (name.empty() || name == ".") return labels;
  std::string cur;
  size_t i = 0;
  while (i < name.size()) {
    const char c = name[i];
    if (c == '\\') {
      if (i + 1 >= name.size()) return std::nullopt;
      const char n = name[i + 1];
      if (n >= '0' && n <= '9') {
        if (i + 3 >= name.size()) return std::nullopt;
        int v = 0;
        for (size_t k = 1; k <= 3; ++k) {
          const char d = name[i + k];
          if (d < '0' || d > '9') return std::nullopt;
          v = v * 10 + (d - '0');
        }
        if (v > 255) return std::nullopt;
        cur.push_back(static_cast<char>(v));
        i += 4;
      } else {
        cur.push_back(n);
        i += 2;
      }
      continue;
    }
    if (c == '.') {
      if (cur.empty()) return std::nullopt;  // empty label
      labels.push_back(std::move(cur));
      cur.clear();
      ++i;
      continue;
    }
    cur.push_back(c);
    ++i;
  }
  if (!cur.empty()) labels.push_back(std::move(cur));  // a trailing '.' is allowed
  size_t wire = 1;
  for (const std::string& l : labels) {
    if (l.size() > kDnsMaxLabelSize) return std::nullopt;
    wire += 1 + l.size();
  }
  if (wire > kDnsMaxNameSize) return std::nullopt;
  return labels;
}

DnsParseError read_record(std::span<const std::byte> wire, size_t& offset, DnsRecord& rr) {
  if (auto e = read_dns_name(wire, offset, rr.name); e != DnsParseError::kOk) return e;
  ByteReader r(wire, offset);
  uint16_t rdlen = 0;
  if (!r.get_u16(rr.type) || !r.get_u16(rr.klass) || !r.get_u32(rr.ttl) || !r.get_u16(rdlen))
    return DnsParseError::kTruncated;
  std::span<const std::byte> rdata;
  rr.rdata_offset = r.position();
  if (!r.get_bytes(rdlen, rdata)) return DnsParseError::kTruncated;
  rr.rdata.assign(rdata.begin(), rdata.end());
  offset = r.position();
  return DnsParseError::kOk;
}

}  // namespace

const char* to_string(Rcode r) {
  switch (r) {
    case Rcode::kNoError: return "NOERROR";
    case Rcode::kFormErr: return "FORMERR";
    case Rcode::kServFail: return "SERVFAIL";
    case Rcode::kNxDomain: return "NXDOMAIN";
    case Rcode::kNotImp: return "NOTIMP";
    case Rcode::kRefused: return "REFUSED";
  }
  return "?";
}

const char* to_string(DnsParseError e) {
  switch (e) {
    case DnsParseError::kOk: return "ok";
#define VNET_X(en, name) \
  case DnsParseError::en: return name;
    VNET_DNS_PARSE_ERRORS(VNET_X)
#undef VNET_X
    case DnsParseError::kCount: break;
  }
  return "?";
}

DnsParseError read_dns_name(std::span<const std::byte> wire, size_t& offset, std::string& out) {
  out.clear();
  size_t pos = offset;
  size_t end_in_place = 0;  // position after the in-place part, once known
  size_t wire_size = 1;     // the root label
  int jumps = 0;
  // Pointers must point before the smallest position visited so far.
  size_t lowest = offset;
  while (true) {
    if (pos >= wire.size()) return DnsParseError::kTruncated;
    const uint8_t len = u8_at(wire, pos);
    if (len == 0) {
      if (jumps == 0) end_in_place = pos + 1;
      break;
    }
    const uint8_t kind = len & 0xc0;
    if (kind == 0xc0) {
      if (pos + 1 >= wire.size()) return DnsParseError::kTruncated;
      const size_t target = (size_t{len & 0x3fu} << 8) | u8_at(wire, pos + 1);
      if (jumps == 0) end_in_place = pos + 2;
      if (target >= lowest) return DnsParseError::kPointerForward;
      if (++jumps > kMaxPointerJumps) return DnsParseError::kPointerLoop;
      lowest = target;
      pos = target;
      continue;
    }
    if (kind != 0) return DnsParseError::kBadLabelType;
    if (pos + 1 + len > wire.size()) return DnsParseError::kTruncated;
    wire_size += 1 + len;
    if (wire_size > kDnsMaxNameSize) return DnsParseError::kNameTooLong;
    append_label(out, wire.subspan(pos + 1, len));
    pos += 1 + len;
  }
  offset = end_in_place;
  return DnsParseError::kOk;
}

std::optional<std::vector<std::byte>> encode_dns_name(std::string_view name) {
  const auto labels = split_labels(name);
  if (!labels) return std::nullopt;
  std::vector<std::byte> out;
  for (const std::string& l : *labels) {
    out.push_back(std::byte(l.size()));
    for (char c : l) out.push_back(std::byte(c));
  }
  out.push_back(std::byte{0});
  return out;
}

bool parse_dns_header(std::span<const std::byte> wire, DnsHeader& h) {
  ByteReader r(wire);
  return r.get_u16(h.id) && r.get_u16(h.flags) && r.get_u16(h.qdcount) && r.get_u16(h.ancount) &&
         r.get_u16(h.nscount) && r.get_u16(h.arcount);
}

DnsParseError parse_dns(std::span<const std::byte> wire, DnsMessage& out) {
  out = DnsMessage{};
  if (!parse_dns_header(wire, out.header)) return DnsParseError::kTruncated;
  size_t offset = kDnsHeaderSize;
  // Every question needs at least 5 bytes and every record 11: counts that
  // cannot fit are rejected before anything is allocated.
  const size_t rest = wire.size() - kDnsHeaderSize;
  if (size_t{out.header.qdcount} * 5 > rest ||
      (size_t{out.header.ancount} + out.header.nscount + out.header.arcount) * 11 > rest)
    return DnsParseError::kTruncated;
  for (uint16_t i = 0; i < out.header.qdcount; ++i) {
    DnsQuestion q;
    if (auto e = read_dns_name(wire, offset, q.name); e != DnsParseError::kOk) return e;
    ByteReader r(wire, offset);
    if (!r.get_u16(q.qtype) || !r.get_u16(q.qclass)) return DnsParseError::kTruncated;
    offset = r.position();
    out.questions.push_back(std::move(q));
  }
  const auto read_section = [&](uint16_t count, std::vector<DnsRecord>& dst, bool additional) {
    for (uint16_t i = 0; i < count; ++i) {
      DnsRecord rr;
      if (auto e = read_record(wire, offset, rr); e != DnsParseError::kOk) return e;
      if (additional && rr.type == dns_type::kOpt) {
        if (out.edns) return DnsParseError::kMultipleOpt;
        if (!rr.name.empty()) return DnsParseError::kBadOpt;  // owner must be the root
        Edns e;
        e.udp_size = rr.klass;
        e.ext_rcode = static_cast<uint8_t>(rr.ttl >> 24);
        e.version = static_cast<uint8_t>(rr.ttl >> 16);
        e.dnssec_ok = (rr.ttl & 0x8000) != 0;
        e.options = std::move(rr.rdata);
        out.edns = std::move(e);
        continue;
      }
      dst.push_back(std::move(rr));
    }
    return DnsParseError::kOk;
  };
  if (auto e = read_section(out.header.ancount, out.answers, false); e != DnsParseError::kOk) return e;
  if (auto e = read_section(out.header.nscount, out.authorities, false); e != DnsParseError::kOk) return e;
  if (auto e = read_section(out.header.arcount, out.additionals, true); e != DnsParseError::kOk) return e;
  return DnsParseError::kOk;  // trailing bytes are ignored, as most servers do
}

std::string reverse_name(const IpAddress& addr) {
  std::string out;
  if (addr.is_v4()) {
    for (int i = 3; i >= 0; --i) out += std::to_string(addr.bytes[static_cast<size_t>(i)]) + ".";
    return out + "in-addr.arpa";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    const uint8_t b = addr.bytes[static_cast<size_t>(i)];
    out.push_back(kHex[b & 15]);
    out.push_back('.');
    out.push_back(kHex[b >> 4]);
    out.push_back('.');
  }
  return out + "ip6.arpa";
}

std::optional<IpAddress> parse_reverse_name(std::string_view name) {
  name = strip_root(name);
  std::vector<std::string_view> labels;
  size_t pos = 0;
  while (pos <= name.size()) {
    const size_t dot = name.find('.', pos);
    const size_t end = dot == std::string_view::npos ? name.size() : dot;
    labels.push_back(name.substr(pos, end - pos));
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (labels.size() == 6 && names_equal(labels[4], "in-addr") && names_equal(labels[5], "arpa")) {
    std::array<uint8_t, 4> o{};
    for (size_t i = 0; i < 4; ++i) {
      const std::string_view l = labels[3 - i];
      if (l.empty() || l.size() > 3 || (l.size() > 1 && l[0] == '0')) return std::nullopt;
      unsigned v = 0;
      for (char c : l) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
      }
      if (v > 255) return std::nullopt;
      o[i] = static_cast<uint8_t>(v);
    }
    return IpAddress::v4(Ipv4::from_octets(o[0], o[1], o[2], o[3]));
  }
  if (labels.size() == 34 && names_equal(labels[32], "ip6") && names_equal(labels[33], "arpa")) {
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < 32; ++i) {
      const std::string_view l = labels[i];
      if (l.size() != 1) return std::nullopt;
      const char c = static_cast<char>(to_lower(l)[0]);
      int v = -1;
      if (c >= '0' && c <= '9') v = c - '0';
      if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      if (v < 0) return std::nullopt;
      // labels[0] is the lowest nibble of the last byte.
      const size_t byte = 15 - i / 2;
      b[byte] = static_cast<uint8_t>(b[byte] | (i % 2 == 0 ? v : v << 4));
    }
    return IpAddress::v6(b);
  }
  return std::nullopt;
}

std::optional<std::string> reverse_zone(const IpAddress& network, unsigned prefix_len) {
  if (network.is_v4()) {
    if (prefix_len % 8 != 0 || prefix_len >= 32 || prefix_len == 0) return std::nullopt;
    std::string out;
    for (int i = static_cast<int>(prefix_len / 8) - 1; i >= 0; --i)
      out += std::to_string(network.bytes[static_cast<size_t>(i)]) + ".";
    return out + "in-addr.arpa";
  }
  if (prefix_len % 4 != 0 || prefix_len >= 128 || prefix_len == 0) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int n = static_cast<int>(prefix_len / 4) - 1; n >= 0; --n) {
    const uint8_t b = network.bytes[static_cast<size_t>(n / 2)];
    out.push_back(kHex[n % 2 == 0 ? b >> 4 : b & 15]);
    out.push_back('.');
  }
  return out + "ip6.arpa";
}

// --- DnsWriter --------------------------------------------------------------

DnsWriter::DnsWriter(size_t limit_size, size_t reserve_size)
    : limit_(std::clamp<size_t>(limit_size, kDnsHeaderSize, kDnsTcpMaxSize)),
      reserve_(std::min(reserve_size, limit_ - kDnsHeaderSize)) {
  buf_.resize(kDnsHeaderSize);
}

void DnsWriter::set_header(const DnsHeader& h) { header_ = h; }

void DnsWriter::put_u16(uint16_t v) {
  buf_.push_back(std::byte(v >> 8));
  buf_.push_back(std::byte(v & 0xff));
}

void DnsWriter::put_u32(uint32_t v) {
  put_u16(static_cast<uint16_t>(v >> 16));
  put_u16(static_cast<uint16_t>(v & 0xffff));
}

void DnsWriter::rollback(size_t start) {
  buf_.resize(start);
  std::erase_if(suffixes_, [&](const auto& kv) { return kv.second >= start; });
}

bool DnsWriter::put_name(std::string_view name, bool compress) {
  const auto labels = split_labels(name);
  if (!labels) return false;
  for (size_t i = 0; i < labels->size(); ++i) {
    // The suffix made of labels[i..], lower-cased, as the compression key.
    std::string key;
    for (size_t k = i; k < labels->size(); ++k) {
      key += to_lower((*labels)[k]);
      key.push_back('\0');  // raw labels may contain '.'; NUL separates them
    }
    if (compress) {
      if (auto it = suffixes_.find(key); it != suffixes_.end()) {
        if (!fits(2)) return false;
        put_u16(static_cast<uint16_t>(0xc000 | it->second));
        return true;
      }
    }
    const std::string& l = (*labels)[i];
    if (!fits(1 + l.size())) return false;
    if (buf_.size() < 0x4000) suffixes_.emplace(key, static_cast<uint16_t>(buf_.size()));
    put_u8(static_cast<uint8_t>(l.size()));
    for (char c : l) buf_.push_back(std::byte(c));
  }
  if (!fits(1)) return false;
  put_u8(0);
  return true;
}

bool DnsWriter::add_question(const DnsQuestion& q) {
  const size_t start = buf_.size();
  if (!put_name(q.name, true) || !fits(4)) {
    rollback(start);
    overflow_ = true;
    return false;
  }
  put_u16(q.qtype);
  put_u16(q.qclass);
  ++qdcount_;
  return true;
}

bool DnsWriter::begin_record(Section, std::string_view name, uint16_t type, uint16_t klass, uint32_t ttl,
                             size_t& rdlen_at, size_t& start) {
  start = buf_.size();
  if (!put_name(name, true) || !fits(10)) {
    rollback(start);
    return false;
  }
  put_u16(type);
  put_u16(klass);
  put_u32(ttl);
  rdlen_at = buf_.size();
  put_u16(0);
  return true;
}

bool DnsWriter::end_record(Section s, size_t rdlen_at, size_t start) {
  if (buf_.size() > limit_ - reserve_) {
    rollback(start);
    return false;
  }
  const size_t rdlen = buf_.size() - rdlen_at - 2;
  buf_[rdlen_at] = std::byte(rdlen >> 8);
  buf_[rdlen_at + 1] = std::byte(rdlen & 0xff);
  ++counts_[static_cast<size_t>(s)];
  return true;
}

bool DnsWriter::add_raw(Section s, std::string_view name, uint16_t type, uint16_t klass, uint32_t ttl,
                        std::span<const std::byte> rdata) {
  size_t rdlen_at = 0, start = 0;
  if (!begin_record(s, name, type, klass, ttl, rdlen_at, start)) return false;
  if (!fits(rdata.size()) || rdata.size() > 0xffff) {
    rollback(start);
    return false;
  }
  buf_.insert(buf_.end(), rdata.begin(), rdata.end());
  return end_record(s, rdlen_at, start);
}

bool DnsWriter::add_a(Section s, std::string_view name, uint32_t ttl, Ipv4 addr) {
  const auto o = addr.octets();
  const std::byte rdata[4] = {std::byte{o[0]}, std::byte{o[1]}, std::byte{o[2]}, std::byte{o[3]}};
  return add_raw(s, name, dns_type::kA, dns_class::kIn, ttl, rdata);
}

bool DnsWriter::add_aaaa(Section s, std::string_view name, uint32_t ttl, const IpAddress& addr) {
  return add_raw(s, name, dns_type::kAaaa, dns_class::kIn, ttl, std::as_bytes(std::span(addr.bytes)));
}

bool DnsWriter::add_ptr(Section s, std::string_view name, uint32_t ttl, std::string_view target) {
  size_t rdlen_at = 0, start = 0;
  if (!begin_record(s, name, dns_type::kPtr, dns_class::kIn, ttl, rdlen_at, start)) return false;
  if (!put_name(target, true)) {
    rollback(start);
    return false;
  }
  return end_record(s, rdlen_at, start);
}

bool DnsWriter::add_txt(Section s, std::string_view name, uint32_t ttl, const std::vector<std::string>& strings) {
  std::vector<std::byte> rdata;
  for (const std::string& str : strings) {
    // RFC 1035 §3.3: <character-string> is at most 255 bytes; longer text is
    // split into 255-byte chunks (dnsmasq txt-record).
    size_t pos = 0;
    do {
      const size_t n = std::min<size_t>(255, str.size() - pos);
      rdata.push_back(std::byte(n));
      for (size_t i = 0; i < n; ++i) rdata.push_back(std::byte(str[pos + i]));
      pos += n;
    } while (pos < str.size());
  }
  if (strings.empty()) rdata.push_back(std::byte{0});
  return add_raw(s, name, dns_type::kTxt, dns_class::kIn, ttl, rdata);
}

bool DnsWriter::add_srv(Section s, std::string_view name, uint32_t ttl, uint16_t priority, uint16_t weight,
                        uint16_t port, std::string_view target) {
  size_t rdlen_at = 0, start = 0;
  if (!begin_record(s, name, dns_type::kSrv, dns_class::kIn, ttl, rdlen_at, start)) return false;
  if (!fits(6)) {
    rollback(start);
    return false;
  }
  put_u16(priority);
  put_u16(weight);
  put_u16(port);
  if (!put_name(target, false)) {  // RFC 2782: no compression of the target
    rollback(start);
    return false;
  }
  return end_record(s, rdlen_at, start);
}

bool DnsWriter::add_opt(uint16_t udp_size, uint8_t ext_rcode, uint8_t version, bool dnssec_ok) {
  reserve_ = 0;
  const uint32_t ttl = (uint32_t{ext_rcode} << 24) | (uint32_t{version} << 16) | (dnssec_ok ? 0x8000u : 0u);
  return add_raw(Section::kAdditional, "", dns_type::kOpt, udp_size, ttl, {});
}

std::vector<std::byte> DnsWriter::finish() {
  ByteWriter w{std::span<std::byte>(buf_).first(kDnsHeaderSize)};
  w.put_u16(header_.id);
  w.put_u16(header_.flags);
  w.put_u16(qdcount_);
  w.put_u16(counts_[0]);
  w.put_u16(counts_[1]);
  w.put_u16(counts_[2]);
  return std::move(buf_);
}

std::vector<std::byte> make_dns_error_reply(std::span<const std::byte> query, Rcode rcode) {
  DnsHeader qh;
  if (!parse_dns_header(query, qh)) return {};
  DnsWriter w(kDnsUdpMaxSize);
  DnsHeader h;
  h.id = qh.id;
  h.flags = static_cast<uint16_t>(DnsHeader::kQr | (qh.flags & (0x7800 | DnsHeader::kRd | DnsHeader::kCd)) |
                                  DnsHeader::kRa);
  h.set_rcode(rcode);
  w.set_header(h);
  if (qh.qdcount >= 1) {
    size_t offset = kDnsHeaderSize;
    DnsQuestion q;
    if (read_dns_name(query, offset, q.name) == DnsParseError::kOk) {
      ByteReader r(query, offset);
      if (r.get_u16(q.qtype) && r.get_u16(q.qclass)) w.add_question(q);
    }
  }
  return w.finish();
}

}  // namespace vnet::dhcp
