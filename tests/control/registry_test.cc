#include "control/registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "control/atomic_file.h"
#include "tests/control/temp_dir.h"

namespace vnet::ctl {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr const char* kDefaultXml = R"(<network>
  <name>default</name>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
)";

constexpr const char* kIsoUuid = "7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60";
constexpr const char* kIsoXml = R"(<network>
  <name>iso</name>
  <uuid>7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60</uuid>
  <bridge name='virbr5'/>
  <ip address='10.10.0.1' prefix='24'/>
</network>
)";

// Same subnet as default, other bridge.
constexpr const char* kClashSubnetXml = R"(<network>
  <name>clash</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <bridge name='virbr7'/>
  <ip address='192.168.122.100' prefix='25'/>
</network>
)";

// Same bridge as default, other subnet.
constexpr const char* kClashBridgeXml = R"(<network>
  <name>samebr</name>
  <uuid>11111111-2222-3333-4444-666666666666</uuid>
  <bridge name='virbr0'/>
  <ip address='10.20.0.1' prefix='24'/>
</network>
)";

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() { reopen(); }

  void reopen() {
    registry_.reset();
    store_.reset();
    store_ = std::make_unique<StateStore>(tmp_.path());
    EXPECT_TRUE(store_->open().ok());
    runtime_ = std::make_unique<RecordingRuntime>();
    registry_ = std::make_unique<NetworkRegistry>(*store_, *runtime_, log_);
  }

  NetworkRegistry& reg() { return *registry_; }
  fs::path net_file(const std::string& name) const { return tmp_.path() / "networks" / (name + ".xml"); }
  std::string disk(const std::string& name) const {
    auto r = read_file(net_file(name));
    return r.ok() ? *r : std::string("<missing>");
  }
  NetworkInfo define_ok(const char* xml) {
    auto r = reg().define(xml);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : NetworkInfo{};
  }
  std::string uuid_of(const std::string& name) { return reg().info(name)->uuid; }

  TempDir tmp_;
  std::ostringstream log_text_;
  Logger log_{LogLevel::kDebug, log_text_};
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<RecordingRuntime> runtime_;
  std::unique_ptr<NetworkRegistry> registry_;
};

TEST_F(RegistryTest, DefinePersistsInactiveXml) {
  NetworkInfo info = define_ok(kDefaultXml);
  EXPECT_EQ(info.name, "default");
  EXPECT_FALSE(info.active);
  EXPECT_TRUE(info.persistent);
  EXPECT_FALSE(info.autostart);
  EXPECT_EQ(info.bridge, "virbr0");
  EXPECT_EQ(info.uuid.size(), 36u);
  ASSERT_NE(reg().config_def("default"), nullptr);
  EXPECT_EQ(disk("default"), xml::format_network_xml(*reg().config_def("default"), xml::kFormatInactive));
  EXPECT_NE(disk("default").find("<uuid>" + info.uuid + "</uuid>"), std::string::npos);
  EXPECT_EQ(*reg().dump_xml("default", true), disk("default"));
}

TEST_F(RegistryTest, DefineFillsBridgeNameAvoidingOthers) {
  define_ok(kDefaultXml);  // virbr0
  auto r = reg().define("<network><name>auto</name><ip address='10.5.0.1' prefix='24'/></network>");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->bridge, "virbr1");
}

TEST_F(RegistryTest, InvalidXmlChangesNothing) {
  auto r = reg().define("<network><name>broken</name>");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().empty());
  EXPECT_EQ(reg().size(), 0u);
  EXPECT_TRUE(store_->list_networks().empty());
}

TEST_F(RegistryTest, DuplicateNameWithOtherUuid) {
  NetworkInfo first = define_ok(kDefaultXml);
  auto r = reg().define(kDefaultXml);  // no <uuid>: the parser makes a new one
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "network 'default' already exists with uuid " + first.uuid);
  EXPECT_EQ(uuid_of("default"), first.uuid);
}

TEST_F(RegistryTest, DuplicateUuidWithOtherName) {
  define_ok(kIsoXml);
  std::string renamed = kIsoXml;
  renamed.replace(renamed.find("<name>iso</name>"), 16, "<name>iso2</name>");
  auto r = reg().define(renamed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), std::string("network 'iso' is already defined with uuid ") + kIsoUuid);
  EXPECT_EQ(reg().size(), 1u);
  EXPECT_FALSE(fs::exists(net_file("iso2")));
}

