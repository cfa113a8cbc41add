// vnet::ctl — the hook between the network registry and whatever runs networks.
//
// Theory of operation
//   The registry (registry.h) owns definitions and lifecycle state; it calls a
//   NetworkRuntime to make a network actually run, stop or change:
//     start(def)   net-start / net-create / autostart. On error nothing runs
//                  and the registry leaves the network inactive.
//     stop(name)   net-destroy and daemon shutdown. Cannot fail: whatever is
//                  left is torn down best-effort and logged by the runtime.
//     update(def)  net-update --live with the complete new live definition.
//                  On error the runtime must keep running the previous one;
//                  the registry then keeps its previous live definition too.
//   The registry calls the runtime only after every check of its own passed,
//   and before it writes state, so a runtime failure changes nothing.
//   RecordingRuntime is the default: it runs nothing and only remembers what
//   it was told (and can be told to fail, for tests). The dataplane plugs in a
//   real implementation later.
//
// Thread-safety
//   Called from the control thread only. An implementation that hands work to
//   other threads does its own synchronisation.
#pragma once

#include <map>
#include <string>

#include "xml/network_xml.h"

namespace vnet::ctl {

class NetworkRuntime {
 public:
  virtual ~NetworkRuntime() = default;
  virtual xml::Status start(const xml::NetworkDef& def) = 0;
  virtual void stop(const std::string& name) = 0;
  virtual xml::Status update(const xml::NetworkDef& def) = 0;
};

// Records state only; no packets move.
class RecordingRuntime final : public NetworkRuntime {
 public:
  xml::Status start(const xml::NetworkDef& def) override;
  void stop(const std::string& name) override;
  xml::Status update(const xml::NetworkDef& def) override;

  bool is_running(const std::string& name) const { return running_.count(name) != 0; }
  size_t running_count() const { return running_.size(); }
  int start_calls() const { return start_calls_; }
  int stop_calls() const { return stop_calls_; }
  int update_calls() const { return update_calls_; }
  // Test hook: the next start()/update() fails with `msg` (empty: succeed).
  void fail_next_start(std::string msg) { fail_start_ = std::move(msg); }
  void fail_next_update(std::string msg) { fail_update_ = std::move(msg); }

 private:
  std::map<std::string, xml::NetworkDef> running_;  // name -> live definition
  int start_calls_ = 0;
  int stop_calls_ = 0;
  int update_calls_ = 0;
  std::string fail_start_;
  std::string fail_update_;
};

}  // namespace vnet::ctl
