#include "control/registry.h"

#include <exception>
#include <utility>

#include "control/network_checks.h"

namespace vnet::ctl {
namespace {

template <typename T>
xml::Result<T> fail(std::string msg) {
  return xml::Result<T>::error(std::move(msg));
}

std::string not_found_message(std::string_view ref, LookupBy by) {
  const char* what = by == LookupBy::kUuid ? "uuid" : "name";
  return "Network not found: no network with matching " + std::string(what) + " '" + std::string(ref) + "'";
}

std::string inactive_xml(const xml::NetworkDef& def) {
  return xml::format_network_xml(def, xml::kFormatInactive);
}

}  // namespace

xml::Result<xml::NetworkDef> parse_and_validate(std::string_view xml_text) {
  xml::Result<xml::NetworkDef> parsed = xml::parse_network_xml(xml_text);
  if (!parsed.ok()) return parsed;
  if (!is_safe_file_name(parsed->name)) {
    return fail<xml::NetworkDef>("invalid network name '" + parsed->name + "'");
  }
  xml::Status valid = xml::validate_for_define(*parsed);
  if (!valid.ok()) return fail<xml::NetworkDef>(valid.error());
  return parsed;
}

NetworkRegistry::NetworkRegistry(StateStore& store, NetworkRuntime& runtime, Logger& log)
    : store_(store), runtime_(runtime), log_(log) {}

// ---------------------------------------------------------------- lookups

xml::Result<NetworkRegistry::EntryMap::const_iterator> NetworkRegistry::find(std::string_view ref,
                                                                             LookupBy by) const {
  if (by != LookupBy::kName) {
    if (std::optional<xml::Uuid> uuid = xml::parse_uuid(ref)) {
      auto it = find_uuid(*uuid);
      if (it != entries_.end()) return it;
    }
    if (by == LookupBy::kUuid) return fail<EntryMap::const_iterator>(not_found_message(ref, by));
  }
  auto it = entries_.find(std::string(ref));
  if (it == entries_.end()) return fail<EntryMap::const_iterator>(not_found_message(ref, LookupBy::kName));
  return it;
}

xml::Result<NetworkRegistry::EntryMap::iterator> NetworkRegistry::find(std::string_view ref, LookupBy by) {
  xml::Result<EntryMap::const_iterator> found = std::as_const(*this).find(ref, by);
  if (!found.ok()) return fail<EntryMap::iterator>(found.error());
  return entries_.erase(*found, *found);  // const_iterator -> iterator
}

NetworkRegistry::EntryMap::const_iterator NetworkRegistry::find_uuid(const xml::Uuid& uuid) const {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    if ((e.config && e.config->uuid == uuid) || (e.live && e.live->uuid == uuid)) return it;
  }
  return entries_.end();
}

xml::Status NetworkRegistry::check_identity(const xml::NetworkDef& def, EntryMap::iterator& existing) {
  existing = entries_.end();
  auto by_uuid = find_uuid(def.uuid);
  if (by_uuid != entries_.end()) {
    if (by_uuid->first != def.name) {
      return xml::Status::error("network '" + by_uuid->first + "' is already defined with uuid " +
                                uuid_string(def));
    }
    existing = entries_.find(def.name);
    return {};
  }
  auto by_name = entries_.find(def.name);
  if (by_name != entries_.end()) {
    return xml::Status::error("network '" + def.name + "' already exists with uuid " +
                              uuid_string(by_name->second.current()));
  }
  return {};
}

std::set<std::string> NetworkRegistry::bridges_in_use_except(const std::string& name) const {
  std::set<std::string> out;
  for (const auto& [n, e] : entries_) {
    if (n == name) continue;
    for (const auto* def : {e.config ? &*e.config : nullptr, e.live ? &*e.live : nullptr}) {
      if (def == nullptr) continue;
      std::string b = bridge_name(*def);
      if (!b.empty()) out.insert(std::move(b));
    }
  }
  return out;
}

std::vector<const xml::NetworkDef*> NetworkRegistry::active_defs_except(const std::string& name) const {
  std::vector<const xml::NetworkDef*> out;
  for (const auto& [n, e] : entries_) {
    if (n != name && e.live) out.push_back(&*e.live);
  }
  return out;
}

