#include "control/dispatcher.h"

#include <sstream>

#include <gtest/gtest.h>

#include "tests/control/temp_dir.h"

namespace vnet::ctl {
namespace {

using nlohmann::json;
using testing::TempDir;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() { EXPECT_TRUE(store_.open().ok()); }

  json call(const std::string& line) {
    const std::string out = dispatcher_.handle_line(line);
    EXPECT_FALSE(out.empty());
    EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line";
    return json::parse(out);
  }
  json call(const char* cmd, const json& args) { return call(format_request(cmd, args)); }

  TempDir tmp_;
  std::ostringstream log_text_;
  Logger log_{LogLevel::kDebug, log_text_};
  StateStore store_{tmp_.path()};
  RecordingRuntime runtime_;
  NetworkRegistry registry_{store_, runtime_, log_};
  CommandDispatcher dispatcher_{registry_};
};

constexpr const char* kNetXml =
    "<network><name>n1</name><uuid>0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d</uuid>"
    "<bridge name='vbr1'/><ip address='10.1.0.1' prefix='24'/></network>";

TEST_F(DispatcherTest, MalformedAndUnknown) {
  EXPECT_EQ(call("garbage"), json::parse(R"({"ok":false,"error":"malformed request: not valid JSON"})"));
  EXPECT_EQ(call(R"({"cmd":"net-frob"})"), json::parse(R"({"ok":false,"error":"unknown command 'net-frob'"})"));
  EXPECT_EQ(call(R"({"cmd":"net-start"})"),
            json::parse(R"({"ok":false,"error":"missing argument 'network'"})"));
  EXPECT_EQ(call(R"({"cmd":"net-start","args":{"network":5}})"),
            json::parse(R"({"ok":false,"error":"argument 'network' must be a string"})"));
  EXPECT_EQ(call(R"({"cmd":"net-dumpxml","args":{"network":"x","inactive":"yes"}})"),
            json::parse(R"({"ok":false,"error":"argument 'inactive' must be a boolean"})"));
}

TEST_F(DispatcherTest, Ping) {
  json r = call(R"({"cmd":"ping"})");
  EXPECT_EQ(r["ok"], true);
  EXPECT_TRUE(r["result"]["pid"].is_number_integer());
}

TEST_F(DispatcherTest, DefineStartListInfoDumpxml) {
  json r = call("net-define", {{"xml", kNetXml}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["name"], "n1");
  EXPECT_EQ(r["result"]["uuid"], "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  EXPECT_EQ(r["result"]["active"], false);
  EXPECT_EQ(r["result"]["persistent"], true);
  EXPECT_EQ(r["result"]["bridge"], "vbr1");

  r = call("net-list", {{"active", true}});
  EXPECT_EQ(r["result"], json::array());
  r = call("net-list", json::object());
  ASSERT_EQ(r["result"].size(), 1u);

  r = call("net-start", {{"network", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["active"], true);
  r = call("net-start", {{"network", "n1"}});
  EXPECT_EQ(r, json::parse(R"({"ok":false,"error":"network is already active"})"));

  r = call("net-uuid", {{"network", "n1"}});
  EXPECT_EQ(r["result"]["uuid"], "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
  r = call("net-name", {{"network", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}});
  EXPECT_EQ(r["result"]["name"], "n1");

  r = call("net-dumpxml", {{"network", "n1"}, {"inactive", true}});
  ASSERT_EQ(r["ok"], true);
  EXPECT_EQ(r["result"]["xml"].get<std::string>().rfind("<network>", 0), 0u) << r.dump();

  r = call("net-autostart", {{"network", "n1"}});
  EXPECT_EQ(r["result"]["autostart"], true);
  r = call("net-autostart", {{"network", "n1"}, {"disable", true}});
  EXPECT_EQ(r["result"]["autostart"], false);
}

TEST_F(DispatcherTest, UpdateArguments) {
  ASSERT_EQ(call("net-define", {{"xml", kNetXml}})["ok"], true);
  json args = {{"network", "n1"}, {"command", "add"}, {"section", "dns-host"},
               {"xml", "<host ip='10.1.0.5'><hostname>h5</hostname></host>"},
               {"current", true}, {"live", true}};
  EXPECT_EQ(call("net-update", args)["error"], "Options --current and --live/--config are mutually exclusive");
  args.erase("current");
  EXPECT_EQ(call("net-update", args)["error"], "network is not running");
  args["live"] = false;
  args["parent_index"] = "x";
  EXPECT_EQ(call("net-update", args)["error"], "argument 'parent_index' must be an integer");
  args.erase("parent_index");
  json r = call("net-update", args);
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["config"], true);
  EXPECT_EQ(r["result"]["live"], false);
}

TEST_F(DispatcherTest, DhcpLeases) {
  std::string asked_network, asked_mac;
  dispatcher_.set_lease_source([&](const std::string& network, const std::string& mac) {
    asked_network = network;
    asked_mac = mac;
    return json::array({{{"mac", "52:54:00:00:00:10"}, {"ipaddr", "10.1.0.10/24"}}});
  });
  EXPECT_EQ(call("net-dhcp-leases", {{"network", "n1"}})["ok"], false) << "unknown network";
  ASSERT_EQ(call("net-define", {{"xml", kNetXml}})["ok"], true);
  json r = call("net-dhcp-leases", {{"network", "n1"}});
  EXPECT_EQ(r, json::parse(R"({"ok":false,"error":"network 'n1' is not active"})"));
  ASSERT_EQ(call("net-start", {{"network", "n1"}})["ok"], true);
  r = call("net-dhcp-leases", {{"network", "n1"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["network"], "n1");
  EXPECT_EQ(r["result"]["leases"][0]["ipaddr"], "10.1.0.10/24");
  EXPECT_EQ(asked_network, "n1");
  EXPECT_EQ(asked_mac, "");
  r = call("net-dhcp-leases", {{"network", "n1"}, {"mac", "52:54:0:0:0:A"}});
  ASSERT_EQ(r["ok"], true);
  EXPECT_EQ(asked_mac, "52:54:00:00:00:0a") << "normalised";
  asked_mac = "unchanged";
  EXPECT_EQ(call("net-dhcp-leases", {{"network", "n1"}, {"mac", "zz"}}),
            json::parse(R"({"ok":false,"error":"invalid MAC address 'zz'"})"));
  EXPECT_EQ(asked_mac, "unchanged") << "a bad request reaches no gateway";
}

TEST_F(DispatcherTest, PmdStats) {
  EXPECT_EQ(call("pmd-stats", json::object()),
            json::parse(R"({"ok":false,"error":"vnetd runs without a dataplane: no PMD workers"})"));
  dispatcher_.set_pmd_stats_source([] { return json::array({{{"worker", 0}, {"frames", 7}}}); });
  json r = call("pmd-stats", json::object());
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["pmds"][0]["frames"], 7);
}

TEST_F(DispatcherTest, Validate) {
  json r = call("net-validate", {{"xml", kNetXml}, {"print", true}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["valid"], true);
  EXPECT_EQ(r["result"]["name"], "n1");
  EXPECT_TRUE(r["result"]["xml"].is_string());
  r = call("net-validate", {{"xml", "<network>"}});
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(registry_.size(), 0u) << "validate defines nothing";
}

}  // namespace
}  // namespace vnet::ctl
