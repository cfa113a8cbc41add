// Unit tests of apply_network_update() (virsh net-update): successful changes land
// where libvirt puts them, and every rejected update leaves the definition unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "xml/network_xml.h"

namespace vnet::xml {
namespace {

RandomBytes zero_rng() {
  return [](uint8_t* out, size_t n) { std::fill(out, out + n, uint8_t{0}); };
}

NetworkDef base() {
  auto r = parse_network_xml(
      "<network><name>n</name><forward mode='nat'/>"
      "<dns><txt name='a' value='1'/></dns>"
      "<ip address='192.168.122.1' prefix='24'><dhcp>"
      "<range start='192.168.122.2' end='192.168.122.254'/>"
      "<host mac='52:54:00:00:00:01' name='one' ip='192.168.122.10'/>"
      "</dhcp></ip></network>",
      zero_rng());
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : NetworkDef{};
}

TEST(Update, CommandAndSectionNames) {
  EXPECT_EQ(parse_update_command("add"), UpdateCommand::kAddLast);
  EXPECT_EQ(parse_update_command("add-first"), UpdateCommand::kAddFirst);
  EXPECT_EQ(parse_update_command("modify"), UpdateCommand::kModify);
  EXPECT_FALSE(parse_update_command("replace"));
  EXPECT_EQ(parse_update_section("ip-dhcp-host"), UpdateSection::kIpDhcpHost);
  EXPECT_EQ(parse_update_section("dns-txt"), UpdateSection::kDnsTxt);
  EXPECT_FALSE(parse_update_section("ip-dhcp"));
}

TEST(Update, AddFirstAndDeleteDhcpHost) {
  NetworkDef def = base();
  ASSERT_TRUE(apply_network_update(def, UpdateCommand::kAddFirst, UpdateSection::kIpDhcpHost, -1,
                                   "<host mac='52:54:00:00:00:02' name='two' ip='192.168.122.11'/>")
                  .ok());
  const auto& hosts = def.ips[0].dhcp->hosts;
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "two");
  EXPECT_EQ(hosts[1].name, "one");
  auto st = apply_network_update(def, UpdateCommand::kDelete, UpdateSection::kIpDhcpHost, -1,
                                 "<host mac='52:54:00:00:00:01'/>");
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_EQ(def.ips[0].dhcp->hosts.size(), 1u);
  EXPECT_EQ(def.ips[0].dhcp->hosts[0].name, "two");
}

TEST(Update, RejectedUpdatesChangeNothing) {
  const NetworkDef before = base();
  struct Bad {
    UpdateCommand cmd;
    UpdateSection section;
    const char* xml;
  } const bad[] = {
      // the same MAC again
      {UpdateCommand::kAddLast, UpdateSection::kIpDhcpHost,
       "<host mac='52:54:00:00:00:01' name='x' ip='192.168.122.20'/>"},
      // a range outside the network
      {UpdateCommand::kAddLast, UpdateSection::kIpDhcpRange, "<range start='10.0.0.2' end='10.0.0.9'/>"},
      // deleting a range that does not match exactly
      {UpdateCommand::kDelete, UpdateSection::kIpDhcpRange,
       "<range start='192.168.122.2' end='192.168.122.200'/>"},
      // a TXT name that exists
      {UpdateCommand::kAddLast, UpdateSection::kDnsTxt, "<txt name='a' value='2'/>"},
      // not XML
      {UpdateCommand::kAddLast, UpdateSection::kDnsTxt, "<txt"},
  };
  for (const Bad& b : bad) {
    NetworkDef def = before;
    auto st = apply_network_update(def, b.cmd, b.section, -1, b.xml);
    EXPECT_FALSE(st.ok()) << b.xml;
    EXPECT_FALSE(st.error().empty()) << b.xml;
    EXPECT_EQ(def, before) << b.xml;
  }
}

}  // namespace
}  // namespace vnet::xml