TEST_F(RegistryTest, RedefineSameUuidReplacesAndAppliesAtNextStart) {
  define_ok(kIsoXml);
  ASSERT_TRUE(reg().start("iso").ok());
  std::string changed = kIsoXml;
  changed.replace(changed.find("10.10.0.1"), 9, "10.11.0.1");
  define_ok(changed.c_str());
  EXPECT_NE(reg().dump_xml("iso", false)->find("10.10.0.1"), std::string::npos) << "live def unchanged";
  EXPECT_NE(reg().dump_xml("iso", true)->find("10.11.0.1"), std::string::npos) << "config replaced";
  EXPECT_NE(disk("iso").find("10.11.0.1"), std::string::npos);
  ASSERT_TRUE(reg().destroy("iso").ok());
  ASSERT_TRUE(reg().start("iso").ok());
  EXPECT_NE(reg().dump_xml("iso", false)->find("10.11.0.1"), std::string::npos);
}

TEST_F(RegistryTest, StartDestroyAndTheirErrors) {
  define_ok(kDefaultXml);
  auto s = reg().start("default");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_TRUE(s->active);
  EXPECT_TRUE(runtime_->is_running("default"));
  EXPECT_EQ(reg().start("default").error(), "network is already active");
  auto d = reg().destroy("default");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->active);
  EXPECT_FALSE(runtime_->is_running("default"));
  EXPECT_EQ(reg().destroy("default").error(), "network is not active");
  EXPECT_TRUE(fs::exists(net_file("default")));
}

TEST_F(RegistryTest, UnknownNetwork) {
  EXPECT_EQ(reg().start("nope").error(), "Network not found: no network with matching name 'nope'");
  EXPECT_EQ(reg().info("nope", LookupBy::kUuid).error(),
            "Network not found: no network with matching uuid 'nope'");
  EXPECT_EQ(reg().dump_xml("nope", false).error(), "Network not found: no network with matching name 'nope'");
}

TEST_F(RegistryTest, LookupByUuid) {
  define_ok(kIsoXml);
  auto r = reg().info(kIsoUuid);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->name, "iso");
  EXPECT_EQ(reg().info(kIsoUuid, LookupBy::kUuid)->name, "iso");
  EXPECT_FALSE(reg().info(kIsoUuid, LookupBy::kName).ok()) << "net-uuid takes a name only";
  EXPECT_FALSE(reg().info("iso", LookupBy::kUuid).ok()) << "net-name takes a uuid only";
  EXPECT_TRUE(reg().start(kIsoUuid).ok());
}

TEST_F(RegistryTest, UndefineActiveMakesTransientThenDestroyRemoves) {
  define_ok(kDefaultXml);
  ASSERT_TRUE(reg().set_autostart("default", true).ok());
  ASSERT_TRUE(reg().start("default").ok());
  auto u = reg().undefine("default");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_FALSE(u->persistent);
  EXPECT_FALSE(fs::exists(net_file("default")));
  EXPECT_FALSE(store_->has_autostart("default"));
  auto i = reg().info("default");
  ASSERT_TRUE(i.ok());
  EXPECT_TRUE(i->active);
  EXPECT_FALSE(i->persistent);
  EXPECT_FALSE(i->autostart);
  EXPECT_EQ(reg().undefine("default").error(), "can't undefine transient network");
  EXPECT_EQ(reg().set_autostart("default", true).error(), "cannot set autostart for transient network");
  ASSERT_TRUE(reg().destroy("default").ok());
  EXPECT_EQ(reg().size(), 0u);
}

TEST_F(RegistryTest, UndefineInactiveRemoves) {
  define_ok(kDefaultXml);
  ASSERT_TRUE(reg().undefine("default").ok());
  EXPECT_EQ(reg().size(), 0u);
  EXPECT_FALSE(fs::exists(net_file("default")));
}

TEST_F(RegistryTest, CreateIsTransientAndNotPersisted) {
  auto c = reg().create(kIsoXml);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE(c->active);
  EXPECT_FALSE(c->persistent);
  EXPECT_FALSE(fs::exists(net_file("iso")));
  EXPECT_TRUE(runtime_->is_running("iso"));
  EXPECT_EQ(reg().create(kIsoXml).error(), "network is already active as 'iso'");
  ASSERT_TRUE(reg().destroy("iso").ok());
  EXPECT_EQ(reg().size(), 0u);
}

TEST_F(RegistryTest, SameBridgeRefusedAtDefine) {
  define_ok(kDefaultXml);
  auto r = reg().define(kClashBridgeXml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("virbr0"), std::string::npos) << r.error();
  EXPECT_FALSE(fs::exists(net_file("samebr")));
}

