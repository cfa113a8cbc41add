#include "control/network_runtime.h"

namespace vnet::ctl {

xml::Status RecordingRuntime::start(const xml::NetworkDef& def) {
  ++start_calls_;
  if (!fail_start_.empty()) {
    std::string msg = std::move(fail_start_);
    fail_start_.clear();
    return xml::Status::error(msg);
  }
  running_.insert_or_assign(def.name, def);
  return {};
}

void RecordingRuntime::stop(const std::string& name) {
  ++stop_calls_;
  running_.erase(name);
}

xml::Status RecordingRuntime::update(const xml::NetworkDef& def) {
  ++update_calls_;
  if (!fail_update_.empty()) {
    std::string msg = std::move(fail_update_);
    fail_update_.clear();
    return xml::Status::error(msg);
  }
  running_.insert_or_assign(def.name, def);
  return {};
}

}  // namespace vnet::ctl
