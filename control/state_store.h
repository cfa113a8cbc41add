// vnet::ctl — the on-disk half of the network registry.
//
// Theory of operation
//   The state directory (default /var/lib/vnet, --state-dir) holds
//     networks/NAME.xml   the persistent (inactive) definition of each defined
//                         network, as format_network_xml(def, kFormatInactive)
//     autostart/NAME      an empty marker: start NAME when vnetd starts
//     vnetd.lock          flock()ed by the running vnetd (one daemon per dir)
//   Every write goes through atomic_write_file() (temp + fsync + rename +
//   fsync dir), every removal through remove_file_durable(), so after a crash
//   each file is either the old or the new version.
//   The store knows nothing about XML: it moves strings. Parsing, skipping and
//   reporting corrupt files is the registry's job (registry.h).
//
// Thread-safety
//   Owned and used by the control thread only.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "xml/network_xml.h"

namespace vnet::ctl {

class StateStore {
 public:
  // One networks/*.xml file as found on disk.
  struct StoredNetwork {
    std::string file_name;       // "NAME" without ".xml"
    std::filesystem::path path;  // full path of the file
    std::string xml;             // content (empty if read_error is set)
    std::string read_error;      // non-empty if the file could not be read
  };

  explicit StateStore(std::filesystem::path state_dir);
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;
  ~StateStore();

  // Creates the directories, removes stale temporaries and takes the
  // directory lock; fails if another vnetd holds it.
  xml::Status open();

  const std::filesystem::path& state_dir() const { return state_dir_; }
  std::filesystem::path network_path(const std::string& name) const;
  std::filesystem::path autostart_path(const std::string& name) const;

  xml::Status save_network(const std::string& name, std::string_view inactive_xml);
  xml::Status remove_network(const std::string& name);
  xml::Status set_autostart(const std::string& name, bool on);
  bool has_autostart(const std::string& name) const;

  // Every networks/*.xml, sorted by file name. Unreadable files are returned
  // with read_error set, never thrown.
  std::vector<StoredNetwork> list_networks() const;
  // Names of the autostart markers.
  std::set<std::string> list_autostart() const;

 private:
  std::filesystem::path state_dir_;  // root of the state tree
  int lock_fd_ = -1;                 // flock()ed vnetd.lock, -1 until open()
};

// True if `name` can be used as a file name in the state directory
// (non-empty, no '/', no NUL, not "." or "..").
bool is_safe_file_name(const std::string& name);

}  // namespace vnet::ctl
