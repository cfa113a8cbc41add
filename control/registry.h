// vnet::ctl — the network registry: definitions, lifecycle and persistence.
//
// Theory of operation
//   Each network is an Entry with up to two definitions, as in libvirt's
//   virNetworkObj:
//     config  the persistent definition (networks/NAME.xml); absent for a
//             transient network (net-create of an unknown network)
//     live    the running definition; present iff the network is active
//   so "inactive" means config only, "transient" means live only, and a
//   persistent active network has both (config may differ from live after a
//   redefinition or a --config update; it applies at the next start).
//
//   Every verb follows the same order: look up, check everything (XML parse,
//   validate_for_define, duplicate name/uuid, bridge and subnet conflicts with
//   the other active networks), call the NetworkRuntime, write the state
//   directory, and only then change the in-memory entry. A failure at any
//   step returns a one-line error and leaves memory, disk and the runtime as
//   they were (a disk failure after a runtime call undoes the runtime call).
//
//   libvirt semantics kept here (bridge_driver.c / virnetworkobj.c):
//     - define of an existing name with the same uuid replaces the config;
//       same name, other uuid: "network 'X' already exists with uuid U";
//       same uuid, other name: "network 'X' is already defined with uuid U".
//     - define = parse -> validate_for_define -> fill_define_defaults, with
//       the bridges of all other networks (config and live) in use.
//     - undefine of an active persistent network makes it transient; of a
//       transient one is an error. destroy of a transient network removes it.
//     - net-update affects --live, --config, or (neither) the live definition
//       if active, else the config.
//   Network references are a name or a UUID (UUID first, then name, like
//   virsh's lookup); failures read "Network not found: no network with
//   matching name 'X'".
//
// Thread-safety
//   Not thread-safe; owned by the control thread, which serialises all
//   requests (one request at a time from the control socket).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "control/log.h"
#include "control/network_runtime.h"
#include "control/state_store.h"
#include "xml/network_xml.h"

namespace vnet::ctl {

// What `net-info` and `net-list` show about one network.
struct NetworkInfo {
  std::string name;
  std::string uuid;  // 8-4-4-4-12, lower case
  bool active = false;
  bool persistent = false;
  bool autostart = false;
  std::string bridge;  // "" when the network has no bridge name
};

enum class LookupBy { kNameOrUuid, kName, kUuid };

// virsh net-list filters. A network is listed if its state is selected
// (active/inactive) and, when given, it passes the persistence filter
// (persistent/transient) and the autostart filter (autostart/no_autostart).
struct ListFilter {
  bool active = true;
  bool inactive = true;
  bool persistent = false;
  bool transient = false;
  bool autostart = false;
  bool no_autostart = false;
};

struct UpdateRequest {
  std::string command;    // "add", "add-last", "add-first", "delete", "modify"
  std::string section;    // "ip-dhcp-host", "dns-host", ...
  std::string xml;        // the snippet
  int parent_index = -1;  // --parent-index
  bool live = false;      // --live
  bool config = false;    // --config (neither: --current)
};

struct UpdateOutcome {
  NetworkInfo info;
  bool live = false;    // the live definition was changed
  bool config = false;  // the persistent definition was changed
};

// parse_network_xml + validate_for_define: what net-define checks before it
// looks at other networks. Used by net-validate too.
xml::Result<xml::NetworkDef> parse_and_validate(std::string_view xml_text);

class NetworkRegistry {
 public:
  NetworkRegistry(StateStore& store, NetworkRuntime& runtime, Logger& log);
  NetworkRegistry(const NetworkRegistry&) = delete;
  NetworkRegistry& operator=(const NetworkRegistry&) = delete;

  // Start-up: read every networks/*.xml (a bad file is logged and skipped)
  // and the autostart markers. Returns the number of networks loaded.
  size_t load_from_disk();
  // Start every autostart network; failures are logged. Returns the number started.
  size_t autostart_all();
  // Shutdown: stop every active network; transient ones are forgotten.
  void shutdown();

  xml::Result<NetworkInfo> define(std::string_view xml_text);
  xml::Result<NetworkInfo> create(std::string_view xml_text);
  xml::Result<NetworkInfo> undefine(std::string_view ref);
  xml::Result<NetworkInfo> start(std::string_view ref);
  xml::Result<NetworkInfo> destroy(std::string_view ref);
  xml::Result<NetworkInfo> set_autostart(std::string_view ref, bool on);
  xml::Result<NetworkInfo> info(std::string_view ref, LookupBy by = LookupBy::kNameOrUuid) const;
  // net-dumpxml: live XML of an active network unless `inactive`.
  xml::Result<std::string> dump_xml(std::string_view ref, bool inactive) const;
  xml::Result<UpdateOutcome> update(std::string_view ref, const UpdateRequest& req);
  // Sorted by name.
  std::vector<NetworkInfo> list(const ListFilter& filter) const;

  size_t size() const { return entries_.size(); }
  // Test access; nullptr when absent.
  const xml::NetworkDef* config_def(const std::string& name) const;
  const xml::NetworkDef* live_def(const std::string& name) const;

 private:
  struct Entry {
    std::optional<xml::NetworkDef> config;  // persistent definition
    std::optional<xml::NetworkDef> live;    // running definition (active)
    bool autostart = false;                 // autostart/NAME exists

    const xml::NetworkDef& current() const { return live ? *live : *config; }
    bool active() const { return live.has_value(); }
    bool persistent() const { return config.has_value(); }
  };
  using EntryMap = std::map<std::string, Entry>;

  xml::Result<EntryMap::iterator> find(std::string_view ref, LookupBy by);
  xml::Result<EntryMap::const_iterator> find(std::string_view ref, LookupBy by) const;
  EntryMap::const_iterator find_uuid(const xml::Uuid& uuid) const;
  // Duplicate name/uuid checks of virNetworkObjAssignDef. On success `existing`
  // is the entry with the same name and uuid, or end().
  xml::Status check_identity(const xml::NetworkDef& def, EntryMap::iterator& existing);
  std::set<std::string> bridges_in_use_except(const std::string& name) const;
  std::vector<const xml::NetworkDef*> active_defs_except(const std::string& name) const;
  static NetworkInfo make_info(const Entry& e);

  StateStore& store_;
  NetworkRuntime& runtime_;
  Logger& log_;
  EntryMap entries_;  // by network name
};

}  // namespace vnet::ctl
