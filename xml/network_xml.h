// vnet::xml — parse, validate, format and update libvirt <network> XML.
//
// Theory of operation
//   parse_network_xml()   = virNetworkDefParse(validate=false): structural and
//                           per-element checks; unknown elements/attributes are ignored
//                           as libvirt ignores them; a missing <uuid> gets a random one.
//   validate_for_define() = the checks of libvirt's networkValidate() that run at
//                           net-define / net-create (mode restrictions, DHCP counts, ...).
//   fill_define_defaults()= bridge name (first free virbrN or a %d template), bridge MAC
//                           (52:54:00:xx:xx:xx, L3 modes), as libvirt does at define.
//   format_network_xml()  = virNetworkDefFormat(), byte for byte.
//   apply_network_update()= virNetworkDefUpdateSection() for `net-update`.
//   Every failure carries a one-line, libvirt-style message naming the element or
//   attribute and the reason; on failure the input definition is left unchanged.
//
// Thread-safety
//   Pure functions over values; libxml2 is used only inside each call.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "xml/network_model.h"

namespace vnet::xml {

// A value or a one-line error message.
template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}  // NOLINT: implicit by design
  static Result error(std::string msg) { return Result(Err{std::move(msg)}); }
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).msg; }

 private:
  struct Err {
    std::string msg;
  };
  explicit Result(Err e) : v_(std::move(e)) {}
  std::variant<T, Err> v_;
};

// Success, or a one-line error message.
class Status {
 public:
  Status() = default;
  static Status error(std::string msg) {
    Status s;
    s.msg_ = std::move(msg);
    s.ok_ = false;
    return s;
  }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& error() const { return msg_; }

 private:
  bool ok_ = true;
  std::string msg_;
};

// Source of randomness for generated UUIDs and MACs (tests inject a fixed one).
using RandomBytes = std::function<void(uint8_t* out, size_t n)>;
RandomBytes system_random_bytes();

Result<NetworkDef> parse_network_xml(std::string_view xml, const RandomBytes& rng = system_random_bytes());

enum FormatFlags : unsigned {
  kFormatDefault = 0,
  kFormatInactive = 1u << 0,  // VIR_NETWORK_XML_INACTIVE: no connections=, no <interface> list under <pf>
};
std::string format_network_xml(const NetworkDef& def, unsigned flags = kFormatDefault);

Status validate_for_define(const NetworkDef& def);

// bridges_in_use: bridge names of the other defined networks.
Status fill_define_defaults(NetworkDef& def, const std::set<std::string>& bridges_in_use,
                            const RandomBytes& rng = system_random_bytes());

// virsh net-update: command and section as virsh spells them
// ("add"/"add-last", "add-first", "delete", "modify";
//  "bridge", "domain", "ip", "ip-dhcp-host", "ip-dhcp-range", "forward",
//  "forward-interface", "forward-pf", "portgroup", "dns-host", "dns-txt", "dns-srv").
// parent_index: which <ip> for ip-dhcp-* sections (-1 = the first one that matches the
// snippet's family / the only one). On error `def` is unchanged.
enum class UpdateCommand { kAddLast, kAddFirst, kDelete, kModify };
enum class UpdateSection {
  kBridge, kDomain, kIp, kIpDhcpHost, kIpDhcpRange, kForward, kForwardInterface,
  kForwardPf, kPortgroup, kDnsHost, kDnsTxt, kDnsSrv,
};
std::optional<UpdateCommand> parse_update_command(std::string_view s);
std::optional<UpdateSection> parse_update_section(std::string_view s);
Status apply_network_update(NetworkDef& def, UpdateCommand cmd, UpdateSection section,
                            int parent_index, std::string_view snippet_xml);

}  // namespace vnet::xml