TEST_F(RegistryTest, OverlappingSubnetAndSameBridgeRefusedAtStart) {
  define_ok(kDefaultXml);
  define_ok(kClashSubnetXml);
  // Two definitions with one bridge name can only come from disk (define refuses them).
  std::ofstream(net_file("samebr")) << kClashBridgeXml;
  reopen();
  ASSERT_EQ(reg().load_from_disk(), 3u);
  ASSERT_TRUE(reg().start("default").ok());
  EXPECT_EQ(reg().start("clash").error(),
            "IP subnet 192.168.122.0/25 of network 'clash' overlaps with 192.168.122.0/24 of active network "
            "'default'");
  EXPECT_EQ(reg().start("samebr").error(), "bridge name 'virbr0' is already in use by active network 'default'");
  EXPECT_FALSE(reg().info("clash")->active);
  EXPECT_EQ(reg().create(kClashSubnetXml).error(),
            "IP subnet 192.168.122.0/25 of network 'clash' overlaps with 192.168.122.0/24 of active network "
            "'default'");
  ASSERT_TRUE(reg().destroy("default").ok());
  EXPECT_TRUE(reg().start("clash").ok()) << "fine once the other is inactive";
}

TEST_F(RegistryTest, RuntimeFailureLeavesNetworkInactive) {
  define_ok(kDefaultXml);
  runtime_->fail_next_start("no hugepages");
  EXPECT_EQ(reg().start("default").error(), "no hugepages");
  EXPECT_FALSE(reg().info("default")->active);
  runtime_->fail_next_start("no hugepages");
  EXPECT_EQ(reg().create(kIsoXml).error(), "no hugepages");
  EXPECT_FALSE(reg().info("iso").ok());
}

TEST_F(RegistryTest, ReloadFromDiskWithAutostart) {
  define_ok(kDefaultXml);
  define_ok(kIsoXml);
  ASSERT_TRUE(reg().set_autostart("default", true).ok());
  ASSERT_TRUE(reg().start("default").ok());
  ASSERT_TRUE(reg().start("iso").ok());
  const std::string uuid = uuid_of("default");
  reg().shutdown();
  EXPECT_EQ(runtime_->running_count(), 0u);

  reopen();
  EXPECT_EQ(reg().load_from_disk(), 2u);
  EXPECT_EQ(reg().autostart_all(), 1u);
  auto d = reg().info("default");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->active);
  EXPECT_TRUE(d->autostart);
  EXPECT_EQ(d->uuid, uuid);
  auto i = reg().info("iso");
  ASSERT_TRUE(i.ok());
  EXPECT_FALSE(i->active);
  EXPECT_TRUE(i->persistent);
}

TEST_F(RegistryTest, CorruptAndMismatchedFilesAreSkippedAndLogged) {
  define_ok(kIsoXml);
  std::ofstream(net_file("corrupt")) << "<network><name>corrupt</name";
  std::ofstream(net_file("wrongname")) << kDefaultXml;
  std::ofstream(tmp_.path() / "autostart" / "ghost") << "";
  reopen();
  EXPECT_EQ(reg().load_from_disk(), 1u);
  EXPECT_TRUE(reg().info("iso").ok());
  EXPECT_FALSE(reg().info("corrupt").ok());
  EXPECT_FALSE(reg().info("default").ok());
  const std::string log = log_text_.str();
  EXPECT_NE(log.find("warning: skipping network file '" + net_file("corrupt").string() + "': "), std::string::npos)
      << log;
  EXPECT_NE(log.find("does not match network name 'default'"), std::string::npos) << log;
  EXPECT_NE(log.find("ignoring autostart marker for unknown network 'ghost'"), std::string::npos) << log;
}

TEST_F(RegistryTest, AutostartMarkers) {
  define_ok(kDefaultXml);
  auto a = reg().set_autostart("default", true);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->autostart);
  EXPECT_TRUE(store_->has_autostart("default"));
  ASSERT_TRUE(reg().set_autostart("default", false).ok());
  EXPECT_FALSE(store_->has_autostart("default"));
}

TEST_F(RegistryTest, ListFilters) {
  define_ok(kDefaultXml);
  define_ok(kIsoXml);
  ASSERT_TRUE(reg().set_autostart("iso", true).ok());
  ASSERT_TRUE(reg().start("iso").ok());
  std::string transient = kClashSubnetXml;  // clash is not active
  ASSERT_TRUE(reg().create(transient).ok());
  auto names = [&](ListFilter f) {
    std::string out;
    for (const auto& n : reg().list(f)) out += n.name + " ";
    return out;
  };
  EXPECT_EQ(names({}), "clash default iso ");
  EXPECT_EQ(names({.active = true, .inactive = false}), "clash iso ");
  EXPECT_EQ(names({.active = false, .inactive = true}), "default ");
  EXPECT_EQ(names({.persistent = true}), "default iso ");
  EXPECT_EQ(names({.transient = true}), "clash ");
  EXPECT_EQ(names({.autostart = true}), "iso ");
  EXPECT_EQ(names({.no_autostart = true}), "clash default ");
}

