// Ports on the control side: request completion, persistence, the verbs
// through the dispatcher with a RecordingRuntime (no DPDK).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "control/dispatcher.h"
#include "control/port_config.h"
#include "control/port_service.h"
#include "control/port_store.h"
#include "tests/control/temp_dir.h"

namespace vnet::ctl {
namespace {

using nlohmann::json;
using testing::TempDir;

TEST(PortConfig, DefaultsToVhostUserServer) {
  PortRequest req;
  auto p = complete_port(req, "default", "/run/vnet", {"vhost0", "vhost2"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->name, "vhost1");
  EXPECT_EQ(p->type, PortType::kVhostUser);
  EXPECT_EQ(p->mode, VhostMode::kServer);
  EXPECT_EQ(p->path, "/run/vnet/default/vhost1.sock");
  EXPECT_EQ(p->queues, 1u);
  EXPECT_EQ(p->mac, derive_guest_mac("default", "vhost1"));
  EXPECT_EQ(p->mac.substr(0, 9), "52:54:00:");
  EXPECT_NE(derive_guest_mac("default", "vhost1", 1), p->mac);
}

TEST(PortConfig, TapAndAfPacketNeedAnInterface) {
  PortRequest req;
  req.type = "tap";
  EXPECT_EQ(complete_port(req, "n", "/r", {}).error(), "a tap port needs --ifname");
  req.ifname = "tap7";
  auto p = complete_port(req, "n", "/r", {});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "tap7");
  EXPECT_TRUE(p->path.empty());
  req.queues = 2;
  EXPECT_EQ(complete_port(req, "n", "/r", {}).error(), "--queues applies to vhostuser ports only, not tap");
  PortRequest xdp;
  xdp.type = "afxdp";
  EXPECT_EQ(complete_port(xdp, "n", "/r", {}).error(), "an afxdp port needs --ifname");
  xdp.ifname = "veth3";
  auto x = complete_port(xdp, "n", "/r", {});
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->type, PortType::kAfXdp);
  EXPECT_EQ(to_json(*x)["type"], "afxdp");
}

TEST(PortConfig, RejectsBadRequests) {
  // Error of a request named "x" after `edit`, with `taken` names in the network.
  auto err = [](auto edit, std::vector<std::string> taken = {}) {
    PortRequest r;
    r.name = "x";
    edit(r);
    return complete_port(r, "n", "/r", taken).error();
  };
  EXPECT_EQ(err([](PortRequest& r) { r.type = "gre"; }), "invalid port type 'gre' (vhostuser, tap, afpacket, afxdp)");
  EXPECT_EQ(err([](PortRequest& r) { r.mode = "peer"; }), "invalid vhost-user mode 'peer' (server, client)");
  EXPECT_EQ(err([](PortRequest& r) { r.queues = 17; }), "--queues must be in 1..16");
  EXPECT_EQ(err([](PortRequest& r) { r.name = "a b"; }), "invalid port name 'a b' (1..64 of A-Z a-z 0-9 _ - .)");
  EXPECT_EQ(err([](PortRequest&) {}, {"x"}), "port 'x' already exists in network 'n'");
  EXPECT_EQ(err([](PortRequest& r) { r.path = "x.sock"; }), "socket path 'x.sock' is not absolute");
  EXPECT_EQ(err([](PortRequest& r) { r.mode = "client"; }),
            "a client-mode vhostuser port needs --path (the socket QEMU listens on)");
  EXPECT_EQ(err([](PortRequest& r) {
              r.mode = "client";
              r.path = "/q";
              r.owner = "u";
            }),
            "--owner/--group apply to server mode only: in client mode QEMU creates the socket");
  EXPECT_EQ(err([](PortRequest& r) { r.ifname = "eth0"; }), "--ifname applies to tap, afpacket and afxdp ports only");
}

TEST(PortConfig, QemuAndLibvirtSnippets) {
  PortConfig p;
  p.name = "vm1";
  p.path = "/run/vnet/default/vm1.sock";
  p.mac = "52:54:00:aa:bb:cc";
  EXPECT_EQ(qemu_args(p), (std::vector<std::string>{
                              "-chardev", "socket,id=chr-vm1,path=/run/vnet/default/vm1.sock", "-netdev",
                              "vhost-user,id=net-vm1,chardev=chr-vm1", "-device",
                              "virtio-net-pci,netdev=net-vm1,mac=52:54:00:aa:bb:cc"}));
  EXPECT_EQ(libvirt_interface_xml(p),
            "<interface type='vhostuser'>\n"
            "  <mac address='52:54:00:aa:bb:cc'/>\n"
            "  <source type='unix' path='/run/vnet/default/vm1.sock' mode='client'/>\n"
            "  <model type='virtio'/>\n"
            "</interface>\n");
  p.mode = VhostMode::kClient;
  p.queues = 4;
  const auto q = qemu_args(p);
  EXPECT_EQ(q[1], "socket,id=chr-vm1,path=/run/vnet/default/vm1.sock,server=on,wait=off");
  EXPECT_EQ(q[3], "vhost-user,id=net-vm1,chardev=chr-vm1,queues=4");
  EXPECT_NE(libvirt_interface_xml(p).find("mode='server'/>\n  <model type='virtio'/>\n  <driver queues='4'/>"),
            std::string::npos);
}

TEST(PortConfig, JsonRoundTrip) {
  PortConfig p;
  p.name = "vm1";
  p.mode = VhostMode::kClient;
  p.path = "/q.sock";
  p.queues = 3;
  p.mac = "52:54:00:01:02:03";
  auto back = port_from_json(to_json(p));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, p);
  PortConfig t;
  t.name = "t";
  t.type = PortType::kTap;
  t.ifname = "tap0";
  t.mac = "52:54:00:01:02:04";
  EXPECT_EQ(*port_from_json(to_json(t)), t);
  EXPECT_FALSE(port_from_json(json::parse(R"({"name":"x","type":"bogus"})")).ok());
}

