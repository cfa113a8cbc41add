// Conformance of dhcp/xml_config with libvirt's dnsmasq configuration.
//
// For every network XML of libvirt's tests/networkxml2confdata (read at run
// time from $VNET_SHARED_DIR/libvirt-corpus), builds the GatewayConfig with
// gateway_config_from_xml() and compares it, line kind by line kind, with the
// dnsmasq .conf (and .hostsfile) that libvirt generates for the same XML:
// dhcp-range, dhcp-host, txt-record, srv-host, host-record, server,
// no-resolv, domain, local, domain-needed, expand-hosts, port=0,
// dhcp-lease-max, dhcp-option, dhcp-boot, tftp, addn-hosts, and for IPv6 the
// DHCPv6 ranges and hosts (`id:`/name lines), ra-only ranges and enable-ra.
// Both sides are
// reduced to the same normalised facts (lease times in seconds, MACs in lower
// case, SRV defaults applied) so the comparison is semantic, not textual.
// Lines that libvirt copies verbatim from <dnsmasq:options> must be exactly
// those of the definition (vnet does not interpret them); any other line
// kind must be one this test knows. Without the corpus: exit 77 (skipped).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "dhcp/xml_config.h"
#include "xml/network_xml.h"

namespace fs = std::filesystem;

namespace vnet::dhcp {
namespace {

fs::path g_dir;  // .../networkxml2confdata

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "infinite" | "<N>s" | "<N>m" | "<N>h" -> seconds; "" for no lease field.
std::string lease_field(const std::string& f) {
  if (f == "infinite") return "inf";
  if (f.empty()) return "";
  const uint64_t n = std::stoull(f.substr(0, f.size() - 1));
  const char unit = f.back();
  return std::to_string(unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n);
}
std::string lease_value(std::optional<uint32_t> s) {
  if (!s) return "";
  return *s == kInfiniteLease ? "inf" : std::to_string(*s);
}

// What a dnsmasq configuration means, as comparable values.
struct Facts {
  std::vector<std::string> dhcp_ranges;  // "start,end,mask,lease" or "static,ip"
  std::vector<std::string> dhcp_hosts;   // "mac,ip,name,lease"
  std::vector<std::string> dhcp6_ranges; // "start,end,prefix,lease" or "static,ip,prefix"
  std::vector<std::string> dhcp6_hosts;  // "duid,ip,name,lease"
  std::vector<std::string> ra_only;      // addresses of dhcp-range=<ip>,ra-only
  bool enable_ra = false;
  std::vector<std::string> txts;         // "name|value"
  std::vector<std::string> srvs;         // "owner|target|port|prio|weight"
  std::vector<std::string> host_records; // "name|ip"
  std::vector<std::string> servers;      // "domain|addr" (addr "#" = default servers)
  bool no_resolv = false;
  std::string domain;
  bool expand_hosts = false;
  std::set<std::string> locals;          // local=/X/ zones ("" for local=//)
  bool domain_needed = false;
  bool dns_off = false;                  // port=0
  uint64_t lease_max = 0;
  bool no_router = false;                // dhcp-option=3
  unsigned mtu = 0;                      // dhcp-option=option:mtu,N
  std::string boot;                      // "file|server"
  bool authoritative = false;            // dhcp-authoritative + dhcp-no-override
  std::string tftp_root;
  bool addn_hosts = false;