TEST_F(RegistryTest, UpdateConfigOfInactiveNetwork) {
  define_ok(kDefaultXml);
  UpdateRequest u;
  u.command = "add";
  u.section = "ip-dhcp-host";
  u.xml = "<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.122.10'/>";
  auto r = reg().update("default", u);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->config);
  EXPECT_FALSE(r->live);
  EXPECT_NE(disk("default").find("<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.122.10'/>"),
            std::string::npos)
      << disk("default");
  u.live = true;
  EXPECT_EQ(reg().update("default", u).error(), "network is not running");
}

TEST_F(RegistryTest, UpdateLiveAndConfig) {
  define_ok(kDefaultXml);
  ASSERT_TRUE(reg().start("default").ok());
  const std::string before = disk("default");
  UpdateRequest u;
  u.command = "add-last";
  u.section = "ip-dhcp-host";
  u.xml = "<host mac='52:54:00:00:00:02' ip='192.168.122.11'/>";
  auto r = reg().update("default", u);  // --current on an active network = live
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->live);
  EXPECT_FALSE(r->config);
  EXPECT_EQ(disk("default"), before);
  EXPECT_NE(reg().dump_xml("default", false)->find("192.168.122.11"), std::string::npos);
  EXPECT_EQ(reg().dump_xml("default", true)->find("192.168.122.11"), std::string::npos);
  EXPECT_EQ(runtime_->update_calls(), 1);

  u.xml = "<host mac='52:54:00:00:00:03' ip='192.168.122.12'/>";
  u.live = true;
  u.config = true;
  r = reg().update("default", u);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_NE(disk("default").find("192.168.122.12"), std::string::npos);
  EXPECT_NE(reg().dump_xml("default", false)->find("192.168.122.12"), std::string::npos);
}

TEST_F(RegistryTest, UpdateFailuresChangeNothing) {
  define_ok(kDefaultXml);
  ASSERT_TRUE(reg().start("default").ok());
  const std::string disk_before = disk("default");
  const std::string live_before = *reg().dump_xml("default", false);
  UpdateRequest u;
  u.command = "frobnicate";
  u.section = "ip-dhcp-host";
  u.xml = "<host mac='52:54:00:00:00:02' ip='192.168.122.11'/>";
  EXPECT_EQ(reg().update("default", u).error(), "unrecognized command name 'frobnicate'");
  u.command = "add";
  u.section = "nowhere";
  EXPECT_EQ(reg().update("default", u).error(), "unrecognized section name 'nowhere'");
  u.section = "ip-dhcp-host";
  u.live = true;
  u.config = true;
  runtime_->fail_next_update("dataplane refused");
  EXPECT_EQ(reg().update("default", u).error(), "dataplane refused");
  u.xml = "<host";
  EXPECT_FALSE(reg().update("default", u).ok());
  EXPECT_EQ(disk("default"), disk_before);
  EXPECT_EQ(*reg().dump_xml("default", false), live_before);

  ASSERT_TRUE(reg().create(kIsoXml).ok());
  u.xml = "<host mac='52:54:00:00:00:02' ip='10.10.0.11'/>";
  u.live = false;
  u.config = true;
  EXPECT_EQ(reg().update("iso", u).error(), "cannot change persistent config of a transient network");
}

TEST_F(RegistryTest, ShutdownStopsActiveAndDropsTransient) {
  define_ok(kDefaultXml);
  ASSERT_TRUE(reg().start("default").ok());
  ASSERT_TRUE(reg().create(kIsoXml).ok());
  reg().shutdown();
  EXPECT_EQ(runtime_->running_count(), 0u);
  EXPECT_EQ(reg().size(), 1u);
  EXPECT_FALSE(reg().info("default")->active);
}

TEST(ParseAndValidate, ReportsErrors) {
  EXPECT_TRUE(parse_and_validate(kDefaultXml).ok());
  EXPECT_FALSE(parse_and_validate("not xml").ok());
  EXPECT_FALSE(parse_and_validate("<network><name>a/b</name></network>").ok());
}

}  // namespace
}  // namespace vnet::ctl
