// vnet::dhcp — BOOTP / DHCPv4 codec. See dhcp_codec.h.
#include "dhcp/dhcp_codec.h"

#include <algorithm>
#include <cstring>

#include "dhcp/byte_io.h"

namespace vnet::dhcp {

namespace {

constexpr size_t kSnameOffset = 44;
constexpr size_t kSnameSize = 64;
constexpr size_t kFileOffset = 108;
constexpr size_t kFileSize = 128;

uint8_t u8_at(std::span<const std::byte> s, size_t i) { return std::to_integer<uint8_t>(s[i]); }

// Reads one option area into `out`, concatenating repeated codes (RFC 3396).
DhcpParseError parse_area(std::span<const std::byte> area, bool is_overload_area,
                          std::vector<DhcpOption>& out) {
  size_t pos = 0;
  while (pos < area.size()) {
    const uint8_t code = u8_at(area, pos);
    if (code == opt::kPad) {
      ++pos;
      continue;
    }
    if (code == opt::kEnd) return DhcpParseError::kOk;
    if (pos + 1 >= area.size()) return DhcpParseError::kOptionOverflow;
    const size_t len = u8_at(area, pos + 1);
    if (pos + 2 + len > area.size()) return DhcpParseError::kOptionOverflow;
    // RFC 2131 §4.1: the overload option is only meaningful in the options field.
    if (is_overload_area && code == opt::kOverload) return DhcpParseError::kBadOverload;
    const auto data = area.subspan(pos + 2, len);
    auto it = std::find_if(out.begin(), out.end(), [&](const DhcpOption& o) { return o.code == code; });
    if (it == out.end()) {
      out.push_back(DhcpOption{code, {}});
      it = out.end() - 1;
    }
    it->data.insert(it->data.end(), data.begin(), data.end());
    pos += 2 + len;
  }
  return DhcpParseError::kOk;  // a missing End is tolerated, as dnsmasq does
}

std::string c_string(std::span<const std::byte> field) {
  std::string s;
  for (std::byte b : field) {
    if (b == std::byte{0}) break;
    s.push_back(static_cast<char>(b));
  }
  return s;
}

// Lengths fixed by RFC 2132 for the options the server interprets.
DhcpParseError check_lengths(const DhcpMessage& m) {
  for (const DhcpOption& o : m.options) {
    const size_t n = o.data.size();
    bool ok = true;
    switch (o.code) {
      case opt::kMessageType:
      case opt::kOverload:
        ok = n == 1;
        break;
      case opt::kMaxMessageSize:
      case opt::kInterfaceMtu:
        ok = n == 2;
        break;
      case opt::kRequestedIp:
      case opt::kServerId:
      case opt::kLeaseTime:
      case opt::kRenewalTime:
      case opt::kRebindingTime:
      case opt::kSubnetMask:
      case opt::kBroadcastAddress:
        ok = n == 4;
        break;
      case opt::kClientId:
        ok = n >= 2;  // RFC 2132 §9.14: minimum length 2
        break;
      default:
        break;
    }
    if (!ok) return DhcpParseError::kBadOptionLength;
  }
  return DhcpParseError::kOk;
}

uint32_t be32(std::span<const std::byte> d) {
  return (uint32_t{u8_at(d, 0)} << 24) | (uint32_t{u8_at(d, 1)} << 16) |
         (uint32_t{u8_at(d, 2)} << 8) | uint32_t{u8_at(d, 3)};
}

// Encodes one option, split into <=255-byte instances (RFC 3396 §6).
std::vector<std::byte> encode_option(const DhcpOption& o) {
  std::vector<std::byte> enc;
  size_t pos = 0;
  do {
    const size_t chunk = std::min<size_t>(255, o.data.size() - pos);
    enc.push_back(std::byte{o.code});
    enc.push_back(std::byte(chunk));
    enc.insert(enc.end(), o.data.begin() + static_cast<ptrdiff_t>(pos),
               o.data.begin() + static_cast<ptrdiff_t>(pos + chunk));
    pos += chunk;
  } while (pos < o.data.size());
  return enc;
}

void put_ip(ByteWriter& w, Ipv4 a) { w.put_u32(a.value); }

void put_fixed_string(ByteWriter& w, const std::string& s, size_t field_size) {
  const size_t n = std::min(s.size(), field_size - 1);
  w.put_string(std::string_view(s).substr(0, n));
  w.put_zeros(field_size - n);
}

}  // namespace

const char* to_string(MessageType t) {
  switch (t) {
    case MessageType::kDiscover: return "DHCPDISCOVER";
    case MessageType::kOffer: return "DHCPOFFER";
    case MessageType::kRequest: return "DHCPREQUEST";
    case MessageType::kDecline: return "DHCPDECLINE";
    case MessageType::kAck: return "DHCPACK";
    case MessageType::kNak: return "DHCPNAK";
    case MessageType::kRelease: return "DHCPRELEASE";
    case MessageType::kInform: return "DHCPINFORM";
  }
  return "?";
}

const char* to_string(DhcpParseError e) {
  switch (e) {
    case DhcpParseError::kOk: return "ok";
#define VNET_X(en, name) \
  case DhcpParseError::en: return name;
    VNET_DHCP_PARSE_ERRORS(VNET_X)
#undef VNET_X
    case DhcpParseError::kCount: break;
  }
  return "?";
}

const DhcpOption* DhcpMessage::find(uint8_t code) const {
  for (const DhcpOption& o : options)
    if (o.code == code) return &o;
  return nullptr;
}

void DhcpMessage::set_option(uint8_t code, std::span<const std::byte> data) {
  for (DhcpOption& o : options) {
    if (o.code == code) {
      o.data.assign(data.begin(), data.end());
      return;
    }
  }
  options.push_back(DhcpOption{code, std::vector<std::byte>(data.begin(), data.end())});
}

void DhcpMessage::set_u8(uint8_t code, uint8_t v) {
  const std::byte b[1] = {std::byte{v}};
  set_option(code, b);
}

void DhcpMessage::set_u16(uint8_t code, uint16_t v) {
  const std::byte b[2] = {std::byte(v >> 8), std::byte(v & 0xff)};
  set_option(code, b);
}

void DhcpMessage::set_u32(uint8_t code, uint32_t v) {
  const std::byte b[4] = {std::byte(v >> 24), std::byte((v >> 16) & 0xff), std::byte((v >> 8) & 0xff),
                          std::byte(v & 0xff)};
  set_option(code, b);
}

void DhcpMessage::set_ip(uint8_t code, Ipv4 v) { set_u32(code, v.value); }

void DhcpMessage::set_string(uint8_t code, std::string_view s) {
  set_option(code, std::as_bytes(std::span(s.data(), s.size())));
}

std::optional<uint8_t> DhcpMessage::message_type_raw() const {
  const DhcpOption* o = find(opt::kMessageType);
  if (!o || o->data.size() != 1) return std::nullopt;
  return std::to_integer<uint8_t>(o->data[0]);
}

std::optional<MessageType> DhcpMessage::message_type() const {
  const auto raw = message_type_raw();
  if (!raw || *raw < 1 || *raw > 8) return std::nullopt;
  return static_cast<MessageType>(*raw);
}

std::optional<Ipv4> DhcpMessage::requested_ip() const {
  const DhcpOption* o = find(opt::kRequestedIp);
  if (!o || o->data.size() != 4) return std::nullopt;
  return Ipv4(be32(o->data));
}

std::optional<Ipv4> DhcpMessage::server_id() const {
  const DhcpOption* o = find(opt::kServerId);
  if (!o || o->data.size() != 4) return std::nullopt;
  return Ipv4(be32(o->data));
}

std::optional<uint32_t> DhcpMessage::lease_time_s() const {
  const DhcpOption* o = find(opt::kLeaseTime);
  if (!o || o->data.size() != 4) return std::nullopt;
  return be32(o->data);
}

std::optional<uint16_t> DhcpMessage::max_message_size() const {
  const DhcpOption* o = find(opt::kMaxMessageSize);
  if (!o || o->data.size() != 2) return std::nullopt;
  return static_cast<uint16_t>((u8_at(o->data, 0) << 8) | u8_at(o->data, 1));
}

std::optional<std::span<const std::byte>> DhcpMessage::client_id() const {
  const DhcpOption* o = find(opt::kClientId);
  if (!o || o->data.size() < 2) return std::nullopt;
  return std::span<const std::byte>(o->data);
}

std::optional<std::string> DhcpMessage::host_name() const {
  const DhcpOption* o = find(opt::kHostName);
  if (!o) return std::nullopt;
  std::string s;
  for (std::byte b : o->data) s.push_back(static_cast<char>(b));
  while (!s.empty() && s.back() == '\0') s.pop_back();  // Windows NUL-terminates
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<ClientFqdn> DhcpMessage::client_fqdn() const {
  const DhcpOption* o = find(opt::kClientFqdn);
  if (!o || o->data.size() < 3) return std::nullopt;
  ClientFqdn f;
  f.flags = u8_at(o->data, 0);
  const auto name = std::span<const std::byte>(o->data).subspan(3);
  if (f.flags & 0x04) {
    // Canonical wire format, no compression (RFC 4702 §2.3.1).
    size_t pos = 0;
    while (pos < name.size()) {
      const size_t len = u8_at(name, pos);
      if (len == 0) break;
      if (len > 63 || pos + 1 + len > name.size()) return std::nullopt;
      if (!f.name.empty()) f.name.push_back('.');
      for (size_t i = 0; i < len; ++i) f.name.push_back(static_cast<char>(name[pos + 1 + i]));
      pos += 1 + len;
    }
  } else {
    for (std::byte b : name) f.name.push_back(static_cast<char>(b));
    while (!f.name.empty() && f.name.back() == '\0') f.name.pop_back();
  }
  return f;
}

std::span<const std::byte> DhcpMessage::parameter_list() const {
  const DhcpOption* o = find(opt::kParameterList);
  if (!o) return {};
  return o->data;
}

bool DhcpMessage::requested(uint8_t code) const {
  for (std::byte b : parameter_list())
    if (std::to_integer<uint8_t>(b) == code) return true;
  return false;
}

Mac DhcpMessage::client_mac() const {
  Mac m;
  std::copy_n(chaddr.begin(), 6, m.bytes.begin());
  return m;
}

DhcpParseError parse_dhcp(std::span<const std::byte> wire, DhcpMessage& out) {
  out = DhcpMessage{};
  if (wire.size() < kBootpFixedSize) return DhcpParseError::kTruncated;
  ByteReader r(wire);
  uint32_t ip = 0;
  r.get_u8(out.op);
  r.get_u8(out.htype);
  r.get_u8(out.hlen);
  r.get_u8(out.hops);
  r.get_u32(out.xid);
  r.get_u16(out.secs);
  r.get_u16(out.flags);
  r.get_u32(ip);
  out.ciaddr = Ipv4(ip);
  r.get_u32(ip);
  out.yiaddr = Ipv4(ip);
  r.get_u32(ip);
  out.siaddr = Ipv4(ip);
  r.get_u32(ip);
  out.giaddr = Ipv4(ip);
  for (uint8_t& b : out.chaddr) r.get_u8(b);
  if (out.hlen > out.chaddr.size()) return DhcpParseError::kBadHlen;

  const auto sname_field = wire.subspan(kSnameOffset, kSnameSize);
  const auto file_field = wire.subspan(kFileOffset, kFileSize);

  if (wire.size() < kDhcpOptionsOffset) {
    // Plain BOOTP with a short (or absent) vendor area.
    out.has_magic = false;
    out.sname = c_string(sname_field);
    out.file = c_string(file_field);
    return DhcpParseError::kOk;
  }
  ByteReader magic(wire, kBootpFixedSize);
  uint32_t cookie = 0;
  magic.get_u32(cookie);
  if (cookie != kDhcpMagicCookie) return DhcpParseError::kBadMagic;
  out.has_magic = true;

  if (auto e = parse_area(wire.subspan(kDhcpOptionsOffset), false, out.options); e != DhcpParseError::kOk)
    return e;

  uint8_t overload = 0;
  if (const DhcpOption* o = out.find(opt::kOverload)) {
    if (o->data.size() != 1) return DhcpParseError::kBadOptionLength;
    overload = std::to_integer<uint8_t>(o->data[0]);
    if (overload < 1 || overload > 3) return DhcpParseError::kBadOverload;
  }
  // RFC 2131 §4.1: options, then file, then sname.
  if (overload & 1) {
    if (auto e = parse_area(file_field, true, out.options); e != DhcpParseError::kOk) return e;
  } else {
    out.file = c_string(file_field);
  }
  if (overload & 2) {
    if (auto e = parse_area(sname_field, true, out.options); e != DhcpParseError::kOk) return e;
  } else {
    out.sname = c_string(sname_field);
  }
  return check_lengths(out);
}

DhcpParseError parse_dhcp_request(std::span<const std::byte> wire, DhcpMessage& out) {
  const DhcpParseError e = parse_dhcp(wire, out);
  if (e != DhcpParseError::kOk) return e;
  if (out.op != kBootRequest) return DhcpParseError::kNotBootRequest;
  return DhcpParseError::kOk;
}

std::vector<std::byte> build_dhcp(const DhcpMessage& msg, size_t max_size, bool allow_overload,
                                  DhcpBuildInfo* info) {
  DhcpBuildInfo local_info;
  DhcpBuildInfo& inf = info ? *info : local_info;
  inf = DhcpBuildInfo{};
  const size_t limit = std::clamp(max_size, kBootpMinMessageSize, kDhcpMaxMessageSize);

  // Lay out the option areas first.
  const bool file_free = allow_overload && msg.file.empty();
  const bool sname_free = allow_overload && msg.sname.empty();
  size_t main_cap = limit - kDhcpOptionsOffset - 1;  // keep room for End
  if (file_free || sname_free) main_cap -= 3;         // and for option 52
  std::vector<std::byte> main_area, file_area, sname_area;
  for (const DhcpOption& o : msg.options) {
    if (o.code == opt::kPad || o.code == opt::kEnd || o.code == opt::kOverload) continue;
    const std::vector<std::byte> enc = encode_option(o);
    if (main_area.size() + enc.size() <= main_cap) {
      main_area.insert(main_area.end(), enc.begin(), enc.end());
    } else if (file_free && file_area.size() + enc.size() <= kFileSize - 1) {
      file_area.insert(file_area.end(), enc.begin(), enc.end());
    } else if (sname_free && sname_area.size() + enc.size() <= kSnameSize - 1) {
      sname_area.insert(sname_area.end(), enc.begin(), enc.end());
    } else {
      ++inf.dropped_options;
    }
  }
  const uint8_t overload = static_cast<uint8_t>((file_area.empty() ? 0 : 1) | (sname_area.empty() ? 0 : 2));
  inf.overloaded = overload != 0;

  std::vector<std::byte> out(limit);
  ByteWriter w(out);
  w.put_u8(msg.op);
  w.put_u8(msg.htype);
  w.put_u8(msg.hlen);
  w.put_u8(msg.hops);
  w.put_u32(msg.xid);
  w.put_u16(msg.secs);
  w.put_u16(msg.flags);
  put_ip(w, msg.ciaddr);
  put_ip(w, msg.yiaddr);
  put_ip(w, msg.siaddr);
  put_ip(w, msg.giaddr);
  w.put_bytes(std::as_bytes(std::span(msg.chaddr)));
  if (overload & 2) {
    w.put_bytes(sname_area);
    w.put_u8(opt::kEnd);
    w.put_zeros(kSnameSize - sname_area.size() - 1);
  } else {
    put_fixed_string(w, msg.sname, kSnameSize);
  }
  if (overload & 1) {
    w.put_bytes(file_area);
    w.put_u8(opt::kEnd);
    w.put_zeros(kFileSize - file_area.size() - 1);
  } else {
    put_fixed_string(w, msg.file, kFileSize);
  }
  w.put_u32(kDhcpMagicCookie);
  if (overload != 0) {
    w.put_u8(opt::kOverload);
    w.put_u8(1);
    w.put_u8(overload);
  }
  w.put_bytes(main_area);
  w.put_u8(opt::kEnd);
  out.resize(std::max(w.size(), kBootpMinMessageSize));  // zero padding (Pad options)
  return out;
}

}  // namespace vnet::dhcp