TEST(PortConfig, VlanSpec) {
  auto a = parse_vlan_spec("42", false);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->tags, (std::vector<unsigned>{42}));
  EXPECT_FALSE(a->trunk);
  EXPECT_TRUE(parse_vlan_spec("42", true)->trunk);
  auto t = parse_vlan_spec("10:untagged,20,30", false);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_TRUE(t->trunk);
  EXPECT_EQ(t->tags, (std::vector<unsigned>{10, 20, 30}));
  EXPECT_EQ(t->native_mode, xml::NativeVlanMode::kUntagged);
  EXPECT_EQ(t->native_tag, 10u);
  EXPECT_EQ(format_vlan_spec(*t), "10:untagged,20,30");
  EXPECT_EQ(format_vlan_spec(*parse_vlan_spec("7:tagged", false)), "7:tagged");
  for (const char* bad : {"", "0", "4095", "x", "1,,2", "5,5", "1:untagged,2:tagged", "3:native", "12345"})
    EXPECT_FALSE(parse_vlan_spec(bad, false).ok()) << bad;
  PortRequest req;
  req.trunk = true;
  EXPECT_EQ(complete_port(req, "n", "/r", {}).error(), "--trunk needs --vlan");
  req.trunk = false;
  req.isolated = "maybe";
  EXPECT_EQ(complete_port(req, "n", "/r", {}).error(), "invalid --isolated 'maybe' (yes, no)");
}

TEST(PortConfig, EffectiveVlanAndIsolation) {
  auto def = xml::parse_network_xml(
      "<network><name>n</name><forward mode='bridge'/><bridge name='br9'/><vlan><tag id='5'/></vlan><port isolated='yes'/>"
      "<portgroup name='eng' default='yes'><vlan><tag id='42'/></vlan></portgroup>"
      "<portgroup name='sales'><vlan trunk='yes'><tag id='7'/><tag id='8'/></vlan></portgroup>"
      "<portgroup name='plain'/></network>");
  ASSERT_TRUE(def.ok()) << def.error();
  PortConfig p;
  EXPECT_EQ(effective_vlan(p, *def).tags, (std::vector<unsigned>{42}));  // the default portgroup
  p.portgroup = "sales";
  EXPECT_EQ(effective_vlan(p, *def).tags, (std::vector<unsigned>{7, 8}));
  p.portgroup = "plain";
  EXPECT_EQ(effective_vlan(p, *def).tags, (std::vector<unsigned>{5}));   // no <vlan>: the network's
  p.vlan = *parse_vlan_spec("99", false);
  EXPECT_EQ(effective_vlan(p, *def).tags, (std::vector<unsigned>{99}));  // the port's own wins
  EXPECT_TRUE(effective_isolated(p, *def));
  p.isolated = xml::TriState::kNo;
  EXPECT_FALSE(effective_isolated(p, *def));
}

