// Unit tests of fill_define_defaults() (bridge name, bridge MAC) and of
// validate_for_define()'s mode restrictions, as libvirt applies them at net-define.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "xml/network_xml.h"

namespace vnet::xml {
namespace {

RandomBytes fixed_rng(uint8_t v) {
  return [v](uint8_t* out, size_t n) { std::fill(out, out + n, v); };
}

NetworkDef parse(const std::string& xml) {
  auto r = parse_network_xml(xml, fixed_rng(0));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : NetworkDef{};
}

TEST(Defaults, FirstUnusedVirbr) {
  NetworkDef def = parse("<network><name>n</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'/></network>");
  ASSERT_TRUE(fill_define_defaults(def, {"virbr0", "virbr1", "virbr3"}, fixed_rng(0xab)).ok());
  EXPECT_EQ(def.bridge.name, "virbr2");
  ASSERT_TRUE(def.mac);
  EXPECT_EQ(def.mac->format(), "52:54:00:ab:ab:ab");
}

TEST(Defaults, TemplateAndTakenName) {
  NetworkDef def = parse("<network><name>n</name><bridge name='br%dx'/></network>");
  ASSERT_TRUE(fill_define_defaults(def, {"br0x"}, fixed_rng(1)).ok());
  EXPECT_EQ(def.bridge.name, "br1x");

  NetworkDef taken = parse("<network><name>n</name><bridge name='virbr5'/></network>");
  auto st = fill_define_defaults(taken, {"virbr5"}, fixed_rng(1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "bridge name 'virbr5' already in use.");
}

TEST(Defaults, ExistingMacKeptAndNonL3Untouched) {
  NetworkDef def = parse("<network><name>n</name><mac address='52:54:00:01:02:03'/></network>");
  ASSERT_TRUE(fill_define_defaults(def, {}, fixed_rng(9)).ok());
  EXPECT_EQ(def.mac->format(), "52:54:00:01:02:03");
  EXPECT_EQ(def.bridge.name, "virbr0");

  NetworkDef bridged = parse("<network><name>n</name><forward mode='bridge'/><bridge name='br0'/></network>");
  ASSERT_TRUE(fill_define_defaults(bridged, {"br0"}, fixed_rng(9)).ok());
  EXPECT_FALSE(bridged.mac);
  EXPECT_EQ(bridged.bridge.name, "br0");
}

TEST(Defaults, ExhaustedIds) {
  std::set<std::string> all;
  for (int i = 0; i <= 256; ++i) all.insert("virbr" + std::to_string(i));
  NetworkDef def = parse("<network><name>n</name></network>");
  auto st = fill_define_defaults(def, all, fixed_rng(0));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Bridge generation exceeded max id 256");
}

TEST(Validate, NonL3ModesRejectL3Elements) {
  NetworkDef def = parse("<network><name>n</name><forward mode='bridge'/><bridge name='br0'/>"
                         "<mac address='52:54:00:01:02:03'/></network>");
  auto st = validate_for_define(def);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), "Unsupported <mac> element in network n with forward mode='bridge'");
  def.mac.reset();
  EXPECT_TRUE(validate_for_define(def).ok());
}

}  // namespace
}  // namespace vnet::xml