NetworkInfo NetworkRegistry::make_info(const Entry& e) {
  const xml::NetworkDef& def = e.current();
  NetworkInfo info;
  info.name = def.name;
  info.uuid = uuid_string(def);
  info.active = e.active();
  info.persistent = e.persistent();
  info.autostart = e.autostart;
  info.bridge = bridge_name(def);
  return info;
}

const xml::NetworkDef* NetworkRegistry::config_def(const std::string& name) const {
  auto it = entries_.find(name);
  return it != entries_.end() && it->second.config ? &*it->second.config : nullptr;
}

const xml::NetworkDef* NetworkRegistry::live_def(const std::string& name) const {
  auto it = entries_.find(name);
  return it != entries_.end() && it->second.live ? &*it->second.live : nullptr;
}

// ---------------------------------------------------------------- start-up / shutdown

size_t NetworkRegistry::load_from_disk() {
  size_t loaded = 0;
  for (StateStore::StoredNetwork& sn : store_.list_networks()) {
    const std::string where = "skipping network file '" + sn.path.string() + "': ";
    try {
      if (!sn.read_error.empty()) {
        log_.warning(where + sn.read_error);
        continue;
      }
      xml::Result<xml::NetworkDef> parsed = xml::parse_network_xml(sn.xml);
      if (!parsed.ok()) {
        log_.warning(where + parsed.error());
        continue;
      }
      xml::NetworkDef& def = *parsed;
      if (def.name != sn.file_name) {
        log_.warning(where + "Network config filename '" + sn.path.string() +
                     "' does not match network name '" + def.name + "'");
        continue;
      }
      auto dup = find_uuid(def.uuid);
      if (dup != entries_.end()) {
        log_.warning(where + "network '" + dup->first + "' is already defined with uuid " + uuid_string(def));
        continue;
      }
      Entry e;
      e.config = std::move(def);
      entries_.emplace(sn.file_name, std::move(e));
      ++loaded;
      log_.debug("loaded network '" + sn.file_name + "'");
    } catch (const std::exception& ex) {
      log_.warning(where + ex.what());
    }
  }
  for (const std::string& name : store_.list_autostart()) {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      log_.warning("ignoring autostart marker for unknown network '" + name + "'");
      continue;
    }
    it->second.autostart = true;
  }
  log_.info("loaded " + std::to_string(loaded) + " network definition(s) from '" +
            store_.state_dir().string() + "'");
  return loaded;
}

size_t NetworkRegistry::autostart_all() {
  size_t started = 0;
  std::vector<std::string> names;
  for (const auto& [name, e] : entries_) {
    if (e.autostart && !e.active()) names.push_back(name);
  }
  for (const std::string& name : names) {
    xml::Result<NetworkInfo> r = start(name);
    if (r.ok()) {
      ++started;
    } else {
      log_.error("failed to autostart network '" + name + "': " + r.error());
    }
  }
  return started;
}

void NetworkRegistry::shutdown() {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.live) {
      runtime_.stop(it->first);
      e.live.reset();
      log_.info("network '" + it->first + "' stopped");
    }
    if (!e.config) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------- verbs

xml::Result<NetworkInfo> NetworkRegistry::define(std::string_view xml_text) {
  xml::Result<xml::NetworkDef> parsed = parse_and_validate(xml_text);
  if (!parsed.ok()) return fail<NetworkInfo>(parsed.error());
  xml::NetworkDef def = std::move(*parsed);

  EntryMap::iterator existing;
  if (xml::Status st = check_identity(def, existing); !st.ok()) return fail<NetworkInfo>(st.error());
  if (xml::Status st = xml::fill_define_defaults(def, bridges_in_use_except(def.name)); !st.ok()) {
    return fail<NetworkInfo>(st.error());
  }
  if (xml::Status st = store_.save_network(def.name, inactive_xml(def)); !st.ok()) {
    return fail<NetworkInfo>(st.error());
  }

  const std::string name = def.name;
  if (existing == entries_.end()) {
    Entry e;
    e.config = std::move(def);
    existing = entries_.emplace(name, std::move(e)).first;
  } else {
    existing->second.config = std::move(def);
  }
  log_.info("network '" + name + "' defined");
  return make_info(existing->second);
}

