// vnet::uplink — effective_uplink() (see uplink_address.h).
#include "control/uplink/uplink_address.h"

namespace vnet::uplink {

std::string uplink_device(const xml::NetworkDef& def, const std::string& default_dev) {
  if (!def.forward.dev.empty()) return def.forward.dev;
  if (!def.forward.interfaces.empty()) return def.forward.interfaces.front().dev;
  return default_dev;
}

xml::Result<EffectiveUplink> effective_uplink(const xml::NetworkDef& def, const std::string& default_dev,
                                              const KernelQuery& kernel, const LogSink& log) {
  using R = xml::Result<EffectiveUplink>;
  EffectiveUplink up;
  const std::string net = "network '" + def.name + "'";
  if (def.uplink) {
    up.address = def.uplink->address;
    up.prefix = def.uplink->prefix;
    up.gateway = def.uplink->gateway;
    up.source = EffectiveUplink::Source::kXml;
    up.type = def.uplink->effective_type();
    if (up.type == xml::UplinkType::kVhostUser) {
      up.socket_path = def.uplink->path;
      up.vhost_client = def.uplink->effective_mode() == xml::UplinkVhostMode::kClient;
    } else {
      up.dev = uplink_device(def, default_dev);
    }
    return up;
  }
  up.dev = uplink_device(def, default_dev);
  const std::string hint =
      "; give it with <vnet:uplink address='A' prefix='P' gateway='G'/> "
      "(xmlns:vnet='urn:vnet:network:1')";
  if (up.dev.empty()) {
    return R::error(net + " has no <vnet:uplink> and no uplink device (neither <forward dev> nor "
                    "vnetd's default uplink) to read the outside address from" + hint);
  }
  if (!kernel) return R::error(net + " has no <vnet:uplink> and the kernel cannot be asked" + hint);
  auto k = kernel(up.dev);
  if (!k) {
    return R::error(net + " has no <vnet:uplink> and its uplink '" + up.dev +
                    "' cannot be read from the kernel: " + k.error() + hint);
  }
  if (!k->address) {
    return R::error(net + " has no <vnet:uplink> and its uplink '" + up.dev +
                    "' has no IPv4 address in the kernel" + hint);
  }
  if (!k->gateway) {
    return R::error(net + " has no <vnet:uplink> and the kernel has no default route through its "
                    "uplink '" + up.dev + "' (address " + k->address->format() + "/" +
                    std::to_string(k->prefix) + ")" + hint);
  }
  up.address = *k->address;
  up.prefix = k->prefix;
  up.gateway = *k->gateway;
  up.source = EffectiveUplink::Source::kKernel;
  if (log) {
    log(net + ": uplink address " + up.address.format() + "/" + std::to_string(up.prefix) +
        " and gateway " + up.gateway.format() + " taken from the kernel (interface " + up.dev + ")");
  }
  return up;
}

}  // namespace vnet::uplink