  bool operator==(const Facts&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Facts& f) {
  const auto list = [&](const char* name, const auto& v) {
    os << name << "=[";
    for (const auto& s : v) os << s << ";";
    os << "] ";
  };
  list("ranges", f.dhcp_ranges);
  list("hosts", f.dhcp_hosts);
  list("ranges6", f.dhcp6_ranges);
  list("hosts6", f.dhcp6_hosts);
  list("ra-only", f.ra_only);
  os << "enable-ra=" << f.enable_ra << " ";
  list("txt", f.txts);
  list("srv", f.srvs);
  list("host-record", f.host_records);
  list("server", f.servers);
  list("local", f.locals);
  return os << "no_resolv=" << f.no_resolv << " domain=" << f.domain << " expand=" << f.expand_hosts
            << " domain_needed=" << f.domain_needed << " dns_off=" << f.dns_off << " lease_max=" << f.lease_max
            << " no_router=" << f.no_router << " mtu=" << f.mtu << " boot=" << f.boot
            << " authoritative=" << f.authoritative << " tftp=" << f.tftp_root << " addn_hosts=" << f.addn_hosts;
}

bool is_v6(const std::string& s) { return s.find(':') != std::string::npos; }

// An address in inet_ntop form, so "2001:db8::1:10" and its other spellings compare equal.
std::string canonical(const std::string& s) {
  const auto a = IpAddress::parse(s);
  return a ? a->to_string() : s;
}
// A DUID as vnet prints it (two hex digits per byte).
std::string canonical_duid(const std::string& s) {
  const auto d = parse_hex_colon(s);
  return d ? format_hex_colon(*d) : s;
}

// The IPv4 part of libvirt's files: .conf lines and .hostsfile lines.
Facts parse_expected(const std::vector<std::string>& conf, const std::vector<std::string>& hostsfile,
                     const std::vector<std::string>& dnsmasq_options, std::vector<std::string>& unknown) {
  Facts f;
  bool no_override = false, authoritative = false;
  static const std::set<std::string> kIgnored = {
      "strict-order", "except-interface", "bind-dynamic", "interface", "dhcp-hostsfile", "ra-param",
      "pid-file", "enable-tftp"};
  for (const std::string& line : conf) {
    if (std::find(dnsmasq_options.begin(), dnsmasq_options.end(), line) != dnsmasq_options.end()) continue;
    const size_t eq = line.find('=');
    const std::string key = line.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    const std::vector<std::string> v = split(value, ',');
    if (key == "dhcp-range") {
      if (is_v6(v[0])) {
        if (v.size() == 2 && v[1] == "ra-only") {
          f.ra_only.push_back(canonical(v[0]));
        } else if (v.size() >= 3 && v[1] == "static") {
          f.dhcp6_ranges.push_back("static," + canonical(v[0]) + "," + v[2]);
        } else {
          f.dhcp6_ranges.push_back(canonical(v[0]) + "," + canonical(v[1]) + "," + v[2] + "," +
                                   lease_field(v.size() > 3 ? v[3] : ""));
        }
      } else if (v.size() >= 2 && v[1] == "static") {
        f.dhcp_ranges.push_back("static," + v[0]);
      } else {
        f.dhcp_ranges.push_back(v[0] + "," + v[1] + "," + v[2] + "," + lease_field(v.size() > 3 ? v[3] : ""));
      }
    } else if (key == "txt-record") {
      const size_t comma = value.find(',');
      f.txts.push_back(value.substr(0, comma) + "|" + value.substr(comma + 1));
    } else if (key == "srv-host") {
      const std::string target = v.size() > 1 ? v[1] : "";
      const std::string port = v.size() > 2 ? v[2] : "1";
      const std::string prio = v.size() > 3 ? v[3] : "0";
      const std::string weight = v.size() > 4 ? v[4] : "0";
      f.srvs.push_back(lower(v[0]) + "|" + target + "|" + (target.empty() ? "" : port + "|" + prio + "|" + weight));
    } else if (key == "host-record") {
      for (size_t i = 0; i + 1 < v.size(); ++i) f.host_records.push_back(v[i] + "|" + v.back());
    } else if (key == "server") {
      if (value.starts_with("/")) {
        const size_t end = value.find('/', 1);
        f.servers.push_back(value.substr(1, end - 1) + "|" + value.substr(end + 1));
      } else {
        f.servers.push_back("|" + value);
      }
    } else if (key == "no-resolv") {
      f.no_resolv = true;
    } else if (key == "domain") {
      f.domain = value;
    } else if (key == "expand-hosts") {
      f.expand_hosts = true;
    } else if (key == "local") {
      f.locals.insert(value.substr(1, value.size() - 2));
    } else if (key == "domain-needed") {
      f.domain_needed = true;
    } else if (key == "port") {
      f.dns_off = value == "0";
    } else if (key == "dhcp-lease-max") {
      f.lease_max = std::stoull(value);
    } else if (key == "dhcp-option") {
      if (value == "3") {
        f.no_router = true;
      } else if (value.starts_with("option:mtu,")) {
        f.mtu = static_cast<unsigned>(std::stoul(value.substr(11)));
      } else {
        unknown.push_back(line);
      }
    } else if (key == "dhcp-boot") {
      f.boot = v[0] + "|" + (v.size() > 2 ? v[2] : "");
    } else if (key == "dhcp-no-override") {
      no_override = true;
    } else if (key == "dhcp-authoritative") {
      authoritative = true;
    } else if (key == "tftp-root") {
      f.tftp_root = value;
    } else if (key == "addn-hosts") {
      f.addn_hosts = true;
    } else if (key == "enable-ra") {
      f.enable_ra = true;
    } else if (!kIgnored.contains(key)) {
      unknown.push_back(line);
    }
  }
  f.authoritative = no_override && authoritative;
  for (const std::string& line : hostsfile) {
    const std::vector<std::string> v = split(line, ',');
    if (line.starts_with("id:") || line.find('[') != std::string::npos) {
      // DHCPv6: id:<duid>,[ip] | name,[ip] | id:<duid>,name,[ip]; each optionally with a lease.
      std::string duid, ip, name, lease;
      size_t i = 0;
      if (v[0].starts_with("id:")) duid = canonical_duid(v[i++].substr(3));
      if (i < v.size() && !v[i].starts_with("[")) name = v[i++];
      if (i < v.size()) ip = canonical(v[i].substr(1, v[i].size() - 2)), ++i;
      if (i < v.size()) lease = lease_field(v[i]);
      f.dhcp6_hosts.push_back(duid + "," + ip + "," + name + "," + lease);
      continue;
    }
    // mac,ip,name | name,ip | mac,ip ; each optionally followed by a lease.
    std::string mac, ip, name, lease;
    size_t i = 0;
    if (split(v[0], ':').size() == 6) mac = lower(v[i++]);
    if (mac.empty()) name = v[i++];
    ip = v[i++];
    if (i < v.size() && !mac.empty() && !(v[i] == "infinite" || std::isdigit(static_cast<unsigned char>(v[i][0]))))
      name = v[i++];
    if (i < v.size()) lease = lease_field(v[i]);
    f.dhcp_hosts.push_back(mac + "," + ip + "," + name + "," + lease);
  }
  return f;
}

// The same facts, derived from vnet's configuration.
Facts facts_of(const GatewayConfig& c, uint64_t expected_v6_lease_max) {
  Facts f;
  const DnsConfig& d = c.dns;
  if (c.dhcp) {
    const ServerConfig& s = *c.dhcp;
    for (const DhcpRange& r : s.ranges)
      f.dhcp_ranges.push_back(r.start.to_string() + "," + r.end.to_string() + "," + s.netmask().to_string() + "," +
                              lease_value(r.lease_s));
    if (s.ranges.empty() && !s.hosts.empty()) f.dhcp_ranges.push_back("static," + s.server_ip.to_string());
    for (const StaticHost& h : s.hosts)
      f.dhcp_hosts.push_back((h.mac ? h.mac->to_string() : "") + "," + h.ip.to_string() + "," + h.name + "," +
                             lease_value(h.lease_s));
    f.lease_max = s.lease_max;
    f.no_router = !s.send_router;
    if (s.bootp) f.boot = s.bootp->file + "|" + (s.bootp->server ? s.bootp->server->to_string() : "");
    f.authoritative = s.authoritative && s.no_override;
  } else {
    f.lease_max = expected_v6_lease_max;  // DHCPv6 only: not served here
    f.no_router = d.no_resolv;            // isolated: dhcp-option=3 even without DHCP
  }
  if (c.dhcp6) {
    const Dhcp6Config& s6 = *c.dhcp6;
    const std::string prefix = std::to_string(s6.prefix_len);
    for (const Dhcp6Range& r : s6.ranges)
      f.dhcp6_ranges.push_back(IpAddress::v6(r.start).to_string() + "," + IpAddress::v6(r.end).to_string() + "," +
                               prefix + "," + lease_value(r.lease_s));
    if (s6.ranges.empty() && !s6.hosts.empty())
      f.dhcp6_ranges.push_back("static," + IpAddress::v6(s6.server_ip).to_string() + "," + prefix);
    for (const Dhcp6Host& h : s6.hosts)
      f.dhcp6_hosts.push_back(format_hex_colon(h.duid) + "," + IpAddress::v6(h.ip).to_string() + "," + h.name + "," +
                              lease_value(h.lease_s));
    // dnsmasq's dhcp-authoritative is global: libvirt writes it for the IPv4 DHCP.
    EXPECT_EQ(s6.authoritative, c.dhcp.has_value());
  }
  const bool any_dhcp6 = std::any_of(c.ipv6.begin(), c.ipv6.end(), [](const Ipv6Interface& i) { return i.dhcp; });
  EXPECT_EQ(any_dhcp6, c.dhcp6.has_value());
  f.enable_ra = any_dhcp6;
  if (!any_dhcp6)
    for (const Ipv6Interface& i : c.ipv6) f.ra_only.push_back(i.address.to_string());
  f.mtu = c.mtu;
  if (d.enabled) {
    for (const DnsTxtRecord& t : d.txts) f.txts.push_back(t.name + "|" + t.value);
    for (const DnsSrvRecord& s : d.srvs) {
      std::string owner = "_" + s.service + "._" + s.protocol + (s.domain.empty() ? "" : "." + s.domain);
      f.srvs.push_back(lower(owner) + "|" + s.target + "|" +
                       (s.target.empty() ? ""
                                         : std::to_string(s.port.value_or(1)) + "|" +
                                               std::to_string(s.priority.value_or(0)) + "|" +
                                               std::to_string(s.weight.value_or(0))));
    }
    bool any_plain = false;
    for (const DnsForwarderRule& r : d.forwarders) {
      any_plain = any_plain || (r.addr && r.domain.empty());
      f.servers.push_back(r.domain + "|" + (r.addr ? r.addr->to_string() : "#"));
    }
    f.no_resolv = any_plain;
    for (const std::string& z : d.local_ptr_zones) f.locals.insert(z);
    if (!d.forward_plain_names) {
      f.domain_needed = true;
      f.locals.insert("");
    }
    f.addn_hosts = true;
  }
  f.no_resolv = f.no_resolv || d.no_resolv;
  f.dns_off = !d.enabled;
  if (!d.domain.empty()) {
    f.domain = d.domain;
    f.expand_hosts = true;
    if (d.domain_local_only) f.locals.insert(d.domain);
  }
  if (c.tftp_root) f.tftp_root = *c.tftp_root;
  return f;
}

void check_network(const fs::path& xml_path) {
  const std::string base = xml_path.stem().string();
  auto def = xml::parse_network_xml(read_text(xml_path), [](uint8_t* out, size_t n) { std::fill(out, out + n, 0x5a); });
  ASSERT_TRUE(def.ok()) << def.error();
  const fs::path conf_path = g_dir / (base + ".conf");
  ASSERT_TRUE(fs::exists(conf_path)) << conf_path;
  const std::vector<std::string> conf = lines_of(read_text(conf_path));
  const fs::path hosts_path = g_dir / (base + ".hostsfile");
  const std::vector<std::string> hostsfile = fs::exists(hosts_path) ? lines_of(read_text(hosts_path))
                                                                     : std::vector<std::string>{};

  std::vector<std::string> unknown;
  const Facts expected = parse_expected(conf, hostsfile, def->dnsmasq_options, unknown);
  EXPECT_TRUE(unknown.empty()) << "line kinds this test does not know: " << unknown.front();

  // The DHCPv6 share of dhcp-lease-max (libvirt sums v4 and v6 ranges).
  uint64_t v6_ranges = 0;
  for (const xml::IpDef& ip : def->ips)
    if (ip.address.is_v6() && xml::has_dhcp(ip))
      for (const xml::DhcpRange& r : ip.dhcp->ranges) v6_ranges += xml::range_size(r.start, r.end).value_or(0);

  XmlConfigOptions opts;
  opts.fallback_mac = Mac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
  opts.lease_file = "/nonexistent/" + base + ".leases";
  std::string error;
  const auto config = gateway_config_from_xml(*def, opts, error);
  ASSERT_TRUE(config.has_value()) << error;
  EXPECT_TRUE(network_has_gateway(*def));
  EXPECT_EQ(facts_of(*config, v6_ranges), expected) << "vnet:    " << facts_of(*config, v6_ranges)
                                                    << "\nlibvirt: " << expected;

  // Every <ip> of the definition is a gateway address.
  size_t v4 = 0, v6 = 0;
  for (const xml::IpDef& ip : def->ips) (ip.address.is_v4() ? v4 : v6)++;
  EXPECT_EQ(config->ipv4.size(), v4);
  EXPECT_EQ(config->ipv6.size(), v6);
  if (def->mac) {
    EXPECT_EQ(config->mac.bytes, def->mac->bytes);
  }
  // The DHCP server's view agrees with the rest of the configuration.
  if (config->dhcp) {
    EXPECT_EQ(config->dhcp->mtu, config->mtu);
    EXPECT_EQ(config->dhcp->send_dns, config->dns.enabled);
    EXPECT_EQ(config->dhcp->domain, config->dns.domain);
  }
  // The gateway accepts the configuration.
  EXPECT_EQ(validate(*config), "");
}

template <typename Fn>
void add_test(const std::string& suite, const std::string& name, Fn fn) {
  struct FnTest : testing::Test {
    explicit FnTest(Fn f) : fn_(std::move(f)) {}
    void TestBody() override { fn_(); }
    Fn fn_;
  };
  testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                        [fn]() -> testing::Test* { return new FnTest(fn); });
}

}  // namespace
}  // namespace vnet::dhcp