xml::Result<NetworkInfo> NetworkRegistry::create(std::string_view xml_text) {
  xml::Result<xml::NetworkDef> parsed = parse_and_validate(xml_text);
  if (!parsed.ok()) return fail<NetworkInfo>(parsed.error());
  xml::NetworkDef def = std::move(*parsed);

  EntryMap::iterator existing;
  if (xml::Status st = check_identity(def, existing); !st.ok()) return fail<NetworkInfo>(st.error());
  if (existing != entries_.end() && existing->second.active()) {
    return fail<NetworkInfo>("network is already active as '" + existing->first + "'");
  }
  if (xml::Status st = xml::fill_define_defaults(def, bridges_in_use_except(def.name)); !st.ok()) {
    return fail<NetworkInfo>(st.error());
  }
  if (xml::Status st = check_active_conflicts(def, active_defs_except(def.name)); !st.ok()) {
    return fail<NetworkInfo>(st.error());
  }
  if (xml::Status st = runtime_.start(def); !st.ok()) return fail<NetworkInfo>(st.error());

  const std::string name = def.name;
  if (existing == entries_.end()) {
    Entry e;
    e.live = std::move(def);
    existing = entries_.emplace(name, std::move(e)).first;
  } else {
    existing->second.live = std::move(def);
  }
  log_.info("network '" + name + "' created and started");
  return make_info(existing->second);
}

xml::Result<NetworkInfo> NetworkRegistry::undefine(std::string_view ref) {
  xml::Result<EntryMap::iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<NetworkInfo>(found.error());
  auto it = *found;
  Entry& e = it->second;
  const std::string name = it->first;
  if (!e.persistent()) return fail<NetworkInfo>("can't undefine transient network");

  if (e.autostart) {
    if (xml::Status st = store_.set_autostart(name, false); !st.ok()) return fail<NetworkInfo>(st.error());
  }
  if (xml::Status st = store_.remove_network(name); !st.ok()) {
    if (e.autostart) {
      if (xml::Status undo = store_.set_autostart(name, true); !undo.ok()) {
        log_.error("could not restore the autostart marker of '" + name + "': " + undo.error());
      }
    }
    return fail<NetworkInfo>(st.error());
  }

  NetworkInfo info = make_info(e);
  info.persistent = false;
  info.autostart = false;
  if (e.active()) {
    e.config.reset();
    e.autostart = false;
    log_.info("network '" + name + "' undefined; it stays active as a transient network");
  } else {
    entries_.erase(it);
    log_.info("network '" + name + "' undefined");
  }
  return info;
}

xml::Result<NetworkInfo> NetworkRegistry::start(std::string_view ref) {
  xml::Result<EntryMap::iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<NetworkInfo>(found.error());
  auto it = *found;
  Entry& e = it->second;
  if (e.active()) return fail<NetworkInfo>("network is already active");

  const xml::NetworkDef& def = *e.config;
  if (xml::Status st = check_active_conflicts(def, active_defs_except(it->first)); !st.ok()) {
    return fail<NetworkInfo>(st.error());
  }
  if (xml::Status st = runtime_.start(def); !st.ok()) return fail<NetworkInfo>(st.error());
  e.live = def;
  log_.info("network '" + it->first + "' started");
  return make_info(e);
}

xml::Result<NetworkInfo> NetworkRegistry::destroy(std::string_view ref) {
  xml::Result<EntryMap::iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<NetworkInfo>(found.error());
  auto it = *found;
  Entry& e = it->second;
  if (!e.active()) return fail<NetworkInfo>("network is not active");

  const std::string name = it->first;
  runtime_.stop(name);
  NetworkInfo info = make_info(e);
  info.active = false;
  e.live.reset();
  if (!e.persistent()) {
    entries_.erase(it);
    log_.info("transient network '" + name + "' destroyed and removed");
  } else {
    log_.info("network '" + name + "' destroyed");
  }
  return info;
}

xml::Result<NetworkInfo> NetworkRegistry::set_autostart(std::string_view ref, bool on) {
  xml::Result<EntryMap::iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<NetworkInfo>(found.error());
  auto it = *found;
  Entry& e = it->second;
  if (!e.persistent()) return fail<NetworkInfo>("cannot set autostart for transient network");
  if (e.autostart != on) {
    if (xml::Status st = store_.set_autostart(it->first, on); !st.ok()) return fail<NetworkInfo>(st.error());
    e.autostart = on;
    log_.info("network '" + it->first + "' " + (on ? "marked" : "unmarked") + " as autostarted");
  }
  return make_info(e);
}

