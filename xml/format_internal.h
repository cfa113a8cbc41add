// vnet::xml — the virBuffer-like writer used by format_network_xml() and the
// sub-element formatters it shares (internal to the xml library).
//
// Theory of operation
//   Writer reproduces virBuffer's auto-indentation: each add() that starts a new
//   line is prefixed with the current indentation; newlines inside one add() are
//   not (that is how libvirt emits the pre-indented <metadata> dump).
//
// Thread-safety
//   A Writer is a local value of one formatting call.
#pragma once

#include <string>
#include <string_view>

#include "xml/network_model.h"

namespace vnet::xml::detail {

class Writer {
 public:
  void add(std::string_view text);
  void indent(int delta) { indent_ += delta; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  int indent_ = 0;
};

void format_vlan(Writer& w, const VlanDef& vlan);
void format_bandwidth(Writer& w, const std::optional<BandwidthDef>& bw);
void format_virtualport(Writer& w, const std::optional<VirtualPortDef>& vp);
void format_portgroup(Writer& w, const PortgroupDef& pg);
void format_vnet_uplink(Writer& w, const std::optional<UplinkDef>& up);

}  // namespace vnet::xml::detail
