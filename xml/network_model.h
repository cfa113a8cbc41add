// vnet::xml — the model of a libvirt <network> definition.
//
// Theory of operation
//   A NetworkDef is a plain value: parse_network_xml() builds one from libvirt's
//   network XML, validate_for_define() applies the checks libvirt's driver runs at
//   net-define/net-create, fill_define_defaults() fills the values libvirt chooses
//   at define time, and format_network_xml() writes the canonical XML back,
//   byte for byte as libvirt 11.3.0's virNetworkDefFormat() does.
//   Optional attributes keep "absent" distinct from any value (std::optional or
//   TriState) because libvirt writes out only what was given.
//
//   Conventions used throughout the structs below:
//   * std::string fields: empty means "absent" (libvirt reads most of them with
//     XPath string(), which maps an empty value to "not given" as well).
//   * TriState: kAbsent = attribute not given; kYes/kNo = yes/no.
//   * Field names follow the XML attribute names in snake_case; the element each
//     struct models is named in its comment. Section numbers refer to
//     /work/shared/libvirt-format.md.
//
// Thread-safety
//   Plain values, no shared state. Owned by the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xml/addr.h"

namespace vnet::xml {

enum class TriState : uint8_t { kAbsent, kYes, kNo };

enum class ForwardMode : uint8_t {
  kNone,  // no <forward>: an isolated network
  kNat,
  kRoute,
  kOpen,
  kBridge,
  kPrivate,
  kVepa,
  kPassthrough,
  kHostdev,
};

const char* forward_mode_name(ForwardMode m);  // "none", "nat", ...
// Inverse of forward_mode_name(); nullopt for an unknown name.
std::optional<ForwardMode> parse_forward_mode(std::string_view s);
// True for the modes in which libvirt itself provides L3 (a bridge with an IP):
// none (isolated), nat, route, open.
bool is_l3_mode(ForwardMode m);

using Uuid = std::array<uint8_t, 16>;
std::string format_uuid(const Uuid& u);             // 8-4-4-4-12, lower case
std::optional<Uuid> parse_uuid(std::string_view s);  // 32 hex digits, dashes allowed between groups

// "yes"/"no" for kYes/kNo, nullptr for kAbsent.
const char* tristate_name(TriState t);

// --- <forward> (section 1.6) -------------------------------------------------

// <forward><interface dev='' connections=''/>
struct ForwardInterface {
  std::string dev;           // required
  unsigned connections = 0;  // live count; ignored on input, written only without INACTIVE
  friend bool operator==(const ForwardInterface&, const ForwardInterface&) = default;
};

// <forward><address type='pci' domain bus slot function/> (hostdev pools)
struct PciAddress {
  unsigned domain = 0;    // <= 0xffff
  unsigned bus = 0;       // <= 0xff
  unsigned slot = 0;      // <= 0x1f
  unsigned function = 0;  // <= 7
  std::string format() const;  // "dddd:bb:ss.f", as libvirt prints it in messages
  friend bool operator==(const PciAddress&, const PciAddress&) = default;
};

// <forward><pf dev=''/>
struct ForwardPf {
  std::string dev;
  unsigned connections = 0;
  friend bool operator==(const ForwardPf&, const ForwardPf&) = default;
};

// <forward><driver name=''/>: PCI driver for hostdev.
enum class ForwardDriverName : uint8_t { kDefault, kKvm, kVfio, kXen };

// <forward><nat ipv6=''><address start end/><port start end/></nat>
struct NatDef {
  std::optional<IpAddr> addr_start, addr_end;  // IPv4 SNAT range; both or neither
  unsigned port_start = 0, port_end = 0;       // 0,0 = default 1024-65535
  TriState ipv6 = TriState::kAbsent;                               // yes: masquerade IPv6 too
  friend bool operator==(const NatDef&, const NatDef&) = default;
};

struct ForwardDef {
  ForwardMode mode = ForwardMode::kNone;
  // Egress device: <forward dev=''>, which libvirt stores as the first <interface>.
  // After parse it equals interfaces[0].dev (or "" when there is none). When
  // formatting, a non-empty dev with no interfaces is treated as one interface.
  std::string dev;
  bool managed = false;                      // managed='yes' (hostdev only)
  std::vector<ForwardInterface> interfaces;  // netdev pool (bridge/private/vepa/passthrough, nat/route dev)
  std::vector<PciAddress> addresses;         // PCI VF pool (hostdev)
  std::optional<ForwardPf> pf;               // at most one <pf>
  ForwardDriverName driver_name = ForwardDriverName::kDefault;
  std::string driver_model;                  // <driver model=''/>, e.g. vfio-pci-igb
  std::optional<NatDef> nat;                 // <nat> (mode nat only)
  friend bool operator==(const ForwardDef&, const ForwardDef&) = default;
};

// --- <bridge> (section 1.3) --------------------------------------------------

enum class MacTableManager : uint8_t { kDefault, kKernel, kLibvirt };

struct BridgeDef {
  std::string name;   // "" = unset (auto virbrN at define); may be a "%d" template
  std::string zone;   // firewalld zone
  TriState stp = TriState::kAbsent;       // absent = on; anything but "off" on input is kYes
  unsigned long delay = 0;  // seconds
  MacTableManager mac_table_manager = MacTableManager::kDefault;
  friend bool operator==(const BridgeDef&, const BridgeDef&) = default;
};

// --- <domain> (section 1.5) ---------------------------------------------------

struct DomainDef {
  std::string name;
  TriState local_only = TriState::kAbsent;
  TriState register_ = TriState::kAbsent;
  friend bool operator==(const DomainDef&, const DomainDef&) = default;
};

// --- <dns> (section 1.7) ------------------------------------------------------

struct DnsForwarder {
  std::optional<IpAddr> addr;
  std::string domain;  // "" = absent
  friend bool operator==(const DnsForwarder&, const DnsForwarder&) = default;
};

struct DnsTxt {
  std::string name;
  std::string value;
  friend bool operator==(const DnsTxt&, const DnsTxt&) = default;
};

struct DnsSrv {
  std::string service;
  std::string protocol;
  std::string domain;  // "" = absent
  std::string target;  // "" = absent
  std::optional<unsigned> port;      // 1..65535; requires target
  std::optional<unsigned> priority;  // 0..65535; requires target
  std::optional<unsigned> weight;    // 0..65535; requires target
  friend bool operator==(const DnsSrv&, const DnsSrv&) = default;
};

struct DnsHost {
  IpAddr ip;
  std::vector<std::string> hostnames;
  friend bool operator==(const DnsHost&, const DnsHost&) = default;
};

struct DnsDef {
  TriState enable = TriState::kAbsent;               // absent = yes
  TriState forward_plain_names = TriState::kAbsent;  // absent = dnsmasq default
  std::vector<DnsForwarder> forwarders;
  std::vector<DnsTxt> txts;
  std::vector<DnsSrv> srvs;
  std::vector<DnsHost> hosts;
  friend bool operator==(const DnsDef&, const DnsDef&) = default;
};

// --- <ip> and <dhcp> (sections 1.8, 1.9) ---------------------------------------

struct Lease {
  uint64_t expiry = 0;  // 0 = infinite
  enum class Unit : uint8_t { kSeconds, kMinutes, kHours } unit = Unit::kMinutes;
  uint64_t seconds() const;  // expiry converted to seconds (0 = infinite)
  friend bool operator==(const Lease&, const Lease&) = default;
};
const char* lease_unit_name(Lease::Unit u);  // "seconds", "minutes", "hours"

struct DhcpRange {
  IpAddr start, end;
  std::optional<Lease> lease;
  friend bool operator==(const DhcpRange&, const DhcpRange&) = default;
};

struct DhcpHost {
  std::string mac;  // verbatim, as given (not normalised); "" = absent
  std::string id;   // DHCPv6 DUID / client id; "" = absent
  std::string name; // "" = absent
  std::optional<IpAddr> ip;
  std::optional<Lease> lease;
  friend bool operator==(const DhcpHost&, const DhcpHost&) = default;
};

struct Bootp {
  std::string file;
  std::optional<IpAddr> server;
  friend bool operator==(const Bootp&, const Bootp&) = default;
};

struct DhcpDef {
  std::vector<DhcpRange> ranges;
  std::vector<DhcpHost> hosts;
  std::optional<Bootp> bootp;  // IPv4 only
  // True when the dhcp section configures DHCP (ranges or hosts). A <dhcp> with
  // only <bootp> does not, and is dropped on output.
  bool active() const { return !ranges.empty() || !hosts.empty(); }
  friend bool operator==(const DhcpDef&, const DhcpDef&) = default;
};

struct IpDef {
  std::string family;  // "" (absent), "ipv4" or "ipv6", echoed as given
  IpAddr address;
  std::optional<IpAddr> netmask;  // IPv4 only
  unsigned prefix = 0;            // 0 = unset
  TriState local_ptr = TriState::kAbsent;
  std::optional<std::string> tftp_root;  // IPv4 only
  std::optional<DhcpDef> dhcp;
  friend bool operator==(const IpDef&, const IpDef&) = default;
};

// The prefix of an <ip>: prefix if > 0, else the netmask's, else classful
// (A=8, B=16, C=24) for IPv4 and 64 for IPv6. Returns 0 when none applies
// (class D/E address without netmask/prefix, or a non-contiguous netmask).
unsigned effective_prefix(const IpDef& ip);
// True when the <ip> has DHCP configured (ranges or hosts).
bool has_dhcp(const IpDef& ip);

// --- <route> (section 1.10) -----------------------------------------------------

struct RouteDef {
  std::string family;  // "" (absent), "ipv4", "ipv6"
  IpAddr address;
  std::optional<IpAddr> netmask;
  std::optional<unsigned> prefix;
  IpAddr gateway;
  std::optional<unsigned> metric;  // > 0
  friend bool operator==(const RouteDef&, const RouteDef&) = default;
};

// --- <vlan> (section 1.11) -----------------------------------------------------

enum class NativeVlanMode : uint8_t { kDefault, kTagged, kUntagged };

struct VlanDef {
  bool trunk = false;
  std::vector<unsigned> tags;  // empty = no <vlan>
  NativeVlanMode native_mode = NativeVlanMode::kDefault;
  unsigned native_tag = 0;
  bool empty() const { return tags.empty(); }
  friend bool operator==(const VlanDef&, const VlanDef&) = default;
};

// --- <bandwidth> (section 1.12) ------------------------------------------------

struct BandwidthRate {
  uint64_t average = 0;  // kB/s
  uint64_t peak = 0;     // kB/s
  uint64_t burst = 0;    // KiB
  uint64_t floor = 0;    // kB/s (not allowed in networks)
  friend bool operator==(const BandwidthRate&, const BandwidthRate&) = default;
};

struct BandwidthDef {
  std::optional<BandwidthRate> inbound;
  std::optional<BandwidthRate> outbound;
  friend bool operator==(const BandwidthDef&, const BandwidthDef&) = default;
};

// --- <virtualport> (section 1.13) ----------------------------------------------

enum class VirtualPortType : uint8_t { kNone, k8021Qbg, k8021Qbh, kOpenvswitch, kMidonet };

struct VirtualPortDef {
  VirtualPortType type = VirtualPortType::kNone;
  std::optional<uint8_t> manager_id;
  std::optional<uint32_t> type_id;  // 24 bits
  std::optional<uint8_t> type_id_version;
  std::optional<Uuid> instance_id;
  std::string profile_id;  // <= 39 characters
  std::optional<Uuid> interface_id;
  friend bool operator==(const VirtualPortDef&, const VirtualPortDef&) = default;
};

// --- <portgroup> (section 1.14) ------------------------------------------------

struct PortgroupDef {
  std::string name;
  bool is_default = false;
  TriState trust_guest_rx_filters = TriState::kAbsent;
  std::optional<VirtualPortDef> virtualport;
  std::optional<BandwidthDef> bandwidth;
  VlanDef vlan;
  friend bool operator==(const PortgroupDef&, const PortgroupDef&) = default;
};

// --- <network> -------------------------------------------------------------------

inline constexpr const char* kDnsmasqNamespace = "http://libvirt.org/schemas/network/dnsmasq/1.0";
// vnet's own namespace for data libvirt has no element for, declared and placed the
// way libvirt handles dnsmasq:options (namespace on the root, element at the end).
inline constexpr const char* kVnetNamespace = "urn:vnet:network:1";

// <vnet:uplink address='198.51.100.2' prefix='24' gateway='198.51.100.1'/>
//   The outside identity vnet uses on the uplink of a nat/route/open network (vnet
//   owns the uplink; the kernel does not answer on it). All three attributes are
//   required. Rules (checked at parse and again by validate_for_define()):
//   * address: an IPv4 unicast host address (not 0.0.0.0/8, 127.0.0.0/8, multicast,
//     240.0.0.0/4 or broadcast); for prefix <= 30 not the subnet's network or
//     broadcast address;
//   * prefix: decimal 1..32;
//   * gateway: IPv4, different from address and inside address/prefix (for
//     prefix <= 30 not the network or broadcast address). With prefix 32 the
//     gateway is reached on-link and may lie anywhere (like `ip route ... onlink`).
//   validate_for_define() also requires forward mode nat, route or open and an
//   uplink subnet that does not overlap the network's IPv4 <ip> subnets.
//   Optional attributes choose how the uplink is attached:
//   * type='kernel' (default when absent): a kernel interface, <forward dev> or
//     vnetd --uplink, attached with AF_PACKET; path and mode are refused;
//   * type='afxdp': the same kernel interface attached with AF_XDP (an XDP
//     program redirects its frames to vnet's sockets: no copy through the
//     socket layer, no system call per received burst); path and mode refused;
//   * type='pci': the NIC or VF named by <forward dev> (a PCI address or the
//     name of its kernel interface) is bound to vfio-pci by vnetd and driven by
//     DPDK (control/uplink/UPLINK.md); a PCI address as <forward dev> implies
//     it; path and mode refused;
//   * type='vhostuser': a vhost-user socket (e.g. a router VM, NFV chaining, or
//     a traffic generator). path='/abs/sock' (default
//     <run_dir>/<network>/uplink.sock, chosen by vnetd at net-start) must be
//     absolute, without ',' and at most 107 bytes; mode='server' (default: vnetd
//     creates the socket) or 'client' (vnetd connects and reconnects).
//     validate_for_define() refuses a <forward dev> (or <forward><interface>)
//     next to it: the uplink is the socket, not a kernel interface.
//   Absent optional attributes stay absent on output (round trip).
enum class UplinkType : uint8_t { kKernel, kVhostUser, kAfXdp, kPci };
enum class UplinkVhostMode : uint8_t { kServer, kClient };
const char* uplink_type_name(UplinkType t);             // "kernel", "vhostuser", "afxdp", "pci"
const char* uplink_vhost_mode_name(UplinkVhostMode m);  // "server", "client"

struct UplinkDef {
  IpAddr address;
  unsigned prefix = 0;
  IpAddr gateway;
  std::optional<UplinkType> type;       // absent = kernel
  std::string path;                     // vhostuser socket; "" = absent (default path)
  std::optional<UplinkVhostMode> mode;  // vhostuser; absent = server
  UplinkType effective_type() const { return type.value_or(UplinkType::kKernel); }
  UplinkVhostMode effective_mode() const { return mode.value_or(UplinkVhostMode::kServer); }
  friend bool operator==(const UplinkDef&, const UplinkDef&) = default;
};

struct NetworkDef {
  std::string name;
  Uuid uuid{};
  std::string title;        // "" = absent; no newline
  std::string description;  // "" = absent
  // <metadata> as libvirt keeps it: the subtree re-serialised by libxml2 (namespaces
  // sanitised, children indented for one level of nesting), without leading
  // indentation or trailing newline. "" = absent.
  std::string metadata;
  bool ipv6 = false;  // <network ipv6='yes'>: guest-to-guest IPv6 without an IPv6 address
  TriState trust_guest_rx_filters = TriState::kAbsent;
  unsigned connections = 0;  // live count; ignored on input
  ForwardDef forward;
  BridgeDef bridge;
  unsigned mtu = 0;  // 0 = unset
  std::optional<MacAddr> mac;
  std::optional<DomainDef> domain;
  DnsDef dns;
  VlanDef vlan;
  std::optional<BandwidthDef> bandwidth;
  TriState port_isolated = TriState::kAbsent;  // <port isolated=''/>
  std::vector<IpDef> ips;
  std::vector<RouteDef> routes;
  std::optional<VirtualPortDef> virtualport;
  std::vector<PortgroupDef> portgroups;
  std::vector<std::string> dnsmasq_options;  // <dnsmasq:options><dnsmasq:option value=''/>
  std::optional<UplinkDef> uplink;           // <vnet:uplink/> (kVnetNamespace)
  friend bool operator==(const NetworkDef&, const NetworkDef&) = default;
};

}  // namespace vnet::xml