TEST(PortStore, PersistsAndReloads) {
  TempDir tmp;
  NetworkPorts np;
  np.ageing_s = 42;
  PortConfig p;
  p.name = "a";
  p.path = "/x/a.sock";
  p.mac = "52:54:00:00:00:01";
  np.ports.push_back(p);
  {
    PortStore s(tmp.path() / "ports");
    ASSERT_TRUE(s.open().ok());
    ASSERT_TRUE(s.put("net", np).ok());
  }
  std::vector<std::string> warnings;
  PortStore s(tmp.path() / "ports", [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(s.open().ok());
  EXPECT_EQ(s.get("net").ageing_s, 42u);
  ASSERT_EQ(s.get("net").ports.size(), 1u);
  EXPECT_EQ(s.get("net").ports[0], p);
  EXPECT_TRUE(s.forget("net").ok());
  EXPECT_FALSE(std::filesystem::exists(s.path_of("net")));
  EXPECT_TRUE(s.get("net").empty());
  EXPECT_TRUE(warnings.empty());
}

TEST(PortStore, BadFileIsReportedAndIgnored) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "ports");
  { std::ofstream(tmp.path() / "ports" / "bad.json") << "{not json"; }
  std::vector<std::string> warnings;
  PortStore s(tmp.path() / "ports", [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(s.open().ok());
  EXPECT_TRUE(s.get("bad").empty());
  EXPECT_EQ(warnings.size(), 1u);
}

class PortServiceTest : public ::testing::Test {
 protected:
  PortServiceTest() {
    EXPECT_TRUE(store_.open().ok());
    EXPECT_TRUE(ports_store_.open().ok());
    runtime_.set_port_store(&ports_store_);
  }
  json call(const char* cmd, const json& args) { return json::parse(dispatcher_.handle_line(format_request(cmd, args))); }
  void define_and_start(const std::string& name) {
    const std::string xml = "<network><name>" + name + "</name></network>";
    json r = call("net-define", {{"xml", xml}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    r = call("net-start", {{"network", name}});
    ASSERT_EQ(r["ok"], true) << r.dump();
  }

  TempDir tmp_;
  std::ostringstream log_text_;
  Logger log_{LogLevel::kDebug, log_text_};
  StateStore store_{tmp_.path()};
  PortStore ports_store_{tmp_.path() / "ports"};
  RecordingRuntime runtime_;
  NetworkRegistry registry_{store_, runtime_, log_};
  PortService ports_{registry_, ports_store_, runtime_, "/run/x", log_};
  CommandDispatcher dispatcher_{registry_, &ports_};
};

TEST_F(PortServiceTest, AddListRemove) {
  define_and_start("n");
  json r = call("port-add", {{"network", "n"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["port"]["name"], "vhost0");
  EXPECT_EQ(r["result"]["port"]["path"], "/run/x/n/vhost0.sock");
  EXPECT_EQ(r["result"]["qemu"][0], "-chardev");
  EXPECT_TRUE(r["result"]["libvirt"].is_string());
  EXPECT_EQ(call("net-info", {{"network", "n"}})["result"]["ports"], 1);
  r = call("port-list", {{"network", "n"}});
  ASSERT_EQ(r["result"]["ports"].size(), 1u);
  EXPECT_EQ(r["result"]["ports"][0]["running"], true);
  r = call("port-stats", {{"network", "n"}});
  ASSERT_EQ(r["result"]["ports"].size(), 1u);
  EXPECT_EQ(r["result"]["ports"][0]["rx_packets"], 0);
  EXPECT_TRUE(r["result"]["ports"][0]["drops"].is_object());
  EXPECT_EQ(call("port-remove", {{"network", "n"}, {"port", "vhost0"}})["ok"], true);
  EXPECT_FALSE(std::filesystem::exists(ports_store_.path_of("n")));
}

TEST_F(PortServiceTest, RefusedOnInactiveNetworkButRestoredOnStart) {
  ASSERT_EQ(call("net-define", {{"xml", "<network><name>n</name></network>"}})["ok"], true);
  EXPECT_EQ(call("port-add", {{"network", "n"}})["error"], "network 'n' is not active");
  ASSERT_EQ(call("net-start", {{"network", "n"}})["ok"], true);
  ASSERT_EQ(call("port-add", {{"network", "n"}, {"name", "p"}})["ok"], true);
  ASSERT_EQ(call("net-destroy", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(call("port-list", {{"network", "n"}})["result"]["ports"][0]["link"], "inactive");
  ASSERT_EQ(call("net-start", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(call("port-list", {{"network", "n"}})["result"]["ports"][0]["running"], true);
  ASSERT_EQ(call("net-destroy", {{"network", "n"}})["ok"], true);
  ASSERT_EQ(call("net-undefine", {{"network", "n"}})["ok"], true);
  EXPECT_TRUE(ports_store_.get("n").empty());
}

TEST_F(PortServiceTest, RuntimeFailureChangesNothing) {
  define_and_start("n");
  runtime_.fail_next_add_port("rte_dev_probe failed");
  EXPECT_EQ(call("port-add", {{"network", "n"}})["error"], "rte_dev_probe failed");
  EXPECT_TRUE(ports_store_.get("n").empty());
  EXPECT_EQ(call("port-list", {{"network", "n"}})["result"]["ports"].size(), 0u);
}

TEST_F(PortServiceTest, SocketsAreUniqueAcrossNetworks) {
  define_and_start("a");
  define_and_start("b");
  ASSERT_EQ(call("port-add", {{"network", "a"}, {"path", "/s.sock"}})["ok"], true);
  EXPECT_EQ(call("port-add", {{"network", "b"}, {"path", "/s.sock"}})["error"],
            "socket '/s.sock' is already used by port 'vhost0' of network 'a'");
  // Names are per network.
  EXPECT_EQ(call("port-add", {{"network", "b"}})["result"]["port"]["name"], "vhost0");
}

TEST_F(PortServiceTest, PortgroupVlanAndIsolationPersist) {
  define_and_start("isolated");
  EXPECT_EQ(call("port-add", {{"network", "isolated"}, {"vlan", "5"}})["error"],
            "network 'isolated' (forward mode 'none') does not support VLAN tags on its ports; <vlan> needs forward "
            "mode bridge, passthrough or hostdev");
  const std::string xml = "<network><name>n</name><forward mode='bridge'/><bridge name='br9'/>"
                          "<portgroup name='eng'><vlan><tag id='42'/></vlan></portgroup></network>";
  json d = call("net-define", {{"xml", xml}});
  ASSERT_EQ(d["ok"], true) << d.dump();
  ASSERT_EQ(call("net-start", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(call("port-add", {{"network", "n"}, {"portgroup", "ops"}})["error"], "network 'n' has no portgroup 'ops'");
  EXPECT_EQ(call("port-add", {{"network", "n"}, {"vlan", "5000"}})["error"],
            "invalid VLAN id '5000' in --vlan '5000' (1..4094)");
  json r = call("port-add", {{"network", "n"}, {"name", "a"}, {"portgroup", "eng"}, {"isolated", "yes"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["port"]["portgroup"], "eng");
  EXPECT_EQ(r["result"]["port"]["isolated"], "yes");
  r = call("port-add", {{"network", "n"}, {"name", "b"}, {"vlan", "10:untagged,20"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["port"]["vlan"], "10:untagged,20");
  EXPECT_EQ(r["result"]["port"]["trunk"], true);
  // Persisted as given and restored on restart.
  const auto stored = ports_store_.get("n").ports;
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].portgroup, "eng");
  EXPECT_EQ(stored[0].isolated, xml::TriState::kYes);
  EXPECT_EQ(format_vlan_spec(stored[1].vlan), "10:untagged,20");
  PortStore reread{tmp_.path() / "ports"};
  ASSERT_TRUE(reread.open().ok());
  EXPECT_EQ(reread.get("n").ports, stored);
}

TEST_F(PortServiceTest, FdbVerbs) {
  define_and_start("n");
  EXPECT_EQ(call("fdb-show", {{"network", "n"}})["result"]["entries"], json::array());
  EXPECT_EQ(call("fdb-flush", {{"network", "n"}, {"port", "zz"}})["error"], "network 'n' has no port 'zz'");
  EXPECT_EQ(call("fdb-setageing", {{"network", "n"}, {"seconds", 60}})["result"]["ageing_s"], 60);
  EXPECT_EQ(runtime_.ageing("n"), 60u);
  EXPECT_EQ(ports_store_.get("n").ageing_s, 60u);
  EXPECT_EQ(call("fdb-setageing", {{"network", "n"}, {"seconds", -1}})["error"],
            "ageing time must be in 0..1000000 seconds (0: never)");
  EXPECT_EQ(call("fdb-setageing", {{"network", "n"}})["error"], "missing argument 'seconds'");
  // Restart of the network keeps the ageing time.
  ASSERT_EQ(call("net-destroy", {{"network", "n"}})["ok"], true);
  ASSERT_EQ(call("net-start", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(runtime_.ageing("n"), 60u);
}

TEST_F(PortServiceTest, FdbStats) {
  define_and_start("n");
  json r = call("fdb-stats", {{"network", "n"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["network"], "n");
  EXPECT_EQ(r["result"]["entries"], 0);
  EXPECT_EQ(r["result"]["mac_limit"], 8192);
  EXPECT_EQ(r["result"]["ageing_s"], 300);
  for (const char* k : {"learned", "moved", "aged", "limit_hits"}) EXPECT_EQ(r["result"][k], 0) << k;
  ASSERT_EQ(call("fdb-setlimit", {{"network", "n"}, {"limit", 77}})["ok"], true);
  EXPECT_EQ(call("fdb-stats", {{"network", "n"}})["result"]["mac_limit"], 77);
  EXPECT_EQ(call("fdb-stats", {})["error"], "missing argument 'network'");
  EXPECT_EQ(call("fdb-stats", {{"network", "nope"}})["error"], call("fdb-show", {{"network", "nope"}})["error"]);
  ASSERT_EQ(call("net-destroy", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(call("fdb-stats", {{"network", "n"}})["error"], "network 'n' is not active");
}

TEST_F(PortServiceTest, FdbSetLimitIsAppliedPersistedAndShown) {
  define_and_start("n");
  EXPECT_EQ(runtime_.mac_limit("n"), 8192u);
  json show = call("fdb-show", {{"network", "n"}})["result"];
  EXPECT_EQ(show["mac_limit"], 8192);
  EXPECT_EQ(show["ageing_s"], 300);
  json r = call("fdb-setlimit", {{"network", "n"}, {"limit", 300000}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["network"], "n");
  EXPECT_EQ(r["result"]["mac_limit"], 300000);
  EXPECT_EQ(runtime_.mac_limit("n"), 300000u);
  EXPECT_EQ(ports_store_.get("n").mac_limit, 300000u);
  EXPECT_EQ(call("fdb-show", {{"network", "n"}})["result"]["mac_limit"], 300000);
  for (long long bad : {0LL, -5LL, 67108865LL})
    EXPECT_EQ(call("fdb-setlimit", {{"network", "n"}, {"limit", bad}})["error"], "MAC limit must be in 1..67108864")
        << bad;
  EXPECT_EQ(call("fdb-setlimit", {{"network", "n"}})["error"], "missing argument 'limit'");
  EXPECT_EQ(ports_store_.get("n").mac_limit, 300000u);
  // The stored limit comes back with the network, and from the file.
  ASSERT_EQ(call("net-destroy", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(call("fdb-setlimit", {{"network", "n"}, {"limit", 5}})["error"], "network 'n' is not active");
  ASSERT_EQ(call("net-start", {{"network", "n"}})["ok"], true);
  EXPECT_EQ(runtime_.mac_limit("n"), 300000u);
  PortStore reread{tmp_.path() / "ports"};
  ASSERT_TRUE(reread.open().ok());
  EXPECT_EQ(reread.get("n").mac_limit, 300000u);
  EXPECT_FALSE(network_ports_from_json(json::parse(R"({"mac_limit":0})")).ok());
  EXPECT_FALSE(network_ports_from_json(json::parse(R"({"mac_limit":"x"})")).ok());
}

TEST(DispatcherWithoutPorts, RefusesPortCommands) {
  TempDir tmp;
  std::ostringstream text;
  Logger log{LogLevel::kDebug, text};
  StateStore store{tmp.path()};
  ASSERT_TRUE(store.open().ok());
  RecordingRuntime runtime;
  NetworkRegistry registry{store, runtime, log};
  CommandDispatcher d{registry};
  EXPECT_EQ(json::parse(d.handle_line(format_request("port-list", {{"network", "n"}})))["error"],
            "ports are not supported by this daemon");
}

}  // namespace
}  // namespace vnet::ctl
