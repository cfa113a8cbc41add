// vnet::dhcp — DHCPv6 message codec. See dhcpv6_codec.h.
#include "dhcp/dhcpv6_codec.h"

#include <cstring>

namespace vnet::dhcp {

const char* to_string(Dhcp6Type t) {
  switch (t) {
    case Dhcp6Type::kSolicit: return "SOLICIT";
    case Dhcp6Type::kAdvertise: return "ADVERTISE";
    case Dhcp6Type::kRequest: return "REQUEST";
    case Dhcp6Type::kConfirm: return "CONFIRM";
    case Dhcp6Type::kRenew: return "RENEW";
    case Dhcp6Type::kRebind: return "REBIND";
    case Dhcp6Type::kReply: return "REPLY";
    case Dhcp6Type::kRelease: return "RELEASE";
    case Dhcp6Type::kDecline: return "DECLINE";
    case Dhcp6Type::kReconfigure: return "RECONFIGURE";
    case Dhcp6Type::kInformationRequest: return "INFORMATION-REQUEST";
    case Dhcp6Type::kRelayForward: return "RELAY-FORW";
    case Dhcp6Type::kRelayReply: return "RELAY-REPL";
  }
  return "?";
}

uint32_t dhcp6_uint(std::span<const std::byte> data, size_t offset, size_t size) {
  if (offset > data.size() || size > data.size() - offset) return 0;
  uint32_t v = 0;
  for (size_t i = 0; i < size; ++i) v = (v << 8) | std::to_integer<uint8_t>(data[offset + i]);
  return v;
}

const Dhcp6Option* Dhcp6Options::find(uint16_t code, size_t min_len) const {
  for (const Dhcp6Option& o : list)
    if (o.code == code && o.data.size() >= min_len) return &o;
  return nullptr;
}

Dhcp6Options parse_dhcpv6_options(std::span<const std::byte> bytes) {
  Dhcp6Options out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) {
      out.truncated = true;
      break;
    }
    const auto code = static_cast<uint16_t>(dhcp6_uint(bytes, pos, 2));
    const size_t len = dhcp6_uint(bytes, pos + 2, 2);
    if (len > bytes.size() - pos - 4) {
      out.truncated = true;
      break;
    }
    out.list.push_back(Dhcp6Option{code, bytes.subspan(pos + 4, len)});
    pos += 4 + len;
  }
  return out;
}

std::optional<Dhcp6Message> parse_dhcpv6(std::span<const std::byte> payload) {
  if (payload.size() < kDhcp6HeaderSize) return std::nullopt;
  Dhcp6Message m;
  m.type = std::to_integer<uint8_t>(payload[0]);
  m.xid = dhcp6_uint(payload, 1, 3);
  m.options = parse_dhcpv6_options(payload.subspan(kDhcp6HeaderSize));
  return m;
}

std::optional<Dhcp6Ia> parse_ia(const Dhcp6Option& o) {
  size_t fixed = 0;
  if (o.code == opt6::kIaNa)
    fixed = kIaNaFixed;
  else if (o.code == opt6::kIaTa)
    fixed = kIaTaFixed;
  else
    return std::nullopt;
  if (o.data.size() < fixed) return std::nullopt;
  Dhcp6Ia ia;
  ia.type = o.code;
  ia.iaid = dhcp6_uint(o.data, 0, 4);
  if (o.code == opt6::kIaNa) {
    ia.t1 = dhcp6_uint(o.data, 4, 4);
    ia.t2 = dhcp6_uint(o.data, 8, 4);
  }
  for (const Dhcp6Option& sub : parse_dhcpv6_options(o.data.subspan(fixed)).list) {
    if (sub.code != opt6::kIaAddr || sub.data.size() < kIaAddrFixed) continue;
    Dhcp6Ia::Address a;
    std::memcpy(a.address.data(), sub.data.data(), 16);
    a.preferred = dhcp6_uint(sub.data, 16, 4);
    a.valid = dhcp6_uint(sub.data, 20, 4);
    ia.addresses.push_back(a);
  }
  return ia;
}

Dhcp6Writer::Dhcp6Writer(uint8_t type, uint32_t xid) {
  out_.reserve(256);
  out_.push_back(std::byte{type});
  out_.push_back(std::byte((xid >> 16) & 0xff));
  out_.push_back(std::byte((xid >> 8) & 0xff));
  out_.push_back(std::byte(xid & 0xff));
}

void Dhcp6Writer::put_u16(uint16_t v) {
  out_.push_back(std::byte(v >> 8));
  out_.push_back(std::byte(v & 0xff));
}

void Dhcp6Writer::put_u32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(std::byte((v >> shift) & 0xff));
}

void Dhcp6Writer::put_bytes(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }

void Dhcp6Writer::patch_u32(size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out_[at + i] = std::byte((v >> (24 - 8 * i)) & 0xff);
}

size_t Dhcp6Writer::begin(uint16_t code) {
  const size_t at = out_.size();
  put_u16(code);
  put_u16(0);
  return at;
}

void Dhcp6Writer::end(size_t at) {
  const size_t len = out_.size() - at - 4;
  out_[at + 2] = std::byte((len >> 8) & 0xff);
  out_[at + 3] = std::byte(len & 0xff);
}

void Dhcp6Writer::option(uint16_t code, std::span<const std::byte> data) {
  const size_t at = begin(code);
  put_bytes(data);
  end(at);
}

void Dhcp6Writer::option_u8(uint16_t code, uint8_t v) {
  const size_t at = begin(code);
  out_.push_back(std::byte{v});
  end(at);
}

void Dhcp6Writer::option_u32(uint16_t code, uint32_t v) {
  const size_t at = begin(code);
  put_u32(v);
  end(at);
}

void Dhcp6Writer::status(Dhcp6Status code, std::string_view text) {
  const size_t at = begin(opt6::kStatusCode);
  put_u16(static_cast<uint16_t>(code));
  put_bytes(std::as_bytes(std::span(text.data(), text.size())));
  end(at);
}

}  // namespace vnet::dhcp
