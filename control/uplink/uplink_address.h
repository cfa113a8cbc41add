// vnet::uplink — the outside address, prefix and gateway a nat/route/open network
// uses on its uplink.
//
// Theory of operation
//   effective_uplink() answers, in this order:
//   1. the network's <vnet:uplink address prefix gateway/> (already validated by
//      the xml library), source kXml;
//   2. otherwise the uplink device's first IPv4 address and the default route
//      through it, read from the kernel (discover_kernel_ipv4), source kKernel;
//      this is logged as "... taken from the kernel ...";
//   3. otherwise an error naming the network, the device and what is missing.
//   The uplink device is <forward dev> (libvirt's first <forward><interface>), or
//   vnetd's configured default uplink when the network names none.
//   A <vnet:uplink type='vhostuser'> uplink is a vhost-user socket, not a device:
//   dev stays empty (neither <forward dev>, which validation refuses next to it,
//   nor vnetd's default uplink applies), socket_path is the element's path ("" =
//   the default, <run_dir>/<network>/uplink.sock, resolved by compile_l3()) and
//   vhost_client its mode='client'.
//
// Thread-safety
//   Pure apart from the injected kernel query and log sink; control thread.
#pragma once

#include <functional>
#include <string>

#include "control/uplink/kernel_addr.h"
#include "xml/network_xml.h"

namespace vnet::uplink {

struct EffectiveUplink {
  enum class Source : uint8_t { kXml, kKernel };
  std::string dev;  // the uplink device ("" when <vnet:uplink> is used with no device)
  xml::IpAddr address;
  unsigned prefix = 0;
  xml::IpAddr gateway;
  Source source = Source::kXml;
  xml::UplinkType type = xml::UplinkType::kKernel;
  std::string socket_path;    // vhostuser: <vnet:uplink path>; "" = default path
  bool vhost_client = false;  // vhostuser: mode='client' (vnetd connects)
  friend bool operator==(const EffectiveUplink&, const EffectiveUplink&) = default;
};

using KernelQuery = std::function<xml::Result<KernelIpv4>(const std::string& ifname)>;
using LogSink = std::function<void(const std::string& line)>;

// The uplink device of `def`: forward.dev, else the first <forward><interface>, else default_dev.
std::string uplink_device(const xml::NetworkDef& def, const std::string& default_dev);

xml::Result<EffectiveUplink> effective_uplink(const xml::NetworkDef& def, const std::string& default_dev,
                                              const KernelQuery& kernel = discover_kernel_ipv4,
                                              const LogSink& log = {});

}  // namespace vnet::uplink
