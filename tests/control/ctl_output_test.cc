#include "control/ctl_output.h"

#include <gtest/gtest.h>

namespace vnet::ctl {
namespace {

using nlohmann::json;

json net(const std::string& name, bool active, bool autostart, bool persistent) {
  json j = json::object();
  j["name"] = name;
  j["uuid"] = "uuid-of-" + name;
  j["active"] = active;
  j["autostart"] = autostart;
  j["persistent"] = persistent;
  j["bridge"] = nullptr;
  return j;
}

TEST(CtlOutput, NetListTableLikeVirsh) {
  json arr = json::array({net("default", true, true, true)});
  EXPECT_EQ(format_network_list(arr, ListStyle::kTable, true),
            " Name      State    Autostart   Persistent\n"
            "--------------------------------------------\n"
            " default   active   yes         yes\n");
}

TEST(CtlOutput, NetListEmpty) {
  EXPECT_EQ(format_network_list(json::array(), ListStyle::kTable, true),
            " Name   State   Autostart   Persistent\n"
            "----------------------------------------\n");
}

TEST(CtlOutput, NetListSortsCaseInsensitivelyAndPads) {
  json arr = json::array({net("zeta", false, false, true), net("Alpha-long-name", true, false, false),
                          net("beta", true, true, true)});
  EXPECT_EQ(format_network_list(arr, ListStyle::kTable, true),
            " Name              State      Autostart   Persistent\n"
            "------------------------------------------------------\n"
            " Alpha-long-name   active     no          no\n"
            " beta              active     yes         yes\n"
            " zeta              inactive   no          yes\n");
  EXPECT_EQ(format_network_list(arr, ListStyle::kName, true), "Alpha-long-name\nbeta\nzeta\n");
  EXPECT_EQ(format_network_list(arr, ListStyle::kUuid, true),
            "uuid-of-Alpha-long-name\nuuid-of-beta\nuuid-of-zeta\n");
}

TEST(CtlOutput, QuietTableHasNoHeaderAndIgnoresHeaderWidths) {
  json arr = json::array({net("a", true, true, true)});
  EXPECT_EQ(format_network_list(arr, ListStyle::kTable, false), " a   active   yes   yes\n");
}

TEST(CtlOutput, ControlCharactersAreEscaped) {
  EXPECT_EQ(format_table({"A", "B"}, {{"x\ty", "z"}}, true),
            " A        B\n"
            "-------------\n"
            " x\\x09y   z\n");
}

TEST(CtlOutput, NetInfoLikeVirsh) {
  json j = net("default", true, true, true);
  j["uuid"] = "c6a3f2a6-7d0e-4c57-9a50-6a3d2b1f2e11";
  j["bridge"] = "virbr0";
  EXPECT_EQ(format_network_info(j),
            "Name:           default\n"
            "UUID:           c6a3f2a6-7d0e-4c57-9a50-6a3d2b1f2e11\n"
            "Active:         yes\n"
            "Persistent:     yes\n"
            "Autostart:      yes\n"
            "Bridge:         virbr0\n");
  j["bridge"] = nullptr;
  j["active"] = false;
  EXPECT_EQ(format_network_info(j),
            "Name:           default\n"
            "UUID:           c6a3f2a6-7d0e-4c57-9a50-6a3d2b1f2e11\n"
            "Active:         no\n"
            "Persistent:     yes\n"
            "Autostart:      yes\n");
}

}  // namespace
}  // namespace vnet::ctl