xml::Result<NetworkInfo> NetworkRegistry::info(std::string_view ref, LookupBy by) const {
  xml::Result<EntryMap::const_iterator> found = find(ref, by);
  if (!found.ok()) return fail<NetworkInfo>(found.error());
  return make_info((*found)->second);
}

xml::Result<std::string> NetworkRegistry::dump_xml(std::string_view ref, bool inactive) const {
  xml::Result<EntryMap::const_iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<std::string>(found.error());
  const Entry& e = (*found)->second;
  if (inactive) return xml::format_network_xml(e.config ? *e.config : *e.live, xml::kFormatInactive);
  return xml::format_network_xml(e.current(), xml::kFormatDefault);
}

std::vector<NetworkInfo> NetworkRegistry::list(const ListFilter& f) const {
  std::vector<NetworkInfo> out;
  for (const auto& [name, e] : entries_) {
    if (!(e.active() ? f.active : f.inactive)) continue;
    if ((f.persistent || f.transient) && !(e.persistent() ? f.persistent : f.transient)) continue;
    if ((f.autostart || f.no_autostart) && !(e.autostart ? f.autostart : f.no_autostart)) continue;
    out.push_back(make_info(e));
  }
  return out;
}

xml::Result<UpdateOutcome> NetworkRegistry::update(std::string_view ref, const UpdateRequest& req) {
  std::optional<xml::UpdateCommand> command =
      req.command == "add" ? std::optional(xml::UpdateCommand::kAddLast) : xml::parse_update_command(req.command);
  if (!command) return fail<UpdateOutcome>("unrecognized command name '" + req.command + "'");
  std::optional<xml::UpdateSection> section = xml::parse_update_section(req.section);
  if (!section) return fail<UpdateOutcome>("unrecognized section name '" + req.section + "'");

  xml::Result<EntryMap::iterator> found = find(ref, LookupBy::kNameOrUuid);
  if (!found.ok()) return fail<UpdateOutcome>(found.error());
  auto it = *found;
  Entry& e = it->second;
  const std::string name = it->first;

  bool live = req.live;
  bool config = req.config;
  if (!live && !config) (e.active() ? live : config) = true;
  if (live && !e.active()) return fail<UpdateOutcome>("network is not running");
  if (config && !e.persistent()) {
    return fail<UpdateOutcome>("cannot change persistent config of a transient network");
  }

  std::optional<xml::NetworkDef> new_live;
  std::optional<xml::NetworkDef> new_config;
  if (live) {
    new_live = *e.live;
    xml::Status st = xml::apply_network_update(*new_live, *command, *section, req.parent_index, req.xml);
    if (!st.ok()) return fail<UpdateOutcome>(st.error());
    if (xml::Status c = check_active_conflicts(*new_live, active_defs_except(name)); !c.ok()) {
      return fail<UpdateOutcome>(c.error());
    }
  }
  if (config) {
    new_config = *e.config;
    xml::Status st = xml::apply_network_update(*new_config, *command, *section, req.parent_index, req.xml);
    if (!st.ok()) return fail<UpdateOutcome>(st.error());
  }

  if (live) {
    if (xml::Status st = runtime_.update(*new_live); !st.ok()) return fail<UpdateOutcome>(st.error());
  }
  if (config) {
    if (xml::Status st = store_.save_network(name, inactive_xml(*new_config)); !st.ok()) {
      if (live) {
        if (xml::Status undo = runtime_.update(*e.live); !undo.ok()) {
          log_.error("could not restore the live definition of '" + name + "': " + undo.error());
        }
      }
      return fail<UpdateOutcome>(st.error());
    }
  }

  if (live) e.live = std::move(*new_live);
  if (config) e.config = std::move(*new_config);
  log_.info("network '" + name + "' updated (" + req.command + " " + req.section + ")" +
            (live ? " live" : "") + (config ? " config" : ""));
  UpdateOutcome out;
  out.info = make_info(e);
  out.live = live;
  out.config = config;
  return out;
}

}  // namespace vnet::ctl