int main(int argc, char** argv) {
  const char* env = std::getenv("VNET_SHARED_DIR");
  const fs::path shared = env && *env ? fs::path(env) : fs::path("/work/shared");
  vnet::dhcp::g_dir = shared / "libvirt-corpus" / "tests" / "networkxml2confdata";
  if (!fs::is_directory(vnet::dhcp::g_dir)) {
    std::cout << "dnsmasq conformance: " << vnet::dhcp::g_dir.string()
              << " not found (set VNET_SHARED_DIR); skipping" << std::endl;
    return 77;
  }
  testing::InitGoogleTest(&argc, argv);
  std::vector<fs::path> xmls;
  for (const auto& e : fs::directory_iterator(vnet::dhcp::g_dir))
    if (e.path().extension() == ".xml") xmls.push_back(e.path());
  std::sort(xmls.begin(), xmls.end());
  for (const fs::path& p : xmls) {
    std::string name = p.stem().string();
    std::replace(name.begin(), name.end(), '-', '_');
    vnet::dhcp::add_test("DnsmasqConf", name, [p] { vnet::dhcp::check_network(p); });
  }
  if (xmls.empty()) {
    std::cout << "dnsmasq conformance: no network XML in " << vnet::dhcp::g_dir.string() << std::endl;
    return 1;
  }
  return RUN_ALL_TESTS();
}
